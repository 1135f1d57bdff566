package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/internal/reftool"
)

// TestGetDeleted: a file mdel deleted from a FAT16 disk (raw, no partition
// table: partition 0) comes back with get --deleted, with a warning; a
// deleted directory and a name nothing was deleted under say why not.
func TestGetDeleted(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "fat16.img")
	runTool(t, "mkfs.fat", "-C", "-F", "16", img, "16384")
	want := bytes.Repeat([]byte("recover me "), 9000)
	src := filepath.Join(dir, "gone.bin")
	if err := os.WriteFile(src, want, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"MTOOLS_SKIP_CHECK=1"}
	reftool.RunEnv(t, env, "", "mcopy", "-i", img, src, "::/gone.bin")
	reftool.RunEnv(t, env, "", "mmd", "-i", img, "::/olddir")
	reftool.RunEnv(t, env, "", "mdel", "-i", img, "::/gone.bin")
	reftool.RunEnv(t, env, "", "mrd", "-i", img, "::/olddir")

	// ls marks it, and names it as FAT left it: the first character is lost.
	code, out, errs := runCLI("ls", "--raw", img, "0", "/")
	if code != 0 || !strings.Contains(out, "_one.bin  [deleted, recoverable") {
		t.Fatalf("ls: exit %d\n%s%s", code, out, errs)
	}
	got := filepath.Join(dir, "out.bin")
	code, _, errs = runCLI("get", "--raw", "--deleted", img, "0", "/_one.bin", "-o", got)
	if code != 0 || !strings.Contains(errs, "warning") || !strings.Contains(errs, "overwritten") {
		t.Fatalf("get --deleted: exit %d\n%s", code, errs)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, want) {
		t.Errorf("get --deleted: %d bytes, want the %d deleted", len(b), len(want))
	}
	for _, c := range []struct{ path, why string }{
		{"/_lddir", "directory"},
		{"/nothing.bin", "no deleted entry"},
	} {
		if code, out, errs := runCLI("get", "--raw", "--deleted", img, "0", c.path, "-o", "-"); code != exitFail || out != "" || !strings.Contains(errs, c.why) {
			t.Errorf("get --deleted %s: exit %d, %d bytes out\n%s", c.path, code, len(out), errs)
		}
	}
	if code, _, errs := runCLI("get", "--raw", "--deleted", img, "0"); code != exitFail || !strings.Contains(errs, "PATH") {
		t.Errorf("get --deleted without PATH: exit %d\n%s", code, errs)
	}
}
