package main

// The writer `cat` and `get` share. To a regular file, several workers copy
// chunks in parallel with WriteAt and leave holes where the bytes are zeros
// (the file is truncated to its full size at the end, so a trailing hole is
// kept). To anything else (standard output, a pipe, a device) one reader
// stays a chunk ahead of the writer. Either way the first error, reading or
// writing, cancels the rest of the copy and is returned: writing a disk to a
// full file system or a closed pipe does not go on reading it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
)

const (
	streamChunk = 8 << 20 // a read ahead of the writer
	fileChunk   = 4 << 20 // what one worker copies at a time
	holePiece   = 4 << 10 // the smallest hole: a file system block
)

// source is a byte range to copy: n bytes of r from off.
type source struct {
	r      io.ReaderAt
	off, n int64
	// zeros, when set, says whether [off, off+n) of r reads as zeros
	// without reading it (a disk's plan); a file's workers then skip it.
	zeros func(off, n int64) (bool, error)
}

// diskSource is [off, off+n) of the virtual disk.
func diskSource(ctx context.Context, img *disk.Disk, off, n int64) source {
	return source{r: img, off: off, n: n, zeros: func(off, n int64) (bool, error) {
		zero := true
		err := img.Plan(ctx, off, n, func(r core.Run) error {
			zero = zero && r.Kind == core.RunZero
			return nil
		})
		return zero, err
	}}
}

// outputError is a failed write to the user's output: an I/O error the user
// can act on (a full disk, a closed pipe), never an internal one.
type outputError struct{ err error }

func (e *outputError) Error() string { return "vhdx: writing output: " + e.err.Error() }
func (e *outputError) Unwrap() error { return e.err }

// writeOut copies src to out: standard output when out is "" or "-",
// else the file out, which must not be one of the inputs. An existing out is
// overwritten in place and cut to size at the end, not truncated first:
// truncating a file whose pages are cached frees them all and the copy then
// allocates them again, which made re-extracting over the last output
// several times slower than writing a new file (BENCHMARKS.md).
func (c *cli) writeOut(ctx context.Context, src source, out string) error {
	if c.wrapSource != nil {
		src.r = c.wrapSource(src.r)
	}
	if out == "" || out == "-" {
		return copyStream(ctx, c.stdout, src)
	}
	if st, err := os.Stat(out); err == nil {
		for _, in := range c.inputs {
			if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
				return fmt.Errorf("vhdx: %s: refusing to overwrite the input %s", out, in)
			}
		}
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if st, serr := f.Stat(); serr == nil && st.Mode().IsRegular() {
		err = copySparse(ctx, f, src, st.Size())
	} else {
		err = copyStream(ctx, f, src)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &outputError{cerr}
	}
	return err
}

// readFull reads len(b) bytes at off. A reader that gives fewer (its size
// was wrong) is a bug, so the error is marked unexpected like any read error
// that is not about the image's format or the user's files.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = fmt.Errorf("short read: %d of %d bytes at 0x%x: %w", n, len(b), off, io.ErrUnexpectedEOF)
	}
	return unexpected(err)
}

// copyStream writes src to w in order.
func copyStream(ctx context.Context, w io.Writer, src source) error {
	ctx, cancel := context.WithCancel(ctx)
	type chunk struct {
		b   []byte
		err error
	}
	ready := make(chan chunk, 2)
	free := make(chan []byte, 3)
	for range cap(free) {
		free <- make([]byte, min(streamChunk, src.n))
	}
	go func() {
		defer close(ready)
		for done := int64(0); done < src.n && ctx.Err() == nil; {
			var b []byte
			select {
			case b = <-free:
			case <-ctx.Done():
				return
			}
			k := min(streamChunk, src.n-done)
			err := readFull(src.r, b[:k], src.off+done)
			select {
			case ready <- chunk{b[:k], err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			done += k
		}
	}()
	// Returning cancels the reader and waits for it, so that it never
	// reads on after the copy has failed.
	defer func() {
		cancel()
		for range ready {
		}
	}()
	written := int64(0)
	for c := range ready {
		if c.err != nil {
			return c.err
		}
		if _, err := w.Write(c.b); err != nil {
			return &outputError{err}
		}
		written += int64(len(c.b))
		free <- c.b[:cap(c.b)]
	}
	if written < src.n {
		return ctx.Err() // the caller's context was cancelled
	}
	return nil
}

// sparseFile is what copySparse writes to: an *os.File.
type sparseFile interface {
	io.WriterAt
	Truncate(size int64) error
}

// copySparse copies src to f with parallel workers, each taking the next
// chunk, and leaves holes where the bytes are zeros. f may hold old bytes
// (an earlier output) up to old: zeros there are punched out, and f is cut
// to src.n at the end.
func copySparse(ctx context.Context, f sparseFile, src source, old int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(2, min(8, runtime.NumCPU()*2)) {
		wg.Go(func() {
			buf := make([]byte, min(fileChunk, src.n))
			zero := make([]byte, holePiece)
			for ctx.Err() == nil {
				start := next.Add(fileChunk) - fileChunk
				if start >= src.n {
					return
				}
				if err := copyChunk(f, src, start, buf[:min(fileChunk, src.n-start)], zero, old); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if err := f.Truncate(src.n); err != nil {
		return &outputError{err}
	}
	return nil
}

// copyChunk copies the chunk at start (relative to src.off), writing only
// the runs of holePiece-sized pieces that are not all zeros; where f held
// old bytes (below old), zero runs are punched out instead of skipped.
func copyChunk(f sparseFile, src source, start int64, buf, zero []byte, old int64) error {
	hole := func(off, n int64) error { // zeros at [off, off+n) of f
		if n = min(n, old-off); n <= 0 {
			return nil // past the old end: a hole already
		}
		if err := punchHole(f, off, n, zero); err != nil {
			return &outputError{err}
		}
		return nil
	}
	if src.zeros != nil {
		z, err := src.zeros(src.off+start, int64(len(buf)))
		if err != nil {
			return unexpected(err)
		}
		if z {
			return hole(start, int64(len(buf)))
		}
	}
	if err := readFull(src.r, buf, src.off+start); err != nil {
		return err
	}
	isZero := func(i int) bool {
		p := buf[i:min(i+holePiece, len(buf))]
		return bytes.Equal(p, zero[:len(p)])
	}
	for i := 0; i < len(buf); {
		if isZero(i) {
			j := i + holePiece
			for j < len(buf) && isZero(j) {
				j += holePiece
			}
			j = min(j, len(buf))
			if err := hole(start+int64(i), int64(j-i)); err != nil {
				return err
			}
			i = j
			continue
		}
		j := i + holePiece
		for j < len(buf) && !isZero(j) {
			j += holePiece
		}
		j = min(j, len(buf))
		if _, err := f.WriteAt(buf[i:j], start+int64(i)); err != nil {
			return &outputError{err}
		}
		i = j
	}
	return nil
}

// writeZeros writes n zero bytes at off, len(zero) at a time.
func writeZeros(f sparseFile, off, n int64, zero []byte) error {
	for n > 0 {
		k := min(n, int64(len(zero)))
		if _, err := f.WriteAt(zero[:k], off); err != nil {
			return err
		}
		off, n = off+k, n-k
	}
	return nil
}
