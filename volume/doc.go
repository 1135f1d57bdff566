// Package volume looks inside a virtual disk: its partition table and the
// file systems of its partitions. It reads through an io.ReaderAt of known
// size (a *core.Image, or any disk), never writes, imports nothing from
// core, and holds no file whole in memory, so the same code serves the CLI
// and the browser's worker.
//
//	tab, err := volume.Partitions(ctx, img, img.Size(), int(img.Metadata.LogicalSectorSize))
//	for _, p := range tab.Partitions {          // GPT, MBR (+ logical), or one "whole disk" entry
//		fsys, err := volume.OpenFS(img, p.Offset, p.Size, tab.SectorSize)
//		// err wraps ErrUnsupportedFS (naming e.g. "exfat") or ErrDamaged:
//		// the raw partition [p.Offset, p.Offset+p.Size) is still there,
//		// for img.Plan to download.
//		fsys = fsys.WithContext(ctx)           // every walk stops when ctx ends
//
//		// io/fs: unrooted names, "." for the root, symlinks followed.
//		fs.WalkDir(fsys, ".", walkFn)
//		b, err := fs.ReadFile(fsys, "dir/file")
//		fi, err := fs.Stat(fsys, "dir/file")  // fi.Sys() is the *volume.Entry
//
//		// The volume API: what a viewer needs besides.
//		entries, err := fsys.List("/dir")      // deleted entries too, marked
//		e, err := fsys.Lookup("/dir/link")     // symlinks not followed (e.Target)
//		f, err := fsys.OpenFile("/file:stream") // an NTFS alternate data stream
//		f.ReadAt(buf, off)                      // pull chunks; f.Size() bytes in all
//		f.MapRange(off, n, emit)                // or where the bytes are on the disk
//		if e.Deleted && e.Recoverable {         // an entry of a listing
//			f, err = fsys.OpenDeleted(e)   // what is left of its bytes (may be overwritten)
//		}
//	}
//
// FS has both faces because a viewer needs more than io/fs carries, and
// their method names collide: Open, ReadDir and Stat are io/fs's (fs.FS,
// fs.ReadDirFS, fs.StatFS, and ReadLink and Lstat for fs.ReadLinkFS);
// List, Lookup and OpenFile are the viewer's, with absolute paths as
// Entry.Path has them, deleted entries, NTFS streams and every timestamp.
// Both reach the same Entry: a FileInfo's Sys() is a *Entry, and Open
// gives a regular file as the same *File that OpenFile does.
//
// Context: an FS carries one (context.Background() from OpenFS);
// WithContext returns a view of the same volume under another, and a File
// reads under the context of the FS that opened it (File.WithContext
// changes it). Once the context ends, the volume's reads fail, the walks
// over cached data check it too, and calls return an error wrapping
// ctx.Err(). Partitions takes its context as an argument.
//
// Files by concept: partition.go (GPT and MBR/EBR tables), types.go
// (partition type names), detect.go (file system signatures), fs.go (FS,
// OpenFS, errors, the lock, panic guard and context), iofs.go (the io/fs
// methods, symlink resolution), file.go (File), extent.go (extents and
// MapRange's walk), cache.go (the metadata page cache), fat.go
// (FAT12/16/32), deleted.go (recovering deleted files), ext.go (ext2/3/4), jbd2.go (the ext3/4 journal,
// replayed in memory), ntfs.go (NTFS via go-ntfs).
//
// Libraries: www.velocidex.com/golang/go-ntfs reads NTFS. Partition
// tables, FAT and ext are read by this package (see the comments at the
// top of partition.go, fat.go and ext.go). Nothing is trusted with
// untrusted sizes: counts and lengths from the disk are checked before they
// size an allocation or a loop, and a panic inside a library becomes an
// error naming the volume.
//
// An FS serialises its calls (one lock per volume, shared by its views and
// files); open the volume again to read it in parallel.
package volume
