package vhd

// Images qemu cannot make, written by internal/vhdbuilder from the spec:
// small and large block sizes, partial sector bitmaps (with bytes behind
// clear bits, which must not be read), blocks out of order, the 511-byte
// footer, differencing chains. Each is read three ways: by this package,
// by libvhdi (pyvhdi, which reads differencing chains through set_parent)
// and by model(), computed from the description alone.

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/reftool"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

// chainCase is a chain of images, base first.
type chainCase struct {
	name  string
	chain []*vhdbuilder.Image
	// noLibvhdi says why libvhdi cannot read the case, if it cannot.
	noLibvhdi string
}

func builderCases() []chainCase {
	partial := func(seed byte, n int, present ...vhdbuilder.SectorRange) vhdbuilder.Block {
		return vhdbuilder.Block{Data: pattern(seed, n), Present: present}
	}
	full := func(seed byte, n int) vhdbuilder.Block { return vhdbuilder.Block{Data: pattern(seed, n)} }
	dyn := &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 12 * mB, UniqueID: id(1), Blocks: map[int64]vhdbuilder.Block{
		0: full(1, 2*mB),
		3: full(2, 1000),
		5: partial(3, 2*mB, vhdbuilder.SectorRange{Start: 0, Count: 1}, vhdbuilder.SectorRange{Start: 9, Count: 100}, vhdbuilder.SectorRange{Start: 4095, Count: 1}),
	}}
	child := &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 12 * mB, UniqueID: id(2),
		Parent: &vhdbuilder.Parent{ID: id(1), Name: "base.vhd", Locators: []vhdbuilder.Locator{vhdbuilder.W2ru(".\\base.vhd"), vhdbuilder.W2ku("C:\\vms\\base.vhd")}},
		Blocks: map[int64]vhdbuilder.Block{
			0: partial(10, 2*mB, vhdbuilder.SectorRange{Start: 8, Count: 8}, vhdbuilder.SectorRange{Start: 1000, Count: 1}),
			1: full(11, 4096),
			5: partial(12, 2*mB, vhdbuilder.SectorRange{Start: 1, Count: 8}),
		}}
	grandchild := &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 12 * mB, UniqueID: id(3),
		Parent: &vhdbuilder.Parent{ID: id(2), Name: "child.vhd", Locators: []vhdbuilder.Locator{vhdbuilder.W2ru("child.vhd")}},
		Blocks: map[int64]vhdbuilder.Block{
			0: partial(20, 2*mB, vhdbuilder.SectorRange{Start: 12, Count: 1}),
			4: partial(21, 2*mB, vhdbuilder.SectorRange{Start: 0, Count: 4096}),
		}}
	fixedBase := &vhdbuilder.Image{Type: vhdbuilder.Fixed, Size: 3 * mB, UniqueID: id(4), Data: pattern(30, 3*mB-5000)}
	overFixed := &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 3 * mB, UniqueID: id(5), BlockSize: 512 * kB,
		Parent: &vhdbuilder.Parent{ID: id(4), Name: "fixed.vhd"},
		Blocks: map[int64]vhdbuilder.Block{
			1: partial(31, 512*kB, vhdbuilder.SectorRange{Start: 3, Count: 5}),
			5: full(32, 512*kB),
		}}
	return []chainCase{
		{name: "dynamic", chain: []*vhdbuilder.Image{dyn}},
		{name: "dynamic-4k-blocks-out-of-order", chain: []*vhdbuilder.Image{{Type: vhdbuilder.Dynamic, Size: 200 * kB, BlockSize: 4 * kB,
			Order: []int64{40, 7, 0, 13},
			Blocks: map[int64]vhdbuilder.Block{
				0:  full(40, 4*kB),
				7:  partial(41, 4*kB, vhdbuilder.SectorRange{Start: 2, Count: 3}),
				13: partial(42, 4*kB),
				40: full(43, 100),
			}}}},
		{name: "dynamic-512-byte-blocks", chain: []*vhdbuilder.Image{{Type: vhdbuilder.Dynamic, Size: 20 * kB, BlockSize: 512,
			Blocks: map[int64]vhdbuilder.Block{1: full(50, 512), 39: full(51, 512), 20: partial(52, 512)}}},
			noLibvhdi: "libvhdi sizes the bitmap as block size / 4096, zero bytes for blocks under 4 KiB, and refuses to read"},
		{name: "dynamic-odd-size", chain: []*vhdbuilder.Image{{Type: vhdbuilder.Dynamic, Size: 5*mB + 7*512, BlockSize: 1 * mB,
			Blocks: map[int64]vhdbuilder.Block{5: full(60, 7*512), 4: full(61, mB)}}}},
		{name: "dynamic-511-byte-footer", chain: []*vhdbuilder.Image{{Type: vhdbuilder.Dynamic, Size: 4 * mB, Footer511: true,
			Blocks: map[int64]vhdbuilder.Block{1: full(70, 5000)}}}},
		{name: "fixed", chain: []*vhdbuilder.Image{fixedBase}},
		{name: "fixed-511-byte-footer", chain: []*vhdbuilder.Image{{Type: vhdbuilder.Fixed, Size: 1 * mB, Footer511: true, Data: pattern(80, 1*mB)}}},
		{name: "chain-2", chain: []*vhdbuilder.Image{dyn, child}},
		{name: "chain-3", chain: []*vhdbuilder.Image{dyn, child, grandchild}},
		{name: "chain-over-fixed", chain: []*vhdbuilder.Image{fixedBase, overFixed}},
	}
}

func TestBuilderImages(t *testing.T) {
	reftool.Require(t, reftool.Pyvhdi)
	for _, c := range builderCases() {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths, libvhdiPaths []string
			var files [][]byte
			var want, wantLibvhdi []byte
			for i, im := range c.chain {
				b := mustBuild(t, im).Bytes
				files = append(files, b)
				name := fmt.Sprintf("level%d.vhd", len(c.chain)-1-i)
				paths = append(paths, writeTemp(t, dir, name, b))
				if im.Footer511 {
					// libvhdi only looks for a 512-byte footer; a zero
					// byte more makes one with the same checksum.
					b = append(b[:len(b):len(b)], 0)
				}
				libvhdiPaths = append(libvhdiPaths, writeTemp(t, dir, "libvhdi-"+name, b))
				want = model(im, want, specPresent)
				wantLibvhdi = model(im, wantLibvhdi, libvhdiPresent)
			}
			// This package, with the chain given as parents in any order.
			var parents []core.File
			for i := len(files) - 2; i >= 0; i-- {
				parents = append(parents, fileOf(filepath.Base(paths[i]), files[i]))
			}
			img := mustOpen(t, files[len(files)-1], &Options{Name: filepath.Base(paths[len(paths)-1]), Parents: parents})
			if n := len(img.Chain()); n != len(c.chain) {
				t.Fatalf("chain of %d, want %d", n, len(c.chain))
			}
			got := readAll(t, img)
			if d := firstDiff(got, want); d != "" {
				t.Errorf("differs from the model: %s", d)
			}
			// libvhdi reads the same blocks, bitmaps and parents; where a
			// bitmap byte mixes set and clear bits it reads by its own
			// rule (libvhdiPresent), which must then explain every
			// difference.
			if c.noLibvhdi != "" {
				t.Logf("not read with libvhdi: %s", c.noLibvhdi)
			} else if lib := readFile(t, reftool.PyvhdiRaw(t, libvhdiPaths...)); firstDiff(lib, want) != "" {
				d := firstDiff(lib, want)
				if d2 := firstDiff(lib, wantLibvhdi); d2 != "" {
					t.Errorf("libvhdi differs from the model (%s) and from its own bitmap rule (%s)", d, d2)
				} else {
					t.Logf("libvhdi differs from the spec only where its bitmap rule does (%s)", d)
				}
			}
			checkPlanLevels(t, img, files, got)
			if rep := img.Verify(t.Context(), nil); rep.Verdict != "clean" {
				t.Errorf("verify: %+v", rep.Checks)
			}
		})
	}
}

// checkPlanLevels executes a plan of the whole chain against the files by
// hand (files base first, as chain levels run the other way) and compares
// it with the bytes ReadAt gave.
func checkPlanLevels(t *testing.T, img *Image, files [][]byte, disk []byte) {
	t.Helper()
	got := make([]byte, img.Size())
	var next int64
	var prev core.Run
	err := img.Plan(t.Context(), 0, img.Size(), func(r core.Run) error {
		if r.Offset != next || r.Length <= 0 {
			return fmt.Errorf("run %+v, want one at %d", r, next)
		}
		if prev.Length > 0 && prev.Kind == r.Kind && (r.Kind == core.RunZero ||
			(prev.Level == r.Level && prev.FileOffset+prev.Length == r.FileOffset)) {
			return fmt.Errorf("runs %+v and %+v are not merged", prev, r)
		}
		prev = r
		next += r.Length
		if r.Kind == core.RunFile {
			f, _, _ := img.File(r.Level)
			if f == nil {
				return fmt.Errorf("run of level %d, chain has %d", r.Level, len(img.Chain()))
			}
			copy(got[r.Offset:r.Offset+r.Length], files[len(files)-1-r.Level][r.FileOffset:])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := firstDiff(got, disk); d != "" {
		t.Errorf("plan and ReadAt disagree: %s", d)
	}
}

// TestBuilderWithQemu has qemu read the builder's single-file images
// whose clear bitmap bits cover only zeros (qemu reads the block's bytes
// without looking at the bitmap): a check of the builder itself.
func TestBuilderWithQemu(t *testing.T) {
	reftool.Require(t, "qemu-img")
	dir := t.TempDir()
	for _, im := range []*vhdbuilder.Image{
		{Type: vhdbuilder.Dynamic, Size: 6 * mB, Blocks: map[int64]vhdbuilder.Block{0: {Data: pattern(1, 3000)}, 2: {Data: pattern(2, 2*mB)}}, Order: []int64{2, 0}},
		{Type: vhdbuilder.Dynamic, Size: 64 * kB, BlockSize: 4 * kB, Blocks: map[int64]vhdbuilder.Block{3: {Data: pattern(3, 4*kB)}}},
		{Type: vhdbuilder.Fixed, Size: 2 * mB, Data: pattern(4, 2*mB-100)},
	} {
		// qemu takes the size from the CHS geometry for images made by
		// Virtual PC ("vpc ") and by itself before force_size ("qemu"),
		// and Current Size for Hyper-V's ("win ").
		im.Creator = "win "
		p := writeTemp(t, dir, "q.vhd", mustBuild(t, im).Bytes)
		got := readAll(t, mustOpen(t, readFile(t, p), nil))
		if d := firstDiff(got, model(im, nil, specPresent)); d != "" {
			t.Errorf("%v: differs from the model: %s", im.Type, d)
		}
		if d := firstDiff(got, readFile(t, reftool.QemuRawFormat(t, "vpc", p))); d != "" {
			t.Errorf("%v: differs from qemu-img: %s", im.Type, d)
		}
	}
}
