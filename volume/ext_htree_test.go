package volume

// Hashed (htree) directories: lookups through the index give the inodes
// the kernel and debugfs give, read a few of the directory's blocks rather
// than all of them, survive a damaged index, and deleted-entry recovery
// shows no names made of index or stale bytes.

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/vhdxview/vhdxview/internal/reftool"
)

// countingReader records the byte ranges read from r.
type countingReader struct {
	r     io.ReaderAt
	mu    sync.Mutex
	reads [][2]int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.reads = append(c.reads, [2]int64{off, int64(len(p))})
	c.mu.Unlock()
	return c.r.ReadAt(p, off)
}

// countingImage opens the image file img through a countingReader, and
// gives its size; the file closes when the test ends.
func countingImage(t *testing.T, img string) (*countingReader, int64) {
	t.Helper()
	file, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	st, err := file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return &countingReader{r: file}, st.Size()
}

// dxRootAt is the byte offset of /big's first block (its htree root) in
// the ext image img, as debugfs maps it.
func dxRootAt(tb testing.TB, img string) int64 {
	tb.Helper()
	phys := strings.Fields(run(tb, "", "debugfs", "-R", "bmap /big 0", img))
	root, err := strconv.ParseInt(phys[len(phys)-1], 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return root * 1024
}

// blocksRead returns how many blocks of set (volume block numbers of size
// bs) the reads since mark touched, and a new mark. The metadata page
// cache's reads (64 KiB pages, for inode tables and extent blocks) are
// left out: a page can hold a directory block beside the inodes it was
// read for.
func (c *countingReader) blocksRead(mark int, set map[int64]bool, bs int64) (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[int64]bool{}
	for _, r := range c.reads[mark:] {
		if r[1] == pageSize && r[0]%pageSize == 0 {
			continue
		}
		for b := r[0] / bs; b*bs < r[0]+r[1]; b++ {
			if set[b] {
				seen[b] = true
			}
		}
	}
	return len(seen), len(c.reads)
}

// dirBlocks asks debugfs for the volume blocks of a directory and the
// levels of its index ("Indirect levels" + 1; 0 if it has none).
func dirBlocks(t testing.TB, img, dir string) (map[int64]bool, int) {
	t.Helper()
	set := map[int64]bool{}
	for _, f := range strings.Fields(run(t, "", "debugfs", "-R", "blocks "+dir, img)) {
		if n, err := strconv.ParseInt(f, 10, 64); err == nil {
			set[n] = true
		}
	}
	levels := 0
	if m := regexp.MustCompile(`Indirect levels: (\d+)`).FindStringSubmatch(run(t, "", "debugfs", "-R", "htree_dump "+dir, img)); m != nil {
		levels, _ = strconv.Atoi(m[1])
		levels++
	}
	return set, levels
}

// debugfsInodes lists a directory with debugfs: name -> inode, live
// entries only.
func debugfsInodes(t testing.TB, img, dir string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	// "ls -p": /inode/mode/uid/gid/name/size/ per entry.
	for _, line := range strings.Split(run(t, "", "debugfs", "-R", "ls -p "+dir, img), "\n") {
		f := strings.Split(line, "/")
		if len(f) < 7 || f[5] == "." || f[5] == ".." {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil || n == 0 {
			continue
		}
		out[strings.Join(f[5:len(f)-2], "/")] = n
	}
	return out
}

// htreeName is the i'th name of the kernel-made directory: short and
// long (past the 16- and 32-byte blocks of TEA and half-MD4), ASCII and
// not (bytes above 0x7f hash differently signed and unsigned).
func htreeName(i int) string {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("file-%05d.txt", i)
	case 1:
		return fmt.Sprintf("Ünïcödé-%d.dat", i)
	case 2:
		return fmt.Sprintf("a-rather-long-file-name-that-spans-two-hash-blocks-%06d.log", i)
	}
	return strconv.Itoa(i)
}

// TestExtHtreeKernel: the kernel fills a 50,000-entry directory on a loop
// mount (1 KiB blocks, so its index has dx_node blocks under the root) and
// deletes every seventh file. Lookups give the inodes the kernel gave,
// each reading at most a few of the directory's 1,700 blocks; deleted
// names give not found; the listing has exactly the live names, and the
// deleted entries it shows are real deleted names with their old inodes;
// a walk that opens every file reads the directory about once.
func TestExtHtreeKernel(t *testing.T) {
	requireLoop(t)
	requireTool(t, "debugfs")
	const n = 50000
	img := filepath.Join(t.TempDir(), "big.img")
	must(t, "truncate", "-s", "200M", img)
	must(t, "mkfs.ext4", "-q", "-F", "-b", "1024", "-N", "60000", img)
	m := mountLoop(t, img, "")
	big := filepath.Join(m, "big")
	if err := os.Mkdir(big, 0o755); err != nil {
		t.Fatal(err)
	}
	inodes := map[string]uint64{} // live names
	deleted := map[string]uint64{}
	for i := 0; i < n; i++ {
		name := htreeName(i)
		f, err := os.Create(filepath.Join(big, name))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		f.Close()
		inodes[name] = fi.Sys().(*syscall.Stat_t).Ino
	}
	for i := 0; i < n; i += 7 {
		name := htreeName(i)
		if err := os.Remove(filepath.Join(big, name)); err != nil {
			t.Fatal(err)
		}
		deleted[name] = inodes[name]
		delete(inodes, name)
	}
	must(t, "umount", m)

	set, levels := dirBlocks(t, img, "/big")
	if levels < 2 {
		t.Fatalf("the kernel made an index of %d levels; the test wants dx_node blocks", levels)
	}
	if oracle := debugfsInodes(t, img, "/big"); len(oracle) != len(inodes) {
		t.Fatalf("debugfs lists %d live entries, the kernel made %d", len(oracle), len(inodes))
	}
	cr, size := countingImage(t, img)
	fsys, err := OpenFS(cr, 0, size, 512)
	if err != nil {
		t.Fatal(err)
	}
	const bs = 1024
	// Each lookup on a volume opened afresh: nothing of the directory
	// is cached, so what it reads is what one lookup costs.
	worst := 0
	for i := 1; i < n; i += 97 {
		name := htreeName(i)
		_, mark := cr.blocksRead(0, set, bs)
		fsys, err := OpenFS(cr, 0, size, 512)
		if err != nil {
			t.Fatal(err)
		}
		e, err := fsys.Lookup("/big/" + name)
		if want, live := inodes[name]; live {
			if err != nil || e.ID != want {
				t.Fatalf("Lookup %q: inode %d, %v; the kernel made %d", name, e.ID, err, want)
			}
		} else if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Lookup of the deleted %q: %+v, %v; want not found", name, e, err)
		}
		k, _ := cr.blocksRead(mark, set, bs)
		worst = max(worst, k)
	}
	// The root, a dx_node, a leaf, and a second leaf when a collision
	// run continues into it; a miss reads the leaves either side too.
	if worst > levels+3 {
		t.Errorf("a lookup read %d of the directory's %d blocks; an index of %d levels needs at most %d", worst, len(set), levels, levels+3)
	}
	if _, err := fsys.Lookup("/big/no-such-name"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a name never made: %v", err)
	}

	es, err := fsys.List("/big")
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, e := range es {
		if !e.Deleted {
			if want, ok := inodes[e.Name]; !ok || want != e.ID {
				t.Errorf("live %q inode %d; the kernel has %d (listed: %v)", e.Name, e.ID, want, ok)
			}
			live++
			continue
		}
		// A phantom is a name nobody made (bytes of index nodes or of
		// split records read as a name): that fails. A deleted name the
		// test made whose record the kernel later partly overwrote (a stale
		// copy left by a leaf split) may carry another inode number: that
		// varies from one kernel run to the next, so it is only logged.
		want, ok := deleted[e.Name]
		if _, isLive := inodes[e.Name]; !ok && !isLive {
			t.Errorf("deleted entry %q inode %d is no name the test made (a phantom)", e.Name, e.ID)
		} else if want != e.ID {
			t.Logf("deleted entry %q shows inode %d; the test deleted it as %d", e.Name, e.ID, want)
		}
	}
	if live != len(inodes) {
		t.Errorf("%d live entries, want %d", live, len(inodes))
	}

	// A walk that opens every file by its path reads the directory's
	// blocks about once (the listing is cached), not once per file.
	fsys, err = OpenFS(cr, 0, size, 512)
	if err != nil {
		t.Fatal(err)
	}
	_, mark := cr.blocksRead(0, set, bs)
	opened := 0
	err = iofs.WalkDir(fsys, "big", func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		opened++
		return f.Close()
	})
	if err != nil || opened != len(inodes) {
		t.Fatalf("walk opened %d of %d files: %v", opened, len(inodes), err)
	}
	if k, _ := cr.blocksRead(mark, set, bs); k > len(set) {
		t.Errorf("the walk read %d directory blocks of %d", k, len(set))
	}
	countRepeats := func() int {
		cr.mu.Lock()
		defer cr.mu.Unlock()
		reads := 0
		for _, r := range cr.reads[mark:] {
			if r[1] == pageSize && r[0]%pageSize == 0 {
				continue
			}
			for b := r[0] / bs; b*bs < r[0]+r[1]; b++ {
				if set[b] {
					reads++
				}
			}
		}
		return reads
	}
	if k := countRepeats(); k > 2*len(set) {
		t.Errorf("the walk read directory blocks %d times for a directory of %d blocks", k, len(set))
	}
}

// hashedDirImage makes an ext4 volume (1 KiB blocks) whose /big holds
// names of htreeName, indexed by e2fsck -D with hash algorithm alg and
// signed or unsigned name bytes. Without root: mkfs.ext4 -d writes the
// directory, tune2fs and debugfs set the hash, e2fsck builds the index.
func hashedDirImage(t testing.TB, n int, alg string, unsigned bool) (string, map[string]uint64) {
	t.Helper()
	for _, tool := range []string{"mkfs.ext4", "tune2fs", "debugfs", "e2fsck"} {
		requireTool(t, tool)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "big")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(src, htreeName(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(dir, "h.img")
	run(t, "", "mkfs.ext4", "-q", "-F", "-b", "1024", "-N", fmt.Sprint(n+100), "-d", filepath.Join(dir, "src"), img, "16M")
	run(t, "", "tune2fs", "-E", "hash_alg="+alg, img)
	flags := "1" // signed_directory_hash
	if unsigned {
		flags = "2"
	}
	run(t, "", "debugfs", "-w", "-R", "ssv flags "+flags, img)
	// e2fsck exits 1 when it changed the volume (it re-indexed /big).
	reftool.Output("e2fsck", "-fyD", img)
	if _, levels := dirBlocks(t, img, "/big"); levels == 0 {
		t.Fatalf("e2fsck -D left /big without an index")
	}
	return img, debugfsInodes(t, img, "/big")
}

// lookupAll looks every name of want up in /big on a fresh volume each
// time, checks the inode, and returns the most directory blocks one
// lookup read.
func lookupAll(t *testing.T, img string, want map[string]uint64, set map[int64]bool) int {
	t.Helper()
	cr, size := countingImage(t, img)
	worst := 0
	for name, ino := range want {
		_, mark := cr.blocksRead(0, set, 1024)
		fsys, err := OpenFS(cr, 0, size, 512)
		if err != nil {
			t.Fatal(err)
		}
		e, err := fsys.Lookup("/big/" + name)
		if err != nil || e.ID != ino {
			t.Fatalf("Lookup %q: inode %d, %v; debugfs says %d", name, e.ID, err, ino)
		}
		if _, err := fsys.Lookup("/big/" + name + "-not"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Lookup of %q, never made: %v", name+"-not", err)
		}
		k, _ := cr.blocksRead(mark, set, 1024)
		worst = max(worst, k)
	}
	return worst
}

// TestExtHtreeHashVersions: directories indexed by e2fsck with each hash
// (legacy, half-MD4, TEA; signed and unsigned) are looked up through the
// index: every name gives debugfs's inode, and a lookup (a hit and a miss)
// reads a few blocks of the directory, not all of them.
func TestExtHtreeHashVersions(t *testing.T) {
	for _, alg := range []string{"legacy", "half_md4", "tea"} {
		for _, unsigned := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/unsigned=%v", alg, unsigned), func(t *testing.T) {
				img, want := hashedDirImage(t, 1200, alg, unsigned)
				if len(want) != 1200 {
					t.Fatalf("debugfs lists %d entries", len(want))
				}
				set, levels := dirBlocks(t, img, "/big")
				// Two lookups: the root and a leaf each, and a second
				// leaf for a collision run.
				if worst := lookupAll(t, img, want, set); worst > 2*(levels+1)+1 || worst*4 > len(set) {
					t.Errorf("a lookup and a miss read %d of the directory's %d blocks", worst, len(set))
				}
			})
		}
	}
}

// TestExtHtreeDamaged: an index that sends names to the wrong leaf, one
// with a hash version this reader does not compute, and one whose root is
// garbage still find every file (by a scan), and names never made are
// still not found.
func TestExtHtreeDamaged(t *testing.T) {
	img, want := hashedDirImage(t, 1200, "half_md4", false)
	at := dxRootAt(t, img)
	base, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(b []byte){
		// Entries 1 and 2 of the root trade leaves.
		"swapped leaves": func(b []byte) {
			e1, e2 := at+0x20+8+4, at+0x20+16+4
			x := append([]byte(nil), b[e1:e1+4]...)
			copy(b[e1:e1+4], b[e2:e2+4])
			copy(b[e2:e2+4], x)
		},
		"siphash":      func(b []byte) { b[at+0x1c] = dxHashSipHash },
		"garbage root": func(b []byte) { copy(b[at+0x18:at+0x40], randBytes(11, 0x28)) },
		"count zero":   func(b []byte) { b[at+0x22], b[at+0x23] = 0, 0 },
	} {
		t.Run(name, func(t *testing.T) {
			b := append([]byte(nil), base...)
			change(b)
			bad := filepath.Join(t.TempDir(), "bad.img")
			if err := os.WriteFile(bad, b, 0o644); err != nil {
				t.Fatal(err)
			}
			lookupAll(t, bad, want, nil)
		})
	}
}

// FuzzExtHtree damages the dx_root block of an indexed directory of 500
// names (e2fsck -D, half-MD4) with patches (as patchOverlay's records,
// their offsets taken modulo the block) and looks names up: the leaves
// are intact, so every name is either found with its own inode or the
// lookup fails saying the directory is damaged, never "not found" and
// never another inode; and nothing panics or runs away.
func FuzzExtHtree(f *testing.F) {
	img, want := hashedDirImage(f, 500, "half_md4", false)
	at := dxRootAt(f, img)
	base, err := os.ReadFile(img)
	if err != nil {
		f.Fatal(err)
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	names = names[:16] // a sample, spread over the hash space by the hash
	const bs = 1024    // hashedDirImage's block size (dxRootAt's too)
	f.Add([]byte{})
	f.Add([]byte{0x22, 0, 0, 1, 0, 0})                   // count 0
	f.Add([]byte{0x1c, 0, 0, 0, dxHashSipHash})          // siphash
	f.Add([]byte{0x1e, 0, 0, 0, 2})                      // indirect levels 2
	f.Add([]byte{0x2c, 0, 0, 3, 0xff, 0xff, 0xff, 0x7f}) // entry 1's block far away
	f.Add([]byte{0x28, 0, 0, 3, 0xff, 0xff, 0xff, 0xff}) // entry 1's hash at the top
	f.Fuzz(func(t *testing.T, patch []byte) {
		o := &overlay{base: base, patches: map[int][]byte{}}
		for len(patch) >= 4 {
			off := (int(patch[0]) | int(patch[1])<<8 | int(patch[2])<<16) % bs
			n := min(int(patch[3])%32+1, len(patch)-4, bs-off)
			o.patches[int(at)+off] = patch[4 : 4+n]
			patch = patch[4+n:]
		}
		fsys, err := OpenFS(o, 0, int64(len(base)), 512)
		if err != nil {
			t.Fatal(err) // the superblock is untouched
		}
		for _, name := range append(names, "no-such-name") {
			e, err := fsys.Lookup("/big/" + name)
			switch {
			case name == "no-such-name":
				if err == nil {
					t.Fatalf("%s found as inode %d", name, e.ID)
				}
			case err == nil && e.ID != want[name]:
				t.Fatalf("%s: inode %d, want %d", name, e.ID, want[name])
			case err != nil && errors.Is(err, ErrNotFound) && !errors.Is(err, ErrIncomplete) && !errors.Is(err, ErrDamaged):
				t.Fatalf("%s: %v: the damaged index hid it", name, err)
			}
		}
	})
}
