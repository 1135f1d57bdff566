package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// readReport is what internal/cmd/readbench prints.
type readReport struct {
	Reader  string `json:"reader"`
	Results []struct {
		Name    string  `json:"name"`
		Bytes   int64   `json:"bytes"`
		MBps    float64 `json:"mb_per_s"`
		Fetched int64   `json:"fetched_bytes"`
	} `json:"results"`
}

// readBenches names readbench's benchmarks, in its order.
var readBenches = []struct{ key, what string }{
	{"seq/1M", "sequential 1 MiB ReadAt"},
	{"random/4K", "random 4 KiB ReadAt"},
	{"random/64K", "random 64 KiB ReadAt"},
	{"random/1M", "random 1 MiB ReadAt"},
}

// wasmReads runs internal/cmd/readbench (the read benchmarks of
// core/bench_test.go) on image twice per round, natively through an
// os.File and as GOOS=js GOARCH=wasm on Node through the async Blob
// bridge, alternating (native, wasm, native, wasm …), and returns one row
// per benchmark: median MB/s of wasm (A) and native (B). Quick runs each
// once for a few operations.
func wasmReads(rounds int, quick bool, tmp, image, imageName string) []result {
	native := filepath.Join(tmp, "readbench")
	wasm := filepath.Join(tmp, "readbench.wasm")
	log("building internal/cmd/readbench, native and js/wasm")
	sh("go", "build", "-o", native, "./internal/cmd/readbench")
	cmd := exec.Command("go", "build", "-o", wasm, "./internal/cmd/readbench")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		fail(fmt.Sprintf("GOOS=js GOARCH=wasm go build ./internal/cmd/readbench: %v\n%s", err, out))
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	check(err)
	execJS := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "go_js_wasm_exec")
	if _, err := os.Stat(execJS); err != nil {
		execJS = filepath.Join(strings.TrimSpace(string(goroot)), "misc", "wasm", "go_js_wasm_exec") // Go < 1.24
	}
	nodeVersion := "?"
	if v, err := exec.Command("node", "--version").Output(); err == nil {
		nodeVersion = strings.TrimSpace(string(v))
	}

	run := func(timeArg string, bin ...string) readReport {
		args := append(bin, "-image", image, "-time", timeArg)
		if quick {
			args = append(args, "-min", "2")
		}
		cmd := exec.Command(args[0], args[1:]...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			fail(fmt.Sprintf("%s: %v\n%s", strings.Join(args, " "), err, stderr.String()))
		}
		var rep readReport
		if err := json.Unmarshal(out, &rep); err != nil {
			fail(fmt.Sprintf("%s: %v\n%s", strings.Join(args, " "), err, out))
		}
		if len(rep.Results) != len(readBenches) {
			fail(fmt.Sprintf("%s: %d results, want %d", strings.Join(args, " "), len(rep.Results), len(readBenches)))
		}
		return rep
	}
	timeArg := "1s"
	if quick {
		timeArg = "0s"
	} else {
		log("readbench: warming up (native, then wasm on Node)")
		run("200ms", native)
		run("200ms", execJS, wasm)
	}
	mbps := map[string][2][]float64{} // key → [wasm, native] per round
	fetched := map[string][2]int64{}  // key → [fetched, read] by wasm, all rounds
	for i := 0; i < rounds; i++ {
		n := run(timeArg, native)
		w := run(timeArg, execJS, wasm)
		for k, rb := range readBenches {
			nr, wr := n.Results[k], w.Results[k]
			if nr.Name != rb.key || wr.Name != rb.key {
				fail(fmt.Sprintf("readbench: result %d is %q / %q, want %q", k, nr.Name, wr.Name, rb.key))
			}
			m := mbps[rb.key]
			m[0], m[1] = append(m[0], wr.MBps), append(m[1], nr.MBps)
			mbps[rb.key] = m
			f := fetched[rb.key]
			f[0], f[1] = f[0]+wr.Fetched, f[1]+wr.Bytes
			fetched[rb.key] = f
		}
		log("readbench round %d/%d: %s", i+1, rounds, summarize(w, n))
	}
	var rows []result
	for _, rb := range readBenches {
		m, f := mbps[rb.key], fetched[rb.key]
		r := result{
			Name:     fmt.Sprintf("%s, %s image", rb.what, imageName),
			A:        fmt.Sprintf("js/wasm on Node %s, async Blob bridge", nodeVersion),
			B:        "native Go, os.File",
			MedA:     median(m[0]),
			MedB:     median(m[1]),
			Rounds:   rounds,
			Measured: "MB/s",
		}
		if f[1] > 0 {
			r.Note = fmt.Sprintf("wasm: the bridge fetched %.2f bytes from the Blob per byte read (%d MiB fetched for %d MiB read, all rounds).",
				float64(f[0])/float64(f[1]), f[0]>>20, f[1]>>20)
		}
		rows = append(rows, r)
	}
	return rows
}

// summarize gives one round's MB/s, wasm / native, per benchmark.
func summarize(w, n readReport) string {
	var parts []string
	for k := range w.Results {
		parts = append(parts, fmt.Sprintf("%s %.1f / %.1f MB/s", w.Results[k].Name, w.Results[k].MBps, n.Results[k].MBps))
	}
	return strings.Join(parts, ", ")
}
