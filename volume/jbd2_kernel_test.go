package volume

// The journal replay against the kernel's: ext3/ext4 volumes are written
// through a loop mount and copied while still mounted, with their last
// transactions committed to the journal but not yet written in place (a
// commit forced by fsync writes the journal only; the block device's
// dirty buffers stay in memory for dirty_expire_centisecs). The kernel
// replays a second copy when it mounts it; volume must show the same
// files, sizes, times and bytes. Needs root and loop devices.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireLoop skips unless loop mounts are possible.
func requireLoop(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the kernel's journal replay is the oracle, through loop mounts")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("needs loop devices (/dev/loop-control): ", err)
	}
	for _, tool := range []string{"mkfs.ext4", "mount", "umount", "dumpe2fs"} {
		requireTool(t, tool)
	}
}

// must runs a command and fails the test on error.
func must(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// mountLoop mounts img at a new directory and returns it; the unmount is
// registered with t.Cleanup (and may be done earlier with umount).
func mountLoop(t *testing.T, img, opts string) string {
	t.Helper()
	dir := t.TempDir()
	m := filepath.Join(dir, "mnt")
	if err := os.Mkdir(m, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-o", "loop"}
	if opts != "" {
		args[1] += "," + opts
	}
	must(t, "mount", append(args, img, m)...)
	t.Cleanup(func() { exec.Command("umount", m).Run() })
	return m
}

// copyFile copies src to a new file in a temp dir.
func copyFile(t *testing.T, src, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	must(t, "cp", "--sparse=always", src, dst)
	return dst
}

// journalled makes a file system with mkfs (mkfsCmd and its options),
// mounts it with opts, lets write fill it, then copies it while still
// mounted: the copy needs recovery. write forces commits itself (fsync).
func journalled(t *testing.T, sizeMiB int, mkfs []string, opts string, write func(m string)) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "live.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, int64(sizeMiB)<<20); err != nil {
		t.Fatal(err)
	}
	must(t, mkfs[0], append(append([]string{"-q", "-F"}, mkfs[1:]...), img)...)
	m := mountLoop(t, img, opts)
	write(m)
	cp := copyFile(t, img, "copy.img")
	must(t, "umount", m)
	if h := must(t, "dumpe2fs", "-h", cp); !strings.Contains(h, "needs_recovery") {
		t.Fatalf("the copy does not need recovery: the test made nothing to replay\n%s", h)
	}
	return cp
}

// writeFiles writes files dir/name<i> (i in [from, to)) with contents
// made from i, then fsyncs the last one, which commits the transaction.
func writeFiles(t *testing.T, dir, name string, from, to int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var last *os.File
	for i := from; i < to; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s%d", name, i)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(fileBody(i)); err != nil {
			t.Fatal(err)
		}
		if last != nil {
			last.Close()
		}
		last = f
	}
	if last != nil {
		fsync(t, last)
		last.Close()
	}
}

func fileBody(i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("file %d\n", i)), i%700)
}

// fsync commits the running transaction (and writes the file's data).
func fsync(t *testing.T, f *os.File) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// syncDir fsyncs a directory: a commit with nothing else written.
func syncDir(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fsync(t, f)
}

// fileFacts is what both sides must agree on for one path.
type fileFacts struct {
	kind  string
	size  int64
	mtime time.Time
	data  []byte
}

func (f fileFacts) String() string {
	return fmt.Sprintf("%s size %d mtime %s sum %x", f.kind, f.size, f.mtime.Format(time.RFC3339Nano), sumBytes(f.data))
}

func sumBytes(b []byte) uint32 { return crc32c(0, b) }

// kernelView mounts a copy of img (the kernel replays its journal) and
// returns every path under its root but lost+found.
func kernelView(t *testing.T, img string) map[string]fileFacts {
	t.Helper()
	m := mountLoop(t, copyFile(t, img, "kernel.img"), "")
	out := map[string]fileFacts{}
	err := filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, m)
		if rel == "" || rel == "/lost+found" {
			if rel != "" {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		ff := fileFacts{kind: "other", mtime: fi.ModTime().UTC()}
		switch {
		case fi.IsDir():
			ff.kind = "dir"
		case fi.Mode().IsRegular():
			ff.kind, ff.size = "file", fi.Size()
			if ff.data, err = os.ReadFile(p); err != nil {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			ff.kind = "symlink"
		}
		out[rel] = ff
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ourView opens img with volume and returns the same as kernelView, and
// what the volume says about its journal. Every file that gives extents
// must read the same through them from the raw, unreplayed image.
func ourView(t *testing.T, img string) (map[string]fileFacts, *JournalReplay) {
	t.Helper()
	raw, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	st, _ := raw.Stat()
	fsys, err := OpenFS(raw, 0, st.Size(), 512)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fileFacts{}
	var walk func(dir string)
	walk = func(dir string) {
		es, err := fsys.List(dir)
		if err != nil {
			t.Fatalf("list %s: %v", dir, err)
		}
		for _, e := range es {
			if e.Deleted || e.Path == "/lost+found" {
				continue
			}
			ff := fileFacts{kind: e.Type, mtime: e.ModTime}
			if e.Type == "file" {
				f, err := fsys.OpenFile(e.Path)
				if err != nil {
					t.Fatalf("open %s: %v", e.Path, err)
				}
				ff.size = f.Size()
				if ff.data, err = io.ReadAll(f); err != nil {
					t.Fatalf("read %s: %v", e.Path, err)
				}
				if ext, ok := f.Extents(); ok {
					viaExtents := make([]byte, f.Size())
					if _, err := (&extentFile{r: raw, size: f.Size(), ext: ext}).ReadAt(viaExtents, 0); err != nil && err != io.EOF {
						t.Fatal(err)
					}
					if !bytes.Equal(viaExtents, ff.data) {
						t.Errorf("%s: its extents on the raw image do not hold its bytes, yet it gives them", e.Path)
					}
				}
			}
			out[e.Path] = ff
			if e.IsDir {
				walk(e.Path)
			}
		}
	}
	walk("/")
	return out, fsys.Journal()
}

// sameView compares the kernel's files with ours.
func sameView(t *testing.T, kernel, ours map[string]fileFacts) {
	t.Helper()
	bad := 0
	for p, k := range kernel {
		o, ok := ours[p]
		switch {
		case !ok:
			t.Errorf("%s: the kernel shows %v, volume does not list it", p, k)
		case k.kind != o.kind || k.size != o.size || !k.mtime.Equal(o.mtime) || !bytes.Equal(k.data, o.data):
			t.Errorf("%s:\n kernel %v\n volume %v", p, k, o)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many differences")
		}
	}
	for p, o := range ours {
		if _, ok := kernel[p]; !ok {
			t.Errorf("%s: volume lists %v, the kernel does not", p, o)
		}
	}
}

// journalLayout scans img's journal with the reader under test and says
// where each of its blocks is in the image.
func journalLayout(t *testing.T, img string) (scanResult, func(jBlock uint32) int64) {
	t.Helper()
	raw, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	st, _ := raw.Stat()
	f, err := parseExt(raw, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.readInode(8)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := f.inodeExtents(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(&extentFile{r: raw, size: in.size, ext: ext}, in.size, f.blockSize)
	if err != nil {
		t.Fatal(err)
	}
	res, err := j.scan(f.blocks)
	if err != nil {
		t.Fatal(err)
	}
	where := func(jb uint32) int64 {
		off := int64(jb) * f.blockSize
		for _, e := range ext {
			if off >= e.Offset && off < e.Offset+e.Length {
				return e.DiskOffset + off - e.Offset
			}
		}
		t.Fatalf("journal block %d is not mapped", jb)
		return 0
	}
	return res, where
}

// patched changes 4 bytes at off in a copy of img.
func patched(t *testing.T, img string, off int64, change func(b []byte)) string {
	t.Helper()
	c := copyFile(t, img, "patched.img")
	f, err := os.OpenFile(c, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 4)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	change(b)
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	return c
}

func flip(b []byte)  { b[0] ^= 0x5a }
func erase(b []byte) { clear(b) }

// manyTransactions writes 300 files under /docs in six commits, a few
// larger files, a symlink and a rename, each step its own transaction.
func manyTransactions(t *testing.T) func(m string) {
	return func(m string) {
		for k := 0; k < 6; k++ {
			writeFiles(t, filepath.Join(m, "docs"), "f", k*50, (k+1)*50)
		}
		writeFiles(t, filepath.Join(m, "big", "sub"), "b", 1000, 1003)
		if err := os.Symlink("docs/f7", filepath.Join(m, "link")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(m, "docs", "f8"), filepath.Join(m, "big", "moved")); err != nil {
			t.Fatal(err)
		}
		syncDir(t, filepath.Join(m, "big"))
	}
}

func TestJournalReplayKernel(t *testing.T) {
	requireLoop(t)
	cases := []struct {
		name  string
		mkfs  []string
		opts  string
		minTx int
	}{
		// metadata_csum and 64bit (mke2fs's ext4 defaults): csum v3 tags
		// of 16 bytes with 64-bit block numbers.
		{"ext4 csum v3 64bit", []string{"mkfs.ext4"}, "", 6},
		// 4 KiB blocks, so the superblock shares block 0.
		{"ext4 4k blocks", []string{"mkfs.ext4", "-b", "4096"}, "", 6},
		// No journal checksums, 32-bit tags of 8 bytes.
		{"ext4 no csum 32bit", []string{"mkfs.ext4", "-O", "^metadata_csum,^64bit"}, "", 6},
		// Checksum v1: a crc32 of each transaction in its commit block.
		{"ext4 journal_checksum v1", []string{"mkfs.ext4", "-O", "^metadata_csum,^64bit"}, "journal_checksum", 6},
		// ext3: block maps, no extents.
		{"ext3", []string{"mkfs.ext3"}, "", 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := journalled(t, 32, c.mkfs, c.opts, manyTransactions(t))
			ours, jr := ourView(t, img)
			if jr == nil || !jr.Replayed || jr.Error != "" || jr.Warning != "" {
				t.Fatalf("journal: %+v", jr)
			}
			if jr.Transactions < c.minTx {
				t.Errorf("replayed %d transactions, the test committed at least %d", jr.Transactions, c.minTx)
			}
			if _, ok := ours["/docs/f299"]; !ok {
				t.Errorf("/docs/f299, written in the last commit, is missing")
			}
			sameView(t, kernelView(t, img), ours)
			if c.opts == "journal_checksum" {
				if h := must(t, "dumpe2fs", "-h", img); !strings.Contains(h, "journal_checksum") {
					t.Fatalf("mount -o journal_checksum made no checksum v1 journal:\n%s", h)
				}
			}
		})
	}
}

// TestJournalRevokeKernel deletes a directory whose blocks went through the
// journal: the kernel revokes their copies, and a replay that ignored the
// revoke records would write them back over whatever reuses the blocks.
func TestJournalRevokeKernel(t *testing.T) {
	requireLoop(t)
	img := journalled(t, 32, []string{"mkfs.ext4"}, "", func(m string) {
		writeFiles(t, filepath.Join(m, "gone"), "x", 0, 400)
		writeFiles(t, filepath.Join(m, "gone", "deep"), "y", 0, 200)
		if err := os.RemoveAll(filepath.Join(m, "gone")); err != nil {
			t.Fatal(err)
		}
		syncDir(t, m)
		writeFiles(t, filepath.Join(m, "after"), "z", 0, 300)
	})
	ours, jr := ourView(t, img)
	if jr == nil || !jr.Replayed || jr.Revoked == 0 {
		t.Fatalf("journal: %+v (want revoked copies)", jr)
	}
	if _, ok := ours["/gone"]; ok {
		t.Error("/gone, deleted before the last commits, is listed")
	}
	sameView(t, kernelView(t, img), ours)
}

// TestJournalWrapKernel fills a 1 MiB journal many times over so that the
// log to replay runs past its end back to its first block.
func TestJournalWrapKernel(t *testing.T) {
	requireLoop(t)
	img := filepath.Join(t.TempDir(), "live.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 32<<20)
	must(t, "mkfs.ext4", "-q", "-F", "-b", "1024", "-J", "size=1", img)
	m := mountLoop(t, img, "")
	for round := 0; ; round++ {
		if round == 40 {
			t.Fatal("the log never wrapped in 40 rounds")
		}
		for k := 0; k < 4; k++ {
			writeFiles(t, filepath.Join(m, fmt.Sprintf("r%d", round)), fmt.Sprintf("w%d-", k), 0, 50)
		}
		// The live image as the loop device has written it so far.
		if res, _ := journalLayout(t, img); res.wrapped && len(res.txns) >= 2 {
			t.Logf("wrapped after %d rounds: %d transactions", round+1, len(res.txns))
			break
		}
	}
	cp := copyFile(t, img, "copy.img")
	must(t, "umount", m)
	ours, jr := ourView(t, cp)
	if jr == nil || !jr.Replayed || !jr.wrapped {
		t.Fatalf("journal: %+v (want a wrapped log)", jr)
	}
	sameView(t, kernelView(t, cp), ours)
}

// TestJournalChecksumFailureKernel corrupts the last transaction of a
// replayable copy: a byte of its commit block, or of one of its block
// copies. The kernel refuses to mount either ("journal transaction N is
// corrupt"); volume drops the transaction, and must show what the kernel
// mounts when that transaction's commit block is erased (the log then
// ends cleanly before it).
func TestJournalChecksumFailureKernel(t *testing.T) {
	requireLoop(t)
	for _, c := range []struct {
		name string
		mkfs []string
		opts string
		want string // the warning for a bad block copy
	}{
		{"csum v3", []string{"mkfs.ext4"}, "", "checksum mismatch in the copy of block"},
		{"csum v1", []string{"mkfs.ext4", "-O", "^metadata_csum"}, "journal_checksum", "commit block crc32 mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := journalled(t, 32, c.mkfs, c.opts, func(m string) {
				writeFiles(t, filepath.Join(m, "early"), "e", 0, 100)
				writeFiles(t, filepath.Join(m, "late"), "l", 0, 100)
			})
			res, where := journalLayout(t, img)
			n := len(res.txns)
			if n < 2 || res.damage != nil {
				t.Fatalf("%d transactions, damage %v", n, res.damage)
			}
			last := res.txns[n-1]
			earlier := kernelView(t, patched(t, img, where(last.commit), erase))
			if _, ok := earlier["/late/l99"]; ok {
				t.Fatal("the kernel shows /late/l99 without the last transaction: the test drops nothing")
			}
			for _, bad := range []struct {
				what string
				img  string
				want string
			}{
				{"commit block", patched(t, img, where(last.commit)+0x10, flip), "commit block"},
				{"block copy", patched(t, img, where(last.tags[len(last.tags)-1].jBlock)+100, flip), c.want},
			} {
				ours, jr := ourView(t, bad.img)
				if jr == nil || !jr.Replayed || jr.Transactions != n-1 || !strings.Contains(jr.Warning, "dropped") || !strings.Contains(jr.Warning, bad.want) {
					t.Fatalf("with a bad %s: %+v, want %d transactions and a warning about %q", bad.what, jr, n-1, bad.want)
				}
				sameView(t, earlier, ours)
			}
		})
	}
}
