package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLsIncomplete: `vhdx ls` of a directory whose index is damaged lists
// what it can, warns on stderr and exits 1, as text and as JSON. The
// volume is made with mkntfs and filled through an ntfs-3g mount (root,
// FUSE), then one INDX block of /d is overwritten.
func TestLsIncomplete(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "ntfs.raw")
	os.WriteFile(raw, nil, 0o644)
	os.Truncate(raw, 16<<20)
	runTool(t, "mkntfs", "-Q", "-F", "-q", raw)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	runTool(t, "ntfs-3g", raw, mnt)
	const files = 400
	var ino uint64
	func() {
		defer runTool(t, "umount", mnt)
		d := filepath.Join(mnt, "d")
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range files {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("some-file-%04d.txt", i)), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		ino = fi.Sys().(*syscall.Stat_t).Ino // ntfs-3g: the MFT record number
	}()
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	damaged := false
	for off := 0; off+4096 <= len(b) && !damaged; off += 4096 {
		first := off + 0x18 + int(binary.LittleEndian.Uint32(b[off+0x18:]))
		if string(b[off:off+4]) == "INDX" && first+0x18 <= off+4096 && binary.LittleEndian.Uint64(b[first+0x10:])&(1<<48-1) == ino {
			copy(b[off:], "JUNK")
			damaged = true
		}
	}
	if !damaged {
		t.Fatalf("no index block of /d (MFT record %d) found", ino)
	}
	os.WriteFile(raw, b, 0o644)
	img := filepath.Join(dir, "ntfs.vhdx")
	runTool(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", raw, img)

	code, out, errs := runCLI("ls", img, "/d")
	lines := strings.Count(out, "\n")
	if code != exitProblems || !strings.Contains(errs, "warning") || !strings.Contains(errs, "incomplete") || !strings.Contains(errs, `signature "JUNK"`) {
		t.Errorf("ls: exit %d, stderr %q", code, errs)
	}
	if lines == 0 || lines >= files {
		t.Errorf("ls: %d lines", lines)
	}
	code, out, errs = runCLI("ls", "--json", img, "/d")
	var es []struct{ Name string }
	if err := json.Unmarshal([]byte(out), &es); err != nil || code != exitProblems || len(es) != lines || !strings.Contains(errs, "incomplete") {
		t.Errorf("ls --json: exit %d, %d entries, %v, stderr %q", code, len(es), err, errs)
	}
	// The rest of the volume is whole: exit 0.
	if code, _, errs := runCLI("ls", img, "/"); code != exitOK {
		t.Errorf("ls /: exit %d %s", code, errs)
	}
}
