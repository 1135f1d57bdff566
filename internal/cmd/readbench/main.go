// Command readbench runs the read benchmarks of core/bench_test.go on one
// VHDX image and prints their throughput as JSON, so that the same loops
// can be timed natively and as GOOS=js GOARCH=wasm on Node:
//
//   - seq/1M: sequential 1 MiB ReadAt calls over the whole disk (wrapping);
//   - random/4K, random/64K, random/1M: ReadAt of that size at random
//     4 KiB-aligned offsets (the same PCG seeds as the Go benchmarks).
//
// Built natively it reads the image through an os.File. Built for js/wasm
// and run on Node (go_js_wasm_exec, which gives it require) it reads a Blob
// from fs.openAsBlob(path) through bridge.NewBlobReader in ModeAsync
// (blob.slice(a, b).arrayBuffer(), awaited), with the chunk cache and
// read-ahead the browser worker uses. internal/cmd/benchrun runs the two
// interleaved on the same image and reports the ratio.
//
//	readbench -image IMG [-time 1s] [-min 3]
//
// Each benchmark runs batches of doubling size until it has run for -time
// and at least -min operations; MB/s is 10^6 bytes per second, as in
// go test -bench.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/vhdxview/vhdxview/core"
)

const (
	kiB = 1 << 10
	miB = 1 << 20
)

// Result is one benchmark's outcome.
type Result struct {
	Name    string  `json:"name"`
	Ops     int64   `json:"ops"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	MBps    float64 `json:"mb_per_s"`
	// Fetched is the number of bytes the reader fetched from its source
	// during the benchmark (the Blob bridge's chunk fetches; natively 0:
	// the os.File has no cache of its own).
	Fetched int64 `json:"fetched_bytes"`
}

// Report is what readbench prints.
type Report struct {
	Reader    string   `json:"reader"`
	Image     string   `json:"image"`
	ImageSize int64    `json:"virtual_size"`
	Results   []Result `json:"results"`
}

// source is an opened image file (see open_*.go).
type source struct {
	r       io.ReaderAt
	size    int64
	what    string       // how it is read
	fetched func() int64 // bytes fetched from the source so far (nil: none)
	close   func()
}

func main() {
	image := flag.String("image", "", "the VHDX image to read")
	d := flag.Duration("time", time.Second, "minimum time per benchmark")
	minOps := flag.Int64("min", 3, "minimum operations per benchmark")
	flag.Parse()
	if *image == "" {
		fmt.Fprintln(os.Stderr, "usage: readbench -image IMG [-time 1s] [-min 3]")
		os.Exit(2)
	}
	rep, err := run(*image, *d, *minOps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "readbench:", err)
		os.Exit(1)
	}
	out, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(out))
}

func run(path string, d time.Duration, minOps int64) (*Report, error) {
	src, err := openSource(path)
	if err != nil {
		return nil, err
	}
	defer src.close()
	img, err := core.Open(context.Background(), src.r, src.size, nil)
	if err != nil {
		return nil, err
	}
	size := img.Size()
	if size < 2*miB {
		return nil, fmt.Errorf("%s: the virtual disk is smaller than 2 MiB", path)
	}
	rep := &Report{Reader: src.what, Image: path, ImageSize: size}
	bench := func(name string, n int, next func() int64) error {
		buf := make([]byte, n)
		var before int64
		if src.fetched != nil {
			before = src.fetched()
		}
		ops, secs, err := measure(d, minOps, func() error {
			_, err := img.ReadAt(buf, next())
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r := Result{Name: name, Ops: ops, Bytes: ops * int64(n), Seconds: secs}
		r.MBps = float64(r.Bytes) / secs / 1e6
		if src.fetched != nil {
			r.Fetched = src.fetched() - before
		}
		rep.Results = append(rep.Results, r)
		return nil
	}
	// BenchmarkReadSeq.
	off := int64(0)
	if err := bench("seq/1M", miB, func() int64 {
		o := off
		off = (off + miB) % size
		return o
	}); err != nil {
		return nil, err
	}
	// BenchmarkReadRandom.
	for _, n := range []int{4 * kiB, 64 * kiB, miB} {
		rng := rand.New(rand.NewPCG(3, uint64(n)))
		if err := bench("random/"+sizeName(n), n, func() int64 {
			return rng.Int64N(size/4096-int64(n/4096)) * 4096
		}); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// measure runs op in batches until at least d has passed and minOps
// operations have run; it returns the operations run and the seconds they
// took. The clock is read once per batch, not per operation; each batch is
// sized from the time per operation so far to end near d (as go test
// -bench does), growing at most 100-fold.
func measure(d time.Duration, minOps int64, op func() error) (int64, float64, error) {
	var ops int64
	var total time.Duration
	batch := int64(1)
	for {
		t := time.Now()
		for range batch {
			if err := op(); err != nil {
				return ops, 0, err
			}
		}
		total += time.Since(t)
		ops += batch
		if total >= d && ops >= minOps {
			return ops, total.Seconds(), nil
		}
		perOp := float64(total) / float64(ops)
		want := int64(1.1*float64(d-total)/max(perOp, 1)) + 1
		batch = max(min(want, 100*ops), minOps-ops, 1)
	}
}

func sizeName(n int) string {
	if n >= miB {
		return fmt.Sprintf("%dM", n/miB)
	}
	return fmt.Sprintf("%dK", n/kiB)
}
