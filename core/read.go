package core

import (
	"context"
	"fmt"
	"io"
)

// ReadAt reads the virtual disk. It follows io.ReaderAt: a read that reaches
// the end of the disk returns io.EOF with the bytes before it. A damaged
// block yields a *BlockError, never its bytes.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vhdx: negative offset %d", off)
	}
	if off >= img.Size() {
		return 0, io.EOF
	}
	n := min(int64(len(p)), img.Size()-off)
	chain := img.Chain()
	err := img.Plan(context.Background(), off, n, func(r Run) error {
		dst := p[r.Offset-off : r.Offset-off+r.Length]
		switch r.Kind {
		case RunZero:
			clear(dst)
		case RunBytes:
			copy(dst, r.Data)
		case RunFile:
			lvl := chain[r.Level]
			if _, err := lvl.file.ReadAt(dst, r.FileOffset); err != nil && err != io.EOF {
				return &IOError{Structure: "payload", Offset: r.FileOffset, Level: r.Level, Err: err}
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

// File returns the underlying reader of chain level k (0 = this image), for
// callers that execute plans themselves.
func (img *Image) File(k int) (io.ReaderAt, int64, string) {
	c := img.Chain()
	if k < 0 || k >= len(c) {
		return nil, 0, ""
	}
	return c[k].file, c[k].fileSize, c[k].name
}

// ZeroBad returns the image as a reader for which a payload block whose
// BAT entry is unusable (reserved state or bits, an offset past the end of
// the file or over another structure; MS-VHDX 2.5.1) reads as zeros
// instead of failing with a *BlockError, in this file and in its parents.
// Plans mark such zeros with Run.Bad, so that a caller can say which
// ranges were filled. It is for salvage (a whole-disk copy of a damaged
// file); img itself is unchanged, and both share their caches.
func (img *Image) ZeroBad() *Image {
	c := *img
	c.zeroBad = true
	return &c
}
