package scan

// Hash and Search against independent oracles: images made by qemu-img
// from a raw disk with planted needles, hashed by sha256sum, sha1sum and
// md5sum and scanned by Python over `qemu-img convert -O raw` of the same
// image.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/reftool"
	"github.com/vhdxview/vhdxview/vhd"
)

const mib = 1 << 20

// needle is planted across block boundaries, next to sparse blocks and at
// the end of the disk.
const needle = "VHDX-NEEDLE"

// rawDisk writes a 24 MiB raw disk: random data in MiB 1-3 and 9, zeros
// elsewhere (sparse blocks once converted), needles and edge patterns.
func rawDisk(t *testing.T, dir string) string {
	d := make([]byte, 24*mib)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, r := range [][2]int{{1 * mib, 3 * mib}, {9 * mib, 10 * mib}} {
		for i := r[0]; i < r[1]; i++ {
			d[i] = byte(rng.IntN(255) + 1)
		}
	}
	for _, at := range []int{4096, 2*mib - 5, 3*mib - 4, 8*mib - 3, 16*mib + 1, len(d) - len(needle)} {
		copy(d[at:], needle)
	}
	copy(d[10*mib:], "\x00\x00\x00\x00ZQ") // a zero run's edge: MiB 10 follows data, but 4-5 follow zeros
	copy(d[5*mib:], "ZQ")                  // preceded by the zero MiB 4
	copy(d[12*mib-2:], "ZQ")               // followed by the zero MiB 12
	p := filepath.Join(dir, "disk.raw")
	if err := os.WriteFile(p, d, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type oracleImage struct {
	name, format string
	opts         string
	open         func(ctx context.Context, f *os.File, size int64) (Source, error)
}

var oracleImages = []oracleImage{
	{"dynamic.vhdx", "vhdx", "subformat=dynamic,block_size=1M", openVHDX},
	{"fixed.vhdx", "vhdx", "subformat=fixed", openVHDX},
	{"dynamic.vhd", "vpc", "subformat=dynamic,force_size=on", func(ctx context.Context, f *os.File, size int64) (Source, error) {
		return vhd.Open(ctx, f, size, nil)
	}},
}

func openVHDX(ctx context.Context, f *os.File, size int64) (Source, error) {
	return core.Open(ctx, f, size, nil)
}

// oracleDisks converts the raw disk to each format and back with qemu-img,
// and returns each opened image with the path of its raw conversion.
func oracleDisks(t *testing.T) (map[string]Source, map[string]string) {
	dir := t.TempDir()
	raw := rawDisk(t, dir)
	srcs, raws := map[string]Source{}, map[string]string{}
	for _, o := range oracleImages {
		p := filepath.Join(dir, o.name)
		reftool.Run(t, "qemu-img", "convert", "-f", "raw", "-O", o.format, "-o", o.opts, raw, p)
		raws[o.name] = reftool.QemuRawFormat(t, o.format, p)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		st, _ := f.Stat()
		src, err := o.open(context.Background(), f, st.Size())
		if err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		srcs[o.name] = src
	}
	return srcs, raws
}

func TestHashOracles(t *testing.T) {
	srcs, raws := oracleDisks(t)
	for name, src := range srcs {
		got, err := Hash(context.Background(), src, 0, -1, Algorithms, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, tool := range []string{"sha256sum", "sha1sum", "md5sum"} {
			want := strings.Fields(reftool.Run(t, tool, raws[name]))[0]
			if a := strings.TrimSuffix(tool, "sum"); got[a] != want {
				t.Errorf("%s %s: %s, %s says %s", name, a, got[a], tool, want)
			}
		}
		// Ranges across block edges, in zeros, at the end: Python's hashlib
		// over the raw bytes.
		for _, r := range [][2]int64{{mib - 7, 3*mib + 11}, {4 * mib, 5 * mib}, {24*mib - 100, 100}} {
			got, err := Hash(context.Background(), src, r[0], r[1], []string{"sha256", "md5"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			out := reftool.Run(t, reftool.Python, "-c", fmt.Sprintf(
				"import hashlib,sys\nf=open(sys.argv[1],'rb');f.seek(%d);b=f.read(%d)\nprint(hashlib.sha256(b).hexdigest(),hashlib.md5(b).hexdigest())", r[0], r[1]), raws[name])
			if want := strings.Fields(out); got["sha256"] != want[0] || got["md5"] != want[1] {
				t.Errorf("%s range %v: %v, Python says %v", name, r, got, want)
			}
		}
	}
}

// pyScan lists, by Python over the raw file, every offset in
// [off, off+n) where the hex pattern starts (overlapping), or with
// summary the count, the first and last five and the sum.
const pyScan = `import sys
b=open(sys.argv[1],'rb').read()[int(sys.argv[3]):int(sys.argv[3])+int(sys.argv[4])]
p=bytes.fromhex(sys.argv[2]);o=int(sys.argv[3]);h=[];i=b.find(p)
while i>=0:
    h.append(o+i);i=b.find(p,i+1)
print(len(h),sum(h),*h[:5],*h[-5:])`

func TestSearchOracles(t *testing.T) {
	srcs, raws := oracleDisks(t)
	cases := []struct {
		pattern string
		off, n  int64
	}{
		{needle, 0, 24 * mib},
		{needle, 2*mib - 4, 14 * mib},
		{"\x00\x00\x00\x00ZQ", 0, 24 * mib},
		{"ZQ\x00\x00", 0, 24 * mib},
		{"\x00\x00\x00\x00\x00\x00\x00\x00", 3*mib - 50, 3 * mib},
		{"\x00", 24*mib - 2*mib - 20, 2 * mib},
	}
	for name, src := range srcs {
		for _, c := range cases {
			var hits []int64
			off := c.off
			for {
				r, err := Search(context.Background(), src, []byte(c.pattern), off, c.off+c.n-off, 0, nil)
				if err != nil {
					t.Fatal(err)
				}
				hits = append(hits, r.Hits...)
				if r.Next < 0 {
					break
				}
				off = r.Next
			}
			want := reftool.Run(t, reftool.Python, "-c", pyScan, raws[name], fmt.Sprintf("%x", c.pattern), strconv.FormatInt(c.off, 10), strconv.FormatInt(c.n, 10))
			if got := summary(hits); got != strings.TrimSpace(want) {
				t.Errorf("%s %q in %d+%d: got %s, Python says %s", name, c.pattern, c.off, c.n, got, want)
			}
		}
	}
}

func summary(h []int64) string {
	sum := int64(0)
	for _, x := range h {
		sum += x
	}
	s := []string{strconv.Itoa(len(h)), strconv.FormatInt(sum, 10)}
	for _, x := range append(append([]int64{}, h[:min(5, len(h))]...), h[max(0, len(h)-5):]...) {
		s = append(s, strconv.FormatInt(x, 10))
	}
	return strings.Join(s, " ")
}
