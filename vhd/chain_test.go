package vhd

// Differencing chains: parents matched by Unique Id whatever the order or
// the names, locator paths handed to Lookup, missing parents, cycles, a
// bounded depth, parents shared by two children.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

// chainImages returns the 3-level chain of builderCases, base first.
func chainImages(t *testing.T) []*vhdbuilder.Image {
	for _, c := range builderCases() {
		if c.name == "chain-3" {
			return c.chain
		}
	}
	t.Fatal("no chain-3 case")
	return nil
}

func TestOpenFilesAnyOrder(t *testing.T) {
	ims := chainImages(t)
	var want []byte
	files := map[string][]byte{}
	names := []string{"base.vhd", "child.vhd", "grandchild.vhd"}
	for i, im := range ims {
		files[names[i]] = mustBuild(t, im).Bytes
		want = model(im, want, specPresent)
	}
	stray := &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 2 * mB, UniqueID: id(99)}
	files["stray.vhd"] = mustBuild(t, stray).Bytes
	files["notes.txt"] = []byte(strings.Repeat("not a disk\n", 100))
	order := []string{"grandchild.vhd", "notes.txt", "base.vhd", "stray.vhd", "child.vhd"}
	for _, perm := range permutations(order) {
		var in []core.File
		for _, n := range perm {
			in = append(in, fileOf(n, files[n]))
		}
		images, skipped, err := OpenFiles(t.Context(), in, nil)
		if err != nil {
			t.Fatalf("%v: %v", perm, err)
		}
		if len(images) != 2 {
			t.Fatalf("%v: %d images, want the chain and the stray disk", perm, len(images))
		}
		var levels []string
		for _, l := range images[0].Info().Chain {
			levels = append(levels, fmt.Sprintf("%d:%s:%s", l.Level, l.Name, l.Type))
		}
		if got := strings.Join(levels, " "); got != "0:grandchild.vhd:differencing 1:child.vhd:differencing 2:base.vhd:dynamic" {
			t.Fatalf("%v: chain %s", perm, got)
		}
		if images[1].Info().Name != "stray.vhd" {
			t.Errorf("%v: second image %s", perm, images[1].Info().Name)
		}
		if len(skipped) != 1 || skipped[0].Name != "notes.txt" || !errors.Is(skipped[0].Err, ErrNotVHD) {
			t.Errorf("%v: skipped %+v", perm, skipped)
		}
		if d := firstDiff(readAll(t, images[0]), want); d != "" {
			t.Fatalf("%v: %s", perm, d)
		}
	}
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{slices.Clone(s)}
	}
	var out [][]string
	for i := range s {
		rest := append(slices.Clone(s[:i]), s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}

func TestMissingParent(t *testing.T) {
	ims := chainImages(t)
	child := mustBuild(t, ims[1]).Bytes
	other := mustBuild(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 12 * mB, UniqueID: id(77)}).Bytes

	// Opened alone, the child says what it misses and reads what it holds.
	img := mustOpen(t, child, &Options{Name: "child.vhd"})
	mp := img.Info().MissingParent
	if mp == nil {
		t.Fatal("no missing parent reported")
	}
	wantPaths := []string{`.\base.vhd`, `C:\vms\base.vhd`, "base.vhd"}
	if !slices.Equal(mp.Paths, wantPaths) || mp.Locator["W2ru"] != `.\base.vhd` || mp.Locator["W2ku"] != `C:\vms\base.vhd` ||
		mp.ParentName != "base.vhd" || !slices.Equal(mp.Linkages, []string{id(1).String()}) {
		t.Errorf("missing parent %+v", mp)
	}
	buf := make([]byte, 512)
	if _, err := img.ReadAt(buf, 8*512); err != nil { // block 0, sector 8: in the child
		t.Errorf("a sector the child holds: %v", err)
	}
	if _, err := img.ReadAt(buf, 0); !errors.Is(err, ErrNoParent) {
		t.Errorf("a sector in the parent: %v, want ErrNoParent", err)
	}
	rep := img.Verify(t.Context(), nil)
	if rep.Warnings != 1 || rep.Errors != 0 || !strings.Contains(rep.Checks[len(rep.Checks)-1].Message, "parent 1 (base.vhd), the parent of child.vhd, is not attached") {
		t.Errorf("verify of a lone child: %+v", rep)
	}

	// Given other files, it says why none is the parent.
	_, _, err := OpenFiles(t.Context(), []core.File{fileOf("child.vhd", child), fileOf("other.vhd", other)}, nil)
	var ce *ChainError
	if !errors.As(err, &ce) || !errors.Is(err, ErrNoParent) || errors.Is(err, ErrFormat) || len(ce.Tried) != 1 ||
		!strings.Contains(ce.Tried[0], "other.vhd: its unique ID "+id(77).String()+" is not the parent unique ID "+id(1).String()) {
		t.Errorf("OpenFiles without the parent: %v", err)
	}
	// With Partial it opens, and the other disk is listed on its own.
	images, _, err := OpenFiles(t.Context(), []core.File{fileOf("child.vhd", child), fileOf("other.vhd", other)}, &Options{Partial: true})
	if err != nil || len(images) != 2 || images[0].Info().Name != "child.vhd" || images[0].Info().MissingParent == nil {
		t.Errorf("partial OpenFiles: %v, %d images", err, len(images))
	}
	// Open with candidate parents that do not fit fails.
	if _, err := openBytes(child, &Options{Parents: []core.File{fileOf("other.vhd", other)}}); !errors.Is(err, ErrNoParent) {
		t.Errorf("Open with a wrong parent: %v", err)
	}
}

func TestLookup(t *testing.T) {
	ims := chainImages(t)
	base, child := mustBuild(t, ims[0]).Bytes, mustBuild(t, ims[1]).Bytes
	var asked [][]string
	lookup := func(c string, paths []string) []core.File {
		asked = append(asked, append([]string{c}, paths...))
		// Offer a stranger first, and the parent twice: each name is
		// tried once.
		return []core.File{fileOf("C:/stranger.vhd", child), fileOf(`C:\vms\base.vhd`, base), fileOf(`C:\vms\base.vhd`, base)}
	}
	img, err := openBytes(child, &Options{Name: "child.vhd", Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Chain()) != 2 || img.Info().Chain[1].Name != `C:\vms\base.vhd` {
		t.Errorf("chain %+v", img.Info().Chain)
	}
	want := []string{"child.vhd", `.\base.vhd`, `C:\vms\base.vhd`, "base.vhd"}
	if len(asked) != 1 || !slices.Equal(asked[0], want) {
		t.Errorf("Lookup asked %q, want %q", asked, want)
	}
}

func TestChainCycles(t *testing.T) {
	mk := func(self, parent byte) []byte {
		return mustBuild(t, &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 1 * mB, BlockSize: 64 * kB, UniqueID: id(self),
			Parent: &vhdbuilder.Parent{ID: id(parent), Name: fmt.Sprint(parent)}}).Bytes
	}
	a, b, c, self := mk(10, 11), mk(11, 10), mk(12, 10), mk(13, 13)
	// A and B name each other: no leaf.
	_, _, err := OpenFiles(t.Context(), []core.File{fileOf("a", a), fileOf("b", b)}, nil)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("a<->b: %v", err)
	}
	// C → A → B → A.
	_, _, err = OpenFiles(t.Context(), []core.File{fileOf("a", a), fileOf("b", b), fileOf("c", c)}, nil)
	var ce *ChainError
	if !errors.As(err, &ce) || !errors.Is(err, ErrFormat) || errors.Is(err, ErrNoParent) || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("c->a<->b: %v", err)
	}
	// A disk that names itself, given itself as a parent.
	if _, err := openBytes(self, &Options{Parents: []core.File{fileOf("self", self)}}); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("self parent: %v", err)
	}
}

func TestChainDepthBounded(t *testing.T) {
	var files []core.File
	files = append(files, fileOf("base", mustBuild(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 64 * kB, BlockSize: 4 * kB, UniqueID: id(0)}).Bytes))
	n := maxChainDepth + 3
	for i := 1; i <= n; i++ {
		u := id(0)
		u[10], u[11] = byte(i>>8), byte(i)
		p := id(0)
		p[10], p[11] = byte((i-1)>>8), byte(i-1)
		files = append(files, fileOf(fmt.Sprint(i), mustBuild(t, &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 64 * kB, BlockSize: 4 * kB,
			UniqueID: u, Parent: &vhdbuilder.Parent{ID: p}}).Bytes))
	}
	_, _, err := OpenFiles(t.Context(), files, nil)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), fmt.Sprintf("deeper than %d levels", maxChainDepth)) {
		t.Errorf("a chain of %d: %v", n+1, err)
	}
	// The deepest chain allowed opens.
	images, _, err := OpenFiles(t.Context(), files[:maxChainDepth], nil)
	if err != nil || len(images[0].Chain()) != maxChainDepth {
		t.Errorf("a chain of %d: %v", maxChainDepth, err)
	}
}

// Two children of one base, opened together: each gets the base at its
// own level 1, and reads its own data over it.
func TestSharedParent(t *testing.T) {
	ims := chainImages(t)
	base := ims[0]
	sibling := &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 12 * mB, UniqueID: id(40), Parent: &vhdbuilder.Parent{ID: id(1)},
		Blocks: map[int64]vhdbuilder.Block{3: {Data: pattern(41, 2*mB)}}}
	files := []core.File{fileOf("base", mustBuild(t, base).Bytes), fileOf("child", mustBuild(t, ims[1]).Bytes), fileOf("sibling", mustBuild(t, sibling).Bytes)}
	images, skipped, err := OpenFiles(t.Context(), files, nil)
	if err != nil || len(images) != 2 || len(skipped) != 0 {
		t.Fatalf("%v, %d images, skipped %v", err, len(images), skipped)
	}
	baseDisk := model(base, nil, specPresent)
	for _, img := range images {
		var im *vhdbuilder.Image
		if img.Info().Name == "child" {
			im = ims[1]
		} else {
			im = sibling
		}
		if d := firstDiff(readAll(t, img), model(im, baseDisk, specPresent)); d != "" {
			t.Errorf("%s: %s", img.Info().Name, d)
		}
		if c := img.Info().Chain; len(c) != 2 || c[1].Level != 1 || c[1].Name != "base" {
			t.Errorf("%s: chain %+v", img.Info().Name, c)
		}
	}
}

// A parent smaller than its child reads as zeros past its end, a larger
// one is cut at the child's size.
func TestParentSizes(t *testing.T) {
	for _, sizes := range [][2]int64{{2 * mB, 5 * mB}, {5 * mB, 2 * mB}} {
		base := &vhdbuilder.Image{Type: vhdbuilder.Fixed, Size: sizes[0], UniqueID: id(1), Data: pattern(1, int(sizes[0]))}
		child := &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: sizes[1], UniqueID: id(2), BlockSize: 1 * mB, Parent: &vhdbuilder.Parent{ID: id(1)},
			Blocks: map[int64]vhdbuilder.Block{1: {Data: pattern(2, mB), Present: []vhdbuilder.SectorRange{{Start: 0, Count: 8}}}}}
		img := mustOpen(t, mustBuild(t, child).Bytes, &Options{Parents: []core.File{fileOf("base", mustBuild(t, base).Bytes)}})
		if d := firstDiff(readAll(t, img), model(child, model(base, nil, specPresent), specPresent)); d != "" {
			t.Errorf("parent %d, child %d: %s", sizes[0], sizes[1], d)
		}
	}
}
