package listing

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vhdxview/vhdxview/internal/reftool"
	"github.com/vhdxview/vhdxview/volume"
)

// srcTree is the tree the test volume is built from, with fixed times.
var srcTree = map[string]string{
	"readme.txt":             "read me\n",
	"docs/a.txt":             "alpha",
	"docs/sub/deep.bin":      strings.Repeat("0123456789abcdef", 9000),
	"docs/sub/empty":         "",
	"pipe|name.txt":          "a name with the body file's separator",
	"zz/last.txt":            "last",
	"zz/more/one.txt":        "1",
	"zz/more/two.txt":        "22",
	"zz/more/three/four.txt": "4444",
}

// extVolume builds an ext4 volume (mkfs.ext4 -d) from srcTree, each file
// and directory with its own modification time, and returns the image
// file and the source directory.
func extVolume(t *testing.T) (string, string) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	base := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	var paths []string
	for p := range srcTree {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for i, p := range paths {
		fp := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, []byte(srcTree[p]), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := base.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(fp, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	// Directories last, deepest first: writing their files changed them.
	for i := len(paths) - 1; i >= 0; i-- {
		for d := filepath.Dir(paths[i]); d != "."; d = filepath.Dir(d) {
			dt := base.Add(-time.Duration(len(d)) * time.Minute)
			if err := os.Chtimes(filepath.Join(src, d), dt, dt); err != nil {
				t.Fatal(err)
			}
		}
	}
	img := filepath.Join(dir, "ext4.img")
	// 256-byte inodes keep creation times and nanoseconds.
	reftool.Run(t, "mkfs.ext4", "-q", "-F", "-I", "256", "-L", "listvol", "-d", src, img, "8M")
	return img, src
}

func openExt(t *testing.T, img string) *volume.FS {
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	fsys, err := volume.OpenFS(f, 0, st.Size(), 512)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func walkAll(t *testing.T, fsys *volume.FS, opts Options) []Row {
	var rows []Row
	err := Walk(context.Background(), fsys, "/", nil, opts, func(r Row, _ Cursor) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The walk gives every file and directory of the source tree, with its
// size and modification time, and the digests of its bytes.
func TestWalkMatchesSourceTree(t *testing.T) {
	img, src := extVolume(t)
	fsys := openExt(t, img)
	rows := walkAll(t, fsys, Options{Hash: []string{"md5", "sha256"}})
	got := map[string]Row{}
	for _, r := range rows {
		if r.Path == "/lost+found" || strings.HasPrefix(r.Path, "/lost+found/") {
			continue
		}
		if _, dup := got[r.Path]; dup {
			t.Errorf("%s listed twice", r.Path)
		}
		got[r.Path] = r
	}
	want := map[string]bool{}
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == src {
			return err
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, src+"/"))
		want[rel] = true
		r, ok := got[rel]
		if !ok {
			t.Errorf("%s: not listed", rel)
			return nil
		}
		if r.IsDir != fi.IsDir() {
			t.Errorf("%s: is_dir %v, source %v", rel, r.IsDir, fi.IsDir())
		}
		if !r.ModTime.Equal(fi.ModTime()) {
			t.Errorf("%s: modified %v, source %v", rel, r.ModTime, fi.ModTime())
		}
		if !fi.IsDir() {
			b, _ := os.ReadFile(p)
			m, s := md5.Sum(b), sha256.Sum256(b)
			if r.Size != int64(len(b)) || r.Sums["md5"] != hex.EncodeToString(m[:]) || r.Sums["sha256"] != hex.EncodeToString(s[:]) {
				t.Errorf("%s: size %d sums %v, source %d bytes", rel, r.Size, r.Sums, len(b))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range got {
		if !want[p] {
			t.Errorf("%s listed, not in the source", p)
		}
	}
	// Pre-order in name order: a directory before what it holds.
	seen := map[string]bool{"/": true}
	for _, r := range rows {
		parent := filepath.Dir(r.Path)
		if !seen[parent] {
			t.Errorf("%s before its directory %s", r.Path, parent)
		}
		seen[r.Path] = true
	}
}

// Stopping after any row and resuming from its cursor gives the same rows
// as one walk.
func TestWalkResumes(t *testing.T) {
	img, _ := extVolume(t)
	fsys := openExt(t, img)
	full := walkAll(t, fsys, Options{})
	for k := 0; k < 2*len(full); k++ {
		// Odd rounds keep the listings on the way down between pages, as
		// the worker does: the same rows, and no directory listed twice.
		page, cached := k/2+1, k%2 == 1
		cache := NewListCache()
		listed := map[string]int{}
		opts := Options{}
		if cached {
			lister := cache.Lister(fsys)
			opts.List = func(p string) ([]volume.Entry, error) {
				if _, kept := cache.dirs[p]; !kept {
					listed[p]++ // read from the volume
				}
				return lister(p)
			}
		}
		var got []string
		var cur Cursor
		for {
			n := 0
			var last Cursor
			lastPath := "/"
			err := Walk(context.Background(), fsys, "/", cur, opts, func(r Row, c Cursor) error {
				got = append(got, r.FullPath())
				last = c
				lastPath = r.Path
				if n++; n == page {
					return Stop
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n < page {
				break
			}
			cache.Keep(lastPath)
			// Through the cursor's text form, as the worker sends it.
			cur, err = ParseCursor(last.String())
			if err != nil {
				t.Fatal(err)
			}
		}
		for p, n := range listed {
			if n > 1 {
				t.Errorf("pages of %d: %s listed %d times", page, p, n)
			}
		}
		if len(got) != len(full) {
			t.Fatalf("pages of %d: %d rows, want %d:\n%v", page, len(got), len(full), got)
		}
		for i := range full {
			if got[i] != full[i].FullPath() {
				t.Fatalf("pages of %d: row %d is %s, want %s", page, i, got[i], full[i].FullPath())
			}
		}
	}
}

func TestWalkCancelled(t *testing.T) {
	img, _ := extVolume(t)
	fsys := openExt(t, img)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Walk(ctx, fsys, "/", nil, Options{Hash: []string{"sha256"}}, func(Row, Cursor) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("after cancel: %d rows, %v", n, err)
	}
}

func TestParseCursorRejects(t *testing.T) {
	for _, s := range []string{"a", "1//2", "-1", "1/99999999", strings.Repeat("0/", MaxDepth) + "0"} {
		if _, err := ParseCursor(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// The body file agrees with The Sleuth Kit's own (fls -m -r) on every
// entry's inode, type, size and times, and mactime reads it.
func TestBodyfileMatchesFls(t *testing.T) {
	fls, err := exec.LookPath("fls")
	if err != nil {
		t.Skip("fls (sleuthkit) not installed")
	}
	img, _ := extVolume(t)
	fsys := openExt(t, img)
	var buf bytes.Buffer
	w := NewWriter("bodyfile", &buf, []string{"md5"})
	for _, r := range walkAll(t, fsys, Options{Hash: []string{"md5"}}) {
		if err := w.Row(&r); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(fls, "-m", "/", "-r", img).Output()
	if err != nil {
		t.Fatal(err)
	}
	theirs := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "|")
		if len(f) == 12 && strings.HasPrefix(f[1], "/pipe") { // fls writes a name's "|" as it is
			f = append([]string{f[0], f[1] + "|" + f[2]}, f[3:]...)
		}
		if len(f) != 11 {
			t.Fatalf("fls line %q", l)
		}
		theirs[f[1]] = f
	}
	ours := strings.Split(strings.TrimSpace(buf.String()), "\n")
	checked := 0
	for _, l := range ours {
		f := strings.Split(l, "|")
		if len(f) != 11 {
			t.Fatalf("line %q: %d fields", l, len(f))
		}
		name := f[1]
		if strings.HasPrefix(name, "/pipe^name") {
			name = "/pipe|name.txt" // fls writes the "|" as it is
		}
		th := theirs[name]
		if th == nil {
			if strings.HasPrefix(name, "/lost+found") {
				continue
			}
			t.Errorf("%s: not in fls's body file", name)
			continue
		}
		checked++
		// inode, type (fls: "r/rrw-r--r--"), size, atime, mtime, crtime.
		// Directories' sizes are 0 here (the volume API gives none).
		if f[2] != th[2] || f[3][:3] != th[3][:3] || f[3][:1] == "r" && f[6] != th[6] || f[7] != th[7] || f[8] != th[8] || f[10] != th[10] {
			t.Errorf("ours %q\nfls  %q", l, strings.Join(th, "|"))
		}
		if f[3][:1] == "r" {
			sum := md5.Sum([]byte(srcTree[strings.TrimPrefix(name, "/")]))
			if f[0] != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: md5 %s", name, f[0])
			}
		}
	}
	if checked < len(srcTree) {
		t.Errorf("only %d entries checked", checked)
	}
	// mactime parses it: every file shows up in the timeline.
	bf := filepath.Join(t.TempDir(), "body")
	os.WriteFile(bf, buf.Bytes(), 0o644)
	mt, err := exec.Command("mactime", "-b", bf, "-z", "UTC", "-d").CombinedOutput()
	if err != nil {
		t.Fatalf("mactime: %v\n%s", err, mt)
	}
	for p := range srcTree {
		if !strings.Contains(string(mt), `,"`+strings.ReplaceAll("/"+p, "|", "^")+`"`) {
			t.Errorf("mactime's timeline lacks %s", p)
		}
	}
}

func TestCSV(t *testing.T) {
	img, _ := extVolume(t)
	fsys := openExt(t, img)
	var buf bytes.Buffer
	w := NewWriter("csv", &buf, []string{"sha256"})
	w.Header()
	for _, r := range walkAll(t, fsys, Options{Hash: []string{"sha256"}}) {
		w.Row(&r)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(append(append([]string{}, CSVColumns...), "sha256", "problem"), ",")
	if got := strings.Join(recs[0], ","); got != want {
		t.Fatalf("header %s, want %s", got, want)
	}
	by := map[string][]string{}
	for _, r := range recs[1:] {
		by[r[0]] = r
	}
	r := by["/pipe|name.txt"]
	body := srcTree["pipe|name.txt"]
	sum := sha256.Sum256([]byte(body))
	if r == nil || r[1] != "file" || r[2] != strconv.Itoa(len(body)) || r[8] != hex.EncodeToString(sum[:]) || r[6] != "false" {
		t.Errorf("row %q", r)
	}
	if mt, err := time.Parse(time.RFC3339Nano, r[3]); err != nil || !strings.HasSuffix(r[3], "Z") || mt.Year() != 2021 {
		t.Errorf("modified %q: %v", r[3], err)
	}
	if d := by["/docs/sub"]; d == nil || d[1] != "dir" || d[2] != "" {
		t.Errorf("directory row %q", d)
	}
	if _, err := strconv.ParseUint(by["/readme.txt"][7], 10, 64); err != nil {
		t.Errorf("inode %q", by["/readme.txt"][7])
	}
}

// FuzzParseCursor: any text parses or is refused, never panics, and what
// parses prints back the same.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "0", "1/2/3", "a", "1//2", "-1", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		if c2, err := ParseCursor(c.String()); err != nil || c2.String() != c.String() {
			t.Errorf("%q → %q → %v", s, c.String(), err)
		}
	})
}
