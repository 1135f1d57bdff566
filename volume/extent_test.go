package volume

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// piece is one call of mapExtents' or MapRange's emit.
type piece struct{ off, at, n int64 }

func TestMapExtents(t *testing.T) {
	// File blocks 0-1 at volume 8192, a hole extent, a gap, then 4 KiB at
	// volume 0; the last extent runs to 20480.
	ext := []Extent{{0, 8192, 8192}, {8192, 4096, -1}, {16384, 4096, 0}}
	const vol = 1 << 20
	for _, c := range []struct {
		off, n int64
		want   []piece
	}{
		{0, 20480, []piece{{0, 8192, 8192}, {8192, -1, 8192}, {16384, 0, 4096}}}, // hole and gap merged
		{100, 50, []piece{{100, 8292, 50}}},
		{5000, 20000, []piece{{5000, 13192, 3192}, {8192, -1, 8192}, {16384, 0, 4096}, {20480, -1, 4520}}}, // past the last extent: zeros
		{9000, 100, []piece{{9000, -1, 100}}},
		{16000, 1000, []piece{{16000, -1, 384}, {16384, 0, 616}}},
		{30000, 10, []piece{{30000, -1, 10}}},
		{0, 0, nil},
	} {
		var got []piece
		err := mapExtents(ext, vol, c.off, c.n, func(off, at, n int64) error {
			got = append(got, piece{off, at, n})
			return nil
		})
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("window %d+%d: %v %v, want %v", c.off, c.n, got, err, c.want)
		}
	}
	// No extents: all zeros.
	var got []piece
	mapExtents(nil, vol, 10, 20, func(off, at, n int64) error { got = append(got, piece{off, at, n}); return nil })
	if fmt.Sprint(got) != fmt.Sprint([]piece{{10, -1, 20}}) {
		t.Errorf("no extents: %v", got)
	}
	// An extent outside the volume is damage; emit's errors come back as
	// they are; bad windows are refused.
	bad := []Extent{{0, 4096, vol - 100}}
	if err := mapExtents(bad, vol, 0, 4096, func(int64, int64, int64) error { return nil }); !errors.Is(err, ErrDamaged) {
		t.Errorf("extent outside the volume: %v", err)
	}
	stop := errors.New("stop")
	if err := mapExtents(ext, vol, 0, 20480, func(int64, int64, int64) error { return stop }); err != stop {
		t.Errorf("emit's error: %v", err)
	}
	if err := mapExtents(ext, vol, -1, 10, func(int64, int64, int64) error { return nil }); err == nil {
		t.Error("negative offset accepted")
	}
}

// TestMapRange: windows of files in partitions of a GPT disk, mapped to
// disk offsets and read back from the raw disk, give the files' bytes
// (FAT32, ext4 with a sparse file, NTFS); an NTFS resident file has no
// extents.
func TestMapRange(t *testing.T) {
	data := randBytes(41, 3<<20+333)
	sparse := make([]byte, 2<<20)
	copy(sparse[1<<20:], randBytes(42, 5000))
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeTree(t, src, tree{"big.bin": data})
	// sparse.bin: a 1 MiB hole, data, a hole to the end.
	f, err := os.Create(filepath.Join(src, "sparse.bin"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(sparse[1<<20:1<<20+5000], 1<<20)
	f.Truncate(int64(len(sparse)))
	f.Close()
	extImg := filepath.Join(dir, "ext4.img")
	run(t, "", "mkfs.ext4", "-q", "-F", "-d", src, extImg, "12M")
	raw, _ := mkDisk(t, "gpt", 64, []part{
		{sizeMiB: 34, typ: "0700", img: mkFAT(t, 32, tree{"big.bin": data}, 34)},
		{sizeMiB: 12, typ: "8300", img: extImg},
		{sizeMiB: 8, typ: "0700", img: mkNTFS(t, tree{"big.bin": data, "tiny.txt": []byte("tiny")}, nil, 8)},
	})
	disk, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Partitions(t.Context(), bytes.NewReader(disk), int64(len(disk)), 512)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(43, 1))
	for _, p := range tab.Partitions {
		fsys, err := OpenFS(bytes.NewReader(disk), p.Offset, p.Size, 512)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{"big.bin": data}
		if fsys.Type() == "ext4" {
			files["sparse.bin"] = sparse
		}
		for name, want := range files {
			f, err := fsys.OpenFile(name)
			if err != nil {
				t.Fatal(err)
			}
			holes := false
			for i := 0; i < 20; i++ {
				off := rng.Int64N(int64(len(want)))
				n := rng.Int64N(int64(len(want)) - off + 1)
				if i == 0 {
					off, n = 0, int64(len(want))+4096 // clipped to the size
				}
				got := make([]byte, 0, n)
				err := f.MapRange(off, n, func(fileOff, diskOff, length int64) error {
					if fileOff != off+int64(len(got)) || length <= 0 {
						return fmt.Errorf("piece %d+%d after %d bytes", fileOff, length, len(got))
					}
					if diskOff < 0 {
						holes = true
						got = append(got, make([]byte, length)...)
						return nil
					}
					if diskOff < p.Offset || diskOff+length > p.Offset+p.Size {
						return fmt.Errorf("piece at disk 0x%x+0x%x outside %s", diskOff, length, p)
					}
					got = append(got, disk[diskOff:diskOff+length]...)
					return nil
				})
				end := min(off+n, int64(len(want)))
				if err != nil || !bytes.Equal(got, want[off:end]) {
					t.Errorf("%s %s: window %d+%d: %d bytes, %v", fsys.Type(), name, off, n, len(got), err)
				}
			}
			if name == "sparse.bin" && !holes {
				t.Errorf("%s: no zero pieces in a sparse file", fsys.Type())
			}
		}
		if fsys.Type() == "ntfs" {
			f, err := fsys.OpenFile("tiny.txt")
			if err != nil {
				t.Fatal(err)
			}
			err = f.MapRange(0, 4, func(int64, int64, int64) error { return nil })
			var fe *FSError
			if !errors.Is(err, ErrNoExtents) || !errors.As(err, &fe) || fe.Op != "map" || fe.Path != "/tiny.txt" {
				t.Errorf("resident file: %v", err)
			}
		}
	}
}
