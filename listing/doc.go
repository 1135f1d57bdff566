// Package listing walks a volume's whole tree and writes what it finds as
// a file listing: CSV (path, type, size, times in UTC ISO 8601, deleted,
// inode or MFT record, optional digests) or The Sleuth Kit's body file,
// which mactime turns into a timeline.
//
//	err := listing.Walk(ctx, fsys, "/", nil, listing.Options{Hash: []string{"md5"}, Disk: img},
//		func(r listing.Row, next listing.Cursor) error { return w.Row(&r) })
//
// The walk holds one directory listing per level on its way down, never
// the whole tree, and stops when ctx ends. It can stop after any row and
// resume from that row's Cursor (the browser's worker sends a listing in
// pages that way).
package listing
