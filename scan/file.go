package scan

import (
	"context"
	"errors"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/volume"
)

// File is a file of a volume as a Source: its bytes in file coordinates,
// planned through the disk's own plan where the file system says where
// they are (holes are zero runs, never read), else read through the file.
type File struct {
	Disk Source       // the disk the file's volume was opened from
	F    *volume.File // the file
}

// ReadAt reads the file.
func (f File) ReadAt(p []byte, off int64) (int, error) { return f.F.ReadAt(p, off) }

// Size is the file's size.
func (f File) Size() int64 { return f.F.Size() }

// Plan emits the runs of file bytes [off, off+n) in file coordinates.
// RunFile runs are to be read with ReadAt at their Offset, like any
// Source's.
func (f File) Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error {
	off = min(off, f.Size())
	n = min(n, f.Size()-off)
	if n <= 0 {
		return nil
	}
	err := f.F.MapRange(off, n, func(fileOff, diskOff, length int64) error {
		if diskOff < 0 {
			return emit(core.Run{Kind: core.RunZero, Offset: fileOff, Length: length})
		}
		shift := fileOff - diskOff
		return f.Disk.Plan(ctx, diskOff, length, func(r core.Run) error {
			r.Offset += shift
			return emit(r)
		})
	})
	if errors.Is(err, volume.ErrNoExtents) {
		// Resident, compressed or encrypted: the file system reads it.
		return emit(core.Run{Kind: core.RunFile, Offset: off, Length: n})
	}
	return err
}
