// Command benchrun measures vhdxview against its peers on this machine and
// rewrites BENCHMARKS.md. The machine is shared and noisy, so each pair of
// commands runs interleaved (A B A B ...) for several rounds and the table
// reports medians and the ratio of the medians. Images are generated in a
// temporary directory at run time and removed afterwards.
//
//	go run ./internal/cmd/benchrun [-rounds 5] [-out BENCHMARKS.md] [-quick]
//
// -quick uses tiny images and one round, writes nothing, and only checks that
// every benchmark still runs (./build.sh test uses it).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

type result struct {
	Name     string  `json:"name"`
	A, B     string  // what was compared
	MedA     float64 // seconds
	MedB     float64
	Target   float64 // ratio A/B must be ≤ Target (0: none)
	Note     string
	Rounds   int
	Measured string // "time" (seconds) or another unit
}

// value formats a measurement in its unit.
func (r result) value(v float64) string {
	if r.Measured == "" || r.Measured == "time" {
		return fmt.Sprintf("%.3f s", v)
	}
	return fmt.Sprintf("%.1f %s", v, r.Measured)
}

func main() {
	rounds := flag.Int("rounds", 5, "interleaved rounds per pair")
	out := flag.String("out", "BENCHMARKS.md", "file to rewrite")
	quick := flag.Bool("quick", false, "tiny images, one round, write nothing")
	vhdx := flag.String("vhdx", "bin/vhdx", "the vhdx CLI")
	extra := flag.String("extra", "", "JSON file with more rows (from the browser/Node benchmarks)")
	flag.Parse()
	if *quick {
		*rounds = 1
	}
	tmp, err := os.MkdirTemp("", "vhdxbench")
	check(err)
	defer os.RemoveAll(tmp)

	full := filepath.Join(tmp, "full.vhdx")
	half := filepath.Join(tmp, "half.vhdx")
	fullSize, halfSize := int64(1<<30), int64(4<<30)
	if *quick {
		fullSize, halfSize = 64<<20, 256<<20
	}
	log("creating a fully allocated %d MiB dynamic image (32 MiB blocks)", fullSize>>20)
	sh("qemu-img", "create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=32M", full, fmt.Sprint(fullSize))
	writeData(full, fullSize, fullSize) // every byte
	log("creating a half-sparse %d MiB dynamic image", halfSize>>20)
	sh("qemu-img", "create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=32M", half, fmt.Sprint(halfSize))
	writeData(half, halfSize, 64<<20) // every other 64 MiB

	var results []result
	for _, img := range []struct {
		name, path string
	}{{fmt.Sprintf("%d MiB fully allocated", fullSize>>20), full}, {fmt.Sprintf("%d MiB half sparse", halfSize>>20), half}} {
		rawA, rawB := filepath.Join(tmp, "a.raw"), filepath.Join(tmp, "b.raw")
		// Each run writes a fresh file: the outputs are removed (untimed)
		// before every run, so neither side pays for truncating the
		// other's dirty pages.
		r := pair(*rounds, []string{rawA, rawB},
			func() { sh(*vhdx, "cat", "-o", rawA, img.path) },
			func() { sh("qemu-img", "convert", "-f", "vhdx", "-O", "raw", img.path, rawB) })
		r.Name, r.A, r.B, r.Target = "whole disk to a file, "+img.name, "vhdx cat -o", "qemu-img convert -O raw", 1.0
		if !sameFile(rawA, rawB) {
			fail("vhdx cat and qemu-img convert disagree on " + img.name)
		}
		results = append(results, r)
		r = pair(*rounds, []string{rawA, rawB},
			func() { sh(*vhdx, "cat", "-o", rawA, img.path) },
			func() { sh("/usr/bin/python3", "-c", pyvhdiCat, img.path, rawB) })
		r.Name, r.A, r.B = "whole disk to a file, "+img.name, "vhdx cat -o", "libvhdi (pyvhdi, 8 MiB reads)"
		if !sameFile(rawA, rawB) {
			fail("vhdx cat and pyvhdi disagree on " + img.name)
		}
		results = append(results, r)
		os.Remove(rawA)
		os.Remove(rawB)
	}

	goBench := goBenchmarks(*quick)
	var extraRows []result
	if *extra != "" {
		b, err := os.ReadFile(*extra)
		check(err)
		check(json.Unmarshal(b, &extraRows))
	}
	if *quick {
		log("quick run done: %d pairs measured", len(results))
		return
	}
	check(os.WriteFile(*out, []byte(render(results, extraRows, goBench, *rounds)), 0o644))
	log("wrote %s", *out)
}

const pyvhdiCat = `
import sys, pyvhdi
f = pyvhdi.file(); f.open(sys.argv[1])
size = f.get_media_size(); off = 0
with open(sys.argv[2], "wb") as o:
    while off < size:
        n = min(8 << 20, size - off)
        o.write(f.read_buffer_at_offset(n, off)); off += n
f.close()
`

// writeData fills the image with a non-zero pattern: stride bytes written
// out of every 2*stride (or everything when stride == size).
func writeData(path string, size, stride int64) {
	var cmds []string
	step := stride * 2
	if stride >= size {
		step = size
	}
	for off, i := int64(0), 0; off < size; off, i = off+step, i+1 {
		n := min(stride, size-off)
		for k := int64(0); k < n; k += 256 << 20 { // qemu-io takes at most 2 GiB a write
			cmds = append(cmds, "-c", fmt.Sprintf("write -q -P 0x%02x %d %d", 0x11+(i*7)%200, off+k, min(256<<20, n-k)))
		}
	}
	sh("qemu-io", append([]string{"-f", "vhdx"}, append(cmds, path)...)...)
}

// pair runs a and b interleaved and returns their medians.
func pair(rounds int, outputs []string, a, b func()) result {
	var ta, tb []float64
	clean := func(o string) {
		os.Remove(o)
		exec.Command("sync").Run()
	}
	a() // warm the page cache for both
	b()
	for i := 0; i < rounds; i++ {
		clean(outputs[0])
		ta = append(ta, timeIt(a))
		clean(outputs[1])
		tb = append(tb, timeIt(b))
	}
	return result{MedA: median(ta), MedB: median(tb), Rounds: rounds}
}

func timeIt(f func()) float64 {
	t := time.Now()
	f()
	return time.Since(t).Seconds()
}

func median(v []float64) float64 {
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func goBenchmarks(quick bool) string {
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "./core/", "./core/volume/"}
	if quick {
		args = append(args, "-benchtime", "1x", "-short")
	} else {
		args = append(args, "-count", "3")
	}
	log("go %s", strings.Join(args, " "))
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		fail(fmt.Sprintf("go test -bench: %v\n%s", err, out))
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "cpu:") || strings.HasPrefix(l, "pkg:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func render(rs, extra []result, goBench string, rounds int) string {
	var b bytes.Buffer
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `./build.sh bench` (`go run ./internal/cmd/benchrun`) on %s, %s/%s, %d CPUs, host %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), host)
	b.WriteString("The machine is shared and noisy: absolute times drift between runs, so every comparison runs its two\n" +
		"commands interleaved (A B A B …) and the ratio of the medians is the number to read. Images are generated\n" +
		fmt.Sprintf("in a temporary directory by qemu-img/qemu-io at run time. Rounds per pair: %d.\n\n", rounds))
	b.WriteString("## Results\n\nNative rows first, then the browser rows (headless Chromium, `web/test/bench.mjs`). A / B is the ratio of the medians; for browser rows with a fixed target, B is the target itself.\n\n| what | A | B | median A | median B | A / B | target | met |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range append(rs, extra...) {
		target, met := "—", "—"
		ratio := r.MedA / r.MedB
		if r.Target > 0 {
			target = fmt.Sprintf("≤ %.2f×", r.Target)
			met = "yes"
			if ratio > r.Target {
				met = "**no**"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.2f× | %s | %s |\n", r.Name, r.A, r.B, r.value(r.MedA), r.value(r.MedB), ratio, target, met)
	}
	b.WriteString("\n## Go benchmarks (`go test -run '^$' -bench . -benchmem -count 3 ./core/ ./core/volume/`)\n\n```\n" + goBench + "\n```\n")
	return b.String()
}

func sameFile(a, b string) bool {
	cmd := exec.Command("cmp", "-s", a, b)
	return cmd.Run() == nil
}

func sh(name string, args ...string) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		fail(fmt.Sprintf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String()))
	}
}

func log(format string, a ...any) { fmt.Fprintf(os.Stderr, "benchrun: "+format+"\n", a...) }

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "benchrun:", msg)
	os.Exit(1)
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}
