// Package volume looks inside a virtual disk: its partition table and the
// file systems of its partitions. It reads through an io.ReaderAt of known
// size (a *core.Image, or any disk), never writes, and holds no file whole
// in memory, so the same code serves the CLI and the browser's worker.
//
//	tab, err := volume.Partitions(img, img.Size(), int(img.Metadata.LogicalSectorSize))
//	for _, p := range tab.Partitions {          // GPT, MBR (+ logical), or one "whole disk" entry
//		fsys, err := volume.OpenFS(img, p.Offset, p.Size, tab.SectorSize)
//		// err wraps ErrUnsupportedFS (naming e.g. "exfat") or ErrDamaged:
//		// the raw partition [p.Offset, p.Offset+p.Size) is still there,
//		// for img.Plan to download.
//		entries, err := fsys.ReadDir("/")      // one directory at a time: lazy tree
//		f, err := fsys.Open("/dir/file")       // or "/file:stream" for an NTFS ADS
//		f.ReadAt(buf, off)                     // pull chunks; f.Size() bytes in all
//	}
//
// Files by concept: partition.go (GPT and MBR/EBR tables), types.go
// (partition type names), detect.go (file system signatures), fs.go (the FS
// interface, OpenFS, the panic guard and shared readers), fat.go (FAT12/16/32),
// ext.go (ext2/3/4), ntfs.go (NTFS via go-ntfs), storage.go (the go-diskfs
// backend adapter).
//
// Libraries: go-diskfs's partition/gpt and partition/mbr decode table
// entries; www.velocidex.com/golang/go-ntfs reads NTFS. FAT and ext are read
// by this package (see the comments at the top of fat.go and ext.go for
// why go-diskfs's readers are not used). None of them is trusted with
// untrusted sizes: counts and lengths from the disk are checked before they
// size an allocation or a loop, and a panic inside a library becomes an
// error naming the volume.
//
// An FS serialises its calls (one mutex per volume); open several FS values
// to read volumes in parallel.
package volume
