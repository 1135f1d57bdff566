package volume

// Benchmarks: listing a 10,000-entry directory, and reading one large file
// through a file system against reading the same number of bytes of the
// raw partition, all through a dynamic VHDX. The file is 1 GiB; set
// VOLUME_BENCH_MIB to change that (-short uses 64 MiB).
//
//	go test -run '^$' -bench . -benchtime 3x ./volume/

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vhdxview/vhdxview/core"
)

func BenchmarkReadDir10k(b *testing.B) {
	img, n := bigDirImage(b)
	tab, err := Partitions(b.Context(), img, img.Size(), 512)
	if err != nil {
		b.Fatal(err)
	}
	p := tab.Partitions[0]
	b.ResetTimer()
	for b.Loop() {
		fsys, err := OpenFS(img, p.Offset, p.Size, 512)
		if err != nil {
			b.Fatal(err)
		}
		es, err := fsys.List("/many")
		if err != nil || len(es) != n {
			b.Fatalf("%d entries: %v", len(es), err)
		}
	}
}

func benchFileMiB() int {
	if v, err := strconv.Atoi(os.Getenv("VOLUME_BENCH_MIB")); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return 64
	}
	return 1024
}

// bigFileImage makes a partitionless dynamic VHDX whose file system holds
// /big.bin of benchFileMiB MiB (random bytes, so nothing is sparse).
func bigFileImage(b *testing.B, kind string) *core.Image {
	dir := b.TempDir()
	mib := benchFileMiB()
	src := filepath.Join(dir, "big.bin")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	chunk := randBytes(7, 1<<20)
	for i := 0; i < mib; i++ {
		chunk[0] = byte(i)
		f.Write(chunk)
	}
	f.Close()
	fsSize := mib + mib/8 + 16
	img := filepath.Join(dir, kind+".raw")
	switch kind {
	case "ext4":
		in := filepath.Join(dir, "in")
		os.Mkdir(in, 0o755)
		os.Rename(src, filepath.Join(in, "big.bin"))
		run(b, "", "mkfs.ext4", "-q", "-F", "-d", in, img, strconv.Itoa(fsSize)+"M")
	case "ntfs":
		f, _ := os.Create(img)
		f.Truncate(int64(fsSize) << 20)
		f.Close()
		run(b, "", "mkntfs", "-F", "-Q", "-q", img)
		run(b, "", "ntfscp", "-f", "-q", img, src, "/big.bin")
	}
	os.RemoveAll(filepath.Join(dir, "in"))
	os.Remove(src)
	im := openVHDX(b, toVHDX(b, img, "dynamic"))
	os.Remove(img)
	return im
}

// BenchmarkRead reads /big.bin in 4 MiB chunks ("file") and as many bytes
// of the raw volume ("raw"), through the same dynamic VHDX. Compare their
// MB/s: reading through the file system should reach at least half the raw
// speed.
func BenchmarkRead(b *testing.B) {
	for _, kind := range []string{"ext4", "ntfs"} {
		b.Run(kind, func(b *testing.B) {
			img := bigFileImage(b, kind)
			fsys, err := OpenFS(img, 0, img.Size(), 512)
			if err != nil {
				b.Fatal(err)
			}
			f, err := fsys.OpenFile("/big.bin")
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 4<<20)
			b.Run("raw", func(b *testing.B) {
				b.SetBytes(f.Size())
				for b.Loop() {
					readAll(b, img, f.Size(), buf)
				}
			})
			b.Run("file", func(b *testing.B) {
				b.SetBytes(f.Size())
				for b.Loop() {
					readAll(b, f, f.Size(), buf)
				}
			})
		})
	}
}

func readAll(b *testing.B, r io.ReaderAt, n int64, buf []byte) {
	for off := int64(0); off < n; off += int64(len(buf)) {
		k := min(int64(len(buf)), n-off)
		if _, err := r.ReadAt(buf[:k], off); err != nil && err != io.EOF {
			b.Fatal(err)
		}
	}
}
