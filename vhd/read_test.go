package vhd

// ReadAt's io.ReaderAt contract, plans (merging, levels, cancellation) and
// concurrent use.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

func TestReadAtContract(t *testing.T) {
	im := damageBase()
	img := mustOpen(t, mustBuild(t, im).Bytes, nil)
	want := model(im, nil, specPresent)
	size := img.Size()
	buf := make([]byte, 1000)
	if n, err := img.ReadAt(buf, size-400); n != 400 || err != io.EOF || string(buf[:400]) != string(want[size-400:]) {
		t.Errorf("read over the end: %d, %v", n, err)
	}
	if n, err := img.ReadAt(buf, size); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v", n, err)
	}
	if _, err := img.ReadAt(buf, -1); err == nil {
		t.Error("negative offset accepted")
	}
	if n, err := img.ReadAt(buf[:0], 5); n != 0 || err != nil {
		t.Errorf("empty read: %d, %v", n, err)
	}
	// Unaligned reads across the bitmap/data boundary of blocks.
	for _, off := range []int64{1, 511, 64*kB - 3, 2*64*kB - 700, 5*64*kB + 12345} {
		n, err := img.ReadAt(buf, off)
		if n != len(buf) || err != nil || string(buf) != string(want[off:off+int64(len(buf))]) {
			t.Errorf("read at %d: %d, %v", off, n, err)
		}
	}
}

func TestPlanRuns(t *testing.T) {
	cases := builderCases()
	var chain []*vhdbuilder.Image
	for _, c := range cases {
		if c.name == "chain-2" {
			chain = c.chain
		}
	}
	base, child := mustBuild(t, chain[0]), mustBuild(t, chain[1])
	img := mustOpen(t, child.Bytes, &Options{Parents: []core.File{fileOf("base", base.Bytes)}})
	var runs []string
	err := img.Plan(t.Context(), 0, 4*mB+10, func(r core.Run) error {
		runs = append(runs, fmt.Sprintf("%s %#x+%#x L%d @%#x", r.Kind, r.Offset, r.Length, r.Level, r.FileOffset))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Block 0: sectors 0-7 from the base's block 0, 8-15 from the child,
	// 16-999 from the base, 1000 from the child, the rest from the base;
	// block 1: the child; block 2: the base, where it is unallocated.
	b0, c0, c1 := base.BlockOffsets[0]+base.BitmapSize, child.BlockOffsets[0]+child.BitmapSize, child.BlockOffsets[1]+child.BitmapSize
	want := []string{
		fmt.Sprintf("file 0x0+0x1000 L1 @%#x", b0),
		fmt.Sprintf("file 0x1000+0x1000 L0 @%#x", c0+0x1000),
		fmt.Sprintf("file 0x2000+0x7b000 L1 @%#x", b0+0x2000),
		fmt.Sprintf("file 0x7d000+0x200 L0 @%#x", c0+0x7d000),
		fmt.Sprintf("file 0x7d200+0x182e00 L1 @%#x", b0+0x7d200),
		fmt.Sprintf("file 0x200000+0x200000 L0 @%#x", c1),
		"zero 0x400000+0xa L0 @0x0",
	}
	if strings.Join(runs, "\n") != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant:\n%s", strings.Join(runs, "\n"), strings.Join(want, "\n"))
	}
	// Plans are clipped to the disk and reject negative ranges.
	var n int
	if err := img.Plan(t.Context(), img.Size()-5, 100, func(r core.Run) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("plan over the end: %d runs, %v", n, err)
	}
	if err := img.Plan(t.Context(), -1, 5, func(core.Run) error { return nil }); err == nil {
		t.Error("negative plan accepted")
	}
	// emit's error stops the plan.
	stop := errors.New("stop")
	if err := img.Plan(t.Context(), 0, img.Size(), func(core.Run) error { return stop }); err != stop {
		t.Errorf("emit error: %v", err)
	}
}

// A 2040 GiB sparse disk (the spec's largest) of 2 MiB blocks: a plan of
// all of it is one zero run, and a cancelled plan or verify stops.
func TestHugeSparseDisk(t *testing.T) {
	im := &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 2040 << 30, Blocks: map[int64]vhdbuilder.Block{1 << 19: {Data: []byte("far")}}}
	img := mustOpen(t, mustBuild(t, im).Bytes, nil)
	var runs []core.Run
	if err := img.Plan(t.Context(), 0, img.Size(), func(r core.Run) error { runs = append(runs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].Kind != core.RunZero || runs[1].Kind != core.RunFile || runs[1].Offset != 1<<40 || runs[2].Kind != core.RunZero {
		t.Errorf("runs %+v", runs)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := img.Plan(ctx, 0, img.Size(), func(core.Run) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled plan: %v", err)
	}
	rep := img.Verify(ctx, nil)
	if last := rep.Checks[len(rep.Checks)-1]; !strings.Contains(last.Message, "stopped before the end") {
		t.Errorf("cancelled verify: %+v", last)
	}
	var calls, last int64
	rep = img.Verify(t.Context(), func(done, total int64) { calls++; last = done })
	if rep.Verdict != "clean" || last != img.Info().PayloadBlocks || calls < 2 || rep.BAT[0].States["allocated"] != 1 {
		t.Errorf("verify: %s, progress %d calls up to %d", rep.Verdict, calls, last)
	}
}

// Reads from many goroutines at once agree with the model (run with
// -race to check the BAT cache's locking).
func TestConcurrentReads(t *testing.T) {
	cases := builderCases()
	chain := cases[len(cases)-2].chain // chain-3
	var want []byte
	var files []core.File
	for i, im := range chain {
		want = model(im, want, specPresent)
		files = append(files, fileOf(fmt.Sprint(i), mustBuild(t, im).Bytes))
	}
	images, _, err := OpenFiles(t.Context(), files, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := images[0]
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 70*kB)
			for off := int64(g) * 4099; off+int64(len(buf)) <= img.Size(); off += 1 << 20 {
				if _, err := img.ReadAt(buf, off); err != nil {
					errs <- err
					return
				}
				if d := firstDiff(buf, want[off:off+int64(len(buf))]); d != "" {
					errs <- fmt.Errorf("at %d: %s", off, d)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestStatesAndBlocks(t *testing.T) {
	b := mustBuild(t, damageBase())
	img := mustOpen(t, b.Bytes, nil)
	st, err := img.States(nil, 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st) != "[allocated unallocated allocated unallocated unallocated allocated unallocated unallocated]" {
		t.Errorf("states %v", st)
	}
	if _, err := img.States(nil, 6, 3); err == nil {
		t.Error("states past the end accepted")
	}
	blk, err := img.Block(5)
	if err != nil || blk.BitmapOffset != b.BlockOffsets[5] || blk.FileOffset != b.BlockOffsets[5]+512 || blk.State != BlockAllocated {
		t.Errorf("block 5: %+v, %v", blk, err)
	}
	if _, err := img.Block(8); err == nil {
		t.Error("block past the end accepted")
	}
	fixed := mustOpen(t, mustBuild(t, &vhdbuilder.Image{Type: vhdbuilder.Fixed, Size: 4096}).Bytes, nil)
	if st, err := fixed.States(nil, 0, 0); err != nil || len(st) != 0 || fixed.Info().PayloadBlocks != 0 {
		t.Errorf("fixed disk states: %v, %v", st, err)
	}
}

func TestInfo(t *testing.T) {
	cases := builderCases()
	chain := cases[len(cases)-3].chain // chain-2
	child := chain[1]
	child.Creator, child.CreatorVer, child.HostOS, child.Time = "vpc ", 0x00050003, "Mac ", 86400
	child.Parent.Time = 3600
	img := mustOpen(t, mustBuild(t, child).Bytes, &Options{Name: "child.vhd", Parents: []core.File{fileOf("base.vhd", mustBuild(t, chain[0]).Bytes)}})
	in := img.Info()
	got := fmt.Sprintf("%s %s %d %d %d %s|%s|%s|%+v|%s|%s|%s %s", in.Format, in.Type, in.VirtualSize, in.BlockSize, in.PayloadBlocks, in.UniqueID,
		in.Creator, in.Created, in.Geometry, in.Footer, in.ParentID, in.ParentName, in.ParentTime)
	want := "vhd differencing 12582912 2097152 6 7e570000-0000-4000-8000-000000000002|vpc 5.3 (Macintosh)|2000-01-02T00:00:00Z|" +
		"{Cylinders:361 Heads:4 SectorsPerTrack:17 Size:12568576}|the footer at the end|7e570000-0000-4000-8000-000000000001|base.vhd 2000-01-01T01:00:00Z"
	if got != want {
		t.Errorf("info\n%s\nwant\n%s", got, want)
	}
	var ids []string
	for _, s := range in.Structures {
		ids = append(ids, s.ID)
		for _, c := range s.Children {
			var path string
			for _, f := range c.Fields {
				if f.Name == "Path" {
					path = f.Value
				}
			}
			ids = append(ids, "  "+c.ID+" "+path)
		}
	}
	wantIDs := "footer-copy dynamic-header   parent-locator-1 .\\base.vhd   parent-locator-2 C:\\vms\\base.vhd bat footer"
	if strings.Join(ids, " ") != wantIDs {
		t.Errorf("structures %q, want %q", strings.Join(ids, " "), wantIDs)
	}
	// Every field points inside its file.
	var walk func([]core.Structure)
	walk = func(ss []core.Structure) {
		for _, s := range ss {
			for _, f := range s.Fields {
				if f.Offset < 0 || f.Offset+f.Length > in.FileSize {
					t.Errorf("%s: field %s at %d+%d outside the file", s.Name, f.Name, f.Offset, f.Length)
				}
			}
			walk(s.Children)
		}
	}
	walk(in.Structures)
	if len(in.Chain) != 2 || in.Chain[1].Name != "base.vhd" || in.Chain[1].UniqueID != id(1).String() {
		t.Errorf("chain %+v", in.Chain)
	}
}
