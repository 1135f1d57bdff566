package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalReplayed is issue #14's case: an ext4 volume copied while
// mounted, its last 300 files only in the journal, converted to VHDX.
// `ls` lists them (the journal replayed in memory, said on stderr) and
// `parts` says so in its text and its JSON. Needs root (a loop mount).
func TestJournalReplayed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the volume is written through a loop mount")
	}
	dir := t.TempDir()
	live := filepath.Join(dir, "live.img")
	os.WriteFile(live, nil, 0o644)
	os.Truncate(live, 32<<20)
	runTool(t, "mkfs.ext4", "-q", "-F", live)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	runTool(t, "mount", "-o", "loop", live, mnt)
	copied := filepath.Join(dir, "copy.img")
	func() {
		defer exec.Command("umount", mnt).Run()
		docs := filepath.Join(mnt, "docs")
		os.Mkdir(docs, 0o755)
		for i := range 300 {
			if err := os.WriteFile(filepath.Join(docs, fmt.Sprintf("doc%03d.txt", i)), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// fsync commits the transaction to the journal and writes
		// nothing in place; the copy then needs recovery.
		f, err := os.Open(docs)
		if err != nil {
			t.Fatal(err)
		}
		f.Sync()
		f.Close()
		runTool(t, "cp", "--sparse=always", live, copied)
	}()
	img := filepath.Join(dir, "copy.vhdx")
	runTool(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", copied, img)

	code, out, errs := runCLI("ls", img, "0", "/docs")
	if code != exitOK || strings.Count(out, "\n") != 300 || !strings.Contains(errs, "journal replayed in memory: 1 transactions") {
		t.Errorf("ls: exit %d, %d lines, stderr %q", code, strings.Count(out, "\n"), errs)
	}
	code, out, errs = runCLI("parts", img)
	if code != exitOK || !strings.Contains(out, "partition 0: journal replayed in memory: 1 transactions, ") {
		t.Errorf("parts: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI("parts", "--json", img)
	var tab struct {
		Partitions []struct {
			Journal *struct {
				Replayed     bool `json:"replayed"`
				Transactions int  `json:"transactions"`
				Blocks       int  `json:"blocks"`
			} `json:"journal"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(out), &tab); err != nil || code != exitOK || len(tab.Partitions) != 1 {
		t.Fatalf("parts --json: exit %d, %v\n%s", code, err, out)
	}
	if j := tab.Partitions[0].Journal; j == nil || !j.Replayed || j.Transactions != 1 || j.Blocks == 0 {
		t.Errorf("parts --json: journal %+v", j)
	}
}
