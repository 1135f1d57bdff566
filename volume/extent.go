package volume

// Extents: where a file's bytes are on its volume. FAT and ext files are
// read through them; every mapped file can hand them (or a window of
// them, MapRange) to a caller that moves the bytes itself.

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// Extent maps a piece of a file onto its volume: Length bytes at file
// offset Offset are at volume offset DiskOffset (from the start of the
// volume, not of the disk), or read as zeros when DiskOffset is -1. A
// file's extents are in file order and do not overlap; gaps between them
// are holes, and the last ones may run past the file's size (whole
// clusters or blocks).
type Extent struct {
	Offset     int64 `json:"offset"`
	Length     int64 `json:"length"`
	DiskOffset int64 `json:"disk_offset"`
}

// extentFile is a file over a list of extents of a volume (FAT and ext).
type extentFile struct {
	r    io.ReaderAt
	size int64
	ext  []Extent // sorted by Offset, covering [0, size) with holes allowed
}

func (f *extentFile) Size() int64       { return f.size }
func (f *extentFile) extents() []Extent { return f.ext }

func (f *extentFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(len(p)) > f.size-off {
		p = p[:f.size-off]
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		i := sort.Search(len(f.ext), func(i int) bool { return f.ext[i].Offset+f.ext[i].Length > pos })
		disk, end := int64(-1), f.size // a gap between extents is a hole
		if i < len(f.ext) {
			if e := f.ext[i]; e.Offset <= pos {
				end = e.Offset + e.Length
				if e.DiskOffset >= 0 {
					disk = e.DiskOffset + pos - e.Offset
				}
			} else {
				end = e.Offset
			}
		}
		k := int(min(int64(len(p)-done), end-pos))
		if disk < 0 {
			clear(p[done : done+k])
		} else if _, err := readFull(f.r, 1<<62, p[done:done+k], disk); err != nil {
			return done, err
		}
		done += k
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// appendExtent adds [off, off+n) at disk (or a hole when disk < 0),
// merging with the previous extent when contiguous.
func appendExtent(ext []Extent, off, n, disk int64) []Extent {
	if k := len(ext); k > 0 {
		last := &ext[k-1]
		if last.Offset+last.Length == off && ((disk < 0 && last.DiskOffset < 0) || (disk >= 0 && last.DiskOffset >= 0 && last.DiskOffset+last.Length == disk)) {
			last.Length += n
			return ext
		}
	}
	return append(ext, Extent{Offset: off, Length: n, DiskOffset: disk})
}

// mapExtents walks file bytes [off, off+n) of a file with extents ext on a
// volume of volSize bytes, calling emit in file order with pieces that
// cover the window exactly: length bytes at file offset fileOff are at
// volume offset volOff, or read as zeros when volOff is -1 (gaps between
// extents, holes, anything past the last extent). Neighbouring zero
// pieces are merged. An extent reaching outside [0, volSize) is damage.
// The first error emit returns stops the walk and is returned.
func mapExtents(ext []Extent, volSize, off, n int64, emit func(fileOff, volOff, length int64) error) error {
	if off < 0 || n < 0 {
		return errors.New("negative offset or length")
	}
	end := off + n
	pos := off
	var zeroFrom int64 = -1 // start of a pending zero piece ending at pos
	zeroTo := func(to int64) {
		if to > pos {
			if zeroFrom < 0 {
				zeroFrom = pos
			}
			pos = to
		}
	}
	flush := func() error {
		if zeroFrom < 0 {
			return nil
		}
		from := zeroFrom
		zeroFrom = -1
		return emit(from, -1, pos-from)
	}
	// The first extent that ends after off.
	i := sort.Search(len(ext), func(i int) bool { return ext[i].Offset+ext[i].Length > off })
	for ; i < len(ext) && pos < end; i++ {
		e := ext[i]
		zeroTo(min(e.Offset, end))
		if pos >= end {
			break
		}
		to := min(e.Offset+e.Length, end)
		if e.DiskOffset < 0 {
			zeroTo(to)
			continue
		}
		vol := e.DiskOffset + (pos - e.Offset)
		if vol < 0 || vol > volSize || to-pos > volSize-vol {
			return fmt.Errorf("%w: extent at volume offset 0x%x+0x%x is outside the volume (0x%x bytes)", ErrDamaged, vol, to-pos, volSize)
		}
		if err := flush(); err != nil {
			return err
		}
		if err := emit(pos, vol, to-pos); err != nil {
			return err
		}
		pos = to
	}
	zeroTo(end)
	return flush()
}
