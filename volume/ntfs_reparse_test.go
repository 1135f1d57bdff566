//go:build linux

package volume

// Issue #16: NTFS links. A volume is made with ntfs-3g (as root, through
// FUSE): an Interix link from `ln -s`, and reparse points written through
// ntfs-3g's system.ntfs_reparse_data attribute as Windows and WSL write
// them (a relative symbolic link, a junction, a WSL symlink, a
// WOF-compressed file). What the volume reads is compared with what a
// read-only ntfs-3g mount says (readlink), and with the bytes written.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf16"
)

// enc16 is s in UTF-16LE.
func enc16(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// reparseBuffer is a REPARSE_DATA_BUFFER: tag, data length, reserved, data.
func reparseBuffer(tag uint32, data []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, tag)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(data)))
	b = binary.LittleEndian.AppendUint16(b, 0)
	return append(b, data...)
}

// linkData is a symbolic link's (flags != nil) or junction's data: the
// substitute and print names, each NUL-terminated for a junction as
// Windows writes them.
func linkData(sub, print string, flags *uint32) []byte {
	s, p := enc16(sub), enc16(print)
	var buf []byte
	var soff, poff int
	if flags == nil {
		buf = append(append(append(s, 0, 0), p...), 0, 0)
		poff = len(s) + 2
	} else {
		buf = append(s, p...)
		poff = len(s)
	}
	h := binary.LittleEndian.AppendUint16(nil, uint16(soff))
	h = binary.LittleEndian.AppendUint16(h, uint16(len(s)))
	h = binary.LittleEndian.AppendUint16(h, uint16(poff))
	h = binary.LittleEndian.AppendUint16(h, uint16(len(p)))
	if flags != nil {
		h = binary.LittleEndian.AppendUint32(h, *flags)
	}
	return append(h, buf...)
}

func TestNTFSReparse(t *testing.T) {
	for _, tool := range []string{"mkntfs", "ntfs-3g", "umount"} {
		requireTool(t, tool)
	}
	dir := t.TempDir()
	raw := filepath.Join(dir, "links.img")
	if err := os.WriteFile(raw, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(raw, 16<<20)
	run(t, "", "mkntfs", "-Q", "-F", "-q", raw)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	run(t, "", "ntfs-3g", "-o", "streams_interface=xattr", raw, mnt)
	mounted := true
	defer func() {
		if mounted {
			run(t, "", "umount", mnt)
		}
	}()
	at := func(name string) string { return filepath.Join(mnt, name) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(at("target.txt"), []byte("hello\n"), 0o644))
	must(os.Mkdir(at("dir"), 0o755))
	must(os.WriteFile(at("dir/t2.txt"), []byte("two\n"), 0o644))
	must(os.Symlink("target.txt", at("interix"))) // ntfs-3g writes an Interix link
	relative := uint32(1)
	must(os.WriteFile(at("wlink"), nil, 0o644))
	must(syscall.Setxattr(at("wlink"), "system.ntfs_reparse_data", reparseBuffer(reparseTagSymlink, linkData(`dir\t2.txt`, `dir\t2.txt`, &relative)), 0))
	must(os.Mkdir(at("junc"), 0o755))
	must(syscall.Setxattr(at("junc"), "system.ntfs_reparse_data", reparseBuffer(reparseTagMountPoint, linkData(`\??\C:\Users`, `C:\Users`, nil)), 0))
	must(os.WriteFile(at("lx"), nil, 0o644))
	must(syscall.Setxattr(at("lx"), "system.ntfs_reparse_data", reparseBuffer(reparseTagLXSymlink, append([]byte{2, 0, 0, 0}, "dir/t2.txt"...)), 0))
	must(os.WriteFile(at("compact.exe"), nil, 0o644))
	must(syscall.Setxattr(at("compact.exe"), "user.WofCompressedData", bytes.Repeat([]byte{0x11}, 300), 0))
	wof := []byte{1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0} // WOF v1, file provider v1, LZX
	must(syscall.Setxattr(at("compact.exe"), "system.ntfs_reparse_data", reparseBuffer(reparseTagWOF, wof), 0))
	run(t, "", "umount", mnt)
	mounted = false

	// The oracle: a read-only ntfs-3g mount's readlink of each link.
	run(t, "", "ntfs-3g", "-o", "ro", raw, mnt)
	mounted = true
	oracle := map[string]string{}
	for _, n := range []string{"interix", "wlink", "lx"} {
		l, err := os.Readlink(at(n))
		must(err)
		oracle[n] = l
	}
	run(t, "", "umount", mnt)
	mounted = false

	b, err := os.ReadFile(raw)
	must(err)
	fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
	must(err)
	want := map[string]struct{ typ, target, reparse string }{
		"interix":     {"symlink", "target.txt", "Interix symbolic link"},
		"wlink":       {"symlink", `dir\t2.txt`, "symbolic link"},
		"junc":        {"symlink", `C:\Users`, "junction"},
		"lx":          {"symlink", "dir/t2.txt", "WSL symbolic link"},
		"compact.exe": {"file", "", "WOF-compressed (LZX)"},
		"target.txt":  {"file", "", ""},
		"dir":         {"dir", "", ""},
	}
	es, err := fsys.List("/")
	must(err)
	got := 0
	for _, e := range es {
		w, ok := want[e.Name]
		if !ok {
			continue
		}
		got++
		if e.Type != w.typ || e.Target != w.target || e.Reparse != w.reparse {
			t.Errorf("%s: type %q target %q reparse %q, want %q %q %q", e.Name, e.Type, e.Target, e.Reparse, w.typ, w.target, w.reparse)
		}
		if o, ok := oracle[e.Name]; ok && strings.ReplaceAll(e.Target, `\`, "/") != o {
			t.Errorf("%s: target %q, ntfs-3g reads %q", e.Name, e.Target, o)
		}
	}
	if got != len(want) {
		t.Errorf("listed %d of the %d names", got, len(want))
	}
	// Links do not open as files; io/fs follows the in-volume ones.
	if _, err := fsys.OpenFile("wlink"); err == nil || !strings.Contains(err.Error(), `symbolic link to dir\t2.txt`) {
		t.Errorf("OpenFile(wlink): %v", err)
	}
	for _, n := range []string{"wlink", "lx"} {
		if data, err := fs.ReadFile(fsys, n); err != nil || string(data) != "two\n" {
			t.Errorf("fs.ReadFile(%s) through the link: %q %v", n, data, err)
		}
	}
	if data, err := fs.ReadFile(fsys, "interix"); err != nil || string(data) != "hello\n" {
		t.Errorf("fs.ReadFile(interix): %q %v", data, err)
	}
	if _, err := fs.Stat(fsys, "junc"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), `C:\Users`) {
		t.Errorf("a junction to C:\\Users resolved inside the volume: %v", err)
	}
	// A WOF file says what it is instead of reading as its sparse placeholder.
	_, err = fsys.OpenFile("compact.exe")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "WofCompressedData (300 bytes)") {
		t.Errorf("OpenFile(compact.exe): %v", err)
	}
}

// TestParseReparseDamage: short or out-of-bounds reparse data is an error
// naming the kind; unknown tags are named by number.
func TestParseReparseDamage(t *testing.T) {
	one := uint32(0)
	good := reparseBuffer(reparseTagSymlink, linkData("a", "a", &one))
	if rp, err := parseReparse(good); err != nil || rp.target != "a" {
		t.Fatalf("%+v %v", rp, err)
	}
	bad := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(bad[8+6:], 200) // print name longer than the buffer
	for name, b := range map[string][]byte{
		"short":        good[:6],
		"data length":  good[:len(good)-2],
		"print name":   bad,
		"junction hdr": reparseBuffer(reparseTagMountPoint, []byte{1, 2}),
		"lx short":     reparseBuffer(reparseTagLXSymlink, []byte{2}),
		"lx not utf-8": reparseBuffer(reparseTagLXSymlink, []byte{2, 0, 0, 0, 0xff}),
	} {
		if _, err := parseReparse(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if rp, err := parseReparse(reparseBuffer(0x9000001a, nil)); err != nil || rp.kind != "reparse point 0x9000001a" || rp.link {
		t.Errorf("unknown tag: %+v %v", rp, err)
	}
}

func FuzzParseReparse(f *testing.F) {
	one := uint32(1)
	f.Add(reparseBuffer(reparseTagSymlink, linkData(`\??\C:\x`, `C:\x`, &one)))
	f.Add(reparseBuffer(reparseTagMountPoint, linkData(`\??\C:\x`, `C:\x`, nil)))
	f.Add(reparseBuffer(reparseTagLXSymlink, []byte("\x02\x00\x00\x00/etc")))
	f.Add(reparseBuffer(reparseTagWOF, []byte{1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		rp, err := parseReparse(b)
		if err == nil && rp.link && rp.target == "" && rp.tag != reparseTagLXSymlink && rp.tag != reparseTagSymlink && rp.tag != reparseTagMountPoint {
			t.Fatalf("a link without a known tag: %+v", rp)
		}
	})
}
