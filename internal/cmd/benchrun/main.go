// Command benchrun measures vhdxview against its peers on this machine and
// rewrites BENCHMARKS.md. The machine is shared and noisy, so each pair of
// commands runs interleaved (A B A B ...) for several rounds and the table
// reports medians and the ratio of the medians. Images are generated in a
// temporary directory at run time and removed afterwards.
//
// It measures the native CLI against qemu-img and libvhdi, and the read
// benchmarks of core built natively and as js/wasm on Node through the
// async Blob bridge (internal/cmd/readbench, see wasm.go); it adds the
// browser's rows from -extra (web/test/bench.mjs --out) and the output of
// the Go benchmarks.
//
//	go run ./internal/cmd/benchrun [-rounds 5] [-out BENCHMARKS.md] [-extra rows.json] [-quick]
//
// -quick uses tiny images and one round, writes nothing, and only checks that
// every benchmark still runs (./build.sh test uses it): timings are never
// checked.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/vhdxview/vhdxview/internal/reftool"
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

// value formats a measurement in its unit; times in milliseconds when
// both of the row's are under a second.
func (r result) value(v float64) string {
	if r.Measured == "" || r.Measured == "time" {
		if max(r.MedA, r.MedB) < 1 {
			return fmt.Sprintf("%.1f ms", v*1000)
		}
		return fmt.Sprintf("%.3f s", v)
	}
	return fmt.Sprintf("%.1f %s", v, r.Measured)
}

// ratio formats A / B: two decimals, or two significant digits below 0.1.
func ratio(x float64) string {
	if x > 0 && x < 0.1 {
		return fmt.Sprintf("%.*f×", int(math.Ceil(-math.Log10(x)))+1, x)
	}
	return fmt.Sprintf("%.2f×", x)
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
		catA := func() { sh(*vhdx, "cat", "-o", rawA, img.path) }
		qemuB := func() { sh("qemu-img", "convert", "-f", "vhdx", "-O", "raw", img.path, rawB) }
		r := pair(*rounds, []string{rawA, rawB}, catA, qemuB)
		r.Name, r.A, r.B, r.Target = "whole disk to a file, "+img.name, "vhdx cat -o", "qemu-img convert -O raw", 1.0
		if !sameFile(rawA, rawB) {
			fail("vhdx cat and qemu-img convert disagree on " + img.name)
		}
		results = append(results, r)
		// Over the previous run's output, as a user re-extracting does:
		// each side finds its own last output (cached) in place.
		r = pair(*rounds, nil, catA, qemuB)
		r.Name, r.A, r.B, r.Target = "whole disk over the last output, "+img.name, "vhdx cat -o", "qemu-img convert -O raw", 1.0
		if !sameFile(rawA, rawB) {
			fail("vhdx cat and qemu-img convert disagree over existing outputs on " + img.name)
		}
		results = append(results, r)
		r = pair(*rounds, []string{rawA, rawB},
			func() { sh(*vhdx, "cat", "-o", rawA, img.path) },
			func() { sh(reftool.Python, "-c", reftool.PyvhdiScript, rawB, "0", "-1", img.path) })
		r.Name, r.A, r.B = "whole disk to a file, "+img.name, "vhdx cat -o", "libvhdi (pyvhdi, 8 MiB reads)"
		if !sameFile(rawA, rawB) {
			fail("vhdx cat and pyvhdi disagree on " + img.name)
		}
		results = append(results, r)
		os.Remove(rawA)
		os.Remove(rawB)
	}

	results = append(results, scanRows(*rounds, *vhdx, tmp, full, fmt.Sprintf("%d MiB fully allocated", fullSize>>20))...)

	wasmRows := wasmReads(*rounds, *quick, tmp, full, fmt.Sprintf("%d MiB fully allocated", fullSize>>20))
	results = append(results, fsWalkRows(*rounds, *quick, tmp)...)

	goBench := goBenchmarks(*quick)
	var extraRows []result
	if *extra != "" {
		b, err := os.ReadFile(*extra)
		check(err)
		check(json.Unmarshal(b, &extraRows))
	}
	if *quick {
		log("quick run done: %d pairs measured", len(results)+len(wasmRows))
		return
	}
	check(os.WriteFile(*out, []byte(render(results, wasmRows, extraRows, goBench, *rounds)), 0o644))
	log("wrote %s", *out)
}

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

// pair runs a and b interleaved and returns their medians. With outputs,
// each is removed (untimed) before its side runs, so both write a fresh
// file; without, each side overwrites what its last run left.
func pair(rounds int, outputs []string, a, b func()) result {
	var ta, tb []float64
	clean := func(i int) {
		if outputs != nil {
			os.Remove(outputs[i])
			exec.Command("sync").Run()
		}
	}
	a() // warm the page cache for both
	b()
	for i := 0; i < rounds; i++ {
		clean(0)
		ta = append(ta, timeIt(a))
		clean(1)
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
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "./core/", "./volume/"}
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

func render(native, wasm, browser []result, goBench string, rounds int) string {
	var b bytes.Buffer
	host, _ := os.Hostname()
	node := "Node (missing)"
	if v, err := exec.Command("node", "--version").Output(); err == nil {
		node = "Node " + strings.TrimSpace(string(v))
	}
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `./build.sh bench` (`go run ./internal/cmd/benchrun`) on %s, %s/%s, %d CPUs, host %s, %s, %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), host, runtime.Version(), node)
	b.WriteString("The machine is shared and noisy: absolute times drift between runs, so every comparison runs its two\n" +
		"sides interleaved (A B A B …) and the ratio of the medians is the number to read. Images are generated\n" +
		fmt.Sprintf("in a temporary directory by qemu-img/qemu-io at run time. Rounds per pair: %d.\n\n", rounds))
	if damonPageout() {
		b.WriteString("This machine also pages out cold memory, the page cache included (Linux DAMON with a `pageout`\n" +
			"scheme is on), so reads of the images often go to the disk: the rows that read a whole 1 GiB file\n" +
			"(`qemu-img convert`, the browser downloads) vary the most from run to run.\n\n")
	}
	b.WriteString("## Results\n\nEvery row compares A with B; **A / B** is the ratio of their medians. Where B is \"target …\" or\n" +
		"\"goal …\", B is that fixed number (from issues #6 and #7) and the row meets it when A / B is at most the target\n" +
		"ratio; **met** says yes or **no** against those targets, and — where the issues set none.\n\n")

	b.WriteString("### Native CLI\n\n`vhdx cat -o` against `qemu-img convert -O raw` and libvhdi (`pyvhdi`), each writing the whole virtual\n" +
		"disk to a fresh file and, in the \"over the last output\" rows, over the output its previous run left (what\n" +
		"re-extracting does; outputs compared byte for byte), timed: below 1× vhdx is faster.\n\n")
	table(&b, native)

	b.WriteString("\n### Wasm on Node (the async Blob bridge)\n\n`internal/cmd/readbench` runs the read loops of `core/bench_test.go`: sequential 1 MiB `ReadAt`, and\n" +
		"random `ReadAt` of 4 KiB, 64 KiB and 1 MiB at 4 KiB-aligned offsets, each for at least a second. B is native\n" +
		"Go reading the image through an `os.File`; A is the same program built with `GOOS=js GOARCH=wasm`, run on\n" +
		"Node (`go_js_wasm_exec`), reading a Blob from `fs.openAsBlob` through `bridge.NewBlobReader` in `ModeAsync`\n" +
		"(`blob.slice(a, b).arrayBuffer()`, awaited) with the viewer's default chunk cache (1 MiB chunks, 32 MiB, read-ahead).\n" +
		"Both read the same image in the same run, alternating process by process. Values are throughput in MB/s\n" +
		"(10⁶ bytes/s), so here A / B is the share of native speed that wasm reaches: higher is better. Issue #7 sets\n" +
		"no target. The bridge fetches whole 1 MiB chunks, so a random read smaller than a chunk pays for a whole\n" +
		"chunk's `arrayBuffer()` (the notes give how many bytes were fetched per byte read): that, not wasm's\n" +
		"compute, sets the random 4 KiB and 64 KiB rows. The browser worker reads the same chunks, synchronously\n" +
		"(`FileReaderSync`); its per-read latency is in the browser rows.\n\n")
	table(&b, wasm)

	b.WriteString("\n### Browser\n\nHeadless Chromium through playwright-core (`web/test/bench.mjs`), the engine in its Web Worker.\n" +
		"*Open to summary* is the median time from `vhdxview.open` to its summary; the image is remembered as the\n" +
		"viewer does (the store record's write is timed, the copy of the bytes into IndexedDB that follows in the\n" +
		"background is not). The *read* rows give p50 and p99 of random 4 KiB `vhdxview.read` calls; the p50 row\n" +
		"compares p50 with p99 of the same reads. The *download* rows time a whole-disk `vhdxview.blob` saved\n" +
		"through `<a download>` until the file is complete, against `qemu-img convert` and against saving the\n" +
		"raw source file itself the same way (the browser's own cost, without the engine), interleaved.\n" +
		"The *file* rows (issue #6) list a directory of 10,000 entries with `vhdxview.ls` and download a 1 GiB\n" +
		"file from an ext4 and an NTFS partition (`vhdxview.fileBlob`: slices of the image, as for a range) and\n" +
		"the NTFS one streamed through the engine 16 MiB at a time into an OPFS file (`vhdxview.saveFile`, the\n" +
		"path of files the engine cannot map, such as compressed NTFS ones), each against a raw range of the same\n" +
		"length; the target, at least half the raw range's speed, is a time ratio of at most 2.\n" +
		"The *journal* row (issue #15) opens a VHDX whose ext4 volume was copied while mounted with\n" +
		"`data=journal`, its last files only in the journal, and lists them (`vhdxview.open` + `ls`: the engine\n" +
		"replays the journal in memory), against what a Linux user does instead: copy the partition (a mount\n" +
		"replays by writing), `mount -o loop` it (the kernel replays), list, unmount; both listings are compared.\n" +
		"*Peak wasm memory*: each benchmark runs in a fresh page, so a fresh engine, whose `WebAssembly.Memory`\n" +
		"size is sampled every 200 ms while it runs and once after (wasm memory never shrinks, so the last sample\n" +
		"is the peak); it waits for both engines to load before it starts, and adds the two workers' memories.\n" +
		"The *size* rows compress both engines with `gzip -9` and `brotli -q 11`: `web/vhdxview.wasm`, the full\n" +
		"engine, and `web/vhdxview-core.wasm`, the core engine (`-tags nofs`), which leaves out the file-system\n" +
		"code (volume, go-ntfs with the `regexp` it brings, listing, preview, scan) and is what a first open\n" +
		"waits for. The full engine was 0.99 MB brotli before it read file systems; `internal/cmd/wasmsize` shows\n" +
		"where it goes now. The *cold load* rows (issue #15 item 4) navigate a new browser profile (no cache, no\n" +
		"service worker) to the viewer, pick the 1 GiB image as soon as the page can take it, and time the\n" +
		"summary and then its partitions row (the full engine's `parts`); each round also loads the page with\n" +
		"`manifest.json` served without the core engine, so that one worker runs the full engine alone, as before\n" +
		"the split, interleaved.\n\n")
	if len(browser) == 0 {
		b.WriteString("(not run: no `-extra` rows)\n")
	} else {
		table(&b, browser)
	}
	b.WriteString("\n## Go benchmarks (`go test -run '^$' -bench . -benchmem -count 3 ./core/ ./volume/`)\n\n```\n" + goBench + "\n```\n")
	return b.String()
}

// damonPageout says whether a DAMON kdamond is running a pageout scheme
// (it evicts cold page cache, which makes file reads go to the disk).
func damonPageout() bool {
	states, _ := filepath.Glob("/sys/kernel/mm/damon/admin/kdamonds/*/state")
	for _, st := range states {
		b, err := os.ReadFile(st)
		if err != nil || strings.TrimSpace(string(b)) != "on" {
			continue
		}
		actions, _ := filepath.Glob(filepath.Join(filepath.Dir(st), "contexts", "*", "schemes", "*", "action"))
		for _, a := range actions {
			if b, err := os.ReadFile(a); err == nil && strings.TrimSpace(string(b)) == "pageout" {
				return true
			}
		}
	}
	return false
}

// table writes rows as a Markdown table, then their notes.
func table(b *bytes.Buffer, rows []result) {
	b.WriteString("| what | A | B | median A | median B | A / B | target | met |\n|---|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, r := range rows {
		target, met := "—", "—"
		x := r.MedA / r.MedB
		if r.Target > 0 {
			target = fmt.Sprintf("≤ %.2f×", r.Target)
			met = "yes"
			if x > r.Target {
				met = "**no**"
			}
		}
		name := r.Name
		if r.Note != "" {
			notes = append(notes, r.Note)
			name += fmt.Sprintf(" [%d]", len(notes))
		}
		rs := ratio(x)
		if met != "yes" && rs == fmt.Sprintf("%.2f×", r.Target) {
			rs = fmt.Sprintf("%.3f×", x) // missed by less than the rounding
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", name, r.A, r.B, r.value(r.MedA), r.value(r.MedB), rs, target, met)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for i, n := range notes {
			fmt.Fprintf(b, "- [%d] %s\n", i+1, n)
		}
	}
}

// scanRows times `vhdx hash` and `vhdx search` on img against sha256sum
// and grep of its raw bytes (written untimed by qemu-img first), each
// reading its own input, outputs compared (issue #13).
func scanRows(rounds int, vhdx, tmp, img, name string) []result {
	raw := filepath.Join(tmp, "scan.raw")
	sh("qemu-img", "convert", "-f", "vhdx", "-O", "raw", img, raw)
	defer os.Remove(raw)
	out := func(name string, args ...string) string {
		b, err := exec.Command(name, args...).Output()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			err = nil // search and grep: "not found"
		}
		check(err)
		return string(b)
	}
	mine := strings.Fields(out(vhdx, "hash", "--algo", "sha256", img))
	theirs := strings.Fields(out("sha256sum", raw))
	if len(mine) == 0 || len(theirs) == 0 || mine[0] != theirs[0] {
		fail(fmt.Sprintf("vhdx hash and sha256sum disagree on %s: %v %v", name, mine, theirs))
	}
	var rows []result
	r := pair(rounds, nil, func() { out(vhdx, "hash", "--algo", "sha256", img) }, func() { out("sha256sum", raw) })
	r.Name, r.A, r.B, r.Target = "SHA-256 of the whole disk, "+name, "vhdx hash", "sha256sum of the raw bytes", 1.0
	rows = append(rows, r)
	const needle = "no such text on this disk"
	if a, b := out(vhdx, "search", "--text", needle, img), out("grep", "-c", "-a", "-F", needle, raw); a != "" || strings.TrimSpace(b) != "0" {
		fail(fmt.Sprintf("vhdx search and grep disagree on %s: %q %q", name, a, b))
	}
	r = pair(rounds, nil, func() { out(vhdx, "search", "--text", needle, img) }, func() { out("grep", "-c", "-a", "-F", needle, raw) })
	r.Name, r.A, r.B, r.Target = "search the whole disk for an absent text, "+name, "vhdx search --text", "grep -c -a -F on the raw bytes", 1.0
	return append(rows, r)
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
