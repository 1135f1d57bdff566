package core

// Benchmarks: reads of a 1 GiB fully allocated image (32 MiB blocks),
// sequential and random at 4 KiB, 64 KiB and 1 MiB, and Open of a small
// image with a log to replay, of that 1 GiB image and of a 64 TiB one. The images are built once per process, in a
// directory TestMain removes.
//
//	go test -run '^$' -bench . -benchmem ./core/

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vhdxview/vhdxview/internal/builder"
)

var benchDir struct {
	once sync.Once
	path string
	err  error
}

// benchPath returns a directory for benchmark images shared by every
// benchmark of this run.
func benchPath(b *testing.B) string {
	benchDir.once.Do(func() { benchDir.path, benchDir.err = os.MkdirTemp("", "vhdxview-bench-") })
	if benchDir.err != nil {
		b.Fatal(benchDir.err)
	}
	return benchDir.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir.path != "" {
		os.RemoveAll(benchDir.path)
	}
	os.Exit(code)
}

var bench1G struct {
	once sync.Once
	path string
	err  error
}

// bigImage builds (once) a dynamic 1 GiB disk whose 32 blocks of 32 MiB
// are all FULLY_PRESENT and full of pseudo-random bytes.
func bigImage(b *testing.B) string {
	dir := benchPath(b)
	bench1G.once.Do(func() {
		const bs = 32 * mB
		im := &builder.Image{VirtualSize: builder.GiB, BlockSize: bs, Blocks: map[uint64]builder.Block{}}
		for i := range uint64(builder.GiB / bs) {
			im.Blocks[i] = builder.Block{State: builder.PayloadFullyPresent}
		}
		path := filepath.Join(dir, "1g.vhdx")
		lay, err := im.WriteFile(path)
		if err != nil {
			bench1G.err = err
			return
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			bench1G.err = err
			return
		}
		defer f.Close()
		data := make([]byte, bs)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < len(data); i += 8 {
			binary.LittleEndian.PutUint64(data[i:], rng.Uint64())
		}
		for i, off := range lay.Blocks {
			binary.LittleEndian.PutUint64(data, i)
			if _, err := f.WriteAt(data, off); err != nil {
				bench1G.err = err
				return
			}
		}
		bench1G.path = path
	})
	if bench1G.err != nil {
		b.Fatal(bench1G.err)
	}
	return bench1G.path
}

func openBench(b *testing.B, path string) *Image {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	img, err := Open(context.Background(), f, st.Size(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

func BenchmarkReadSeq(b *testing.B) {
	img := openBench(b, bigImage(b))
	buf := make([]byte, mB)
	b.SetBytes(mB)
	b.ReportAllocs()
	off := int64(0)
	for b.Loop() {
		if _, err := img.ReadAt(buf, off); err != nil {
			b.Fatal(err)
		}
		off = (off + mB) % img.Size()
	}
}

func BenchmarkReadRandom(b *testing.B) {
	img := openBench(b, bigImage(b))
	for _, n := range []int{4 * kB, 64 * kB, mB} {
		b.Run(sizeName(n), func(b *testing.B) {
			buf := make([]byte, n)
			rng := rand.New(rand.NewPCG(3, uint64(n)))
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				off := rng.Int64N(img.Size()/4096-int64(n/4096)) * 4096
				if _, err := img.ReadAt(buf, off); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sizeName(n int) string {
	if n >= mB {
		return string(rune('0'+n/mB)) + "M"
	}
	return itoa(n/kB) + "K"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

var benchHuge struct {
	once sync.Once
	path string
	err  error
}

func BenchmarkOpen(b *testing.B) {
	b.Run("small", func(b *testing.B) {
		data := readSeed(b, "dirty.vhdx")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Open(context.Background(), bytes.NewReader(data), int64(len(data)), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("1GiB", func(b *testing.B) { benchOpenFile(b, bigImage(b)) })
	b.Run("64TiB", func(b *testing.B) {
		benchHuge.once.Do(func() {
			im := &builder.Image{VirtualSize: 64 * builder.TiB, Blocks: map[uint64]builder.Block{7: fullBlock(fillIdx(1))}}
			benchHuge.path = filepath.Join(benchPath(b), "huge.vhdx")
			_, benchHuge.err = im.WriteFile(benchHuge.path)
		})
		if benchHuge.err != nil {
			b.Fatal(benchHuge.err)
		}
		benchOpenFile(b, benchHuge.path)
	})
}

// benchOpenFile times Open of the image at path, read through an os.File.
func benchOpenFile(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(context.Background(), f, st.Size(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func nowNanos() int64 { return time.Now().UnixNano() }
