package core

// Helpers shared by the core tests: building images with internal/builder,
// opening them, comparing virtual disks, and running the third-party
// readers (qemu-img, qemu-io, libvhdi's pyvhdi) used as cross-checks.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
	"github.com/vhdxview/vhdxview/internal/reftool"
)

const (
	kB = builder.KiB
	mB = builder.MiB
)

// Builder shorthands.
func fillIdx(v uint64) *builder.Fill { return &builder.Fill{Pattern: builder.FillIndex, Value: v} }
func fillByte(b byte) *builder.Fill {
	return &builder.Fill{Pattern: builder.FillByte, Value: uint64(b)}
}
func fullBlock(f *builder.Fill) builder.Block {
	return builder.Block{State: builder.PayloadFullyPresent, Fill: f}
}
func u32p(v uint32) *uint32 { return &v }
func u64p(v uint64) *uint64 { return &v }
func u16p(v uint16) *uint16 { return &v }

// writeImage writes im into dir/name.vhdx and returns the path and layout.
func writeImage(t testing.TB, dir, name string, im *builder.Image) (string, *builder.Layout) {
	t.Helper()
	path := filepath.Join(dir, name+".vhdx")
	lay, err := im.WriteFile(path)
	if err != nil {
		t.Fatalf("building %s: %v", name, err)
	}
	return path, lay
}

// imageBytes returns a small image in memory with its layout.
func imageBytes(t testing.TB, im *builder.Image) ([]byte, *builder.Layout) {
	t.Helper()
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	return b, lay
}

// openPath opens a file read-only and then the image; the file is closed
// when the test ends.
func openPath(t testing.TB, path string, opts *Options) (*Image, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if opts == nil {
		opts = &Options{Name: filepath.Base(path)}
	}
	return Open(context.Background(), f, st.Size(), opts)
}

// mustOpen is openPath failing the test on error.
func mustOpen(t testing.TB, path string, opts *Options) *Image {
	t.Helper()
	img, err := openPath(t, path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", filepath.Base(path), err)
	}
	return img
}

// openBytes opens an in-memory image.
func openBytes(b []byte, opts *Options) (*Image, error) {
	return Open(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
}

// expectedDisk is builder.Image.Expected failing the test on error.
func expectedDisk(t testing.TB, im *builder.Image, parent io.ReaderAt) *builder.VirtualDisk {
	t.Helper()
	v, err := im.Expected(parent)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// compareDisks reads [0, size) from both readers in chunks and fails at
// the first difference. Both must return the full chunk (io.EOF allowed
// at the end).
func compareDisks(t testing.TB, what string, got, want io.ReaderAt, size int64) {
	t.Helper()
	if err := diffDisks(got, want, size, nil); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// diffDisks is compareDisks returning an error; skip, when not nil, says
// which virtual ranges to ignore.
func diffDisks(got, want io.ReaderAt, size int64, skip func(off int64) bool) error {
	const chunk = 4 * mB
	g, w := make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		if k, err := got.ReadAt(g[:n], off); int64(k) != n || (err != nil && !errors.Is(err, io.EOF)) {
			return fmt.Errorf("reading 0x%x+0x%x: %d bytes, %v", off, n, k, err)
		}
		if k, err := want.ReadAt(w[:n], off); int64(k) != n || (err != nil && !errors.Is(err, io.EOF)) {
			return fmt.Errorf("reading expected 0x%x+0x%x: %d bytes, %v", off, n, k, err)
		}
		if bytes.Equal(g[:n], w[:n]) {
			continue
		}
		for i := int64(0); i < n; i++ {
			if g[i] != w[i] && (skip == nil || !skip(off+i)) {
				return fmt.Errorf("virtual byte 0x%x is 0x%02x, want 0x%02x", off+i, g[i], w[i])
			}
		}
	}
	return nil
}

// fileReader is an io.ReaderAt over a raw file with its size.
func rawFile(t testing.TB, path string) (*os.File, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return f, st.Size()
}

// countingReader counts the bytes and calls that go through a ReaderAt.
type countingReader struct {
	r     io.ReaderAt
	bytes atomic.Int64
	calls atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls.Add(1)
	c.bytes.Add(int64(len(p)))
	return c.r.ReadAt(p, off)
}

// External readers (qemu-img, pyvhdi) come from internal/reftool: a
// missing one fails the test unless VHDXVIEW_ALLOW_MISSING_TOOLS=1.
var (
	requireTool = reftool.Require
	run         = reftool.Run
	qemuRaw     = reftool.QemuRaw
	pyvhdiRaw   = reftool.PyvhdiRaw
)

// readAll reads the whole virtual disk (small images only).
func readAll(t testing.TB, img *Image) []byte {
	t.Helper()
	b := make([]byte, img.Size())
	if n, err := img.ReadAt(b, 0); n != len(b) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt whole disk: %d of %d bytes, %v", n, len(b), err)
	}
	return b
}

// asFormatError asserts err is a *FormatError and returns it.
func asFormatError(t testing.TB, err error) *FormatError {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FormatError", err, err)
	}
	return fe
}

// findCheck returns the first check whose Structure equals s.
func findCheck(rep *Report, s string) (Check, bool) {
	for _, c := range rep.Checks {
		if c.Structure == s {
			return c, true
		}
	}
	return Check{}, false
}
