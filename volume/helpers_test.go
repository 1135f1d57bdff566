package volume

// Test images are made at test time with the Debian tools a user would use:
// mkfs.fat / mkfs.ext2-4 -d / mkntfs + ntfscp build file systems in plain
// files, sfdisk / sgdisk / fdisk -b 4096 write partition tables on a plain
// file, dd (conv=notrunc) puts each file system at its partition's offset,
// and qemu-img convert -O vhdx turns the raw disk into a VHDX. No root, no
// loop devices. FAT volumes are filled with mtools (mcopy), an
// implementation independent of the reader under test.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/reftool"
)

// requireTool: see internal/reftool.
var requireTool = reftool.Require

// run and runEnv: see internal/reftool.
var (
	run    = reftool.RunInput
	runEnv = reftool.RunEnv
)

// tree is a set of files: path (slash-separated, no leading slash) to
// contents. Directories are implied.
type tree map[string][]byte

func (tr tree) paths() []string {
	var ps []string
	for p := range tr {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// randBytes returns n reproducible pseudo-random bytes.
func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sampleTree is the content every file system test writes and reads back:
// empty, tiny, odd-sized and multi-cluster files, long and non-ASCII
// names, nested directories.
func sampleTree(flat bool) tree {
	tr := tree{
		"hello.txt":                       []byte("hello, volume\n"),
		"empty.dat":                       {},
		"A Long File Name With Spaces.md": []byte("# long names\n"),
		"big.bin":                         randBytes(1, 1<<20+12345),
		"odd.bin":                         randBytes(2, 4097),
		"Ünïcödé.txt":                     []byte("utf-8 name\n"),
	}
	if !flat {
		tr["dir/sub/deep.bin"] = randBytes(3, 70000)
		tr["dir/note.txt"] = []byte("in a directory\n")
	}
	return tr
}

// writeTree writes tr under dir.
func writeTree(t testing.TB, dir string, tr tree) {
	t.Helper()
	for _, p := range tr.paths() {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, tr[p], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// mkExt makes an ext2/3/4 file system of sizeMiB holding tr.
func mkExt(t testing.TB, kind string, tr tree, sizeMiB int, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeTree(t, src, tr)
	img := filepath.Join(dir, kind+".img")
	args := append([]string{"-q", "-F", "-L", "vol-" + kind, "-d", src}, extra...)
	run(t, "", "mkfs."+kind, append(args, img, fmt.Sprintf("%dM", sizeMiB))...)
	return img
}

// mkFAT makes a FAT12, FAT16 or FAT32 file system of sizeMiB with mkfs.fat and
// fills it with mtools's mcopy (long names, in UTF-8 from the locale).
func mkFAT(t testing.TB, bits int, tr tree, sizeMiB int) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, fmt.Sprintf("fat%d.img", bits))
	args := []string{"-C", "-F", fmt.Sprint(bits), "-n", fmt.Sprintf("FAT%dVOL", bits)}
	if bits == 32 {
		args = append(args, "-s", "1") // 512-byte clusters: FAT32 in 34 MiB
	}
	run(t, "", "mkfs.fat", append(args, img, fmt.Sprint(sizeMiB*1024))...)
	src := filepath.Join(dir, "src")
	writeTree(t, src, tr)
	top, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	mcopy := []string{"-s", "-i", img}
	for _, e := range top {
		mcopy = append(mcopy, filepath.Join(src, e.Name()))
	}
	runEnv(t, []string{"LC_ALL=C.UTF-8", "MTOOLS_SKIP_CHECK=1"}, "", "mcopy", append(mcopy, "::/")...)
	return img
}

// mkNTFS makes an NTFS file system of sizeMiB holding the flat tree tr
// (ntfscp cannot make directories) plus the alternate data streams ads
// ("file:stream" -> contents).
func mkNTFS(t testing.TB, tr tree, ads tree, sizeMiB int) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "ntfs.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(int64(sizeMiB) << 20)
	f.Close()
	run(t, "", "mkntfs", "-F", "-Q", "-q", "-L", "NTFSVOL", img)
	src := filepath.Join(dir, "src")
	writeTree(t, src, tr)
	for _, p := range tr.paths() {
		run(t, "", "ntfscp", "-f", "-q", img, filepath.Join(src, p), "/"+p)
	}
	for _, p := range ads.paths() {
		name, stream, _ := strings.Cut(p, ":")
		sf := filepath.Join(dir, "stream")
		os.WriteFile(sf, ads[p], 0o644)
		run(t, "", "ntfscp", "-f", "-q", "-N", stream, img, sf, "/"+name)
	}
	return img
}

// part describes a partition to create: size, type (sfdisk type for MBR,
// sgdisk code for GPT), an optional file system image to copy in, and
// (GPT) a name.
type part struct {
	sizeMiB int
	typ     string
	img     string
	name    string
	logical bool // MBR: inside the extended partition
}

// sfPart is a partition as sfdisk -J reports it.
type sfPart struct {
	Node  string `json:"node"`
	Start int64  `json:"start"`
	Size  int64  `json:"size"`
	Type  string `json:"type"`
	UUID  string `json:"uuid"`
	Name  string `json:"name"`
}

// mkDisk writes a raw disk of sizeMiB with an MBR ("mbr") or GPT ("gpt")
// holding parts, copies each part's image in, and returns the path and the
// partition table as sfdisk reads it.
func mkDisk(t testing.TB, scheme string, sizeMiB int, parts []part) (string, []sfPart) {
	t.Helper()
	raw := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(int64(sizeMiB) << 20)
	f.Close()
	if scheme == "gpt" {
		args := []string{"-o"}
		for i, p := range parts {
			n := i + 1
			args = append(args, fmt.Sprintf("-n=%d:0:+%dM", n, p.sizeMiB), fmt.Sprintf("-t=%d:%s", n, p.typ))
			if p.name != "" {
				args = append(args, fmt.Sprintf("-c=%d:%s", n, p.name))
			}
		}
		run(t, "", "sgdisk", append(args, raw)...)
	} else {
		var sb strings.Builder
		sb.WriteString("label: dos\n")
		extDone := false
		for _, p := range parts {
			if p.logical && !extDone {
				sb.WriteString("type=5\n") // extended: the rest of the disk
				extDone = true
			}
			fmt.Fprintf(&sb, "size=%dMiB, type=%s\n", p.sizeMiB, p.typ)
		}
		run(t, sb.String(), "sfdisk", "-q", raw)
	}
	var js struct {
		PT struct {
			Partitions []sfPart `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal([]byte(run(t, "", "sfdisk", "-J", raw)), &js); err != nil {
		t.Fatal(err)
	}
	var data []sfPart
	for _, p := range js.PT.Partitions {
		if p.Type != "5" {
			data = append(data, p)
		}
	}
	if len(data) != len(parts) {
		t.Fatalf("sfdisk reports %d data partitions, want %d: %+v", len(data), len(parts), js.PT.Partitions)
	}
	for i, p := range parts {
		if p.img != "" {
			ddInto(t, raw, p.img, data[i].Start*512)
		}
	}
	return raw, js.PT.Partitions
}

// ddInto copies src into dst at byte offset off without truncating dst.
func ddInto(t testing.TB, dst, src string, off int64) {
	t.Helper()
	run(t, "", "dd", "if="+src, "of="+dst, "bs=64K", "oflag=seek_bytes", fmt.Sprintf("seek=%d", off), "conv=notrunc,sparse", "status=none")
}

// toVHDX converts a raw disk with qemu-img (subformat dynamic or fixed).
func toVHDX(t testing.TB, raw, subformat string) string {
	t.Helper()
	out := strings.TrimSuffix(raw, ".raw") + "-" + subformat + ".vhdx"
	run(t, "", "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat="+subformat, raw, out)
	return out
}

// openVHDX opens a VHDX with the engine.
func openVHDX(t testing.TB, path string) *core.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	img, err := core.Open(context.Background(), f, st.Size(), &core.Options{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkTree reads every file of tr from fsys and compares size and bytes,
// and checks that every directory lists exactly what tr has there (ignoring
// names in ignore, e.g. lost+found and NTFS metadata files).
func checkTree(t *testing.T, fsys *FS, tr tree, ignore func(string) bool) {
	t.Helper()
	dirs := map[string]map[string]bool{"/": {}}
	for _, p := range tr.paths() {
		parts := strings.Split(p, "/")
		for i := range parts {
			dir := "/" + strings.Join(parts[:i], "/")
			if dirs[dir] == nil {
				dirs[dir] = map[string]bool{}
			}
			dirs[dir][parts[i]] = true
		}
		f, err := fsys.OpenFile(p)
		if err != nil {
			t.Errorf("%s: open %s: %v", fsys.Type(), p, err)
			continue
		}
		if f.Size() != int64(len(tr[p])) {
			t.Errorf("%s: %s: size %d, want %d", fsys.Type(), p, f.Size(), len(tr[p]))
		}
		got, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
		if err != nil || !bytes.Equal(got, tr[p]) {
			t.Errorf("%s: %s: contents differ (err %v, %d bytes)", fsys.Type(), p, err, len(got))
		}
		e, err := fsys.Lookup(p)
		if err != nil || e.Size != int64(len(tr[p])) || e.IsDir || e.ModTime.IsZero() {
			t.Errorf("%s: stat %s: %+v %v", fsys.Type(), p, e, err)
		}
	}
	for dir, want := range dirs {
		es, err := fsys.List(dir)
		if err != nil {
			t.Errorf("%s: readdir %s: %v", fsys.Type(), dir, err)
			continue
		}
		got := map[string]bool{}
		for _, e := range es {
			if e.Deleted || ignore != nil && ignore(e.Name) {
				continue
			}
			got[e.Name] = true
			if e.Path != joinPath(dir, e.Name) {
				t.Errorf("%s: %s: path %q", fsys.Type(), e.Name, e.Path)
			}
			if e.IsDir != (e.Type == "dir") {
				t.Errorf("%s: %s: IsDir %v but type %s", fsys.Type(), e.Path, e.IsDir, e.Type)
			}
		}
		for n := range want {
			if !got[n] {
				t.Errorf("%s: readdir %s lacks %q (has %v)", fsys.Type(), dir, n, got)
			}
		}
		for n := range got {
			if !want[n] {
				t.Errorf("%s: readdir %s has unexpected %q", fsys.Type(), dir, n)
			}
		}
	}
}

func ignoreSystem(name string) bool {
	return name == "lost+found" || strings.HasPrefix(name, "$") || name == "System Volume Information"
}

// overlay reads base with some ranges replaced.
type overlay struct {
	base    []byte
	patches map[int][]byte // offset → bytes
}

func (o *overlay) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(o.base)) {
		return 0, io.EOF
	}
	n := copy(p, o.base[off:])
	for at, b := range o.patches {
		lo, hi := max(int64(at), off), min(int64(at+len(b)), off+int64(n))
		if lo < hi {
			copy(p[lo-off:hi-off], b[lo-int64(at):])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// patchOverlay turns a fuzz input into patches over base: records of a
// 3-byte offset (little-endian, taken modulo len(base)), a length byte
// (1 to 32) and that many bytes. A mutator can then damage any structure
// of a megabyte volume with an input of a few dozen bytes.
func patchOverlay(base, patch []byte) *overlay {
	o := &overlay{base: base, patches: map[int][]byte{}}
	for len(patch) >= 4 && len(base) > 0 {
		at := int(patch[0]) | int(patch[1])<<8 | int(patch[2])<<16
		n := min(int(patch[3])%32+1, len(patch)-4)
		o.patches[at%len(base)] = patch[4 : 4+n]
		patch = patch[4+n:]
	}
	return o
}
