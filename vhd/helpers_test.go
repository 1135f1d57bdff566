package vhd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

const (
	kB = 1 << 10
	mB = 1 << 20
)

func openBytes(b []byte, opts *Options) (*Image, error) {
	return Open(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
}

func mustBuild(t testing.TB, im *vhdbuilder.Image) *vhdbuilder.Built {
	t.Helper()
	b, err := im.Build()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustOpen(t testing.TB, b []byte, opts *Options) *Image {
	t.Helper()
	img, err := openBytes(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func fileOf(name string, b []byte) core.File {
	return core.File{Name: name, R: bytes.NewReader(b), Size: int64(len(b))}
}

// readAll reads the whole virtual disk in reads of odd sizes, so that
// reads straddle sectors and blocks.
func readAll(t testing.TB, img *Image) []byte {
	t.Helper()
	out := make([]byte, img.Size())
	step := int64(3*mB + 1234)
	for off := int64(0); off < img.Size(); off += step {
		end := min(off+step, img.Size())
		n, err := img.ReadAt(out[off:end], off)
		if err != nil || int64(n) != end-off {
			t.Fatalf("ReadAt(%d, %d): %d, %v", end-off, off, n, err)
		}
	}
	return out
}

// model is the virtual disk a builder description means, computed
// straight from the description (not from the bytes written): a second
// oracle next to qemu and libvhdi. present says whether a block's sector
// counts as in the file: specPresent, or libvhdiPresent for what libvhdi
// makes of the same bitmap.
func model(im *vhdbuilder.Image, parent []byte, present func(vhdbuilder.Block, int64) bool) []byte {
	out := make([]byte, im.Size)
	if im.Type == vhdbuilder.Fixed {
		copy(out, im.Data)
		return out
	}
	if im.Type == vhdbuilder.Differencing {
		copy(out, parent)
	}
	bs := im.BlockSize
	if bs == 0 {
		bs = 2 * mB
	}
	for i, blk := range im.Blocks {
		data := make([]byte, bs)
		copy(data, blk.Data)
		for s := int64(0); s < bs/512; s++ {
			v := i*bs + s*512
			if v >= im.Size {
				break
			}
			end := min(v+512, im.Size)
			switch {
			case present(blk, s):
				copy(out[v:end], data[s*512:])
			case im.Type == vhdbuilder.Dynamic:
				clear(out[v:end])
			}
		}
	}
	return out
}

// specPresent: the sector's bit is set.
func specPresent(blk vhdbuilder.Block, s int64) bool {
	if blk.Present == nil {
		return true
	}
	for _, r := range blk.Present {
		if s >= r.Start && s < r.Start+r.Count {
			return true
		}
	}
	return false
}

// libvhdiPresent is how libvhdi 20210425 reads a VHD sector bitmap: it
// takes byte >> (7 - bit) without masking the bit, so a sector counts as
// present when its bit or any earlier bit in the same byte is set. Its
// reads equal ours exactly where every bitmap byte is 0x00 or 0xff.
func libvhdiPresent(blk vhdbuilder.Block, s int64) bool {
	for t := s &^ 7; t <= s; t++ {
		if specPresent(blk, t) {
			return true
		}
	}
	return false
}

// writeTemp writes b to a file in dir and returns its path.
func writeTemp(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// firstDiff describes where two disks differ, or "".
func firstDiff(got, want []byte) string {
	if len(got) != len(want) {
		return fmt.Sprintf("size %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at byte 0x%x: 0x%02x, want 0x%02x", i, got[i], want[i])
		}
	}
	return ""
}

// pattern is n bytes of a recognisable, position-dependent pattern.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed ^ byte(i*7+i>>9)
	}
	return b
}

// id makes a recognisable UUID.
func id(n byte) uuid.UUID {
	return uuid.UUID{0x7e, 0x57, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, n}
}
