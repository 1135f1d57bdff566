//go:build linux

package volume

// Issue #17: an aged NTFS volume whose directory index is split over
// several MFT records through an $ATTRIBUTE_LIST, built at test time with
// ntfs-3g (mounted as root through FUSE) and checked against what a
// read-only ntfs-3g mount lists and reads.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vhdxview/vhdxview/internal/reftool"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// agedVolume is the volume and what ntfs-3g says about it.
// (Exported fields: fuzzing workers read it from the JSON file the first
// process leaves next to the image.)
type agedVolume struct {
	Raw     string              // the NTFS volume (no partition table)
	VHDX    string              // Raw converted by qemu-img
	Dirs    map[string][]string // directory → names, as ntfs-3g lists them
	Sums    map[string]fileSum  // file → size and SHA-256, as ntfs-3g reads it
	Removed map[string]bool     // names deleted from /del
	BigRec  uint64              // /big's MFT record (ntfs-3g's inode number)
	Pieces  []uint64            // the records holding /big's $INDEX_ALLOCATION pieces, ntfsinfo's order
}

type fileSum struct {
	Size int64
	Sum  [32]byte
}

var aged struct {
	once sync.Once
	dir  string // made by this process, removed when it exits
	v    *agedVolume
	err  error
}

// agedEnv names the directory of a volume built by this test binary's
// first process, for the fuzzing workers it starts.
const agedEnv = "VHDXVIEW_AGED_NTFS"

func TestMain(m *testing.M) {
	code := m.Run()
	if aged.dir != "" {
		exec.Command("umount", filepath.Join(aged.dir, "mnt")).Run() // only if a build failed half-way
		os.RemoveAll(aged.dir)
	}
	os.Exit(code)
}

const (
	agedBigFiles = 10000
	agedDelFiles = 600
)

// agedNTFS builds the volume once per test binary (a few seconds):
//
//   - mkntfs -Q a 48 MiB volume and mount it with ntfs-3g;
//   - /comp/c.bin: a file in a directory marked compressed (LZNT1), written
//     while free space is still contiguous;
//   - /sparse: every other cluster of half the free space written, so that
//     the clusters left free form a checkerboard (the issue made one by
//     deleting every other small file, but ntfs-3g scatters small files,
//     which leaves 8-cluster holes instead); /sparse itself ends up with
//     thousands of runs over more than 21 attribute-list pieces;
//   - /big: 10,000 small files, whose index grows one cluster at a time
//     into the checkerboard until its run list spreads over several MFT
//     records (ntfsinfo -F /big lists each one);
//   - /frag.bin: 4 MiB in single clusters, $DATA over several records;
//   - /del: 600 files, every third then deleted (index slack keeps copies of
//     some of them from node splits, whose MFT records stay free).
//
// It then remounts read-only and records ntfs-3g's listings and file
// hashes, and converts the volume to VHDX.
func agedNTFS(t testing.TB) *agedVolume {
	t.Helper()
	for _, tool := range []string{"mkntfs", "ntfs-3g", "ntfsinfo", "umount", "qemu-img"} {
		requireTool(t, tool)
	}
	aged.once.Do(func() {
		if dir := os.Getenv(agedEnv); dir != "" {
			var b []byte
			if b, aged.err = os.ReadFile(filepath.Join(dir, "aged.json")); aged.err == nil {
				aged.err = json.Unmarshal(b, &aged.v)
			}
			return
		}
		aged.dir, aged.err = os.MkdirTemp("", "vhdxview-aged-ntfs-")
		if aged.err == nil {
			aged.v, aged.err = buildAged(aged.dir)
		}
		var b []byte
		if aged.err == nil {
			b, aged.err = json.Marshal(aged.v)
		}
		if aged.err == nil {
			aged.err = os.WriteFile(filepath.Join(aged.dir, "aged.json"), b, 0o644)
		}
		if aged.err == nil {
			os.Setenv(agedEnv, aged.dir)
		}
	})
	if aged.err != nil {
		t.Fatalf("building the aged NTFS volume: %v", aged.err)
	}
	return aged.v
}

// sh: see internal/reftool (fixtures built in a sync.Once).
var sh = reftool.Output

func buildAged(dir string) (*agedVolume, error) {
	v := &agedVolume{Raw: filepath.Join(dir, "aged.img"), Dirs: map[string][]string{}, Sums: map[string]fileSum{}, Removed: map[string]bool{}}
	if err := os.WriteFile(v.Raw, nil, 0o644); err != nil {
		return nil, err
	}
	if err := os.Truncate(v.Raw, 48<<20); err != nil {
		return nil, err
	}
	if _, err := sh("mkntfs", "-Q", "-F", "-q", "-L", "AGED", v.Raw); err != nil {
		return nil, err
	}
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return nil, err
	}
	if _, err := sh("ntfs-3g", "-o", "big_writes", v.Raw, mnt); err != nil {
		return nil, fmt.Errorf("mounting with ntfs-3g (FUSE, needs root): %w", err)
	}
	err := fillAged(mnt, v)
	if _, uerr := sh("umount", mnt); err == nil {
		err = uerr
	}
	if err != nil {
		return nil, err
	}

	info, err := sh("ntfsinfo", "-F", "/big", v.Raw)
	if err != nil {
		return nil, err
	}
	for _, m := range regexp.MustCompile(`Dumping attribute \$INDEX_ALLOCATION \(0xa0\) from mft record (\d+)`).FindAllStringSubmatch(info, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		v.Pieces = append(v.Pieces, n)
	}
	if len(v.Pieces) < 3 {
		return nil, fmt.Errorf("/big's $INDEX_ALLOCATION is in %d records (%v), want several: the recipe no longer fragments it", len(v.Pieces), v.Pieces)
	}

	if _, err := sh("ntfs-3g", "-o", "ro", v.Raw, mnt); err != nil {
		return nil, err
	}
	err = readOracle(mnt, v)
	if _, uerr := sh("umount", mnt); err == nil {
		err = uerr
	}
	if err != nil {
		return nil, err
	}
	v.VHDX = filepath.Join(dir, "aged.vhdx")
	if _, err := sh("qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic", v.Raw, v.VHDX); err != nil {
		return nil, err
	}
	return v, nil
}

func fillAged(mnt string, v *agedVolume) error {
	comp := filepath.Join(mnt, "comp")
	if err := os.Mkdir(comp, 0o755); err != nil {
		return err
	}
	// ntfs-3g's system.ntfs_attrib is the file attributes, little-endian;
	// 0x800 (compressed) on a directory compresses what is created in it.
	attr := make([]byte, 4)
	if _, err := syscall.Getxattr(comp, "system.ntfs_attrib", attr); err != nil {
		return fmt.Errorf("getxattr system.ntfs_attrib: %w", err)
	}
	binary.LittleEndian.PutUint32(attr, binary.LittleEndian.Uint32(attr)|0x800)
	if err := syscall.Setxattr(comp, "system.ntfs_attrib", attr, 0); err != nil {
		return fmt.Errorf("setxattr system.ntfs_attrib: %w", err)
	}
	var cb bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&cb, "line %d of a file that compresses well\n", i)
		if i%10 == 0 {
			cb.Write(randBytes(uint64(i), 300)) // and some that does not
		}
	}
	if err := os.WriteFile(filepath.Join(comp, "c.bin"), cb.Bytes(), 0o644); err != nil {
		return err
	}

	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		return err
	}
	sp, err := os.Create(filepath.Join(mnt, "sparse"))
	if err != nil {
		return err
	}
	blk := bytes.Repeat([]byte("sparse!\n"), 512)
	for i := int64(0); i < int64(st.Bavail)/2; i++ {
		binary.LittleEndian.PutUint64(blk, uint64(i))
		if _, err := sp.WriteAt(blk, i*2*int64(len(blk))); err != nil {
			sp.Close()
			return err
		}
	}
	if err := sp.Close(); err != nil {
		return err
	}

	big := filepath.Join(mnt, "big")
	if err := os.Mkdir(big, 0o755); err != nil {
		return err
	}
	for i := range agedBigFiles {
		if err := os.WriteFile(filepath.Join(big, agedBigName(i)), []byte(strconv.Itoa(i)+"\n"), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(mnt, "frag.bin"), randBytes(17, 4<<20), 0o644); err != nil {
		return err
	}
	del := filepath.Join(mnt, "del")
	if err := os.Mkdir(del, 0o755); err != nil {
		return err
	}
	for i := range agedDelFiles {
		if err := os.WriteFile(filepath.Join(del, fmt.Sprintf("entry-%04d.dat", i)), []byte(strconv.Itoa(i)), 0o644); err != nil {
			return err
		}
	}
	for i := 0; i < agedDelFiles; i += 3 {
		name := fmt.Sprintf("entry-%04d.dat", i)
		if err := os.Remove(filepath.Join(del, name)); err != nil {
			return err
		}
		v.Removed[name] = true
	}
	return nil
}

func agedBigName(i int) string { return fmt.Sprintf("file-with-a-longer-name-%05d.txt", i) }

// readOracle records what ntfs-3g lists and reads.
func readOracle(mnt string, v *agedVolume) error {
	for _, d := range []string{"/", "/big", "/del", "/comp"} {
		es, err := os.ReadDir(filepath.Join(mnt, d))
		if err != nil {
			return err
		}
		for _, e := range es {
			v.Dirs[d] = append(v.Dirs[d], e.Name())
			if e.IsDir() {
				continue
			}
			p := joinPath(d, e.Name())
			b, err := os.ReadFile(filepath.Join(mnt, p))
			if err != nil {
				return err
			}
			v.Sums[p] = fileSum{int64(len(b)), sha256.Sum256(b)}
		}
	}
	fi, err := os.Stat(filepath.Join(mnt, "big"))
	if err != nil {
		return err
	}
	v.BigRec = fi.Sys().(*syscall.Stat_t).Ino
	return nil
}

// TestNTFSAttributeListIndex: every directory lists what ntfs-3g lists
// (no name missing, none extra, no "deleted" noise), and every file reads
// the bytes ntfs-3g reads, through a VHDX.
func TestNTFSAttributeListIndex(t *testing.T) {
	v := agedNTFS(t)
	img := openVHDX(t, v.VHDX)
	tab, err := Partitions(t.Context(), img, img.Size(), 512)
	if err != nil {
		t.Fatal(err)
	}
	p := tab.Partitions[0]
	fsys, err := OpenFS(img, p.Offset, p.Size, 512)
	if err != nil {
		t.Fatal(err)
	}
	if fsys.Label() != "AGED" {
		t.Errorf("label %q", fsys.Label())
	}
	for dir, want := range v.Dirs {
		es, err := fsys.List(dir)
		if err != nil {
			t.Errorf("ReadDir %s: %v", dir, err)
			continue
		}
		var live []string
		for _, e := range es {
			switch {
			case e.Deleted && dir == "/del":
				if !v.Removed[e.Name] {
					t.Errorf("/del: %s listed as deleted, but it was not", e.Name)
				}
			case e.Deleted:
				t.Errorf("%s: %s listed as deleted in a directory nothing was deleted from", dir, e.Name)
			case dir != "/" || !strings.HasPrefix(e.Name, "$"): // ntfs-3g hides the system files
				live = append(live, e.Name)
			}
		}
		slices.Sort(live)
		slices.Sort(want)
		if !slices.Equal(live, want) {
			t.Errorf("ReadDir %s: %d names, ntfs-3g lists %d; missing %v, extra %v", dir, len(live), len(want), firstOf(minus(want, live)), firstOf(minus(live, want)))
		}
	}
	deleted := 0
	es, _ := fsys.List("/del")
	for _, e := range es {
		if e.Deleted {
			deleted++
			if _, err := fsys.OpenFile(e.Path); !errors.Is(err, ErrNotFound) {
				t.Errorf("open deleted %s: %v", e.Path, err)
			}
		}
	}
	// Node splits leave copies of entries in slack; those of files
	// deleted since (records free, not reused) are what ReadDir shows.
	if deleted == 0 {
		t.Errorf("/del: no deleted entries from index slack (%d files were deleted)", len(v.Removed))
	}
	t.Logf("/del: %d of %d deleted names recovered from index slack", deleted, len(v.Removed))

	for p, want := range v.Sums {
		f, err := fsys.OpenFile(p)
		if err != nil {
			t.Errorf("open %s: %v", p, err)
			continue
		}
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, f.Size())); err != nil {
			t.Errorf("read %s: %v", p, err)
			continue
		}
		if f.Size() != want.Size || !bytes.Equal(h.Sum(nil), want.Sum[:]) {
			t.Errorf("%s: %d bytes, sha256 %x; ntfs-3g reads %d bytes, %x", p, f.Size(), h.Sum(nil), want.Size, want.Sum)
		}
		if e, err := fsys.Lookup(p); err != nil || e.Size != want.Size {
			t.Errorf("stat %s: %+v %v", p, e, err)
		}
	}
	// /comp/c.bin went through go-ntfs's LZNT1 decoder: compressed
	// streams have no extents.
	if f, err := fsys.OpenFile("/comp/c.bin"); err != nil {
		t.Error(err)
	} else if _, ok := f.Extents(); ok {
		t.Error("/comp/c.bin has extents: ntfs-3g did not compress it, the test reads no compressed stream")
	}
	// The fragmented streams map onto the volume, extent by extent.
	raw, err := os.ReadFile(v.Raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/frag.bin", "/sparse"} {
		f, err := fsys.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ext, ok := f.Extents()
		if !ok || len(ext) < 1000 {
			t.Errorf("%s: %d extents, want a fragmented file", p, len(ext))
			continue
		}
		h := sha256.New()
		var end int64
		for _, e := range ext {
			n := min(e.Length, f.Size()-e.Offset)
			if e.Offset != end || n <= 0 {
				t.Fatalf("%s: extent %+v after byte %d", p, e, end)
			}
			if e.DiskOffset < 0 {
				h.Write(make([]byte, n))
			} else {
				h.Write(raw[e.DiskOffset : e.DiskOffset+n])
			}
			end = e.Offset + n
		}
		if want := v.Sums[p]; end != want.Size || !bytes.Equal(h.Sum(nil), want.Sum[:]) {
			t.Errorf("%s: the extents read different bytes from ntfs-3g", p)
		}
	}
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

func firstOf(s []string) []string { return s[:min(len(s), 5)] }

// findRecord returns the offset of MFT record num in a volume image:
// FILE records carry their own number at 0x2c.
func findRecord(t testing.TB, b []byte, num uint64) int {
	t.Helper()
	for off := 0; off+1024 <= len(b); off += 1024 {
		if string(b[off:off+4]) == "FILE" && binary.LittleEndian.Uint32(b[off+0x2c:]) == uint32(num) {
			return off
		}
	}
	t.Fatalf("no FILE record %d in the image", num)
	return 0
}

// indexBlocksOf returns the offsets of the INDX blocks whose first entry
// names dir as its parent.
func indexBlocksOf(b []byte, dir uint64) []int {
	var out []int
	for off := 0; off+4096 <= len(b); off += 4096 {
		if string(b[off:off+4]) != "INDX" {
			continue
		}
		first := off + 0x18 + int(binary.LittleEndian.Uint32(b[off+0x18:]))
		if first+0x18 <= off+4096 && refNum(binary.LittleEndian.Uint64(b[first+0x10:])) == dir {
			out = append(out, off)
		}
	}
	return out
}

// TestNTFSDamagedIndex: a directory whose index cannot all be read lists
// what it can and says it is incomplete, naming what is missing; a name in
// the missing part is "not found" and "incomplete" both.
func TestNTFSDamagedIndex(t *testing.T) {
	v := agedNTFS(t)
	orig, err := os.ReadFile(v.Raw)
	if err != nil {
		t.Fatal(err)
	}
	blocks := indexBlocksOf(orig, v.BigRec)
	if len(blocks) < 100 {
		t.Fatalf("%d index blocks of /big (record %d) found", len(blocks), v.BigRec)
	}
	for _, c := range []struct {
		name   string
		damage func(b []byte)
		want   string // in the error
	}{
		{"extension record lost", func(b []byte) {
			copy(b[findRecord(t, b, v.Pieces[1]):], "XXXX")
		}, fmt.Sprintf("MFT record %d", v.Pieces[1])},
		{"extension record reused", func(b []byte) {
			off := findRecord(t, b, v.Pieces[2])
			binary.LittleEndian.PutUint16(b[off+0x10:], binary.LittleEndian.Uint16(b[off+0x10:])+1) // sequence number
		}, "sequence number"},
		{"index block overwritten", func(b []byte) {
			copy(b[blocks[len(blocks)/2]:], "JUNK")
		}, `signature "JUNK"`},
		{"index block torn", func(b []byte) {
			b[blocks[len(blocks)/3]+1022]++ // the update sequence number ending the second stride
		}, "torn write"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(orig)
			c.damage(b)
			fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
			if err != nil {
				t.Fatal(err)
			}
			es, err := fsys.List("/big")
			if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ReadDir /big: %d entries, error %v; want ErrIncomplete naming %q", len(es), err, c.want)
			}
			if len(es) == 0 || len(es) >= agedBigFiles {
				t.Fatalf("%d entries listed", len(es))
			}
			listed := map[string]bool{}
			for _, e := range es {
				if e.Deleted || !strings.HasPrefix(e.Name, "file-with-a-longer-name-") {
					t.Errorf("listed %+v", e)
				}
				listed[e.Name] = true
			}
			for i := range agedBigFiles {
				if name := agedBigName(i); !listed[name] {
					_, err := fsys.Lookup("/big/" + name)
					if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrIncomplete) {
						t.Errorf("stat of unlisted %s: %v", name, err)
					}
					break
				}
			}
			// The other directories are whole.
			if _, err := fsys.List("/del"); err != nil {
				t.Errorf("ReadDir /del: %v", err)
			}
		})
	}
}

// TestNTFSStreamPieces: pieces of a non-resident attribute join in VCN
// order whatever order the records hold them in; gaps, overlaps, a
// missing first piece, runs past the volume and pieces the attribute
// list could not find are reported.
func TestNTFSStreamPieces(t *testing.T) {
	n := &ntfsFS{clusterSize: 4096, clusters: 1000}
	piece := func(low, high int64, lcn int64, rec uint64) *ntfsAttr {
		a := &ntfsAttr{typ: attrIndexAllocation, name: "$I30", record: rec, lowVCN: low, highVCN: high}
		if low == 0 {
			a.alloc = 30 * 4096
		}
		for v := low; v <= high; v += 5 {
			a.runs = append(a.runs, ntfsRun{vcn: v, lcn: lcn + v, n: min(5, high+1-v)})
		}
		return a
	}
	for _, c := range []struct {
		name     string
		pieces   []*ntfsAttr
		problems []attrProblem
		want     []string // one per problem, in order
	}{
		{"whole, out of order", []*ntfsAttr{piece(20, 29, 100, 12), piece(0, 9, 100, 10), piece(10, 19, 100, 11)}, nil, nil},
		{"gap", []*ntfsAttr{piece(0, 9, 100, 10), piece(15, 29, 100, 12)}, nil, []string{"VCNs 10 to 14 are in no piece"}},
		{"overlap", []*ntfsAttr{piece(0, 12, 100, 10), piece(10, 29, 100, 12)}, nil, []string{"the piece in MFT record 12 maps VCNs 10 to 12 again"}},
		{"short", []*ntfsAttr{piece(0, 9, 100, 10), piece(10, 19, 100, 11)}, nil, []string{"VCNs 20 to 29 (of 30) are in no piece"}},
		{"no first piece", []*ntfsAttr{piece(10, 29, 100, 12)}, nil, []string{"no piece starts at VCN 0"}},
		{"outside the volume", []*ntfsAttr{piece(0, 29, 980, 10)}, nil, []string{"VCNs 20 to 24 at LCN 1000", "VCNs 25 to 29 at LCN 1005"}},
		{"list entry unresolved", []*ntfsAttr{piece(0, 9, 100, 10), piece(20, 29, 100, 12)},
			[]attrProblem{{attrIndexAllocation, "$I30", "record 11 unreadable"}, {attrData, "", "not this one"}},
			[]string{"record 11 unreadable", "VCNs 10 to 19 are in no piece"}},
	} {
		f := &mftFile{mftRecord: &mftRecord{num: 10}, all: c.pieces, problems: c.problems}
		s, ok := n.stream(f, attrIndexAllocation, "$I30")
		if !ok {
			t.Errorf("%s: no stream", c.name)
			continue
		}
		if len(s.problems) != len(c.want) {
			t.Errorf("%s: problems %q, want %q", c.name, s.problems, c.want)
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(s.problems[i], w) {
				t.Errorf("%s: problem %q, want %q", c.name, s.problems[i], w)
			}
		}
		if len(c.want) == 0 {
			var next int64
			for _, r := range s.runs {
				if r.vcn != next || r.lcn != 100+r.vcn {
					t.Errorf("%s: run %+v after VCN %d", c.name, r, next)
				}
				next = r.vcn + r.n
			}
			if next != 30 {
				t.Errorf("%s: runs end at VCN %d", c.name, next)
			}
		}
	}
}

// TestNTFSRuns: mapping pairs decode with signed LCN deltas and sparse
// runs; malformed ones are errors, not panics.
func TestNTFSRuns(t *testing.T) {
	runs, err := decodeRuns([]byte{0x21, 0x10, 0x00, 0x01, 0x11, 0x05, 0xf0, 0x01, 0x03, 0x00}, 7)
	want := []ntfsRun{{7, 256, 16}, {23, 240, 5}, {28, -1, 3}}
	if err != nil || !slices.Equal(runs, want) {
		t.Errorf("decodeRuns = %v, %v; want %v", runs, err, want)
	}
	for _, b := range [][]byte{
		{0x21, 0x10},             // cut short
		{0x21, 0x10, 0x00, 0x01}, // no end
		{0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0},
		{0x11, 0x00, 0x05, 0x00},       // empty run
		{0x11, 0x01, 0xfb, 0x00},       // LCN below 0
		{0x01, 0xff, 0x00},             // negative length
		{0x00},                         // fine: nothing
		{0x48, 0, 0, 0, 0, 0, 0, 0, 0}, // offset of 4 bytes, length of 8: cut
	} {
		if _, err := decodeRuns(b, 0); err == nil && b[0] != 0 {
			t.Errorf("decodeRuns(% x): no error", b)
		}
	}
}

// FuzzNTFSIndex mutates the records and index blocks of the aged volume's
// /big (its base record, the extension records holding its index pieces
// and a few INDX blocks), then walks its index, carves its slack and
// looks names up: errors are fine, panics and hangs are not. The seed is those structures as
// ntfs-3g wrote them.
//
//	go test -run '^$' -fuzz FuzzNTFSIndex -fuzztime 60s ./volume/
func FuzzNTFSIndex(f *testing.F) {
	v := agedNTFS(f)
	base, err := os.ReadFile(v.Raw)
	if err != nil {
		f.Fatal(err)
	}
	var regions [][2]int // offset, length
	for _, rec := range append([]uint64{v.BigRec}, v.Pieces[1:]...) {
		regions = append(regions, [2]int{findRecord(f, base, rec), 1024})
	}
	for _, off := range indexBlocksOf(base, v.BigRec)[:4] {
		regions = append(regions, [2]int{off, 4096})
	}
	var seed []byte
	for _, r := range regions {
		seed = append(seed, base[r[0]:r[0]+r[1]]...)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		o := &overlay{base: base, patches: map[int][]byte{}}
		for _, r := range regions {
			if len(b) == 0 {
				break
			}
			k := min(len(b), r[1])
			o.patches[r[0]] = b[:k]
			b = b[k:]
		}
		// The index code is called directly, not through OpenFS, so
		// that a panic fails the run instead of becoming an error (go-ntfs
		// only maps $MFT here, whose records are not mutated), and so
		// that an exec does not read the 10,000 files' records.
		n, err := openNTFS(o, int64(len(base)))
		if err != nil {
			t.Fatalf("the volume no longer opens: %v", err)
		}
		ctx := context.Background()
		dir, err := n.file(ctx, v.BigRec)
		if err != nil {
			return
		}
		if idx, err := n.readIndex(ctx, dir, true); err == nil {
			for i, fn := range idx.slack {
				if i < 50 {
					n.deleted(ctx, dir, fn)
				}
			}
		}
		n.findName(ctx, dir, agedBigName(4321))
		n.findName(ctx, dir, "zzz")
		if s, ok := n.stream(dir, attrData, ""); ok && s.ntfsAttr != nil && !s.resident {
			buf := make([]byte, 4096)
			n.readStream(s, buf, 0)
		}
		n.entry(dir, "/big", "big")
		n.fileInfo(ctx, "/big") // ntfs_info.go: every attribute, its pieces joined
	})
}

// FuzzNTFSStructures feeds the record, index node and run-list decoders
// one structure at a time (the first byte picks which), seeded with /big's
// records and index blocks from the aged volume: a much faster loop than
// FuzzNTFSIndex's walk.
//
//	go test -run '^$' -fuzz FuzzNTFSStructures -fuzztime 60s ./volume/
func FuzzNTFSStructures(f *testing.F) {
	v := agedNTFS(f)
	base, err := os.ReadFile(v.Raw)
	if err != nil {
		f.Fatal(err)
	}
	for _, rec := range append([]uint64{v.BigRec}, v.Pieces[1:]...) {
		off := findRecord(f, base, rec)
		f.Add(append([]byte{0}, base[off:off+1024]...))
	}
	for _, off := range indexBlocksOf(base, v.BigRec)[:3] {
		f.Add(append([]byte{1}, base[off:off+4096]...))
	}
	f.Add([]byte{2, 0x21, 0x10, 0x00, 0x01, 0x11, 0x05, 0xf0, 0x01, 0x03, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		kind, b := b[0], bytes.Clone(b[1:])
		switch kind % 3 {
		case 0:
			if r, err := parseRecord(b, 7); err == nil {
				for _, a := range r.attrs {
					if a.typ == attrFileName && a.resident {
						parseFileName(a.value)
					}
				}
			}
		case 1:
			if len(b) >= 0x18 && applyFixups(b) != nil {
				return
			}
			es, used, alloc, err := parseNode(b, 0x18)
			if err == nil && (used > alloc || alloc > len(b)) {
				t.Fatalf("node: %d entries, used %d, allocated %d, of %d bytes", len(es), used, alloc, len(b))
			}
			if err == nil {
				carveSlack(b, 0x18, used, alloc)
			}
		default:
			runs, err := decodeRuns(b, 3)
			var next int64 = 3
			for _, r := range runs {
				if err == nil && (r.vcn != next || r.n <= 0 || r.lcn < -1) {
					t.Fatalf("run %+v after VCN %d", r, next)
				}
				next = r.vcn + r.n
			}
		}
	})
}
