package scan

import (
	"context"
	"io"

	"github.com/vhdxview/vhdxview/core"
)

// Window is the range [Off, Off+Len) of Src as a Source of its own: a
// partition of a disk, say. Offsets it reads and plans are its own, from 0.
type Window struct {
	Src      Source
	Off, Len int64
}

// Size is the window's length.
func (w *Window) Size() int64 { return w.Len }

// ReadAt reads from the window; reads past its end are short, with io.EOF.
func (w *Window) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= w.Len {
		return 0, io.EOF
	}
	short := int64(len(p)) > w.Len-off
	if short {
		p = p[:w.Len-off]
	}
	n, err := w.Src.ReadAt(p, w.Off+off)
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

// Plan plans [off, off+n) of the window, clipped to it, in its offsets.
func (w *Window) Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error {
	off = min(max(off, 0), w.Len)
	n = min(n, w.Len-off)
	return w.Src.Plan(ctx, w.Off+off, n, func(r core.Run) error {
		r.Offset -= w.Off
		return emit(r)
	})
}
