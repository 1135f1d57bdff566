package core

// Differencing chains (MS-VHDX 2.4, 2.6.2.6): three-level chains with every
// payload state and partially present blocks read like builder.Expected
// and like libvhdi (except where the readers differ on purpose: ZERO
// blocks read as zeros here, libvhdi reads the parent; UNDEFINED and
// UNMAPPED blocks read the parent here, the builder expects zeros). Parent
// resolution errors say what is missing or wrong.

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/builder"
)

func guidN(n uint32) uuid.UUID {
	u := uuid.MustParse("5648d8e1-0000-4000-8000-00000000c0de")
	u[0], u[1], u[2], u[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return u
}

// dirFiles offers every .vhdx file of dir except the child itself; the
// engine must pick the one whose DataWriteGuid matches.
func dirFiles(t testing.TB, dir, child string) []File {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []File
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".vhdx") || e.Name() == child {
			continue
		}
		f, size := rawFile(t, filepath.Join(dir, e.Name()))
		out = append(out, File{Name: e.Name(), R: f, Size: size})
	}
	return out
}

// filesOf offers the named files in order.
func filesOf(t testing.TB, paths ...string) []File {
	var out []File
	for _, p := range paths {
		f, size := rawFile(t, p)
		out = append(out, File{Name: filepath.Base(p), R: f, Size: size})
	}
	return out
}

type chain3 struct {
	base, child, grand *builder.Image
	// Blocks whose state the readers treat differently on purpose.
	zero, unmapped map[int64]bool
}

func makeChain3(ls uint32) chain3 {
	size := uint64(10 * mB)
	spb := uint64(mB / ls)
	alt := make([]byte, spb/8) // alternating sectors present
	for i := range alt {
		alt[i] = 0x55
	}
	mixed := make([]byte, spb/8)
	mixed[0] = 0b10100101
	mixed[len(mixed)-1] = 0x80
	st := func(s builder.PayloadState) builder.Block { return builder.Block{State: s} }
	base := &builder.Image{VirtualSize: size, LogicalSectorSize: ls, DataWriteGUID: guidN(1), Blocks: map[uint64]builder.Block{}}
	for i := range uint64(10) {
		if i != 8 {
			base.Blocks[i] = fullBlock(fillIdx(100))
		}
	}
	// The base's own log must be replayed before the chain reads it.
	base.Log = &builder.Log{Deferred: []builder.Deferred{{Target: "bat-page", Index: 2}}}
	child := &builder.Image{VirtualSize: size, LogicalSectorSize: ls, DataWriteGUID: guidN(2),
		Parent:           builder.NewVHDXParent(guidN(1), "base.vhdx"),
		AbsentSectorFill: []byte("ABSENT!!"),
		Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadPartiallyPresent, Fill: fillIdx(200), PresentBitmap: alt},
			1: fullBlock(fillIdx(200)),
			2: {State: builder.PayloadPartiallyPresent, Fill: fillIdx(201), PresentBitmap: mixed},
			3: st(builder.PayloadZero),
			4: {State: builder.PayloadPartiallyPresent, Fill: fillIdx(202), Present: []builder.SectorRange{{Start: 1, Count: spb - 2}}},
			5: {State: builder.PayloadUnmapped, Fill: fillByte(0xEE)},
			6: st(builder.PayloadUndefined),
			// 7, 8 (absent in base too), 9: NOT_PRESENT
		}}
	grand := &builder.Image{VirtualSize: size, LogicalSectorSize: ls, DataWriteGUID: guidN(3),
		Parent: &builder.ParentLocator{Entries: []builder.KeyValue{
			{Key: builder.KeyParentLinkage, Value: builder.LinkageValue(guidN(2))},
			{Key: builder.KeyRelativePath, Value: `.\child.vhdx`},
			{Key: builder.KeyAbsoluteWin32Path, Value: `\\?\C:\images\child.vhdx`},
		}},
		AbsentSectorFill: []byte{0xDE, 0xAD},
		Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadPartiallyPresent, Fill: fillIdx(300), Present: []builder.SectorRange{{Start: 2, Count: 2}}},
			3: {State: builder.PayloadPartiallyPresent, Fill: fillIdx(301), Present: []builder.SectorRange{{Start: 0, Count: 3}}},
			7: fullBlock(fillIdx(300)),
			9: {State: builder.PayloadPartiallyPresent, Fill: fillIdx(302), PresentBitmap: alt},
		}}
	return chain3{base, child, grand, map[int64]bool{3: true}, map[int64]bool{5: true, 6: true}}
}

func TestChainReads(t *testing.T) {
	for _, ls := range []uint32{512, 4096} {
		t.Run(fmt.Sprint(ls), func(t *testing.T) {
			c := makeChain3(ls)
			dir := t.TempDir()
			writeImage(t, dir, "base", c.base)
			cp, clay := writeImage(t, dir, "child", c.child)
			gp, _ := writeImage(t, dir, "grand", c.grand)
			if len(clay.SectorBitmaps) != 1 {
				t.Fatalf("child has %d sector bitmaps", len(clay.SectorBitmaps))
			}
			img := mustOpen(t, gp, &Options{Name: "grand.vhdx", Parents: dirFiles(t, dir, "grand.vhdx")})
			chain := img.Chain()
			if len(chain) != 3 || chain[1].name != "child.vhdx" || chain[2].name != "base.vhdx" || chain[2].level != 2 {
				t.Fatalf("chain %v", chainNames(chain))
			}
			if !chain[2].log.Replayed {
				t.Error("the base's log was not replayed")
			}
			if in := img.Info(); len(in.Chain) != 3 || in.Chain[2].DataWriteGUID != guidN(1).String() || !in.Chain[2].LogReplayed {
				t.Errorf("Info().Chain = %+v", in.Chain)
			}

			e0 := expectedDisk(t, c.base, nil)
			e1 := expectedDisk(t, c.child, e0)
			e2 := expectedDisk(t, c.grand, e1)
			bs := int64(mB)
			// The builder reads UNDEFINED/UNMAPPED blocks of a differencing
			// disk as zeros; core reads the parent there (both allowed).
			skipUnmapped := func(off int64) bool { return c.unmapped[off/bs] }
			if err := diffDisks(img, e2, e2.Size(), skipUnmapped); err != nil {
				t.Fatalf("chain vs builder: %v", err)
			}
			// In those blocks core reads what the child's parent reads.
			for b := range c.unmapped {
				got, want := make([]byte, bs), make([]byte, bs)
				img.ReadAt(got, b*bs)
				chain[2].ReadAt(want, b*bs)
				if string(got) != string(want) {
					t.Errorf("UNMAPPED/UNDEFINED block %d does not read the parent", b)
				}
			}
			// Reads with partial first and last sectors.
			rng := rand.New(rand.NewPCG(uint64(ls), 3))
			for range 300 {
				off := rng.Int64N(img.Size())
				n := rng.IntN(3*int(ls)+100) + 1
				if rng.IntN(3) == 0 {
					n = rng.IntN(2*mB) + 1
				}
				touches := false
				for b := off / bs; b <= min(off+int64(n), img.Size()-1)/bs; b++ {
					touches = touches || c.unmapped[b]
				}
				if touches {
					continue
				}
				if err := checkReadAt(img, e2, off, n); err != nil {
					t.Fatal(err)
				}
			}

			// Plans refer to all three files.
			runs := checkPlan(t, img, 0, img.Size())
			levels := map[int]bool{}
			for _, r := range runs {
				if r.Kind == RunFile {
					levels[r.Level] = true
				}
			}
			if !levels[0] || !levels[1] || !levels[2] {
				t.Errorf("file runs at levels %v, want 0, 1 and 2", levels)
			}
			// Block 0: alternating sectors of the child over the base,
			// with the grandchild's sectors 2-3.
			r0, err := img.planRuns(0, 8*int64(ls), 100)
			if err != nil {
				t.Fatal(err)
			}
			var lv []int
			for _, r := range r0 {
				lv = append(lv, r.Level)
			}
			if want := []int{1, 2, 0, 1, 2, 1, 2}; fmt.Sprint(lv) != fmt.Sprint(want) {
				t.Errorf("levels of the first 8 sectors %v, want %v", lv, want)
			}

			// libvhdi reads the parent for ZERO blocks and UNMAPPED
			// blocks differ as above: compare everything else.
			rep := img.Verify(t.Context(), nil)
			if rep.Errors != 0 || len(rep.BAT) != 3 || rep.BAT[1].BitmapsPresent != 1 {
				t.Errorf("Verify: %d errors, BAT %+v", rep.Errors, rep.BAT)
			}

			requireTool(t, "pyvhdi")
			// libvhdi ignores logs: give it a clean copy of the base.
			clean := *c.base
			clean.Log = nil
			cleanPath, _ := writeImage(t, t.TempDir(), "base", &clean)
			skip := func(off int64) bool { return c.zero[off/bs] || c.unmapped[off/bs] }
			for i, paths := range [][]string{{cleanPath}, {cleanPath, cp}, {cleanPath, cp, gp}} {
				lraw, _ := rawFile(t, pyvhdiRaw(t, paths...))
				if err := diffDisks(chain[2-i], lraw, img.Size(), skip); err != nil {
					t.Errorf("level %d vs libvhdi: %v", 2-i, err)
				}
			}
		})
	}
}

func chainNames(c []*Image) []string {
	var s []string
	for _, i := range c {
		s = append(s, i.name)
	}
	return s
}

// TestChainParentSizes: a parent smaller than its child reads as zeros
// past its end; parent_linkage2 is accepted.
func TestChainParentSizes(t *testing.T) {
	dir := t.TempDir()
	parent := &builder.Image{VirtualSize: 3*mB + 512, DataWriteGUID: guidN(10), Blocks: map[uint64]builder.Block{
		0: fullBlock(fillIdx(1)), 3: fullBlock(fillIdx(1))}}
	child := &builder.Image{VirtualSize: 6 * mB, DataWriteGUID: guidN(11),
		Parent: &builder.ParentLocator{Entries: []builder.KeyValue{
			{Key: builder.KeyParentLinkage, Value: builder.LinkageValue(guidN(99))},
			{Key: builder.KeyParentLinkage2, Value: builder.LinkageValue(guidN(10))},
		}},
		Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(2))}}
	pp, _ := writeImage(t, dir, "parent", parent)
	cp, _ := writeImage(t, dir, "child", child)
	img := mustOpen(t, cp, &Options{Name: "child.vhdx", Parents: filesOf(t, pp)})
	compareDisks(t, "child", img, expectedDisk(t, child, expectedDisk(t, parent, nil)), img.Size())
	checkPlan(t, img, 0, img.Size())
}

// TestChainErrors: what goes wrong while attaching parents.
func TestChainErrors(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, dwg uuid.UUID, ls uint32, parent *builder.ParentLocator) string {
		p, _ := writeImage(t, dir, name, &builder.Image{VirtualSize: 4 * mB, LogicalSectorSize: ls, DataWriteGUID: dwg, Parent: parent,
			Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(uint64(dwg[0])))}})
		return p
	}
	loc := func(linkage uuid.UUID) *builder.ParentLocator {
		return &builder.ParentLocator{Entries: []builder.KeyValue{
			{Key: builder.KeyParentLinkage, Value: builder.LinkageValue(linkage)},
			{Key: builder.KeyRelativePath, Value: `..\parents\base.vhdx`},
			{Key: builder.KeyAbsoluteWin32Path, Value: `C:\vms\base.vhdx`},
		}}
	}
	base := mk("base", guidN(20), 512, nil)
	base4k := mk("base4k", guidN(21), 4096, nil)
	child := mk("child", guidN(22), 512, loc(guidN(20)))
	child4k := mk("child-of-4k", guidN(23), 512, loc(guidN(21)))
	self := mk("self", guidN(24), 512, loc(guidN(24)))
	a := mk("a", guidN(25), 512, loc(guidN(26)))
	b := mk("b", guidN(26), 512, loc(guidN(25)))
	_ = base

	t.Run("no-resolver", func(t *testing.T) {
		img := mustOpen(t, child, nil)
		if img.parent != nil {
			t.Fatal("parent attached without a resolver")
		}
		// Its own block reads; the rest needs the parent.
		if _, err := img.ReadAt(make([]byte, mB), mB); err != nil {
			t.Errorf("reading the child's own block: %v", err)
		}
		_, err := img.ReadAt(make([]byte, 100), 0)
		if !errors.Is(err, ErrNoParent) {
			t.Errorf("reading a parent block: %v, want ErrNoParent", err)
		}
		if _, err := img.planRuns(0, img.Size(), 10); !errors.Is(err, ErrNoParent) {
			t.Errorf("Plan: %v", err)
		}
		wantCheck(t, img.Verify(t.Context(), nil), "parent", StatusWarning, `relative_path=..\parents\base.vhdx`)
	})

	for _, c := range []struct {
		name       string
		child      string
		candidates []string
		noParent   bool
		msgs       []string
	}{
		{"missing", child, nil, true, []string{"parent not found", guidN(20).String()}},
		{"wrong-guid", child, []string{base4k}, true, []string{guidN(21).String(), guidN(20).String(), "is not the parent_linkage"}},
		{"not-vhdx", child, []string{filepath.Join(dir, "junk.vhdx")}, true, []string{"junk.vhdx: file type identifier"}},
		{"self-cycle", self, []string{self}, false, []string{"cycle"}},
		{"two-cycle", a, []string{a, b}, false, []string{"cycle"}},
		{"sector-size-mismatch", child4k, []string{base4k}, false, []string{"logical sector size 4096, the child 512"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "junk.vhdx"), make([]byte, 2*mB), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := openPath(t, c.child, &Options{Name: filepath.Base(c.child), Parents: filesOf(t, c.candidates...), Lookup: func(string, []string) []File { return nil }})
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("Open: %v (%T), want a *ChainError", err, err)
			}
			if errors.Is(err, ErrNoParent) != c.noParent {
				t.Errorf("errors.Is(ErrNoParent) = %v, want %v: %v", !c.noParent, c.noParent, err)
			}
			for _, m := range c.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if c.name == "missing" {
				if len(ce.Paths) != 2 || ce.Paths[0] != `..\parents\base.vhdx` || !strings.HasSuffix(ce.Paths[1], `base.vhdx`) {
					t.Errorf("Paths = %v", ce.Paths)
				}
				if len(ce.Linkages) != 1 || ce.Linkages[0] != guidN(20).String() {
					t.Errorf("Linkages = %v", ce.Linkages)
				}
			}
		})
	}
}

// TestChainUnnamedParent: a differencing disk whose locator names no
// parent opens as far as it goes, with or without Partial and with
// candidates given: no file could be matched as its parent. Info and
// Verify say why; a plain disk given with it is a separate disk.
func TestChainUnnamedParent(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, dwg uuid.UUID, parent *builder.ParentLocator) string {
		p, _ := writeImage(t, dir, name, &builder.Image{VirtualSize: 4 * mB, DataWriteGUID: dwg, Parent: parent,
			Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(uint64(dwg[0])))}})
		return p
	}
	base := mk("base", guidN(50), nil)
	odd := mk("odd-type", guidN(51), &builder.ParentLocator{Type: guidN(52), Entries: []builder.KeyValue{
		{Key: builder.KeyParentLinkage, Value: builder.LinkageValue(guidN(50))}, {Key: builder.KeyRelativePath, Value: `.\base.vhdx`}}})
	nolink := mk("no-linkage", guidN(53), &builder.ParentLocator{Entries: []builder.KeyValue{{Key: builder.KeyRelativePath, Value: `..\x\base.vhdx`}}})
	empty := mk("empty", guidN(54), &builder.ParentLocator{})
	for _, c := range []struct {
		name, path, msg, parentName string
	}{
		{"unknown-locator-type", odd, "unknown parent locator type", "base.vhdx"},
		{"no-linkage", nolink, "no valid parent_linkage", "base.vhdx"},
		{"no-entries", empty, "no valid parent_linkage", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, partial := range []bool{false, true} {
				img, err := openPath(t, c.path, &Options{Name: filepath.Base(c.path), Parents: filesOf(t, base), Partial: partial})
				if err != nil {
					t.Fatalf("Open (partial %v): %v", partial, err)
				}
				m := img.Info().MissingParent
				if m == nil || errors.Is(m, ErrNoParent) || !errors.Is(m, ErrFormat) || !strings.Contains(m.Msg, c.msg) {
					t.Fatalf("MissingParent = %v, want a format error about %q", m, c.msg)
				}
				if m.ParentLevel != 1 || m.ParentName != c.parentName {
					t.Errorf("ParentLevel %d, ParentName %q; want 1, %q", m.ParentLevel, m.ParentName, c.parentName)
				}
				if _, err := img.ReadAt(make([]byte, 512), 0); !errors.Is(err, ErrNoParent) {
					t.Errorf("reading a parent block: %v, want ErrNoParent", err)
				}
				wantCheck(t, img.Verify(t.Context(), nil), "parent", StatusError, c.msg)
			}
			// With the base beside it: two disks, the differencing one
			// first; the base is not attached.
			images, skipped, err := OpenFiles(t.Context(), filesOf(t, base, c.path), nil)
			if err != nil || len(images) != 2 || len(skipped) != 0 {
				t.Fatalf("OpenFiles: %d images, skipped %v, %v", len(images), skipped, err)
			}
			if images[0].name != filepath.Base(c.path) || len(images[0].Chain()) != 1 || images[0].Info().MissingParent == nil || images[1].name != "base.vhdx" {
				t.Errorf("OpenFiles gave %s (chain %d), %s", images[0].name, len(images[0].Chain()), images[1].name)
			}
		})
	}
}

// TestChainPartialGrandchild: a grandchild given with its parent but not
// the base opens (Partial) with both, and Info and Verify name the same
// missing level and file: parent 2, the base, the parent of the middle
// disk.
func TestChainPartialGrandchild(t *testing.T) {
	c := makeChain3(512)
	dir := t.TempDir()
	cp, _ := writeImage(t, dir, "child", c.child)
	gp, _ := writeImage(t, dir, "grand", c.grand)
	for _, order := range [][]string{{gp, cp}, {cp, gp}} {
		images, _, err := OpenFiles(t.Context(), filesOf(t, order...), &Options{Partial: true})
		if err != nil || len(images) != 1 {
			t.Fatalf("OpenFiles: %d images, %v", len(images), err)
		}
		img := images[0]
		if got := chainNames(img.Chain()); strings.Join(got, ",") != "grand.vhdx,child.vhdx" {
			t.Fatalf("chain %v", got)
		}
		m := img.Info().MissingParent
		if m == nil || !errors.Is(m, ErrNoParent) || m.Child != "child.vhdx" || m.Level != 1 || m.ParentLevel != 2 || m.ParentName != "base.vhdx" {
			t.Fatalf("MissingParent = %+v", m)
		}
		rep := img.Verify(t.Context(), nil)
		pc, ok := findCheck(rep, "parent")
		if !ok || pc.Level != 1 || pc.Status != StatusWarning || pc.Offset == 0 {
			t.Fatalf("parent check %+v", pc)
		}
		if want := "parent 2 (base.vhdx), the parent of child.vhdx, is not attached"; !strings.Contains(pc.Message, want) {
			t.Errorf("parent check %q, want %q", pc.Message, want)
		}
		// The grandchild's and the child's own blocks read; the base's not.
		got := make([]byte, 512)
		if _, err := img.ReadAt(got, 7*mB); err != nil {
			t.Errorf("grandchild block: %v", err)
		}
		if _, err := img.ReadAt(got, 1*mB); err != nil {
			t.Errorf("child block: %v", err)
		}
		if _, err := img.ReadAt(got, 8*mB); !errors.Is(err, ErrNoParent) {
			t.Errorf("base block: %v, want ErrNoParent", err)
		}
	}
}

// TestChainDepth: a chain of MaxChainDepth files opens; one more level is
// refused.
func TestChainDepth(t *testing.T) {
	dir := t.TempDir()
	n := maxChainDepth + 1
	files := make(map[uuid.UUID]string, n)
	var top string
	for i := range n {
		im := &builder.Image{VirtualSize: mB, DataWriteGUID: guidN(uint32(1000 + i))}
		if i > 0 {
			im.Parent = builder.NewVHDXParent(guidN(uint32(1000+i-1)), "x.vhdx")
		}
		if i == n-2 || i == 0 {
			im.Blocks = map[uint64]builder.Block{0: {State: builder.PayloadFullyPresent, Data: []byte(fmt.Sprint("level ", i))}}
		}
		p, _ := writeImage(t, dir, fmt.Sprint("d", i), im)
		files[guidN(uint32(1000+i))] = p
		top = p
	}
	// Lookup offers exactly the wanted parent, by the name the
	// engine asks about.
	byName := map[string]string{}
	for _, p := range files {
		byName[filepath.Base(p)] = p
	}
	lookup := func(child string, _ []string) []File {
		img := mustOpen(t, byName[child], nil)
		p := files[img.meta.ParentLocator.Linkages()[0]]
		f, size := rawFile(t, p)
		return []File{{Name: filepath.Base(p), R: f, Size: size}}
	}
	img := mustOpen(t, files[guidN(uint32(1000+n-2))], &Options{Name: filepath.Base(files[guidN(uint32(1000+n-2))]), Lookup: lookup})
	if len(img.Chain()) != maxChainDepth {
		t.Fatalf("chain of %d, want %d", len(img.Chain()), maxChainDepth)
	}
	if b := readAll(t, img); !strings.HasPrefix(string(b), fmt.Sprint("level ", n-2)) {
		t.Errorf("read %q", b[:10])
	}
	lastLevel := img.Chain()[maxChainDepth-1]
	if lastLevel.level != maxChainDepth-1 || lastLevel.meta.FileParameters.HasParent {
		t.Errorf("deepest level %d, has parent %v", lastLevel.level, lastLevel.meta.FileParameters.HasParent)
	}
	_, err := openPath(t, top, &Options{Name: filepath.Base(top), Lookup: lookup})
	var ce *ChainError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "deeper than") {
		t.Fatalf("chain of %d: %v", n, err)
	}
}

var _ io.ReaderAt = (*Image)(nil)

// TestChainTriedNamesOnlyStrangers: a grandchild given with its parent but
// not the grandparent fails for the parent's missing parent, and the files
// tried as that parent name neither the parent itself nor the grandchild
// (both are in the chain, so neither is a wrong candidate); a stranger is
// named.
func TestChainTriedNamesOnlyStrangers(t *testing.T) {
	c := makeChain3(512)
	dir := t.TempDir()
	cp, _ := writeImage(t, dir, "child", c.child)
	gp, _ := writeImage(t, dir, "grand", c.grand)
	sp, _ := writeImage(t, dir, "stranger", &builder.Image{VirtualSize: 4 * mB, DataWriteGUID: guidN(40)})
	for _, withStranger := range []bool{false, true} {
		paths := []string{gp, cp}
		if withStranger {
			paths = append(paths, sp)
		}
		_, _, err := OpenFiles(t.Context(), filesOf(t, paths...), nil)
		var ce *ChainError
		if !errors.As(err, &ce) || !errors.Is(err, ErrNoParent) {
			t.Fatalf("OpenFiles: %v, want a missing parent", err)
		}
		if !strings.Contains(ce.Child, "child.vhdx") {
			t.Errorf("Child = %q, want child.vhdx (the grandchild's parent is found)", ce.Child)
		}
		for _, tr := range ce.Tried {
			if strings.Contains(tr, "child.vhdx") || strings.Contains(tr, "grand.vhdx") {
				t.Errorf("Tried names a file of the chain: %q", tr)
			}
		}
		if withStranger != (len(ce.Tried) == 1 && strings.Contains(ce.Tried[0], "stranger.vhdx")) {
			t.Errorf("with stranger %v: Tried = %q", withStranger, ce.Tried)
		}
	}
}
