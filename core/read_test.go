package core

// Reading the virtual disk: images made by internal/builder must read back
// exactly as builder.Image.Expected says, for every payload state, both
// logical sector sizes, block sizes from 1 to 256 MiB, odd virtual sizes,
// and reads of every shape. Plans must cover the range exactly, coalesce,
// and execute to the same bytes as ReadAt.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
)

type readCase struct {
	name string
	im   *builder.Image
}

func readCases() []readCase {
	st := func(s builder.PayloadState) builder.Block { return builder.Block{State: s} }
	stale := func(s builder.PayloadState) builder.Block { return builder.Block{State: s, Fill: fillByte(0xEE)} }
	return []readCase{
		{"empty-dynamic", &builder.Image{VirtualSize: 3 * mB}},
		{"every-state-512", &builder.Image{VirtualSize: 12 * mB, Blocks: map[uint64]builder.Block{
			0:  fullBlock(fillIdx(1)),
			1:  st(builder.PayloadZero),
			2:  st(builder.PayloadUnmapped),
			3:  st(builder.PayloadUndefined),
			4:  stale(builder.PayloadUnmapped), // stale data that must not be returned
			5:  stale(builder.PayloadUndefined),
			6:  stale(builder.PayloadZero),
			7:  fullBlock(fillByte(0x77)),
			8:  {State: builder.PayloadFullyPresent, Data: []byte("short data, rest of the block is zero")},
			9:  st(builder.PayloadNotPresent),
			10: fullBlock(fillIdx(2)),
			// 11 is not listed: NOT_PRESENT
		}}},
		{"every-state-4096", &builder.Image{VirtualSize: 8 * mB, LogicalSectorSize: 4096, PhysicalSectorSize: 4096,
			Blocks: map[uint64]builder.Block{
				0: fullBlock(fillIdx(3)), 1: st(builder.PayloadZero), 2: stale(builder.PayloadUnmapped),
				3: stale(builder.PayloadUndefined), 4: stale(builder.PayloadZero), 5: fullBlock(fillIdx(4)),
				7: fullBlock(fillByte(0x42)),
			}}},
		{"odd-size-512", &builder.Image{VirtualSize: 5*mB + 3*512, Blocks: map[uint64]builder.Block{
			1: fullBlock(fillIdx(5)), 5: fullBlock(fillIdx(6)), // block 5 holds 3 sectors
		}}},
		{"odd-size-4096", &builder.Image{VirtualSize: 6*mB + 4096, LogicalSectorSize: 4096, Blocks: map[uint64]builder.Block{
			0: fullBlock(fillIdx(7)), 6: fullBlock(fillIdx(8)),
		}}},
		{"block-8MiB", &builder.Image{VirtualSize: 40*mB + 512, BlockSize: 8 * mB, Blocks: map[uint64]builder.Block{
			0: fullBlock(fillIdx(9)), 2: {State: builder.PayloadFullyPresent, Data: bytes.Repeat([]byte("xyz"), 1000)},
			3: st(builder.PayloadZero), 5: fullBlock(fillByte(0x5A)),
		}}},
		{"block-32MiB-4096", &builder.Image{VirtualSize: 70 * mB, BlockSize: 32 * mB, LogicalSectorSize: 4096,
			Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(10)), 2: fullBlock(fillIdx(11))}}},
		{"block-256MiB", &builder.Image{VirtualSize: 3*mB + 1024, BlockSize: 256 * mB, Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadFullyPresent, Data: bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, (2*mB+100)/7)},
		}}},
		{"fixed-512", &builder.Image{VirtualSize: 6 * mB, Fixed: true, Blocks: map[uint64]builder.Block{
			1: fullBlock(fillIdx(12)), 4: {State: builder.PayloadFullyPresent, Data: []byte("fixed")},
		}}},
		{"fixed-odd-8MiB", &builder.Image{VirtualSize: 20*mB + 512, BlockSize: 8 * mB, Fixed: true,
			Blocks: map[uint64]builder.Block{2: fullBlock(fillIdx(13))}}},
		{"fixed-4096", &builder.Image{VirtualSize: 3 * mB, LogicalSectorSize: 4096, Fixed: true,
			Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(14))}}},
		{"contiguous-full", &builder.Image{VirtualSize: 8 * mB, Blocks: map[uint64]builder.Block{
			0: fullBlock(fillIdx(15)), 1: fullBlock(fillIdx(15)), 2: fullBlock(fillIdx(15)), 3: fullBlock(fillIdx(15)),
			4: fullBlock(fillIdx(15)), 5: fullBlock(fillIdx(15)), 6: fullBlock(fillIdx(15)), 7: fullBlock(fillIdx(15)),
		}}},
	}
}

// checkReadAt compares one ReadAt of img with the same read of want.
func checkReadAt(img *Image, want io.ReaderAt, off int64, n int) error {
	got, exp := make([]byte, n), make([]byte, n)
	gn, gerr := img.ReadAt(got, off)
	en, eerr := want.ReadAt(exp, off)
	if gn != en {
		return fmt.Errorf("ReadAt(%d bytes at 0x%x) = %d bytes (%v), want %d (%v)", n, off, gn, gerr, en, eerr)
	}
	if (gerr == io.EOF) != (eerr == io.EOF) || (gerr != nil && gerr != io.EOF) {
		return fmt.Errorf("ReadAt(%d bytes at 0x%x): error %v, want %v", n, off, gerr, eerr)
	}
	if !bytes.Equal(got[:gn], exp[:en]) {
		i := 0
		for got[i] == exp[i] {
			i++
		}
		return fmt.Errorf("ReadAt(%d bytes at 0x%x): byte 0x%x is 0x%02x, want 0x%02x", n, off, off+int64(i), got[i], exp[i])
	}
	return nil
}

func TestReadMatchesBuilder(t *testing.T) {
	for _, c := range readCases() {
		t.Run(c.name, func(t *testing.T) {
			path, _ := writeImage(t, t.TempDir(), c.name, c.im)
			img := mustOpen(t, path, nil)
			exp := expectedDisk(t, c.im, nil)
			if img.Size() != exp.Size() {
				t.Fatalf("Size() = %d, want %d", img.Size(), exp.Size())
			}
			compareDisks(t, "whole disk", img, exp, exp.Size())

			size := img.Size()
			bs := img.geom.BlockSize
			ls := img.geom.LogicalSectorSize
			// Reads of every shape: unaligned, across block boundaries,
			// at and after the end.
			type rd struct {
				off int64
				n   int
			}
			reads := []rd{
				{0, 1}, {1, 1}, {511, 2}, {ls - 1, int(ls) + 2}, {bs - 1, 2}, {bs - 3, 7},
				{bs - 100, int(min(bs, max(size-bs+100, 1)))}, {size - 1, 1}, {size - 1, 10}, {size - 4096, 4096},
				{size - 4096, 8192}, {size, 1}, {size, 0}, {size + 1, 10}, {size + bs, 512}, {0, 0},
				{0, int(min(size, 8*mB) + 17)},
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(c.name))))
			for range 150 {
				off := rng.Int64N(size + 1024)
				n := rng.IntN(int(min(3*bs, 3*mB)))
				if rng.IntN(4) == 0 { // near a block boundary
					off = (off/bs)*bs - int64(rng.IntN(1000))
					off = max(off, 0)
				}
				reads = append(reads, rd{off, n})
			}
			for _, r := range reads {
				if r.off < 0 || r.n < 0 {
					continue
				}
				if err := checkReadAt(img, exp, r.off, r.n); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := img.ReadAt(make([]byte, 1), -1); err == nil {
				t.Error("ReadAt at offset -1 succeeded")
			}
			checkPlan(t, img, 0, size)
			for range 30 {
				off := rng.Int64N(size)
				checkPlan(t, img, off, rng.Int64N(size-off)+1)
			}
		})
	}
}

// checkPlan checks that the plan of [off, off+n) covers the range
// exactly, that runs are maximal (no two neighbours could merge), and
// that executing it gives what ReadAt gives.
func checkPlan(t *testing.T, img *Image, off, n int64) []Run {
	t.Helper()
	runs, err := img.planRuns(off, n, 1<<20)
	if err != nil {
		t.Fatalf("Plan(0x%x, 0x%x): %v", off, n, err)
	}
	n = min(n, img.Size()-off)
	pos := off
	for i, r := range runs {
		if r.Offset != pos || r.Length <= 0 {
			t.Fatalf("Plan(0x%x, 0x%x): run %d %+v, want offset 0x%x and a positive length", off, n, i, r, pos)
		}
		if i > 0 {
			p := runs[i-1]
			if p.Kind == r.Kind && (r.Kind == RunZero || (r.Kind == RunFile && p.Level == r.Level && p.FileOffset+p.Length == r.FileOffset)) {
				t.Fatalf("Plan(0x%x, 0x%x): runs %d and %d could be one: %+v %+v", off, n, i-1, i, p, r)
			}
		}
		if r.Kind == RunBytes && int64(len(r.Data)) != r.Length {
			t.Fatalf("bytes run %+v holds %d bytes", r, len(r.Data))
		}
		pos += r.Length
	}
	if pos != off+n {
		t.Fatalf("Plan(0x%x, 0x%x) covers up to 0x%x", off, n, pos)
	}
	got := make([]byte, n)
	for _, r := range runs {
		dst := got[r.Offset-off : r.Offset-off+r.Length]
		switch r.Kind {
		case RunZero:
			clear(dst)
		case RunBytes:
			copy(dst, r.Data)
		case RunFile:
			f, size, _ := img.File(r.Level)
			if f == nil || r.FileOffset+r.Length > size {
				t.Fatalf("run %+v: level %d file of %d bytes", r, r.Level, size)
			}
			if _, err := f.ReadAt(dst, r.FileOffset); err != nil && err != io.EOF {
				t.Fatal(err)
			}
		}
	}
	want := make([]byte, n)
	if k, err := img.ReadAt(want, off); int64(k) != n || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt: %d, %v", k, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("executing Plan(0x%x, 0x%x) differs from ReadAt", off, n)
	}
	return runs
}

func TestPlanCoalesces(t *testing.T) {
	for _, c := range []struct {
		name    string
		im      *builder.Image
		maxRuns int
	}{
		// Fully present blocks laid out in order: one file run.
		{"contiguous", &builder.Image{VirtualSize: 8 * mB, Blocks: map[uint64]builder.Block{
			0: fullBlock(fillIdx(1)), 1: fullBlock(fillIdx(1)), 2: fullBlock(fillIdx(1)), 3: fullBlock(fillIdx(1)),
			4: fullBlock(fillIdx(1)), 5: fullBlock(fillIdx(1)), 6: fullBlock(fillIdx(1)), 7: fullBlock(fillIdx(1)),
		}}, 1},
		{"fixed", &builder.Image{VirtualSize: 20*mB + 512, BlockSize: 8 * mB, Fixed: true}, 1},
		// Zero, unmapped and not-present neighbours: one zero run.
		{"all-zero", &builder.Image{VirtualSize: 8 * mB, Blocks: map[uint64]builder.Block{
			1: {State: builder.PayloadZero}, 2: {State: builder.PayloadUnmapped, Fill: fillByte(1)}, 3: {State: builder.PayloadUndefined},
		}}, 1},
		// file, zero, file.
		{"hole", &builder.Image{VirtualSize: 4 * mB, Blocks: map[uint64]builder.Block{
			0: fullBlock(fillIdx(1)), 3: fullBlock(fillIdx(1)),
		}}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, _ := writeImage(t, t.TempDir(), c.name, c.im)
			img := mustOpen(t, path, nil)
			runs := checkPlan(t, img, 0, img.Size())
			if len(runs) != c.maxRuns {
				t.Fatalf("Plan of the whole disk has %d runs, want %d: %+v", len(runs), c.maxRuns, runs)
			}
			if _, err := img.planRuns(0, img.Size(), len(runs)-1); len(runs) > 1 && err == nil {
				t.Errorf("PlanRuns with limit %d accepted %d runs", len(runs)-1, len(runs))
			}
			if runs, err := img.planRuns(img.Size(), 10, 10); err != nil || len(runs) != 0 {
				t.Errorf("Plan at the end: %v, %v", runs, err)
			}
			if _, err := img.planRuns(-1, 10, 10); err == nil {
				t.Errorf("Plan at -1 succeeded")
			}
		})
	}
}

func TestReadConcurrent(t *testing.T) {
	im := &builder.Image{VirtualSize: 24 * mB, BlockSize: 2 * mB, Blocks: map[uint64]builder.Block{}}
	for i := uint64(0); i < 12; i += 2 {
		im.Blocks[i] = fullBlock(fillIdx(i))
	}
	im.Blocks[5] = builder.Block{State: builder.PayloadZero}
	path, _ := writeImage(t, t.TempDir(), "conc", im)
	img := mustOpen(t, path, nil)
	exp := expectedDisk(t, im, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			for range 200 {
				off := rng.Int64N(img.Size())
				if err := checkReadAt(img, exp, off, rng.IntN(300*kB)+1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestHugeSparse opens a 64 TiB virtual disk with 1 MiB blocks (a 512 MiB
// BAT) and checks that Open reads only a little of the file and that reads
// of a few blocks fetch only the BAT pages they need.
func TestHugeSparse(t *testing.T) {
	const size = 64 * builder.TiB
	last := uint64(size/mB - 1)
	im := &builder.Image{VirtualSize: size, Blocks: map[uint64]builder.Block{
		0:        fullBlock(fillIdx(1)),
		12345678: fullBlock(fillIdx(2)),
		last / 2: {State: builder.PayloadZero},
		last:     fullBlock(fillIdx(3)),
	}}
	path, lay := writeImage(t, t.TempDir(), "huge", im)
	if lay.BAT.Length < 512*mB {
		t.Fatalf("BAT region is %d bytes, want at least 512 MiB", lay.BAT.Length)
	}
	f, fsize := rawFile(t, path)
	cr := &countingReader{r: f}
	img, err := Open(context.Background(), cr, fsize, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := cr.bytes.Load(); n >= 4*mB {
		t.Fatalf("Open read %d bytes of a file with a 512 MiB BAT, want < 4 MiB", n)
	}
	if img.Size() != size || img.geom.PayloadBlocks != int64(last+1) {
		t.Fatalf("size %d, %d blocks", img.Size(), img.geom.PayloadBlocks)
	}
	before := cr.bytes.Load()
	exp := expectedDisk(t, im, nil)
	for _, b := range []int64{0, 1, 12345678, int64(last / 2), int64(last) - 1, int64(last)} {
		off := b * mB
		if err := checkReadAt(img, exp, off, mB); err != nil {
			t.Fatal(err)
		}
		if err := checkReadAt(img, exp, off+mB-300, 600); b != int64(last) && err != nil {
			t.Fatal(err)
		}
	}
	// Six distinct blocks in at most five BAT pages, plus the payload.
	if n := cr.bytes.Load() - before; n > 5*64*kB+12*mB {
		t.Errorf("reads fetched %d bytes", n)
	}
	if img.bat.reads > 5 {
		t.Errorf("read %d BAT pages, want at most 5", img.bat.reads)
	}
	st, err := img.States(nil, int64(last)-2, 3)
	if err != nil || len(st) != 3 || st[2] != PayloadFullyPresent || st[0] != PayloadNotPresent {
		t.Errorf("States = %v, %v", st, err)
	}
	if _, err := img.Block(int64(last) + 1); err == nil {
		t.Error("Block past the end succeeded")
	}
	blk, err := img.Block(int64(last))
	if err != nil || blk.State != PayloadFullyPresent || blk.FileOffset != lay.Blocks[last] {
		t.Errorf("Block(last) = %+v, %v; want offset 0x%x", blk, err, lay.Blocks[last])
	}
}

// TestReadNegativeAndErrors covers argument errors.
func TestReadArgs(t *testing.T) {
	im := &builder.Image{VirtualSize: 2 * mB, Blocks: map[uint64]builder.Block{0: fullBlock(fillIdx(1))}}
	b, _ := imageBytes(t, im)
	img, err := openBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := img.ReadAt(make([]byte, 4), -4); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("negative offset: %v", err)
	}
	if err := img.Plan(context.Background(), 0, -1, func(Run) error { return nil }); err == nil {
		t.Error("Plan with negative length succeeded")
	}
	stop := errors.New("stop")
	if err := img.Plan(context.Background(), 0, img.Size(), func(Run) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Plan did not pass the emit error back: %v", err)
	}
	if r, _, _ := img.File(1); r != nil {
		t.Error("File(1) of a single image is not nil")
	}
	if _, err := img.States(nil, 1, 2); err == nil {
		t.Error("States past the end succeeded")
	}
}
