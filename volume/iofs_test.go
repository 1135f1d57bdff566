package volume

import (
	"bytes"
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// TestIOFS: fstest.TestFS on every file system the package reads, built
// at test time, expecting every file of the sample tree; fs.WalkDir finds
// exactly the tree (besides the file system's own entries).
func TestIOFS(t *testing.T) {
	tr := sampleTree(false)
	flat := sampleTree(true)
	for _, c := range []struct {
		name string
		img  func() string
		tr   tree
	}{
		{"fat12", func() string { return mkFAT(t, 12, tr, 4) }, tr},
		{"fat16", func() string { return mkFAT(t, 16, tr, 16) }, tr},
		{"fat32", func() string { return mkFAT(t, 32, tr, 34) }, tr},
		{"ext2", func() string { return mkExt(t, "ext2", tr, 8) }, tr},
		{"ext3", func() string { return mkExt(t, "ext3", tr, 8) }, tr},
		{"ext4", func() string { return mkExt(t, "ext4", tr, 8) }, tr},
		{"ntfs", func() string { return mkNTFS(t, flat, tree{"hello.txt:secret": []byte("alternate stream\n")}, 8) }, flat},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := openImage(t, c.img())
			if err := fstest.TestFS(fsys, c.tr.paths()...); err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, p := range c.tr.paths() {
				for d := p; d != "."; d = filepath.ToSlash(filepath.Dir(d)) {
					want[d] = true
				}
			}
			got := map[string]bool{}
			err := iofs.WalkDir(fsys, ".", func(p string, d iofs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if ignoreSystem(d.Name()) && d.IsDir() {
					return iofs.SkipDir
				}
				if p != "." && !ignoreSystem(d.Name()) {
					got[p] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !equalSets(got, want) {
				t.Errorf("WalkDir found %v, want %v", keys(got), keys(want))
			}
			for _, p := range c.tr.paths() {
				b, err := iofs.ReadFile(fsys, p)
				if err != nil || !bytes.Equal(b, c.tr[p]) {
					t.Errorf("fs.ReadFile(%s): %d bytes, %v", p, len(b), err)
				}
			}
		})
	}
}

// openImage opens the file system filling the image file at path.
func openImage(t *testing.T, path string) *FS {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestIOFSNames: names outside fs.ValidPath are refused by every io/fs
// method, and errors are *fs.PathError values wrapping an *FSError.
func TestIOFSNames(t *testing.T) {
	fsys := openImage(t, mkExt(t, "ext4", sampleTree(false), 8))
	for _, name := range []string{"/hello.txt", "dir/", "./hello.txt", "dir/../hello.txt", "dir//note.txt", "", "/", "..", "dir/."} {
		_, err1 := fsys.Open(name)
		_, err2 := fsys.Stat(name)
		_, err3 := fsys.ReadDir(name)
		_, err4 := fsys.Lstat(name)
		_, err5 := fsys.ReadLink(name)
		for i, err := range []error{err1, err2, err3, err4, err5} {
			var pe *iofs.PathError
			if !errors.Is(err, iofs.ErrInvalid) || !errors.As(err, &pe) || pe.Path != name {
				t.Errorf("method %d, %q: %v", i+1, name, err)
			}
		}
	}
	// The volume API is lenient with the same names.
	if e, err := fsys.Lookup("/dir/../hello.txt"); err != nil || e.Path != "/hello.txt" {
		t.Errorf("Lookup: %+v %v", e, err)
	}

	_, err := fsys.Open("dir/nope")
	var pe *iofs.PathError
	var fe *FSError
	if !errors.Is(err, iofs.ErrNotExist) || !errors.As(err, &pe) || pe.Op != "open" || pe.Path != "dir/nope" ||
		!errors.As(err, &fe) || fe.FS != "ext4" || fe.Op != "" || err.Error() != "open dir/nope: volume: ext4 at 0x0: file does not exist" {
		t.Errorf("open dir/nope: %v", err)
	}
	if _, err := fsys.ReadDir("hello.txt"); !errors.Is(err, ErrNotDir) {
		t.Errorf("ReadDir of a file: %v", err)
	}
	if _, err := fsys.Open("hello.txt/x"); !errors.Is(err, ErrNotDir) {
		t.Errorf("Open through a file: %v", err)
	}
	fi, err := fsys.Stat("dir/note.txt")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := fi.Sys().(*Entry)
	if !ok || e.Path != "/dir/note.txt" || e.ID == 0 || e.ModTime.IsZero() || !e.ModTime.Equal(fi.ModTime()) || fi.Name() != "note.txt" || fi.Mode() != 0o444 {
		t.Errorf("Stat: %v %+v", fi, e)
	}
	if fi, err := fsys.Stat("."); err != nil || fi.Name() != "." || !fi.IsDir() || fi.Mode() != iofs.ModeDir|0o555 {
		t.Errorf("Stat(.): %v %v", fi, err)
	}

	// A directory opened by Open pages its entries.
	f, err := fsys.Open("dir")
	if err != nil {
		t.Fatal(err)
	}
	d := f.(iofs.ReadDirFile)
	var names []string
	for {
		es, err := d.ReadDir(1)
		if err == io.EOF {
			break
		}
		if err != nil || len(es) != 1 {
			t.Fatalf("ReadDir(1): %v %v", es, err)
		}
		names = append(names, es[0].Name())
	}
	if strings.Join(names, ",") != "note.txt,sub" {
		t.Errorf("dir lists %v", names)
	}
	if _, err := d.Read(make([]byte, 1)); !errors.Is(err, ErrIsDir) {
		t.Errorf("Read of a directory: %v", err)
	}

	// A file opened by Open is a *File, with ReadAt, Seek and extents.
	f, err = fsys.Open("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	vf, ok := f.(*File)
	if !ok {
		t.Fatalf("Open gives %T", f)
	}
	want := sampleTree(false)["big.bin"]
	buf := make([]byte, 100)
	if n, err := vf.ReadAt(buf, 5000); n != 100 || err != nil || !bytes.Equal(buf, want[5000:5100]) {
		t.Errorf("ReadAt: %d %v", n, err)
	}
	if pos, err := vf.Seek(-10, io.SeekEnd); err != nil || pos != int64(len(want))-10 {
		t.Errorf("Seek: %d %v", pos, err)
	}
	if rest, err := io.ReadAll(vf); err != nil || !bytes.Equal(rest, want[len(want)-10:]) {
		t.Errorf("Read after Seek: %q %v", rest, err)
	}
	if _, ok := vf.Extents(); !ok {
		t.Error("no extents")
	}
}

// TestIOFSSymlinks: io/fs follows ext symbolic links (relative, absolute
// from the volume's root, through directories, "..") and ReadLink and
// Lstat show them; loops and dangling links fail cleanly.
func TestIOFSSymlinks(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	tr := sampleTree(false)
	writeTree(t, src, tr)
	links := map[string]string{
		"link-file":   "hello.txt",
		"dir/up-link": "../hello.txt",
		"dir-link":    "dir",
		"abs-link":    "/dir/note.txt",
		"chain":       "dir-link/sub/deep.bin",
		"far-up":      "../../../../hello.txt", // ".." stops at the root
	}
	for l, target := range links {
		if err := os.Symlink(target, filepath.Join(src, l)); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(dir, "ext4.img")
	run(t, "", "mkfs.ext4", "-q", "-F", "-d", src, img, "8M")
	fsys := openImage(t, img)
	var expect []string
	for _, p := range tr.paths() {
		expect = append(expect, p)
	}
	for l := range links {
		expect = append(expect, l)
	}
	if err := fstest.TestFS(fsys, expect...); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"link-file":             "hello.txt",
		"dir/up-link":           "hello.txt",
		"dir-link/note.txt":     "dir/note.txt",
		"abs-link":              "dir/note.txt",
		"chain":                 "dir/sub/deep.bin",
		"dir-link/sub/deep.bin": "dir/sub/deep.bin",
		"far-up":                "hello.txt",
	} {
		b, err := iofs.ReadFile(fsys, path)
		if err != nil || !bytes.Equal(b, tr[want]) {
			t.Errorf("ReadFile(%s): %d bytes, %v; want %s", path, len(b), err, want)
		}
	}
	if target, err := iofs.ReadLink(fsys, "dir/up-link"); err != nil || target != "../hello.txt" {
		t.Errorf("ReadLink: %q %v", target, err)
	}
	if _, err := iofs.ReadLink(fsys, "hello.txt"); !errors.Is(err, iofs.ErrInvalid) {
		t.Errorf("ReadLink of a file: %v", err)
	}
	if fi, err := iofs.Lstat(fsys, "dir-link"); err != nil || fi.Mode()&iofs.ModeSymlink == 0 || fi.Name() != "dir-link" {
		t.Errorf("Lstat(dir-link): %v %v", fi, err)
	}
	if fi, err := iofs.Stat(fsys, "dir-link"); err != nil || !fi.IsDir() || fi.Name() != "dir-link" {
		t.Errorf("Stat(dir-link): %v %v", fi, err)
	}
	if fi, err := iofs.Lstat(fsys, "dir-link/up-link"); err != nil || fi.Mode()&iofs.ModeSymlink == 0 {
		t.Errorf("Lstat through a link: %v %v", fi, err)
	}
	// The volume API does not follow links.
	if e, err := fsys.Lookup("link-file"); err != nil || e.Type != "symlink" || e.Target != "hello.txt" {
		t.Errorf("Lookup(link-file): %+v %v", e, err)
	}
	if _, err := fsys.OpenFile("dir-link/note.txt"); !errors.Is(err, ErrNotDir) {
		t.Errorf("OpenFile through a link: %v", err)
	}

	// Loops and dangling links, added with debugfs.
	run(t, "", "debugfs", "-w", "-R", "symlink loop-a loop-b", img)
	run(t, "", "debugfs", "-w", "-R", "symlink loop-b loop-a", img)
	run(t, "", "debugfs", "-w", "-R", "symlink dangling nowhere", img)
	fsys = openImage(t, img)
	if _, err := fsys.Open("loop-a"); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("Open(loop-a): %v", err)
	}
	if _, err := fsys.Stat("loop-a/x"); err == nil {
		t.Error("Stat through a loop succeeded")
	}
	if _, err := fsys.Open("dangling"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Open(dangling): %v", err)
	}
	if fi, err := fsys.Lstat("dangling"); err != nil || fi.Mode()&iofs.ModeSymlink == 0 {
		t.Errorf("Lstat(dangling): %v %v", fi, err)
	}
}

// TestIOFSNTFS: NTFS alternate data streams are reachable through io/fs
// as "file:stream" (and listed in the Entry, not as directory entries);
// names match case-insensitively.
func TestIOFSNTFS(t *testing.T) {
	fsys := openImage(t, mkNTFS(t, tree{"hello.txt": []byte("hello\n")}, tree{"hello.txt:secret": []byte("alternate stream\n")}, 8))
	b, err := iofs.ReadFile(fsys, "hello.txt:secret")
	if err != nil || string(b) != "alternate stream\n" {
		t.Errorf("ReadFile(hello.txt:secret): %q %v", b, err)
	}
	fi, err := fsys.Stat("hello.txt:secret")
	if err != nil || fi.Size() != int64(len("alternate stream\n")) || fi.Name() != "hello.txt:secret" {
		t.Errorf("Stat(hello.txt:secret): %v %v", fi, err)
	}
	if _, err := fsys.Open("hello.txt:nope"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Open(hello.txt:nope): %v", err)
	}
	if b, err := iofs.ReadFile(fsys, "HELLO.TXT"); err != nil || string(b) != "hello\n" {
		t.Errorf("ReadFile(HELLO.TXT): %q %v", b, err)
	}
	fi, err = fsys.Stat("hello.txt")
	if e := fi.Sys().(*Entry); err != nil || len(e.Streams) != 1 || e.Streams[0].Name != "secret" {
		t.Errorf("Stat(hello.txt): %+v %v", fi.Sys(), err)
	}
	des, err := fsys.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range des {
		if strings.Contains(d.Name(), ":") {
			t.Errorf("ReadDir lists %s", d.Name())
		}
	}
}
