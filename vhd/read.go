package vhd

import (
	"context"
	"fmt"
	"io"

	"github.com/vhdxview/vhdxview/core"
)

// ReadAt reads the virtual disk. It follows io.ReaderAt: a read that
// reaches the end of the disk returns io.EOF with the bytes before it. A
// damaged block yields a *core.BlockError, never its bytes.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vhd: negative offset %d", off)
	}
	if off >= img.Size() {
		return 0, io.EOF
	}
	n := min(int64(len(p)), img.Size()-off)
	chain := img.Chain()
	err := img.Plan(context.Background(), off, n, func(r core.Run) error {
		dst := p[r.Offset-off : r.Offset-off+r.Length]
		switch r.Kind {
		case core.RunZero:
			clear(dst)
		case core.RunFile:
			lvl := chain[r.Level]
			if err := readFull(lvl.file, dst, r.FileOffset); err != nil {
				what := "block data"
				if lvl.hdr == nil {
					what = "disk data"
				}
				return &core.IOError{Structure: what, Offset: r.FileOffset, Level: r.Level, Err: err}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// ZeroBad returns the image as a reader for which a block whose BAT entry
// is unusable (past the end of the file, over another structure) reads as
// zeros instead of failing with a *core.BlockError, in this file and in
// its parents; plans mark such zeros with core.Run.Bad. img itself is
// unchanged, and both share their caches.
func (img *Image) ZeroBad() *Image {
	c := *img
	c.zeroBad = true
	return &c
}
