package volume

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// mbrSector is a 512-byte MBR or EBR holding entries (in slots 1, 2, ...).
func mbrSector(entries ...mbrEntry) []byte {
	b := make([]byte, 512)
	for i, e := range entries {
		o := b[446+16*i:]
		o[0], o[4] = e.boot, e.typ
		binary.LittleEndian.PutUint32(o[8:], e.start)
		binary.LittleEndian.PutUint32(o[12:], e.sectors)
	}
	b[510], b[511] = 0x55, 0xaa
	return b
}

// TestMBRTables: MBR and EBR chains written byte by byte, with the damage
// sfdisk will not write.
func TestMBRTables(t *testing.T) {
	const sectors = 20480 // a 10 MiB disk
	disk := func(at map[int64][]byte) []byte {
		b := make([]byte, sectors*512)
		for lba, s := range at {
			copy(b[lba*512:], s)
		}
		return b
	}
	ext := mbrEntry{typ: 0x0f, start: 8192, sectors: 8192} // LBA 8192-16383
	for _, c := range []struct {
		name     string
		disk     []byte
		want     string // index:first-last[:flags] of each partition
		problems string // a substring of the problems, "" for none
	}{
		{"primaries", disk(map[int64][]byte{0: mbrSector(mbrEntry{0x80, 0x83, 2048, 4096}, mbrEntry{0, 0x07, 6144, 2048})}),
			"1:2048-6143:boot 2:6144-8191", ""},
		{"empty slots between", disk(map[int64][]byte{0: mbrSector(mbrEntry{}, mbrEntry{}, mbrEntry{0, 0x0c, 2048, 100})}),
			"3:2048-2147", ""},
		{"bad boot indicator", disk(map[int64][]byte{0: mbrSector(mbrEntry{0, 0x83, 2048, 100}, mbrEntry{0x01, 0x83, 4096, 100})}),
			"", "MBR: entry 2: boot indicator 0x01 is neither 0x00 nor 0x80"},
		{"past the end", disk(map[int64][]byte{0: mbrSector(mbrEntry{0, 0x83, 20000, 1000})}),
			"1:20000-20999", "partition 1: ends at LBA 20999, past the end of the disk"},
		{"logical chain", disk(map[int64][]byte{
			0:     mbrSector(mbrEntry{0, 0x83, 2048, 4096}, ext),
			8192:  mbrSector(mbrEntry{0, 0x83, 63, 1000}, mbrEntry{0, 0x05, 2048, 1100}),
			10240: mbrSector(mbrEntry{0x80, 0x07, 63, 500}),
		}), "1:2048-6143 2:8192-16383:ext 5:8255-9254:logical 6:10303-10802:logical:boot", ""},
		{"EBR loop", disk(map[int64][]byte{
			0:     mbrSector(ext),
			8192:  mbrSector(mbrEntry{0, 0x83, 63, 1000}, mbrEntry{0, 0x05, 2048, 1100}),
			10240: mbrSector(mbrEntry{0, 0x83, 63, 500}, mbrEntry{0, 0x05, 2048, 1100}),
		}), "1:8192-16383:ext 5:8255-9254:logical 6:10303-10802:logical", "EBR chain loops back to LBA 10240"},
		{"EBR without signature", disk(map[int64][]byte{
			0:    mbrSector(ext),
			8192: mbrSector(mbrEntry{0, 0x83, 63, 1000}, mbrEntry{0, 0x05, 2048, 1100}),
		}), "1:8192-16383:ext 5:8255-9254:logical", "EBR at LBA 10240: no 0x55AA signature"},
		{"EBR link out of the extended partition", disk(map[int64][]byte{
			0:    mbrSector(ext),
			8192: mbrSector(mbrEntry{0, 0x83, 63, 1000}, mbrEntry{0, 0x05, 9000, 100}),
		}), "1:8192-16383:ext 5:8255-9254:logical", "EBR link to LBA 17192 leaves the extended partition"},
		{"logical past its extended partition", disk(map[int64][]byte{
			0:    mbrSector(ext),
			8192: mbrSector(mbrEntry{0, 0x83, 63, 9000}),
		}), "1:8192-16383:ext 5:8255-17254:logical", "runs past the end of its extended partition"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tab, err := Partitions(t.Context(), bytes.NewReader(c.disk), int64(len(c.disk)), 512)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Scheme != "mbr" {
				t.Fatalf("scheme %s", tab.Scheme)
			}
			var got []string
			for _, p := range tab.Partitions {
				s := []string{fmt.Sprintf("%d:%d-%d", p.Index, p.FirstLBA, p.LastLBA)}
				if p.Extended {
					s = append(s, "ext")
				}
				if p.Logical {
					s = append(s, "logical")
				}
				if p.Bootable {
					s = append(s, "boot")
				}
				got = append(got, strings.Join(s, ":"))
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Errorf("partitions %q, want %q", g, c.want)
			}
			probs := strings.Join(tab.Problems, "\n")
			if c.problems == "" && probs != "" || !strings.Contains(probs, c.problems) {
				t.Errorf("problems %q, want %q", probs, c.problems)
			}
		})
	}
}

// tinyTables writes a GPT (sgdisk) and an MBR with two logical
// partitions (sfdisk) on 64 KiB disks: seeds small enough to fuzz.
func tinyTables(t testing.TB) [][]byte {
	dir := t.TempDir()
	gpt, mbr := dir+"/gpt.raw", dir+"/mbr.raw"
	for _, p := range []string{gpt, mbr} {
		if err := os.WriteFile(p, make([]byte, 64<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "", "sgdisk", "-a", "1", "-o", "-n", "1:34:50", "-c", "1:one", "-n", "2:51:90", "-t", "2:0700", gpt)
	run(t, "label: dos\nstart=1, size=20, type=83, bootable\nstart=21, size=100, type=5\nstart=23, size=30, type=83\nstart=55, size=30, type=7\n",
		"sfdisk", "-q", mbr)
	var out [][]byte
	for _, p := range []string{gpt, mbr} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestTinyTables: the fuzz seeds read as sfdisk reads them.
func TestTinyTables(t *testing.T) {
	for i, b := range tinyTables(t) {
		tab, err := Partitions(t.Context(), bytes.NewReader(b), int64(len(b)), 512)
		if err != nil || len(tab.Problems) != 0 {
			t.Fatalf("%+v %v", tab, err)
		}
		var got []string
		for _, p := range tab.Partitions {
			got = append(got, fmt.Sprintf("%d:%d+%d:%s", p.Index, p.FirstLBA, p.LastLBA-p.FirstLBA+1, p.TypeName))
		}
		want := []string{"1:34+17:Linux filesystem 2:51+40:Microsoft basic data",
			"1:1+20:Linux 2:21+100:Extended 5:23+30:Linux 6:55+30:NTFS/exFAT/HPFS"}[i]
		if g := strings.Join(got, " "); g != want {
			t.Errorf("%s, want %s", g, want)
		}
	}
}

// FuzzPartitions feeds damaged partition tables to Partitions (and each
// 512-byte prefix to mbrEntries): no panic, not even one recovered, and
// every partition it gives lies inside the disk where its LBAs say.
//
//	go test -run '^$' -fuzz FuzzPartitions -fuzztime 60s -fuzzminimizetime 5s ./volume/
//
// (The seeds are 64 KiB disks: minimising an input that finds new
// coverage takes up to -fuzzminimizetime, 60 s by default, without
// counting executions.)
func FuzzPartitions(f *testing.F) {
	for _, b := range tinyTables(f) {
		f.Add(b)
	}
	f.Add(mbrSector(mbrEntry{0x80, 0x83, 1, 2}, mbrEntry{0, 0x05, 3, 10}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 512 {
			mbrEntries(b[:512])
		}
		for _, ss := range []int{512, 4096} {
			tab, err := Partitions(t.Context(), bytes.NewReader(b), int64(len(b)), ss)
			if errors.Is(err, errPanic) {
				t.Fatalf("sector size %d: %v", ss, err)
			}
			if err != nil {
				continue
			}
			if len(tab.GPTHeaders) != 0 && len(tab.GPTHeaders) != 2 {
				t.Fatalf("%d GPT headers", len(tab.GPTHeaders))
			}
			for _, p := range tab.Partitions {
				if p.Size == 0 {
					continue // refused: Problem says why
				}
				if p.Offset < 0 || p.Size < 0 || p.Offset+p.Size > int64(len(b)) || p.Offset != int64(p.FirstLBA)*int64(tab.SectorSize) {
					t.Fatalf("%s: offset %d size %d, LBAs %d-%d, disk %d bytes", p, p.Offset, p.Size, p.FirstLBA, p.LastLBA, len(b))
				}
			}
		}
	})
}

// TestWholeDiskFSNoProblem: a disk that is one ext4 file system (WSL's
// ext4.vhdx) has no partition table, and that is no problem, whatever the
// sector size: with 4 KiB sectors sector 0 holds the superblock
// (issue #18: "The partition table has problems").
func TestWholeDiskFSNoProblem(t *testing.T) {
	b, _ := os.ReadFile(mkExt(t, "ext4", tree{"a.txt": []byte("a")}, 8))
	for _, ss := range []int{512, 4096} {
		tab, err := Partitions(t.Context(), bytes.NewReader(b), int64(len(b)), ss)
		if err != nil {
			t.Fatal(err)
		}
		if tab.Scheme != "none" || len(tab.Problems) != 0 || len(tab.Partitions) != 1 || tab.Partitions[0].FileSystem != "ext4" {
			t.Errorf("%d-byte sectors: scheme %s, problems %v, partitions %+v", ss, tab.Scheme, tab.Problems, tab.Partitions)
		}
	}
	// Sector 0 with neither a table nor a file system is still one.
	junk := append(bytes.Repeat([]byte{0x5a}, 4096), make([]byte, 1<<20)...)
	tab, err := Partitions(t.Context(), bytes.NewReader(junk), int64(len(junk)), 512)
	if err != nil || len(tab.Problems) != 1 {
		t.Errorf("junk sector 0: %+v %v", tab, err)
	}
}
