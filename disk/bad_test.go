package disk

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/builder"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

// TestBadRangesVHDX: blocks 1 (data, reserved state), 4 and 5 (past the
// end) of a 1 MiB-block VHDX are two ranges, the second of two blocks;
// the ZeroBad disk reads the rest as the disk does, those ranges as zeros.
func TestBadRangesVHDX(t *testing.T) {
	data := pattern(mib, 7)
	im := &builder.Image{VirtualSize: 8 * mib, Blocks: map[uint64]builder.Block{
		1: {State: builder.PayloadFullyPresent, Data: data}, 2: {State: builder.PayloadFullyPresent, Data: data}}}
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	im.RawBAT = map[uint64]uint64{1: builder.BATEntry(5, uint64(lay.Blocks[1])), 4: builder.BATEntry(6, 1<<40), 5: builder.BATEntry(6, 1<<40)}
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d := openOne(t, fileOf("bad.vhdx", b), nil)
	ranges, blocks, err := d.BadRanges(t.Context(), 0, d.Size(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if blocks != 3 || len(ranges) != 2 {
		t.Fatalf("%d blocks in %+v, want 3 in 2 ranges", blocks, ranges)
	}
	if r := ranges[0]; r.Offset != mib || r.Length != mib || r.Blocks != 1 || r.Block != 1 {
		t.Errorf("range 0: %+v", r)
	}
	if r := ranges[1]; r.Offset != 4*mib || r.Length != 2*mib || r.Blocks != 2 || r.Block != 4 {
		t.Errorf("range 1: %+v", r)
	}
	// The limit bounds the list, not the count.
	if l, n, _ := d.BadRanges(t.Context(), 0, d.Size(), 1); len(l) != 1 || n != 3 {
		t.Errorf("limit 1: %d ranges, %d blocks", len(l), n)
	}
	got := make([]byte, d.Size())
	if _, err := d.ZeroBad().ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, d.Size())
	copy(want[2*mib:], data)
	if !bytes.Equal(got, want) {
		t.Errorf("ZeroBad bytes differ")
	}
	var be *core.BlockError
	if _, err := d.ReadAt(got, 0); !errors.As(err, &be) {
		t.Errorf("the disk itself: %v", err)
	}
}

// TestBadRangesVHD: a VHD block whose BAT entry points past the end.
func TestBadRangesVHD(t *testing.T) {
	data := pattern(2*mib, 9)
	b := vhdBytes(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 6 * mib, UniqueID: uuid.New(),
		Blocks: map[int64]vhdbuilder.Block{0: {Data: data}}, BAT: map[int64]uint32{1: 1 << 28}})
	d := openOne(t, fileOf("bad.vhd", b), nil)
	ranges, blocks, err := d.BadRanges(t.Context(), 0, d.Size(), 10)
	if err != nil || blocks != 1 || len(ranges) != 1 || ranges[0].Offset != 2*mib || ranges[0].Length != 2*mib {
		t.Fatalf("%+v, %d blocks, %v", ranges, blocks, err)
	}
	got := make([]byte, d.Size())
	if _, err := d.ZeroBad().ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:2*mib], data) || !bytes.Equal(got[2*mib:], make([]byte, 4*mib)) {
		t.Errorf("ZeroBad bytes differ")
	}
}
