package core

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
	"github.com/vhdxview/vhdxview/internal/reftool"
)

// TestZeroBad: a disk whose BAT has three unusable entries (a data block
// in a reserved state, and two neighbours pointing past the end of the
// file and with reserved bits set) reads, through ZeroBad, as qemu-img
// reads the same disk with good entries, those blocks' ranges zeroed; its
// plan marks exactly those ranges Bad, and the image itself still refuses
// them.
func TestZeroBad(t *testing.T) {
	reftool.Require(t, "qemu-img")
	dir := t.TempDir()
	good := damageBase()
	goodPath, lay := writeImage(t, dir, "good", good)
	bad := damageBase()
	bad.RawBAT = map[uint64]uint64{
		batIndex(lay, 3): builder.BATEntry(4, uint64(lay.Blocks[3])),
		batIndex(lay, 5): builder.BATEntry(6, uint64(lay.FileSize)+10*mB),
		batIndex(lay, 6): builder.BATEntry(6, uint64(lay.Blocks[7])) | 1<<10,
	}
	badPath, _ := writeImage(t, dir, "bad", bad)
	img, err := openPath(t, badPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(reftool.QemuRaw(t, goodPath))
	if err != nil {
		t.Fatal(err)
	}
	clear(want[3*mB : 4*mB])
	clear(want[5*mB : 7*mB])

	var be *BlockError
	if _, err := img.ReadAt(make([]byte, img.Size()), 0); !errors.As(err, &be) || be.Block != 3 {
		t.Fatalf("the image itself: %v, want block 3's BlockError", err)
	}
	zb := img.ZeroBad()
	got := make([]byte, zb.Size())
	if n, err := zb.ReadAt(got, 0); n != len(got) || err != nil {
		t.Fatalf("ZeroBad ReadAt: %d, %v", n, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ZeroBad bytes differ from qemu-img's of the good image with blocks 3, 5, 6 zeroed")
	}
	var badRuns []Run
	err = zb.Plan(t.Context(), 0, zb.Size(), func(r Run) error {
		if r.Bad != nil {
			if r.Kind != RunZero {
				t.Errorf("bad run of kind %s", r.Kind)
			}
			badRuns = append(badRuns, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(badRuns) != 3 {
		t.Fatalf("%d bad runs, want 3: %+v", len(badRuns), badRuns)
	}
	for i, b := range []int64{3, 5, 6} {
		r := badRuns[i]
		if r.Offset != b*mB || r.Length != mB || r.Bad.Block != b {
			t.Errorf("bad run %d: %+v (block %d), want block %d", i, r, r.Bad.Block, b)
		}
	}
	// The original image is unchanged by ZeroBad.
	if _, err := img.ReadAt(make([]byte, 512), 5*mB); !errors.As(err, &be) {
		t.Errorf("img after ZeroBad: %v", err)
	}
}
