package vhd

// Images made by other software: qemu-img creates dynamic and fixed VHD
// files (qemu's "vpc" format), qemu-io writes patterns at scattered,
// unaligned offsets, qemu-img converts raw files to VHD; every image must
// read as `qemu-img convert -f vpc -O raw` and libvhdi (pyvhdi) read it.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/reftool"
)

// qemuWrites returns qemu-io commands writing patterns at scattered,
// partly unaligned offsets of a disk of the given size, plus its first and
// last sectors and a write across a 2 MiB block boundary.
func qemuWrites(seed uint64, size int64) []string {
	rng := rand.New(rand.NewPCG(seed, 11))
	var ops []string
	for i := range 8 {
		off := rng.Int64N(size/512) * 512
		n := min(int64(rng.IntN(int(3*mB))+512)&^511, size-off)
		if i%4 == 3 {
			ops = append(ops, fmt.Sprintf("write -z %d %d", off, n)) // zeros over possibly allocated data
		} else {
			ops = append(ops, fmt.Sprintf("write -P 0x%02x %d %d", 0x10+i, off, n))
		}
	}
	return append(ops,
		"write -P 0xa1 0 512",
		fmt.Sprintf("write -P 0xa2 %d 512", size/512*512-512),
		fmt.Sprintf("write -P 0xa3 %d 4096", 2*mB-1536),
		"write -P 0xa4 1000 3000", // unaligned: qemu does read-modify-write
	)
}

func TestQemuImages(t *testing.T) {
	reftool.Require(t, "qemu-img")
	reftool.Require(t, "qemu-io")
	cases := []struct {
		name, subformat string
		size            int64
		opts            string
	}{
		{"dynamic-10M", "dynamic", 10 * mB, ""},
		{"dynamic-odd", "dynamic", 7*mB + 3*kB, ""},
		{"dynamic-forced-size", "dynamic", 9 * mB, "force_size=on"},
		{"fixed-5M", "fixed", 5 * mB, ""},
		{"fixed-forced-size", "fixed", 3 * mB, "force_size=on"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, c.name+".vhd")
			o := "subformat=" + c.subformat
			if c.opts != "" {
				o += "," + c.opts
			}
			reftool.Run(t, "qemu-img", "create", "-q", "-f", "vpc", "-o", o, p, fmt.Sprint(c.size))
			args := []string{"-f", "vpc"}
			for _, op := range qemuWrites(uint64(i), c.size) {
				args = append(args, "-c", op)
			}
			reftool.Run(t, "qemu-io", append(args, p)...)
			compareWithReaders(t, p)
		})
	}
}

// TestQemuConvert fills a raw file with data and holes and has qemu-img
// convert it: qemu leaves blocks of zeros unallocated in a dynamic disk.
func TestQemuConvert(t *testing.T) {
	reftool.Require(t, "qemu-img")
	dir := t.TempDir()
	raw := make([]byte, 24*mB)
	copy(raw[0:], pattern(1, 300*kB))
	copy(raw[5*mB+512:], pattern(2, 3*mB)) // across a block boundary
	copy(raw[15*mB:], pattern(3, 512))
	copy(raw[24*mB-700:], pattern(4, 700))
	rp := writeTemp(t, dir, "src.raw", raw)
	for _, sub := range []string{"dynamic", "fixed"} {
		t.Run(sub, func(t *testing.T) {
			p := filepath.Join(dir, sub+".vhd")
			reftool.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat="+sub+",force_size=on", rp, p)
			got := compareWithReaders(t, p)
			if d := firstDiff(got, raw); d != "" {
				t.Errorf("not the raw file converted: %s", d)
			}
			if sub == "dynamic" {
				img := mustOpen(t, readFile(t, p), nil)
				states, err := img.States(nil, 0, img.Info().PayloadBlocks)
				if err != nil {
					t.Fatal(err)
				}
				// Blocks 0, 2, 3, 4, 7 and 11 hold data; the rest are holes.
				want := "AUAAAUUAUUUA"
				var have []byte
				for _, s := range states {
					have = append(have, "UA"[s])
				}
				if string(have) != want {
					t.Errorf("block states %s, want %s", have, want)
				}
			}
		})
	}
}

// compareWithReaders reads the VHD at p with this package, qemu-img and
// libvhdi, checks all three agree byte for byte and that Verify is clean,
// and returns the disk.
func compareWithReaders(t *testing.T, p string) []byte {
	t.Helper()
	file := readFile(t, p)
	img := mustOpen(t, file, &Options{Name: filepath.Base(p)})
	got := readAll(t, img)
	if d := firstDiff(got, readFile(t, reftool.QemuRawFormat(t, "vpc", p))); d != "" {
		t.Errorf("%s: differs from qemu-img convert: %s", p, d)
	}
	if d := firstDiff(got, readFile(t, reftool.PyvhdiRaw(t, p))); d != "" {
		t.Errorf("%s: differs from libvhdi: %s", p, d)
	}
	if rep := img.Verify(t.Context(), nil); rep.Verdict != "clean" {
		t.Errorf("%s: verify: %+v", p, rep.Checks)
	}
	checkPlanMatchesRead(t, img, file, got)
	os.Remove(p + ".qemu.raw")
	return got
}

// checkPlanMatchesRead executes a plan of the whole disk against the file
// by hand and compares it with the bytes ReadAt gave.
func checkPlanMatchesRead(t *testing.T, img *Image, file, disk []byte) {
	t.Helper()
	got := make([]byte, img.Size())
	var next int64
	err := img.Plan(t.Context(), 0, img.Size(), func(r core.Run) error {
		if r.Offset != next {
			return fmt.Errorf("run at %d, want %d", r.Offset, next)
		}
		next += r.Length
		if r.Kind == core.RunFile {
			if r.Level != 0 {
				return fmt.Errorf("run of level %d in a single file", r.Level)
			}
			copy(got[r.Offset:r.Offset+r.Length], file[r.FileOffset:])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != img.Size() {
		t.Fatalf("plan covers %d of %d bytes", next, img.Size())
	}
	if d := firstDiff(got, disk); d != "" {
		t.Errorf("plan and ReadAt disagree: %s", d)
	}
}
