package volume

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/builder"
)

// fsCase is one file system inside a test disk, with what it holds.
type fsCase struct {
	kind string // expected Detect / Type
	tr   tree
	ads  tree
}

// checkDisk checks a disk's partitions against sfdisk's view and reads
// every file system back.
func checkDisk(t *testing.T, img *core.Image, scheme string, sf []sfPart, cases []fsCase) *Table {
	t.Helper()
	tab, err := Partitions(t.Context(), img, img.Size(), int(img.Info().LogicalSectorSize))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tab.Partitions {
		t.Logf("%s: %s %q %s at %d+%d fs %q", p, p.TypeName, p.Name, p.GUID, p.Offset, p.Size, p.FileSystem)
	}
	if tab.Scheme != scheme {
		t.Fatalf("scheme %q, want %q (problems %v)", tab.Scheme, scheme, tab.Problems)
	}
	if len(tab.Problems) != 0 {
		t.Errorf("problems on a clean disk: %v", tab.Problems)
	}
	if len(tab.Partitions) != len(sf) {
		t.Fatalf("%d partitions, sfdisk says %d: %+v", len(tab.Partitions), len(sf), tab.Partitions)
	}
	var data []Partition
	for i, p := range tab.Partitions {
		want := sf[i]
		ss := int64(tab.SectorSize)
		if p.Offset != want.Start*512 || (!p.Extended && p.Size != want.Size*512) || int64(p.FirstLBA)*ss != p.Offset {
			t.Errorf("%s: offset %d size %d, sfdisk: start %d size %d", p, p.Offset, p.Size, want.Start, want.Size)
		}
		if idx, _ := strconv.Atoi(regexp.MustCompile(`\d+$`).FindString(want.Node)); idx != p.Index {
			t.Errorf("%s: sfdisk calls it %s", p, want.Node)
		}
		if scheme == "gpt" {
			if p.GUID != strings.ToUpper(want.UUID) || p.TypeGUID != strings.ToUpper(want.Type) || p.Name != want.Name {
				t.Errorf("%s: guid %s type %s name %q; sfdisk: %s %s %q", p, p.GUID, p.TypeGUID, p.Name, want.UUID, want.Type, want.Name)
			}
		} else if fmt.Sprintf("%x", p.MBRType) != want.Type {
			t.Errorf("%s: type %02x, sfdisk %s", p, p.MBRType, want.Type)
		}
		if p.TypeName == "" || strings.HasPrefix(p.TypeName, "unknown") {
			t.Errorf("%s: type name %q", p, p.TypeName)
		}
		if !p.Extended {
			data = append(data, p)
		}
	}
	for i, c := range cases {
		p := data[i]
		if p.FileSystem != c.kind {
			t.Errorf("%s: detected %q, want %q", p, p.FileSystem, c.kind)
			continue
		}
		fsys, err := OpenFS(img, p.Offset, p.Size, tab.SectorSize)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if fsys.Type() != c.kind {
			t.Errorf("%s: type %s, want %s", p, fsys.Type(), c.kind)
		}
		if l := fsys.Label(); l == "" {
			t.Errorf("%s (%s): no label", p, c.kind)
		}
		checkTree(t, fsys, c.tr, ignoreSystem)
		for _, sp := range c.ads.paths() {
			name, stream, _ := strings.Cut(sp, ":")
			e, err := fsys.Lookup(name)
			if err != nil || len(e.Streams) != 1 || e.Streams[0].Name != stream || e.Streams[0].Size != int64(len(c.ads[sp])) {
				t.Errorf("%s: streams of %s: %+v %v", p, name, e.Streams, err)
			}
			f, err := fsys.OpenFile(sp)
			if err != nil {
				t.Errorf("%s: open %s: %v", p, sp, err)
				continue
			}
			got, _ := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
			if !bytes.Equal(got, c.ads[sp]) {
				t.Errorf("%s: %s reads %q, want %q", p, sp, got, c.ads[sp])
			}
		}
	}
	return tab
}

// TestGPTDisk: FAT32, NTFS (with an alternate data stream) and ext4 in a
// GPT disk made by sgdisk, as dynamic and fixed VHDX.
func TestGPTDisk(t *testing.T) {
	flat := sampleTree(true)
	ads := tree{"hello.txt:secret": []byte("alternate stream\n")}
	cases := []fsCase{
		{kind: "fat32", tr: sampleTree(false)},
		{kind: "ntfs", tr: flat, ads: ads},
		{kind: "ext4", tr: sampleTree(false)},
	}
	raw, sf := mkDisk(t, "gpt", 60, []part{
		{sizeMiB: 34, typ: "0700", img: mkFAT(t, 32, cases[0].tr, 34), name: "fat part"},
		{sizeMiB: 10, typ: "0700", img: mkNTFS(t, flat, ads, 10), name: "ntfs part"},
		{sizeMiB: 12, typ: "8300", img: mkExt(t, "ext4", cases[2].tr, 12), name: "linux"},
	})
	for _, sub := range []string{"dynamic", "fixed"} {
		t.Run(sub, func(t *testing.T) {
			img := openVHDX(t, toVHDX(t, raw, sub))
			tab := checkDisk(t, img, "gpt", sf, cases)
			if !tab.ProtectiveMBR || len(tab.GPTHeaders) != 2 || !tab.GPTHeaders[0].Valid || !tab.GPTHeaders[1].Valid || !tab.GPTHeaders[0].Used {
				t.Errorf("headers %+v, protective %v", tab.GPTHeaders, tab.ProtectiveMBR)
			}
		})
	}
}

// TestMBRExtended: an MBR with a FAT16 primary partition and an extended
// partition holding two logical ones (ext2, ext3).
func TestMBRExtended(t *testing.T) {
	cases := []fsCase{
		{kind: "fat16", tr: sampleTree(false)},
		{kind: "ext2", tr: sampleTree(false)},
		{kind: "ext3", tr: sampleTree(false)},
	}
	raw, sf := mkDisk(t, "mbr", 48, []part{
		{sizeMiB: 16, typ: "6", img: mkFAT(t, 16, cases[0].tr, 16)},
		{sizeMiB: 12, typ: "83", img: mkExt(t, "ext2", cases[1].tr, 12), logical: true},
		{sizeMiB: 12, typ: "83", img: mkExt(t, "ext3", cases[2].tr, 12), logical: true},
	})
	img := openVHDX(t, toVHDX(t, raw, "dynamic"))
	tab := checkDisk(t, img, "mbr", sf, cases)
	var logical, extended int
	for _, p := range tab.Partitions {
		if p.Logical {
			logical++
		}
		if p.Extended {
			extended++
		}
	}
	if logical != 2 || extended != 1 {
		t.Errorf("%d logical and %d extended partitions, want 2 and 1", logical, extended)
	}
}

// TestSector4K: VHDXs with 4096-byte logical sectors, written by our
// builder, holding a GPT or an MBR disk made by fdisk -b 4096 with an ext4
// volume.
func TestSector4K(t *testing.T) {
	tr := sampleTree(false)
	fsImg := mkExt(t, "ext4", tr, 12, "-b", "4096")
	for _, c := range []struct{ scheme, script string }{
		{"gpt", "g\nn\n1\n\n+12M\nw\n"},
		{"mbr", "o\nn\np\n1\n\n+12M\nw\n"},
	} {
		t.Run(c.scheme, func(t *testing.T) {
			raw := filepath.Join(t.TempDir(), "disk4k.raw")
			if err := os.WriteFile(raw, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Truncate(raw, 24<<20)
			run(t, c.script, "fdisk", "-b", "4096", raw)
			out := run(t, "", "fdisk", "-b", "4096", "-l", raw)
			m := regexp.MustCompile(`(?m)^\S+1\s+(\d+)\s+(\d+)\s+(\d+)`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("fdisk -l: %s", out)
			}
			start, _ := strconv.ParseInt(m[1], 10, 64)
			ddInto(t, raw, fsImg, start*4096)
			img := openVHDX(t, write4K(t, raw))
			if img.Info().LogicalSectorSize != 4096 {
				t.Fatalf("sector size %d", img.Info().LogicalSectorSize)
			}
			tab, err := Partitions(t.Context(), img, img.Size(), 4096)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Scheme != c.scheme || len(tab.Partitions) != 1 || len(tab.Problems) != 0 {
				t.Fatalf("%+v", tab)
			}
			p := tab.Partitions[0]
			if p.FirstLBA != uint64(start) || p.Offset != start*4096 || p.Size != 12<<20 || p.FileSystem != "ext4" {
				t.Errorf("partition %+v, fdisk: start %d", p, start)
			}
			fsys, err := OpenFS(img, p.Offset, p.Size, 4096)
			if err != nil {
				t.Fatal(err)
			}
			checkTree(t, fsys, tr, ignoreSystem)
			if c.scheme == "gpt" {
				// Told 512-byte sectors, the reader finds the GPT laid out
				// for 4096 and says so.
				t512, err := Partitions(t.Context(), img, img.Size(), 512)
				if err != nil || t512.SectorSize != 4096 || len(t512.Partitions) != 1 || t512.Partitions[0].Offset != p.Offset ||
					!strings.Contains(strings.Join(t512.Problems, " "), "laid out for 4096-byte sectors") {
					t.Errorf("read as 512: %+v %v", t512, err)
				}
			}
		})
	}
}

// write4K copies a raw disk into a 4096-byte-sector VHDX made by the
// builder (only the blocks that hold data).
func write4K(t *testing.T, raw string) string {
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	im := &builder.Image{VirtualSize: uint64(len(b)), LogicalSectorSize: 4096, PhysicalSectorSize: 4096, Blocks: map[uint64]builder.Block{}}
	for i := 0; i*builder.MiB < len(b); i++ {
		blk := b[i*builder.MiB : (i+1)*builder.MiB]
		if !allZero(blk) {
			im.Blocks[uint64(i)] = builder.Block{State: builder.PayloadFullyPresent, Data: blk}
		}
	}
	path := filepath.Join(t.TempDir(), "4k.vhdx")
	if _, err := im.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGPTBackup: a damaged primary GPT header makes the reader use the
// backup and say so; a damaged backup is reported while the primary is
// used.
func TestGPTBackup(t *testing.T) {
	raw, sf := mkDisk(t, "gpt", 8, []part{{sizeMiB: 2, typ: "8300", name: "one"}, {sizeMiB: 3, typ: "0700", name: "two"}})
	clean, _ := os.ReadFile(raw)
	for _, c := range []struct {
		name    string
		off     int64 // byte to flip
		primary bool  // the primary stays valid
		want    string
	}{
		{"primary header CRC", 512 + 60, false, "primary GPT header: at LBA 1: header CRC-32 mismatch"},
		{"primary entries CRC", 1024 + 40, false, "primary GPT header: at LBA 1: partition entry array CRC-32 mismatch"},
		{"primary signature", 512, false, "no \"EFI PART\" signature"},
		{"backup header", int64(len(clean)) - 512 + 60, true, "backup GPT header: at LBA"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(clean)
			b[c.off] ^= 0xff
			tab, err := Partitions(t.Context(), bytes.NewReader(b), int64(len(b)), 512)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Scheme != "gpt" || len(tab.Partitions) != 2 {
				t.Fatalf("%+v", tab)
			}
			for i, p := range tab.Partitions {
				if p.Offset != sf[i].Start*512 || p.Name != sf[i].Name {
					t.Errorf("%+v, sfdisk %+v", p, sf[i])
				}
			}
			if !strings.Contains(strings.Join(tab.Problems, "\n"), c.want) {
				t.Errorf("problems %q lack %q", tab.Problems, c.want)
			}
			h := tab.GPTHeaders
			if h[0].Valid != c.primary || h[0].Used != c.primary || h[1].Used == c.primary || h[1].Valid == !c.primary && false {
				t.Errorf("headers %+v", h)
			}
		})
	}
	// Both headers damaged: still a GPT disk (protective MBR), no partitions.
	b := bytes.Clone(clean)
	b[512+60] ^= 0xff
	b[len(b)-512+60] ^= 0xff
	tab, err := Partitions(t.Context(), bytes.NewReader(b), int64(len(b)), 512)
	if err != nil || tab.Scheme != "gpt" || len(tab.Partitions) != 0 || len(tab.Problems) == 0 {
		t.Errorf("both damaged: %+v %v", tab, err)
	}
	// A hostile entry count is refused before anything is allocated.
	b = bytes.Clone(clean)
	binary.LittleEndian.PutUint32(b[512+80:], 1<<30)
	fixHeaderCRC(b[512:1024])
	tab, err = Partitions(t.Context(), bytes.NewReader(b), int64(len(b)), 512)
	if err != nil || !strings.Contains(strings.Join(tab.Problems, "\n"), "exceeds") || len(tab.Partitions) != 2 {
		t.Errorf("hostile count: %+v %v", tab, err)
	}
}

func fixHeaderCRC(h []byte) {
	n := binary.LittleEndian.Uint32(h[12:])
	binary.LittleEndian.PutUint32(h[16:], 0)
	binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:n]))
}

// TestPartitionless: a file system written straight onto the disk.
func TestPartitionless(t *testing.T) {
	tr := sampleTree(false)
	for _, c := range []struct {
		kind string
		img  func() string
	}{
		{"fat32", func() string { return mkFAT(t, 32, tr, 34) }},
		{"ext4", func() string { return mkExt(t, "ext4", tr, 8) }},
		{"fat12", func() string { return mkFAT(t, 12, tr, 4) }},
	} {
		t.Run(c.kind, func(t *testing.T) {
			raw := c.img()
			b, _ := os.ReadFile(raw)
			tab, err := Partitions(t.Context(), bytes.NewReader(b), int64(len(b)), 512)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Scheme != "none" || len(tab.Partitions) != 1 || tab.Partitions[0].Index != 0 || tab.Partitions[0].Size != int64(len(b)) || tab.Partitions[0].FileSystem != c.kind {
				t.Fatalf("%+v", tab)
			}
			fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
			if err != nil {
				t.Fatal(err)
			}
			checkTree(t, fsys, tr, ignoreSystem)
		})
	}
}

// TestUnsupportedFS: a volume OpenFS does not read is named, and the raw
// partition is still there.
func TestUnsupportedFS(t *testing.T) {
	vol := make([]byte, 1<<20)
	copy(vol[3:], "EXFAT   ")
	vol[510], vol[511] = 0x55, 0xaa
	_, err := OpenFS(bytes.NewReader(vol), 0, int64(len(vol)), 512)
	var fe *FSError
	if !errors.Is(err, ErrUnsupportedFS) || !errors.As(err, &fe) || fe.FS != "exfat" || !strings.Contains(err.Error(), "exfat") {
		t.Errorf("exfat: %v", err)
	}
	_, err = OpenFS(bytes.NewReader(make([]byte, 1<<20)), 0, 1<<20, 512)
	if !errors.Is(err, ErrUnsupportedFS) || !strings.Contains(err.Error(), "no file system recognised") {
		t.Errorf("zeros: %v", err)
	}
	copy(vol[3:], "\x00\x00\x00\x00\x00\x00\x00\x00")
	copy(vol, "XFSB")
	if d := Detect(bytes.NewReader(vol), 0, int64(len(vol))); d != "xfs" {
		t.Errorf("xfs detected as %q", d)
	}
}

// TestDamagedFS: damage makes errors, never panics or hangs: a FAT with a
// cyclic cluster chain, a FAT32 volume with a bad boot sector, ext4 and
// NTFS volumes with bytes overwritten all over their metadata.
func TestDamagedFS(t *testing.T) {
	tr := sampleTree(false)
	fatImg, _ := os.ReadFile(mkFAT(t, 32, tr, 34))
	b := bytes.Clone(fatImg)
	bp, _ := parseBPB(b)
	fatOff := bp.reserved * bp.bytesPerSector
	// Point every FAT entry at cluster 3: chains loop.
	for c := int64(3); c < int64(bp.clusters)+2; c++ {
		binary.LittleEndian.PutUint32(b[fatOff+c*4:], 3)
	}
	fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		walkAll(fsys, "/", 0)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("walking a FAT with looping chains did not finish")
	}
	f, err := fsys.OpenFile("/big.bin")
	if err == nil {
		_, err = f.ReadAt(make([]byte, f.Size()), 0)
	}
	if err == nil {
		t.Error("big.bin read through a looping chain without error")
	}

	b = bytes.Clone(fatImg)
	binary.LittleEndian.PutUint32(b[36:], 0xffffffff) // sectors per FAT
	if _, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512); err == nil {
		t.Error("FAT32 with a huge FAT opened")
	}

	// Scribble over metadata regions and walk everything: only errors.
	extImg, _ := os.ReadFile(mkExt(t, "ext4", tr, 8))
	ntfsImg, _ := os.ReadFile(mkNTFS(t, sampleTree(true), nil, 8))
	for name, img := range map[string][]byte{"fat32": fatImg, "ext4": extImg, "ntfs": ntfsImg} {
		for seed := uint64(0); seed < 30; seed++ {
			b := bytes.Clone(img)
			junk := randBytes(seed+100, 4096)
			for i := 0; i < 64; i++ {
				off := int(binary.LittleEndian.Uint32(junk[i*4:]) % uint32(min(len(b), 4<<20)))
				b[off] = junk[2048+i]
			}
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Errorf("%s seed %d: panic escaped: %v", name, seed, v)
					}
				}()
				fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
				if err != nil {
					return
				}
				walkAll(fsys, "/", 0)
				walkIOFS(fsys)
			}()
		}
	}
}

// walkAll lists and reads everything reachable, ignoring errors.
func walkAll(fsys *FS, dir string, depth int) {
	if depth > 8 {
		return
	}
	es, _ := fsys.List(dir)
	for _, e := range es {
		if e.Deleted {
			// Recovery follows what damaged metadata says too.
			if f, err := fsys.OpenDeleted(e); err == nil {
				f.ReadAt(make([]byte, min(f.Size(), 1<<20)), 0)
				checkExtents(f)
			}
			continue
		}
		fsys.Lookup(e.Path)
		if e.IsDir {
			walkAll(fsys, e.Path, depth+1)
			continue
		}
		if f, err := fsys.OpenFile(e.Path); err == nil && f.Size() < 8<<20 {
			f.ReadAt(make([]byte, f.Size()), 0)
			checkExtents(f)
		}
	}
}

// walkIOFS walks fsys through io/fs (following symlinks wherever Open
// and Stat meet them), reading every small file, ignoring errors.
func walkIOFS(fsys *FS) {
	iofs.WalkDir(fsys, ".", func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := iofs.Stat(fsys, p); err == nil && fi.Size() < 8<<20 {
			iofs.ReadFile(fsys, p)
		}
		return nil
	})
}

// checkExtents panics (failing a fuzz run) unless f's extents, if it has
// any, are in file order, do not overlap, are non-empty and name a disk
// offset or a hole: what the worker's file_plan relies on. (They may run
// past the file's size: FAT and ext map whole clusters and blocks.)
func checkExtents(f *File) {
	ext, ok := f.Extents()
	if !ok {
		return
	}
	var end int64
	for _, e := range ext {
		if e.Length <= 0 || e.Offset < end || e.DiskOffset < -1 {
			panic(fmt.Sprintf("bad extent %+v after %d in a file of %d bytes", e, end, f.Size()))
		}
		end = e.Offset + e.Length
	}
}

// TestDeletedEntries: entries deleted from FAT (first byte 0xE5) and ext4
// (debugfs rm) are listed, marked, and cannot be opened.
func TestDeletedEntries(t *testing.T) {
	tr := tree{"keep.txt": []byte("kept\n"), "gone-with-a-long-name.txt": []byte("deleted\n")}
	// ext4: debugfs removes the entry as the kernel does (merging it into
	// the previous record).
	extPath := mkExt(t, "ext4", tr, 4)
	run(t, "", "debugfs", "-w", "-R", "rm /gone-with-a-long-name.txt", extPath)
	ext, _ := os.ReadFile(extPath)

	fatPath := mkFAT(t, 16, tr, 16)
	fat, _ := os.ReadFile(fatPath)
	bp, _ := parseBPB(fat)
	root := (bp.reserved + bp.numFATs*bp.fatSectors) * bp.bytesPerSector
	found, start := false, int64(-1)
	for i := root; i < root+bp.rootEntries*32 && fat[i] != 0; i += 32 {
		if fat[i+11] == 0x0f {
			if start < 0 {
				start = i
			}
			continue
		}
		var name strings.Builder
		for j := start; start >= 0 && j < i; j += 32 {
			for _, o := range []int64{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30} {
				name.WriteRune(rune(binary.LittleEndian.Uint16(fat[j+o:])))
			}
		}
		if strings.Contains(name.String(), "gone-with-a") {
			for j := start; j <= i; j += 32 {
				fat[j] = 0xe5 // what DOS and Windows do on delete
			}
			found = true
		}
		start = -1
	}
	if !found {
		t.Fatal("no long entry gone-with-a-long-name.txt in the FAT16 root")
	}
	for name, img := range map[string][]byte{"ext4": ext, "fat16": fat} {
		fsys, err := OpenFS(bytes.NewReader(img), 0, int64(len(img)), 512)
		if err != nil {
			t.Fatal(err)
		}
		es, err := fsys.List("/")
		if err != nil {
			t.Fatal(err)
		}
		var deleted []Entry
		for _, e := range es {
			if e.Deleted {
				deleted = append(deleted, e)
			} else if e.Name == "gone-with-a-long-name.txt" {
				t.Errorf("%s: deleted file listed as live", name)
			}
		}
		if len(deleted) != 1 || !strings.HasSuffix(deleted[0].Name, "-with-a-long-name.txt") {
			t.Errorf("%s: deleted entries %+v", name, deleted)
		}
		if _, err := fsys.OpenFile("/gone-with-a-long-name.txt"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: open deleted: %v", name, err)
		}
		if f, err := fsys.OpenFile("/keep.txt"); err != nil || f.Size() != 5 {
			t.Errorf("%s: keep.txt: %v", name, err)
		}
		// io/fs shows only what can be opened.
		des, err := fsys.ReadDir(".")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range des {
			if strings.HasSuffix(d.Name(), "-with-a-long-name.txt") {
				t.Errorf("%s: ReadDir lists the deleted %s", name, d.Name())
			}
		}
		if err := fstest.TestFS(fsys, "keep.txt"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestLargeDirectory: a directory of 10,000 entries lists whole through
// a dynamic VHDX (how fast: BenchmarkReadDir10k).
func TestLargeDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	img, n := bigDirImage(t)
	tab, err := Partitions(t.Context(), img, img.Size(), 512)
	if err != nil {
		t.Fatal(err)
	}
	p := tab.Partitions[0]
	fsys, err := OpenFS(img, p.Offset, p.Size, 512)
	if err != nil {
		t.Fatal(err)
	}
	es, err := fsys.List("/many")
	if err != nil || len(es) != n {
		t.Fatalf("%d entries, want %d: %v", len(es), n, err)
	}
	for i, e := range es {
		if want := fmt.Sprintf("file-%05d.txt", i); e.Name != want || e.Size != int64(len(strconv.Itoa(i))) {
			t.Fatalf("entry %d: %+v, want %s", i, e, want)
		}
	}
}

// bigDirImage makes a GPT disk with one ext4 volume whose /many directory
// holds 10,000 small files.
func bigDirImage(t testing.TB) (*core.Image, int) {
	t.Helper()
	const n = 10000
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "many")
	os.MkdirAll(src, 0o755)
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("file-%05d.txt", i)), []byte(strconv.Itoa(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsImg := filepath.Join(dir, "ext4.img")
	run(t, "", "mkfs.ext4", "-q", "-F", "-N", "12000", "-d", filepath.Join(dir, "src"), fsImg, "48M")
	raw, _ := mkDisk(t, "gpt", 50, []part{{sizeMiB: 48, typ: "8300", img: fsImg}})
	return openVHDX(t, toVHDX(t, raw, "dynamic")), n
}

// TestExtents: FAT and ext files report extents that read back the same
// bytes straight from the volume.
func TestExtents(t *testing.T) {
	tr := tree{"big.bin": randBytes(9, 3<<20+7)}
	for _, img := range []string{mkExt(t, "ext4", tr, 8), mkExt(t, "ext2", tr, 8), mkFAT(t, 32, tr, 34)} {
		b, _ := os.ReadFile(img)
		fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
		if err != nil {
			t.Fatal(err)
		}
		f, err := fsys.OpenFile("big.bin")
		if err != nil {
			t.Fatal(err)
		}
		ext, ok := f.Extents()
		if !ok || len(ext) == 0 {
			t.Fatalf("%s: no extents", fsys.Type())
		}
		var got []byte
		for _, e := range ext {
			if e.Offset != int64(len(got)) {
				t.Fatalf("%s: extent at %d after %d bytes", fsys.Type(), e.Offset, len(got))
			}
			if e.DiskOffset < 0 {
				got = append(got, make([]byte, e.Length)...)
			} else {
				got = append(got, b[e.DiskOffset:e.DiskOffset+e.Length]...)
			}
		}
		if !bytes.Equal(got[:len(tr["big.bin"])], tr["big.bin"]) {
			t.Errorf("%s: extents read different bytes", fsys.Type())
		}
	}
	// NTFS: a non-resident stream (file or ADS) is mapped from its run
	// list; a resident one (in the MFT record) has no extents.
	data, ads := randBytes(3, 70000), randBytes(4, 50000)
	b, _ := os.ReadFile(mkNTFS(t, tree{"a.bin": data, "small.txt": []byte("tiny")}, tree{"a.bin:s": ads}, 4))
	fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string][]byte{"a.bin": data, "a.bin:s": ads} {
		f, err := fsys.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ext, ok := f.Extents()
		if !ok || len(ext) == 0 {
			t.Fatalf("ntfs %s: no extents", p)
		}
		got := make([]byte, f.Size())
		for _, e := range ext {
			if e.DiskOffset >= 0 {
				copy(got[e.Offset:e.Offset+e.Length], b[e.DiskOffset:])
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("ntfs %s: extents read different bytes", p)
		}
	}
	f, err := fsys.OpenFile("small.txt")
	if err != nil {
		t.Fatal(err)
	}
	if ext, ok := f.Extents(); ok {
		t.Errorf("ntfs resident file: Extents gives %d extents, want none", len(ext))
	}
}

// FuzzVolume damages small disks and volumes (made once, at the start)
// and gives them to Partitions and OpenFS, walking whatever opens: errors
// are fine, panics and hangs are not. An input picks a base image and
// patches it (see patchOverlay), so it stays a few dozen bytes however
// large the image: the mutator works on what matters, nothing is copied or
// decompressed per run, and a run costs one open and one walk of a 1 MiB
// volume.
//
//	go test -run '^$' -fuzz FuzzVolume -fuzztime 60s ./volume/
func FuzzVolume(f *testing.F) {
	small := tree{"a.txt": []byte("abc"), "d/b.bin": randBytes(5, 5000)}
	var bases [][]byte
	for _, p := range []string{mkExt(f, "ext2", small, 1), mkExt(f, "ext4", small, 1), mkNTFS(f, tree{"a.txt": []byte("abc")}, nil, 2), mkFAT(f, 12, small, 1)} {
		b, _ := os.ReadFile(p)
		bases = append(bases, b)
	}
	raw, _ := mkDisk(f, "gpt", 1, []part{{sizeMiB: 0, typ: "8300"}})
	b, _ := os.ReadFile(raw)
	bases = append(bases, b)
	raw, _ = mkDisk(f, "mbr", 2, []part{{sizeMiB: 1, typ: "83", logical: true}})
	b, _ = os.ReadFile(raw)
	bases = append(bases, b)
	for i := range bases {
		f.Add(uint8(i), []byte{})
		// The superblock / boot sector / partition table region, touched.
		f.Add(uint8(i), []byte{0x00, 0x04, 0x00, 3, 0xff, 0xff, 0xff, 0xff, 0xc8, 0x01, 0x00, 0, 0x00})
	}
	f.Fuzz(func(t *testing.T, which uint8, patch []byte) {
		base := bases[int(which)%len(bases)]
		r := patchOverlay(base, patch)
		tab, err := Partitions(t.Context(), r, int64(len(base)), 512)
		if err != nil {
			return
		}
		for _, p := range tab.Partitions {
			if p.Size == 0 || p.Offset+p.Size > int64(len(base)) {
				continue
			}
			if fsys, err := OpenFS(r, p.Offset, p.Size, 512); err == nil {
				fsys.Label()
				walkAll(fsys, "/", 0)
				walkIOFS(fsys)
			}
		}
	})
}

// TestExtVariants: ext layouts beyond mke2fs's defaults: 1 KiB blocks and
// 128-byte inodes (double-indirect block maps), ext4 without extents or
// metadata_csum, inline data, sparse files (holes in block maps and extent
// trees deep enough to need index nodes), fast and slow symlinks.
func TestExtVariants(t *testing.T) {
	// Holes between islands of data, ending with data (mke2fs -d with
	// inline_data drops a trailing hole from the size).
	sparse := make([]byte, 6<<20-128<<10+4096)
	for off := 0; off < len(sparse); off += 128 << 10 {
		copy(sparse[off:], randBytes(uint64(off), 4096)) // 48 islands of data between holes
	}
	tr := sampleTree(false)
	tr["sparse.bin"] = sparse
	tr["dir/small"] = []byte("tiny")
	for _, c := range []struct {
		kind string
		opts []string
	}{
		{"ext2", []string{"-b", "1024", "-I", "128"}},
		{"ext3", []string{"-b", "4096"}},
		{"ext4", []string{"-O", "^extent,^metadata_csum,^64bit"}},
		{"ext4", []string{"-O", "inline_data"}},
		{"ext4", []string{"-b", "1024"}},
		{"ext4", []string{"-b", "1024", "-O", "bigalloc", "-C", "16384"}}, // superblock in block 1, first data block 0
		{"ext4", []string{"-O", "bigalloc", "-C", "65536"}},
	} {
		t.Run(c.kind+strings.Join(c.opts, ""), func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			writeTree(t, src, tr)
			// Make sparse.bin really sparse: rewrite it with holes.
			sp := filepath.Join(src, "sparse.bin")
			os.Remove(sp)
			f, _ := os.Create(sp)
			for off := 0; off < len(sparse); off += 128 << 10 {
				f.WriteAt(sparse[off:off+4096], int64(off))
			}
			f.Truncate(int64(len(sparse)))
			f.Close()
			long := strings.Repeat("long-target/", 8) + "hello.txt"
			os.Symlink("hello.txt", filepath.Join(src, "fast-link"))
			os.Symlink(long, filepath.Join(src, "slow-link"))
			img := filepath.Join(dir, "fs.img")
			run(t, "", "mkfs."+c.kind, append(append([]string{"-q", "-F", "-L", "variant", "-d", src}, c.opts...), img, "16M")...)
			b, _ := os.ReadFile(img)
			fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
			if err != nil {
				t.Fatal(err)
			}
			if fsys.Type() != c.kind || fsys.Label() != "variant" {
				t.Errorf("type %s label %q", fsys.Type(), fsys.Label())
			}
			checkTree(t, fsys, tr, func(n string) bool { return n == "lost+found" || strings.HasSuffix(n, "-link") })
			for name, target := range map[string]string{"fast-link": "hello.txt", "slow-link": long} {
				e, err := fsys.Lookup(name)
				if err != nil || e.Type != "symlink" || e.Target != target {
					t.Errorf("%s: %+v %v", name, e, err)
				}
				if _, err := fsys.OpenFile(name); err == nil {
					t.Errorf("%s: a symlink opened as a file", name)
				}
			}
		})
	}
}

// TestPanicGuard: a panic inside a reader becomes an error naming the
// volume, for every FS method and for reads.
func TestPanicGuard(t *testing.T) {
	s := newFS(panicky{}, &ctxReader{r: bytes.NewReader(nil), ctx: context.Background()}, "ntfs", 0x100000, 1<<20)
	check := func(what string, err error) {
		var fe *FSError
		if !errors.Is(err, ErrDamaged) || !errors.As(err, &fe) || fe.Offset != 0x100000 || !strings.Contains(err.Error(), "ntfs at 0x100000") {
			t.Errorf("%s: %v", what, err)
		}
	}
	_, err := s.List("/x")
	check("readdir", err)
	_, err = s.Lookup("/x")
	check("stat", err)
	_, err = s.OpenFile("/x")
	check("open", err)
	_, err = s.ReadDir("x")
	check("io/fs readdir", err)
	_, err = s.Open("x")
	check("io/fs open", err)
	if s.Label() != "" {
		t.Error("label")
	}
	f := &File{fs: s, impl: panicFile{}, path: "/f"}
	_, err = f.ReadAt(make([]byte, 10), 0)
	check("read", err)
	// The lock is free again after every panic.
	_, err = s.Lookup("/x")
	check("stat again", err)
}

type panicky struct{}

func (panicky) Type() string                                     { return "ntfs" }
func (panicky) Label() string                                    { panic("label") }
func (panicky) readDir(context.Context, string) ([]Entry, error) { panic("readdir") }
func (panicky) stat(context.Context, string) (Entry, error) {
	var m map[string]int
	m["x"]++
	return Entry{}, nil
}
func (panicky) open(context.Context, string) (fileImpl, error) {
	var a []int
	_ = a[3]
	return nil, nil
}

type panicFile struct{}

func (panicFile) Size() int64                             { return 100 }
func (panicFile) ReadAt(p []byte, off int64) (int, error) { panic("read") }

// TestNTFSValidLengthAndSparse: an NTFS stream whose valid data length is
// shorter than its size (ntfsfallocate: clusters allocated, never
// written, holding stale bytes) and a sparse one (ntfstruncate) read as
// ntfscat (ntfs-3g's reader) reads them: zeros past the valid length and
// in holes, through both go-ntfs and the extents.
func TestNTFSValidLengthAndSparse(t *testing.T) {
	for _, tool := range []string{"mkntfs", "ntfscp", "ntfsfallocate", "ntfstruncate", "ntfscat"} {
		requireTool(t, tool)
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "v.img")
	// Stale bytes everywhere: a quick format leaves them in free clusters.
	if err := os.WriteFile(img, randBytes(21, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "", "mkntfs", "-F", "-Q", "-q", img)
	src := filepath.Join(dir, "a.bin")
	os.WriteFile(src, randBytes(22, 100000), 0o644)
	run(t, "", "ntfscp", "-f", "-q", img, src, "/alloc.bin")
	run(t, "", "ntfscp", "-f", "-q", img, src, "/sparse.bin")
	run(t, "", "ntfsfallocate", "-l", "1M", img, "/alloc.bin")
	inode := ""
	for _, l := range strings.Split(run(t, "", "ntfsls", "-i", img), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] == "sparse.bin" {
			inode = f[0]
		}
	}
	run(t, "", "ntfstruncate", img, inode, "0x80", "", "3000000")

	b, _ := os.ReadFile(img)
	fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alloc.bin", "sparse.bin"} {
		want, err := exec.Command("ntfscat", img, "/"+name).Output()
		if err != nil {
			t.Fatal(err)
		}
		f, err := fsys.OpenFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, f.Size())
		if n, err := f.ReadAt(got, 0); n != len(got) || (err != nil && err != io.EOF) {
			t.Fatalf("%s: read %d of %d: %v", name, n, len(got), err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: go-ntfs read (%d bytes) differs from ntfscat (%d bytes)", name, len(got), len(want))
		}
		ext, ok := f.Extents()
		if !ok {
			t.Errorf("%s: no extents", name)
			continue
		}
		got = make([]byte, f.Size())
		holes := false
		for _, e := range ext {
			if e.DiskOffset >= 0 {
				copy(got[e.Offset:e.Offset+e.Length], b[e.DiskOffset:])
			} else {
				holes = true
			}
		}
		if !holes || !bytes.Equal(got, want) {
			t.Errorf("%s: extents (holes %v) read different bytes from ntfscat", name, holes)
		}
	}
}

// TestFiletime: NTFS times convert without wrapping (go-ntfs's own
// conversion shows FILETIME 0 as 2185).
func TestFiletime(t *testing.T) {
	for _, c := range []struct {
		ft   uint64
		want string // RFC 3339, "" for unset
	}{
		{0, ""},
		{132539328000000000, "2021-01-01T00:00:00Z"},
		{132539328000000001, "2021-01-01T00:00:00.0000001Z"},
		{864000000000, "1601-01-02T00:00:00Z"},       // before 1677: no wrap
		{116444736000000000, "1970-01-01T00:00:00Z"}, // the Unix epoch
		{^uint64(0), ""}, // past year 9999: JSON cannot hold it
		{2650467743999999999, "9999-12-31T23:59:59.9999999Z"},
	} {
		got := ""
		if tm := filetime(c.ft); !tm.IsZero() {
			got = tm.Format(time.RFC3339Nano)
		}
		if got != c.want {
			t.Errorf("filetime(%d) = %q, want %q", c.ft, got, c.want)
		}
	}
}

// TestExtEpochTime: an mtime of 0 is 1970-01-01T00:00:00Z, a time like any
// other (issue #16: it showed as no time at all).
func TestExtEpochTime(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeTree(t, src, tree{"epoch.txt": []byte("old\n"), "now.txt": []byte("new\n")})
	if err := os.Chtimes(filepath.Join(src, "epoch.txt"), time.Unix(0, 0), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "fs.img")
	run(t, "", "mkfs.ext4", "-q", "-F", "-d", src, img, "8M")
	b, _ := os.ReadFile(img)
	fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	e, err := fsys.Lookup("epoch.txt")
	if err != nil {
		t.Fatal(err)
	}
	if e.ModTime.IsZero() || e.ModTime.Unix() != 0 {
		t.Errorf("epoch.txt mtime %v, want 1970-01-01T00:00:00Z", e.ModTime)
	}
	js, _ := json.Marshal(e)
	if !strings.Contains(string(js), `"mod_time":"1970-01-01T00:00:00Z"`) {
		t.Errorf("JSON drops the epoch time: %s", js)
	}
}

// TestBackslashNames: "\" is an ordinary character of an ext name; a file
// and a folder named with one list, open and read (issue #16: "\" was
// taken for a separator).
func TestBackslashNames(t *testing.T) {
	tr := tree{`back\slash`: []byte("one file\n"), `dir\name/inside.txt`: []byte("in a folder\n"), "plain": {}}
	b, _ := os.ReadFile(mkExt(t, "ext4", tr, 8))
	fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, fsys, tr, func(n string) bool { return n == "lost+found" })
	es, err := fsys.List(`/dir\name`)
	if err != nil || len(es) != 1 || es[0].Path != `/dir\name/inside.txt` {
		t.Errorf(`List /dir\name: %+v %v`, es, err)
	}
	if _, err := fsys.Lookup("/back/slash"); err == nil {
		t.Error("/back/slash found: a backslash was taken for a separator")
	}
}

// TestFATCodePage: 8.3 names are OEM code page bytes. mtools writes them in
// CP850 (its default) with the NT lower-case flags and no long name, so
// read with CP850 every name is what mcopy was given; read with the default
// CP437 the same bytes are CP437 characters (issue #16: 0x90 was dropped).
func TestFATCodePage(t *testing.T) {
	tr := tree{"café.txt": []byte("1"), "CAFÉ2.TXT": []byte("2"), "ÕX.TXT": []byte("3")} // Õ is 0xE5, stored as 0x05
	b, _ := os.ReadFile(mkFAT(t, 16, tr, 16))
	if !bytes.Contains(b, []byte("CAF\x90    TXT \x18")) || !bytes.Contains(b, []byte("\x05X      TXT ")) {
		t.Fatal("mtools did not write the 8.3 entries this test is about")
	}
	cp850, ok := CodePage("850")
	if !ok {
		t.Fatal("no cp850")
	}
	fsys, err := OpenFSWith(bytes.NewReader(b), 0, int64(len(b)), 512, &FSOptions{CodePage: cp850})
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, fsys, tr, nil)
	def, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	es, err := def.List("/")
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if got, want := strings.Join(names, " "), "CAFÉ2.TXT café.txt σX.TXT"; err != nil || got != want {
		t.Errorf("CP437 listing %q (%v), want %q", got, err, want)
	}
}
