package vhd

// Fuzzing, in the pattern of archive/zip/fuzz_test.go: FuzzOpen is seeded
// with the small images in testdata/ (see testdata/README.md), each also
// with a flag that recomputes the footer and header checksums so that
// mutations get past them, and runs the whole API on whatever opens.
// TestSeedsUpToDate checks the committed seeds against their descriptions.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the seed images in testdata/")

// seedImages describes the committed seeds: small block sizes keep them a
// few KiB each.
func seedImages() map[string]*vhdbuilder.Image {
	return map[string]*vhdbuilder.Image{
		// 64 KiB dynamic disk, 4 KiB blocks: block 0 full, block 3 with
		// sectors 1-2 and 6 present (bytes behind the clear bits), block
		// 15 (the last) full, the rest unallocated.
		"dynamic.vhd": {Type: vhdbuilder.Dynamic, Size: 64 * kB, BlockSize: 4 * kB, UniqueID: id(0xd1), Time: 1,
			Blocks: map[int64]vhdbuilder.Block{
				0:  {Data: []byte("dynamic seed, block 0")},
				3:  {Data: bytes.Repeat([]byte("partial "), 512), Present: []vhdbuilder.SectorRange{{Start: 1, Count: 2}, {Start: 6, Count: 1}}},
				15: {Data: []byte("last block")},
			}},
		// A differencing child of dynamic.vhd with relative and absolute
		// locators: block 0 with sectors 2-3 present, block 5 full.
		"child.vhd": {Type: vhdbuilder.Differencing, Size: 64 * kB, BlockSize: 4 * kB, UniqueID: id(0xc1), Time: 2,
			Parent: &vhdbuilder.Parent{ID: id(0xd1), Time: 1, Name: "dynamic.vhd",
				Locators: []vhdbuilder.Locator{vhdbuilder.W2ru(`.\dynamic.vhd`), vhdbuilder.W2ku(`C:\seeds\dynamic.vhd`)}},
			Blocks: map[int64]vhdbuilder.Block{
				0: {Data: bytes.Repeat([]byte("child "), 600), Present: []vhdbuilder.SectorRange{{Start: 2, Count: 2}}},
				5: {Data: []byte("child block 5")},
			}},
		// 8 KiB fixed disk.
		"fixed.vhd": {Type: vhdbuilder.Fixed, Size: 8 * kB, UniqueID: id(0xf1), Data: []byte("fixed seed")},
		// 32 KiB dynamic disk with the 511-byte footer of Virtual PC
		// before 2004, 4 KiB blocks, block 2 allocated.
		"old511.vhd": {Type: vhdbuilder.Dynamic, Size: 32 * kB, BlockSize: 4 * kB, UniqueID: id(0x51), Footer511: true, Creator: "vpc ",
			Blocks: map[int64]vhdbuilder.Block{2: {Data: []byte("old footer seed")}}},
	}
}

func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (regenerate with: go test ./vhd -run TestSeedsUpToDate -update-seeds)", err)
	}
	return b
}

func TestSeedsUpToDate(t *testing.T) {
	seeds := seedImages()
	parent := model(seeds["dynamic.vhd"], nil, specPresent)
	for name, im := range seeds {
		b := mustBuild(t, im).Bytes
		if *updateSeeds {
			if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !bytes.Equal(readSeed(t, name), b) {
			t.Errorf("testdata/%s is stale; regenerate with: go test ./vhd -run TestSeedsUpToDate -update-seeds", name)
			continue
		}
		img, err := openBytes(b, &Options{Name: name, Parents: []core.File{fileOf("dynamic.vhd", readSeed(t, "dynamic.vhd"))}})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := firstDiff(readAll(t, img), model(im, parent, specPresent)); d != "" {
			t.Errorf("%s: %s", name, d)
		}
		if rep := img.Verify(t.Context(), nil); rep.Verdict != "clean" {
			t.Errorf("%s: %+v", name, rep.Checks)
		}
	}
}

// fixChecksums recomputes the checksums of the footer at the end, the
// copy at 0 and the dynamic header the footer points at, in place.
func fixChecksums(b []byte) {
	n := len(b)
	var foot []byte
	switch {
	case n >= 512 && string(b[n-512:n-504]) == footerCookie:
		foot = b[n-512:]
	case n >= 511 && string(b[n-511:n-503]) == footerCookie:
		foot = b[n-511:]
	}
	if foot != nil {
		vhdbuilder.FixFooter(foot)
	}
	if n >= 512 && string(b[:8]) == footerCookie {
		vhdbuilder.FixFooter(b[:512])
		if foot == nil {
			foot = b[:512]
		}
	}
	if foot == nil {
		return
	}
	if h := binary.BigEndian.Uint64(foot[16:]); h < uint64(n) && h+headerSize <= uint64(n) {
		vhdbuilder.FixHeader(b[h : h+headerSize])
	}
}

func FuzzOpen(f *testing.F) {
	for name := range seedImages() {
		f.Add(readSeed(f, name), false)
		f.Add(readSeed(f, name), true)
	}
	parent := readSeed(f, "dynamic.vhd")
	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		if fix {
			b = bytes.Clone(b) // the fuzzer's input is not ours to change
			fixChecksums(b)
		}
		// The fuzzed file is offered as its own parent (cycles) along
		// with the dynamic seed (chains that resolve).
		parents := []core.File{fileOf("self", b), fileOf("dynamic.vhd", parent)}
		img, err := openBytes(b, &Options{Name: "fuzz", Parents: parents, Partial: true})
		if err != nil {
			var fe *FormatError
			var ce *ChainError
			if !errors.As(err, &fe) && !errors.As(err, &ce) {
				t.Fatalf("Open error is neither a *FormatError nor a *ChainError: %v (%T)", err, err)
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Open error matches no sentinel: %v", err)
			}
			_ = err.Error()
			return
		}
		exerciseImage(t, img)
	})
}

// maxFuzzRead bounds how much of a fuzzed disk is read.
const maxFuzzRead = 4 * mB

// exerciseImage runs the whole API on an opened image, checking the
// invariants that must hold for any input.
func exerciseImage(t *testing.T, img *Image) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rep := img.Verify(ctx, nil)
	if (rep.Errors+rep.Warnings > 0) != (rep.Verdict == "problems") {
		t.Fatalf("verdict %s with %d errors, %d warnings", rep.Verdict, rep.Errors, rep.Warnings)
	}
	in := img.Info()
	if in.VirtualSize != img.Size() || img.Size() < 0 || img.Size() > maxVirtualSize {
		t.Fatalf("virtual size %d", img.Size())
	}
	if _, err := img.States(nil, 0, min(in.PayloadBlocks, 1<<16)); err != nil {
		t.Fatalf("States: %v", err)
	}
	// Reads either succeed or fail naming a damaged block or the
	// missing parent.
	readErr := func(err error) {
		var be *core.BlockError
		if err != nil && err != io.EOF && !errors.As(err, &be) && !errors.Is(err, ErrNoParent) {
			t.Fatalf("read error %v (%T)", err, err)
		}
	}
	n := min(img.Size(), maxFuzzRead)
	buf := make([]byte, 64*kB+123)
	for off := int64(0); off < n; off += int64(len(buf)) {
		k, err := img.ReadAt(buf, off)
		readErr(err)
		if err == nil && k != len(buf) || k < 0 || k > len(buf) {
			t.Fatalf("ReadAt at 0x%x: %d bytes, %v", off, k, err)
		}
	}
	if img.Size() >= 500 {
		k, err := img.ReadAt(buf[:1000], img.Size()-500)
		readErr(err)
		if err == nil || (err == io.EOF && k != 500) {
			t.Fatalf("read across the end: %d bytes, %v", k, err)
		}
	}
	if k, err := img.ReadAt(buf[:10], img.Size()); k != 0 || err != io.EOF {
		t.Fatalf("read at the end: %d, %v", k, err)
	}
	// ZeroBad plans every block: a bad entry is a fill, never an error,
	// and the fill is marked.
	zctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var be *core.BlockError
	zerr := img.ZeroBad().Plan(zctx, 0, min(img.Size(), 1<<30), func(r core.Run) error {
		if r.Bad != nil && r.Kind != core.RunZero {
			t.Fatalf("bad run %+v is not a zero run", r)
		}
		return nil
	})
	if errors.As(zerr, &be) {
		t.Fatalf("ZeroBad plan: %v", zerr)
	}
	// A plan covers what it is asked for and reads the same as ReadAt.
	pn := min(img.Size(), 256*kB)
	want := make([]byte, pn)
	if _, err := img.ReadAt(want, 0); err != nil && err != io.EOF {
		return
	}
	got := make([]byte, pn)
	pos := int64(0)
	err := img.Plan(context.Background(), 0, pn, func(r core.Run) error {
		if r.Offset != pos || r.Length <= 0 {
			t.Fatalf("run %+v at 0x%x", r, pos)
		}
		pos += r.Length
		if r.Kind == core.RunFile {
			f, size, _ := img.File(r.Level)
			if f == nil || r.FileOffset < 0 || r.FileOffset+r.Length > size {
				t.Fatalf("run %+v outside its file", r)
			}
			f.ReadAt(got[r.Offset:r.Offset+r.Length], r.FileOffset)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("plan after a good read: %v", err)
	}
	if pos != pn || !bytes.Equal(got, want) {
		t.Fatalf("plan covers 0x%x of 0x%x; same bytes as ReadAt: %v", pos, pn, bytes.Equal(got, want))
	}
}
