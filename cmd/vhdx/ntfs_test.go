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

	"github.com/vhdxview/vhdxview/internal/reftool"
)

// TestLsIncomplete: `vhdx ls` of a directory whose index is damaged lists
// what it can, warns on stderr and exits 1, as text and as JSON. The
// volume is made with mkntfs and filled through an ntfs-3g mount (root,
// FUSE), then one INDX block of /d is overwritten.
func TestLsIncomplete(t *testing.T) {
	dir := t.TempDir()
	raw := emptyNTFS(t, dir)
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

// TestStatNTFS: `vhdx stat` prints a file's MFT record as ntfsinfo
// numbers it, its streams and attributes, as text and as JSON (where the
// record's offset holds a FILE record of that number); `vhdx ls` marks
// NTFS metadata files and only them; stat on ext4 gives the entry alone.
func TestStatNTFS(t *testing.T) {
	dir := t.TempDir()
	raw := emptyNTFS(t, dir)
	src := filepath.Join(dir, "f.txt")
	os.WriteFile(src, []byte(strings.Repeat("some bytes\n", 1000)), 0o644)
	runTool(t, "ntfscp", "-f", "-q", raw, src, "/f.txt")
	os.WriteFile(src, []byte("a stream"), 0o644)
	runTool(t, "ntfscp", "-f", "-q", "-N", "side", raw, src, "/f.txt")
	info := reftool.Run(t, "ntfsinfo", "-F", "/f.txt", raw)
	var rec uint64
	if _, err := fmt.Sscanf(info, "Dumping Inode %d", &rec); err != nil {
		t.Fatalf("ntfsinfo: %v: %q", err, info[:min(len(info), 80)])
	}
	code, out, errs := runCLI("stat", "--raw", raw, "/f.txt")
	if code != exitOK || !strings.Contains(out, "MFT record: ") || !strings.Contains(out, fmt.Sprintf(" %d (sequence", rec)) {
		t.Fatalf("stat: %d %q %q", code, out, errs)
	}
	for _, want := range []string{"f.txt:side, 8 bytes", "$DATA", "non-resident", "$FILE_NAME", "DOS attributes:", "(archive)"} {
		if !strings.Contains(out, want) {
			t.Errorf("stat output lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = runCLI("stat", "--json", "--raw", raw, "0", "/f.txt")
	var st struct {
		Entry struct {
			Size int64 `json:"size"`
		} `json:"entry"`
		NTFS struct {
			Record uint64 `json:"record"`
			Offset int64  `json:"offset"`
		} `json:"ntfs"`
	}
	if err := json.Unmarshal([]byte(out), &st); code != exitOK || err != nil {
		t.Fatalf("stat --json: %d %v %q", code, err, errs)
	}
	b, _ := os.ReadFile(raw)
	if st.NTFS.Record != rec || st.Entry.Size != 11000 || string(b[st.NTFS.Offset:st.NTFS.Offset+4]) != "FILE" ||
		uint64(binary.LittleEndian.Uint32(b[st.NTFS.Offset+0x2c:])) != rec {
		t.Errorf("stat --json: %s", out)
	}
	code, out, _ = runCLI("ls", "--raw", raw, "/")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		marked := strings.HasSuffix(l, "[NTFS metadata]")
		if system := strings.Contains(l, " $"); marked != system || code != exitOK {
			t.Errorf("ls: %q: marked %v", l, marked)
		}
	}
	if code, _, errs := runCLI("stat", "--raw", raw, "/nope"); code != exitFail || !strings.Contains(errs, "not exist") {
		t.Errorf("stat of a missing path: %d %q", code, errs)
	}
}

// emptyNTFS makes dir/ntfs.raw, a fresh 16 MiB NTFS volume (mkntfs).
func emptyNTFS(t *testing.T, dir string) string {
	t.Helper()
	raw := filepath.Join(dir, "ntfs.raw")
	os.WriteFile(raw, nil, 0o644)
	os.Truncate(raw, 16<<20)
	runTool(t, "mkntfs", "-Q", "-F", "-q", raw)
	return raw
}
