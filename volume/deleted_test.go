//go:build linux

package volume

// Deleted files recovered by OpenDeleted against the bytes they held,
// deleted by the tools that delete them in practice: mtools's mdel (FAT),
// debugfs rm and the kernel's unlink through a loop mount (ext), and
// ntfs-3g's unlink through a FUSE mount (NTFS).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// deletedEntry finds the one deleted entry of dir whose name ends with
// suffix (FAT loses a short name's first character).
func deletedEntry(t *testing.T, fsys *FS, dir, suffix string) Entry {
	t.Helper()
	es, err := fsys.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var found []Entry
	for _, e := range es {
		if e.Deleted && strings.HasSuffix(strings.ToLower(e.Name), suffix) {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: deleted entries ending %q: %+v (listing %+v)", fsys.Type(), suffix, found, es)
	}
	return found[0]
}

// checkRecovered opens e with OpenDeleted and compares its bytes with want.
func checkRecovered(t *testing.T, fsys *FS, e Entry, want []byte) {
	t.Helper()
	if !e.Recoverable || e.RecoverNote == "" {
		t.Fatalf("%s: %s: recoverable %v, note %q", fsys.Type(), e.Path, e.Recoverable, e.RecoverNote)
	}
	f, err := fsys.OpenDeleted(Entry{Path: e.Path, ID: e.ID})
	if err != nil {
		t.Fatalf("%s: OpenDeleted %s: %v", fsys.Type(), e.Path, err)
	}
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %s: recovered %d bytes, differing from the %d deleted", fsys.Type(), e.Path, len(got), len(want))
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(want)) || !fi.Sys().(*Entry).Deleted {
		t.Errorf("%s: Stat of the recovered file: %v %v", fsys.Type(), fi, err)
	}
	checkExtents(f)
	// The same path with another ID is no deleted entry of the directory.
	if _, err := fsys.OpenDeleted(Entry{Path: e.Path, ID: e.ID + 1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("%s: OpenDeleted with a wrong ID: %v", fsys.Type(), err)
	}
}

// checkNotRecoverable wants OpenDeleted to refuse e, saying why.
func checkNotRecoverable(t *testing.T, fsys *FS, e Entry, why string) {
	t.Helper()
	if e.Recoverable || !strings.Contains(e.RecoverNote, why) {
		t.Errorf("%s: %s: recoverable %v, note %q; want not, saying %q", fsys.Type(), e.Path, e.Recoverable, e.RecoverNote, why)
	}
	_, err := fsys.OpenDeleted(e)
	if !errors.Is(err, ErrNotRecoverable) || !strings.Contains(err.Error(), why) {
		t.Errorf("%s: OpenDeleted %s: %v; want ErrNotRecoverable saying %q", fsys.Type(), e.Path, err, why)
	}
}

// TestRecoverFAT: mdel clears a file's chain and marks its entry 0xE5;
// its clusters, contiguous on a fresh volume, give its bytes back until a
// new file takes its first cluster.
func TestRecoverFAT(t *testing.T) {
	requireTool(t, "mdel")
	env := []string{"LC_ALL=C.UTF-8", "MTOOLS_SKIP_CHECK=1"}
	for _, bits := range []int{12, 16, 32} {
		gone := randBytes(uint64(bits), 70_001) // not a whole number of clusters
		tr := tree{"keep.txt": []byte("kept\n"), "gone-with-a-long-name.bin": gone, "sub/gone.dat": gone[:3000]}
		img := mkFAT(t, bits, tr, map[int]int{12: 4, 16: 16, 32: 34}[bits])
		runEnv(t, env, "", "mdel", "-i", img, "::/gone-with-a-long-name.bin", "::/sub/gone.dat")
		fsys := openImage(t, img)
		checkRecovered(t, fsys, deletedEntry(t, fsys, "/", "-with-a-long-name.bin"), gone)
		checkRecovered(t, fsys, deletedEntry(t, fsys, "/sub", "one.dat"), gone[:3000])
		if _, err := fsys.OpenFile("/gone-with-a-long-name.bin"); !errors.Is(err, ErrNotFound) {
			t.Errorf("fat%d: OpenFile of the deleted file: %v", bits, err)
		}

		// On FAT12 and FAT16 mtools gives a new file the lowest free
		// clusters: the deleted file's first cluster is someone else's
		// now. (FAT32's FSInfo hint sends it past the last allocation.)
		if bits == 32 {
			continue
		}
		src := filepath.Join(t.TempDir(), "new.bin")
		if err := os.WriteFile(src, randBytes(99, 70_001), 0o644); err != nil {
			t.Fatal(err)
		}
		first := deletedEntry(t, fsys, "/", "-with-a-long-name.bin")
		runEnv(t, env, "", "mcopy", "-i", img, src, "::/new.bin")
		fsys = openImage(t, img)
		// mcopy reuses the deleted entry's slots too: find it by cluster.
		es, _ := fsys.List("/")
		i := slices.IndexFunc(es, func(e Entry) bool { return e.Deleted && e.ID == first.ID })
		if i < 0 {
			t.Fatalf("fat%d: the deleted entry of cluster %d is gone: %+v", bits, first.ID, es)
		}
		checkNotRecoverable(t, fsys, es[i], "in use again")
	}
}

// TestRecoverExtDebugfs: debugfs rm frees the inode and its blocks and
// leaves the block map (ext2) or extents (ext4) in place.
func TestRecoverExtDebugfs(t *testing.T) {
	requireTool(t, "debugfs")
	big := randBytes(7, 300_000) // ext2: past the 12 direct blocks of 1 KiB
	for _, kind := range []string{"ext2", "ext4"} {
		tr := tree{"keep.txt": []byte("kept\n"), "dir/gone.bin": big, "dir/other.txt": []byte("x\n")}
		img := mkExt(t, kind, tr, 8)
		run(t, "", "debugfs", "-w", "-R", "rm /dir/gone.bin", img)
		fsys := openImage(t, img)
		checkRecovered(t, fsys, deletedEntry(t, fsys, "/dir", "gone.bin"), big)
	}
}

// TestRecoverExtKernel: Linux's ext4 driver (which mounts ext2 too)
// clears a deleted inode's size and block map or extents, so nothing is
// left to recover, and the reason says which. Since Linux 6.2 it also
// wipes the deleted name, so the entry an older kernel leaves in the
// directory's slack is put there by debugfs (ln, then unlink, which
// touch the directory only).
func TestRecoverExtKernel(t *testing.T) {
	requireLoop(t)
	for _, c := range []struct{ kind, why string }{
		{"ext4", "ext4 cleared its extents"},
		{"ext2", "block map was cleared"},
	} {
		img := mkExt(t, c.kind, tree{"keep.txt": []byte("kept\n")}, 8)
		m := mountLoop(t, img, "")
		p := filepath.Join(m, "gone.bin")
		if err := os.WriteFile(p, randBytes(3, 50_000), 0o644); err != nil {
			t.Fatal(err)
		}
		must(t, "sync")
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		ino := fi.Sys().(*syscall.Stat_t).Ino
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		must(t, "umount", m)
		run(t, "", "debugfs", "-w", "-R", fmt.Sprintf("ln <%d> /gone.bin", ino), img)
		run(t, "", "debugfs", "-w", "-R", "unlink /gone.bin", img)
		fsys := openImage(t, img)
		checkNotRecoverable(t, fsys, deletedEntry(t, fsys, "/", "gone.bin"), c.why)
	}
}

// TestRecoverNTFS: ntfs-3g frees a deleted file's MFT record, which keeps
// its attributes: the run list of a non-resident $DATA and the value of a
// resident one.
func TestRecoverNTFS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: ntfs-3g mounts through FUSE")
	}
	for _, tool := range []string{"mkntfs", "ntfs-3g", "umount"} {
		requireTool(t, tool)
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "ntfs.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	must(t, "mkntfs", "-Q", "-F", "-q", img)
	m := filepath.Join(dir, "mnt")
	if err := os.Mkdir(m, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, "ntfs-3g", img, m)
	mounted := true
	defer func() {
		if mounted {
			must(t, "umount", m)
		}
	}()
	// ntfs-3g closes the gap a deleted index entry leaves by moving the
	// entries after it back, which leaves a stale copy of the last ones
	// past the new end when the gap is longer than they are. So: the two
	// files to recover sort last, and a file with a long name before
	// them is deleted first, then they are.
	big, small := randBytes(11, 200_000), []byte("a few bytes, resident in the MFT record\n")
	long := strings.Repeat("a long name that makes room ", 5) + ".txt"
	files := map[string][]byte{"zy-big.bin": big, "zz-small.txt": small, "keep.txt": []byte("kept\n"), long: []byte("x")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(m, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(t, "sync")
	for _, name := range []string{long, "zy-big.bin", "zz-small.txt"} {
		if err := os.Remove(filepath.Join(m, name)); err != nil {
			t.Fatal(err)
		}
	}
	must(t, "umount", m)
	mounted = false
	fsys := openImage(t, img)
	checkRecovered(t, fsys, deletedEntry(t, fsys, "/", "zy-big.bin"), big)
	checkRecovered(t, fsys, deletedEntry(t, fsys, "/", "zz-small.txt"), small)
}

// TestOpenDeletedRefuses: live entries, directories and made-up entries
// open nothing.
func TestOpenDeletedRefuses(t *testing.T) {
	tr := tree{"keep.txt": []byte("kept\n"), "d/x.txt": []byte("x\n")}
	img := mkExt(t, "ext4", tr, 4)
	run(t, "", "debugfs", "-w", "-R", "rm /d/x.txt", img)
	run(t, "", "debugfs", "-w", "-R", "rmdir /d", img)
	fsys := openImage(t, img)
	keep, err := fsys.Lookup("/keep.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.OpenDeleted(keep); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenDeleted of a live file: %v", err)
	}
	if _, err := fsys.OpenDeleted(Entry{Path: "/"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenDeleted of the root: %v", err)
	}
	if _, err := fsys.OpenDeleted(Entry{Path: "/nowhere/x", ID: 12}); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenDeleted in a missing directory: %v", err)
	}
	checkNotRecoverable(t, fsys, deletedEntry(t, fsys, "/", "d"), "directory")
}
