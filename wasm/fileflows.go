//go:build js && wasm && !nofs

package main

// The ops for what people do with the files of a volume: listing (a
// recursive listing in pages, as CSV, a body file or entries),
// file_extents (where a file's bytes are on the disk, for the hex view)
// and file_preview (what a file's first bytes are: text in which
// encoding, an image, or other bytes).

import (
	"bytes"
	"io"
	"syscall/js"
	"time"

	"github.com/vhdxview/vhdxview/listing"
	"github.com/vhdxview/vhdxview/preview"
	"github.com/vhdxview/vhdxview/scan"
	"github.com/vhdxview/vhdxview/volume"
)

// Listing pages: at most MaxListingRows rows (DefaultListingRows unless
// asked), and a page that hashes ends after the file that takes it past
// listingPageHash bytes, so that pages come back (with their cursor) at a
// steady pace whatever the files' sizes.
const (
	DefaultListingRows = 5000
	MaxListingRows     = 100000
	listingPageHash    = 256 << 20
)

// listingEntry is a row of format "entries".
type listingEntry struct {
	Path       string    `json:"path"` // "file:stream" for a stream
	Name       string    `json:"name"`
	Type       string    `json:"type"` // file, dir, symlink, other, stream
	Size       int64     `json:"size"`
	ModTime    time.Time `json:"mod_time,omitzero"`
	CreateTime time.Time `json:"create_time,omitzero"`
	AccessTime time.Time `json:"access_time,omitzero"`
	Deleted    bool      `json:"deleted,omitempty"`
	ID         uint64    `json:"id,omitempty"`
	Target     string    `json:"target,omitempty"`
	Sums       scan.Sums `json:"sums,omitempty"`
	Problem    string    `json:"problem,omitempty"`
}

// listing: {image, partition, path?, format?, hash?, cursor?, limit?} →
// {format, text | entries, count, next}. format is "csv" (the default;
// the header comes with the first page), "bodyfile" or "entries"; hash
// lists digests (md5, sha256, sha1) of every live file and stream. next
// is the cursor to ask for the following page with, or null at the end.
// Progress {done, total}: bytes hashed in this page.
func (r *request) listing() (reply, error) {
	sess, part, fsys, path, err := r.fsPath(false)
	if err != nil {
		return reply{}, err
	}
	a := args{r.args}
	format, err := a.string("format")
	if err != nil {
		return reply{}, err
	}
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "bodyfile" && format != "entries" {
		return reply{}, argErrorf("listing: format must be csv, bodyfile or entries, not %q", format)
	}
	algos, err := r.algorithms("hash", nil)
	if err != nil {
		return reply{}, err
	}
	cs, err := a.string("cursor")
	if err != nil {
		return reply{}, err
	}
	cursor, err := listing.ParseCursor(cs)
	if err != nil {
		return reply{}, argErrorf("%v", err)
	}
	limit, err := a.int("limit", DefaultListingRows)
	if err != nil {
		return reply{}, err
	}
	if limit < 1 || limit > MaxListingRows {
		return reply{}, argErrorf("listing: limit must be from 1 to %d", MaxListingRows)
	}
	var text bytes.Buffer
	w := listing.NewWriter(format, &text, algos) // nil for entries
	if format == "csv" && cursor == nil {
		w.Header()
	}
	entries := []listingEntry{}
	count := 0
	next := cursor
	var hashed, fileDone int64
	progress := func(done, total int64) {
		fileDone = done
		r.progress(hashed+done, hashed+total)
	}
	// The listings on the way to the cursor, kept from the walk's last
	// page (a page that resumes inside a directory of a million entries
	// must not read it again), or a new cache.
	cache := sess.takeWalkCache(part.Index, path, cs)
	lastPath := path
	full := false
	err = listing.Walk(r.ctx, fsys, path, cursor, listing.Options{List: cache.Lister(fsys)}, func(row listing.Row, c listing.Cursor) error {
		// A page ends before an entry (never between a file and its
		// streams, which share its cursor).
		if full && row.Stream == "" && c != nil {
			return listing.Stop
		}
		if err := listing.HashRow(r.ctx, fsys, sess.img, &row, algos, progress); err != nil {
			return err
		}
		hashed += fileDone
		fileDone = 0
		if format == "entries" {
			entries = append(entries, listingEntry{
				Path: row.FullPath(), Name: row.Name, Type: row.Kind(), Size: row.Size,
				ModTime: row.ModTime, CreateTime: row.CreateTime, AccessTime: row.AccessTime,
				Deleted: row.Deleted, ID: row.ID, Target: row.Target, Sums: row.Sums, Problem: row.Problem,
			})
			if row.Stream != "" {
				entries[len(entries)-1].Name = row.Name + ":" + row.Stream
			}
		} else if err := w.Row(&row); err != nil {
			return err
		}
		count++
		if c != nil {
			next = c
			lastPath = row.Path
		}
		full = count >= int(limit) || hashed >= listingPageHash
		return nil
	})
	if err != nil {
		return reply{}, sess.annotate(err)
	}
	if full {
		cache.Keep(lastPath)
		sess.putWalkCache(part.Index, path, next.String(), cache)
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			return reply{}, err
		}
	}
	res := newObject()
	res.Set("format", format)
	res.Set("count", count)
	if format == "entries" {
		v, err := jsonValue(entries)
		if err != nil {
			return reply{}, err
		}
		res.Set("entries", v)
	} else {
		res.Set("text", text.String())
	}
	if full {
		res.Set("next", next.String())
	} else {
		res.Set("next", js.Null())
	}
	return reply{v: res}, nil
}

// algorithms reads args[name], an array of hash names, or def when absent.
func (r *request) algorithms(name string, def []string) ([]string, error) {
	v := args{r.args}.value(name)
	if absent(v) {
		return def, nil
	}
	bad := argErrorf("%s must be an array of names (sha256, sha1, md5)", name)
	if v.Type() != js.TypeObject || v.Get("length").Type() != js.TypeNumber {
		return nil, bad
	}
	list := ""
	for i := 0; i < v.Length(); i++ {
		if v.Index(i).Type() != js.TypeString {
			return nil, bad
		}
		list += v.Index(i).String() + ","
	}
	if list == "" {
		return nil, nil
	}
	algos, err := scan.ParseAlgorithms(list)
	if err != nil {
		return nil, argErrorf("%v", err)
	}
	return algos, nil
}

// extentPiece is a piece of a file on the disk (file_extents).
type extentPiece struct {
	FileOffset int64 `json:"file_offset"`
	DiskOffset int64 `json:"disk_offset"` // -1: reads as zeros (a hole)
	Length     int64 `json:"length"`
}

// MaxExtents bounds the pieces of one file_extents reply.
const MaxExtents = 65536

// fileExtents: {image, partition, path, limit?} → {size, mapped, extents,
// next}: where the file's bytes are on the virtual disk, in file order,
// at most limit pieces (default and most MaxExtents); next is the file
// offset the rest starts at, or null. mapped is false (and extents empty)
// when the file system cannot say (NTFS resident, compressed or encrypted
// streams); a resident NTFS stream has resident: {record, offset, length},
// its value's place inside its MFT record (volume.File.Resident).
func (r *request) fileExtents() (reply, error) {
	f, err := r.file()
	if err != nil {
		return reply{}, err
	}
	limit, err := args{r.args}.int("limit", MaxExtents)
	if err != nil {
		return reply{}, err
	}
	if limit < 1 || limit > MaxExtents {
		return reply{}, argErrorf("file_extents: limit must be from 1 to %d", MaxExtents)
	}
	pieces := []extentPiece{}
	_, mapped := f.Extents()
	next := int64(-1)
	if mapped {
		err = f.MapRange(0, f.Size(), func(fileOff, diskOff, length int64) error {
			if len(pieces) >= int(limit) {
				next = fileOff
				return errEnough
			}
			pieces = append(pieces, extentPiece{fileOff, diskOff, length})
			return nil
		})
		if err != nil && err != errEnough {
			return reply{}, f.sess.annotate(err)
		}
	}
	var resident *volume.Resident
	if r, ok := f.Resident(); ok {
		resident = &r
	}
	v, err := jsonValue(struct {
		Size     int64            `json:"size"`
		Mapped   bool             `json:"mapped"`
		Extents  []extentPiece    `json:"extents"`
		Next     *int64           `json:"next"`
		Resident *volume.Resident `json:"resident,omitempty"`
	}{f.Size(), mapped, pieces, nil, resident})
	if err != nil {
		return reply{}, err
	}
	if next >= 0 {
		v.Set("next", float64(next))
	}
	return reply{v: v}, nil
}

// DefaultPreview is how much of a file file_preview reads unless asked.
const DefaultPreview = 1 << 20

// filePreview: {image, partition, path, limit?} → {size, read, kind,
// encoding?, bom?, text?, mime?}: what the file's first limit bytes
// (default 1 MiB, at most MaxRead) are (package preview); read is how many
// were looked at, less than size when the text is the file's beginning.
func (r *request) filePreview() (reply, error) {
	f, err := r.file()
	if err != nil {
		return reply{}, err
	}
	limit, err := args{r.args}.int("limit", DefaultPreview)
	if err != nil {
		return reply{}, err
	}
	if limit < 1 || limit > MaxRead {
		return reply{}, argErrorf("file_preview: limit must be from 1 to %d", MaxRead)
	}
	n := min(limit, f.Size())
	head := make([]byte, n)
	if n > 0 {
		if k, err := f.ReadAt(head, 0); err != nil && !(err == io.EOF && int64(k) == n) {
			return reply{}, f.sess.annotate(err)
		}
	}
	res := preview.Detect(head, n == f.Size())
	v, err := jsonValue(struct {
		Size int64 `json:"size"`
		Read int64 `json:"read"`
		preview.Result
	}{f.Size(), n, res})
	return reply{v: v}, err
}

// walkCache is the listing cache of an image's last paged walk, for the
// page that resumes it (at most one walk is kept).
type walkCache struct {
	part         int
	root, cursor string
	cache        *listing.ListCache
}

// takeWalkCache gives the cache kept for the walk of root on partition
// part stopped at cursor, or a new one; it is taken, so a concurrent
// request gets its own.
func (sess *session) takeWalkCache(part int, root, cursor string) *listing.ListCache {
	v := &sess.vol
	v.mu.Lock()
	defer v.mu.Unlock()
	if w := v.walk; w != nil && cursor != "" && w.part == part && w.root == root && w.cursor == cursor {
		v.walk = nil
		return w.cache
	}
	return listing.NewListCache()
}

func (sess *session) putWalkCache(part int, root, cursor string, c *listing.ListCache) {
	v := &sess.vol
	v.mu.Lock()
	v.walk = &walkCache{part, root, cursor, c}
	v.mu.Unlock()
}
