package core

// Benchmarks for issue-level speed claims: a 3-level differencing chain read
// sequentially against the same data in one dynamic image, and Open of an
// image whose 1 MiB log must be replayed.
//
//	go test -run '^$' -bench 'Chain|LogReplay' -benchmem ./core/

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
)

const chainBenchSize = 256 * mB

var benchChain struct {
	once          sync.Once
	single, child string
	base, mid     string
	err           error
}

// chainImages builds (once) a 256 MiB single dynamic image and a 3-level
// chain of the same size with mixed block states: the base holds every
// block, the middle level a third of them fully and a third partially
// (every other sector run of 64 sectors), the top level every fourth block.
func chainImages(b *testing.B) {
	dir := benchPath(b)
	benchChain.once.Do(func() {
		const bs = 1 * mB
		n := uint64(chainBenchSize / bs)
		single := &builder.Image{VirtualSize: chainBenchSize, BlockSize: bs, Blocks: map[uint64]builder.Block{}}
		base := &builder.Image{VirtualSize: chainBenchSize, BlockSize: bs, Blocks: map[uint64]builder.Block{},
			DataWriteGUID: builder.DefaultDataWriteGUID}
		for i := range n {
			single.Blocks[i] = builder.Block{State: builder.PayloadFullyPresent, Fill: fillIdx(i)}
			base.Blocks[i] = builder.Block{State: builder.PayloadFullyPresent, Fill: fillIdx(i)}
		}
		mid := &builder.Image{VirtualSize: chainBenchSize, BlockSize: bs, Blocks: map[uint64]builder.Block{},
			Parent: builder.NewVHDXParent(base.DataWriteGUID, "base.vhdx")}
		mid.DataWriteGUID[0] = 0x22
		var runs []builder.SectorRange
		for s := uint64(0); s < bs/512; s += 128 {
			runs = append(runs, builder.SectorRange{Start: s, Count: 64})
		}
		for i := range n {
			switch i % 3 {
			case 1:
				mid.Blocks[i] = builder.Block{State: builder.PayloadFullyPresent, Fill: fillIdx(i + 1000)}
			case 2:
				mid.Blocks[i] = builder.Block{State: builder.PayloadPartiallyPresent, Fill: fillIdx(i + 2000), Present: runs}
			}
		}
		top := &builder.Image{VirtualSize: chainBenchSize, BlockSize: bs, Blocks: map[uint64]builder.Block{},
			Parent: builder.NewVHDXParent(mid.DataWriteGUID, "mid.vhdx")}
		top.DataWriteGUID[0] = 0x33
		for i := uint64(0); i < n; i += 4 {
			top.Blocks[i] = builder.Block{State: builder.PayloadFullyPresent, Fill: fillIdx(i + 3000)}
		}
		for name, im := range map[string]*builder.Image{"single.vhdx": single, "base.vhdx": base, "mid.vhdx": mid, "top.vhdx": top} {
			if _, err := im.WriteFile(filepath.Join(dir, name)); err != nil {
				benchChain.err = err
				return
			}
		}
		benchChain.single = filepath.Join(dir, "single.vhdx")
		benchChain.child = filepath.Join(dir, "top.vhdx")
		benchChain.mid = filepath.Join(dir, "mid.vhdx")
		benchChain.base = filepath.Join(dir, "base.vhdx")
	})
	if benchChain.err != nil {
		b.Fatal(benchChain.err)
	}
}

func openChain(b *testing.B, paths ...string) *Image {
	var files []File
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		st, _ := f.Stat()
		files = append(files, File{Name: p, R: f, Size: st.Size()})
	}
	img, err := Open(context.Background(), files[0].R, files[0].Size, &Options{Name: paths[0], Parents: files[1:]})
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkChainSeq reads the whole virtual disk in 1 MiB reads; compare
// the MB/s of "chain3" with "single" (issue: within 1.5x).
func BenchmarkChainSeq(b *testing.B) {
	chainImages(b)
	for _, c := range []struct {
		name  string
		paths []string
	}{
		{"single", []string{benchChain.single}},
		{"chain3", []string{benchChain.child, benchChain.mid, benchChain.base}},
	} {
		b.Run(c.name, func(b *testing.B) {
			img := openChain(b, c.paths...)
			if len(img.Chain()) != len(c.paths) {
				b.Fatalf("chain has %d levels", len(img.Chain()))
			}
			buf := make([]byte, mB)
			b.SetBytes(chainBenchSize)
			b.ResetTimer()
			for range b.N {
				for off := int64(0); off < chainBenchSize; off += mB {
					if _, err := img.ReadAt(buf, off); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkLogReplay opens an image whose 1 MiB log is nearly full of
// entries to replay (issue: well under 50 ms).
func BenchmarkLogReplay(b *testing.B) {
	dir := benchPath(b)
	im := &builder.Image{VirtualSize: 64 * mB, LogLength: 1 * mB, Blocks: map[uint64]builder.Block{
		0: {State: builder.PayloadFullyPresent, Fill: fillIdx(1)},
	}}
	// 200 data sectors (800 KiB plus descriptors: most of the log) in 8 entries.
	im.Log = &builder.Log{MaxDescriptors: 25, Deferred: []builder.Deferred{{Target: "bat"}, {Target: "metadata-table"}}}
	lay, err := im.Layout()
	if err != nil {
		b.Fatal(err)
	}
	blk := uint64(lay.Blocks[0])
	im.Log.Deferred = append(im.Log.Deferred, builder.Deferred{FileOffset: blk, Length: 200 * 4096})
	path := filepath.Join(dir, "replay.vhdx")
	if _, err := im.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	img, err := Open(context.Background(), f, st.Size(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if !img.log.Replayed || img.log.DataSectors < 200 {
		b.Fatalf("log not replayed as built: %+v", img.log)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := Open(context.Background(), f, st.Size(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
