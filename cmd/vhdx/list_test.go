package main

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// list: the CSV of a VHDX's ext4 partition has every file of the tree it
// was built from, with its size and SHA-256; the body file is one mactime
// reads.
func TestListCommand(t *testing.T) {
	img, files, _ := volumeDisk(t)
	code, out, errs := runCLI("list", "--hash", "sha256,md5", img, "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(recs[0], ","); h != "path,type,size,modified,accessed,created,deleted,id,sha256,md5,problem" {
		t.Fatalf("header %s", h)
	}
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		rows[r[0]] = r
	}
	for p, b := range files {
		r := rows["/"+p]
		sum := sha256.Sum256(b)
		if r == nil || r[1] != "file" || r[2] != strconv.Itoa(len(b)) || r[8] != hex.EncodeToString(sum[:]) {
			t.Errorf("/%s: %q", p, r)
		}
	}
	if r := rows["/data"]; r == nil || r[1] != "dir" {
		t.Errorf("/data: %q", r)
	}
	// A directory of it, the partition found alone (PARTITION left out
	// is refused: this disk has two partitions).
	code, out, _ = runCLI("list", img, "1", "/data")
	if code != 0 || strings.Contains(out, "readme.txt") || !strings.Contains(out, "/data/blob.bin,file,") {
		t.Errorf("list /data: exit %d\n%s", code, out)
	}
	if code, _, errs = runCLI("list", img); code != exitFail || !strings.Contains(errs, "name one") {
		t.Errorf("no partition: exit %d %s", code, errs)
	}
	if code, _, errs = runCLI("list", "--hash", "crc", img, "1"); code != exitFail {
		t.Errorf("bad --hash: exit %d %s", code, errs)
	}

	body := filepath.Join(t.TempDir(), "body")
	if code, _, errs = runCLI("list", "--bodyfile", "-o", body, img, "1"); code != 0 {
		t.Fatalf("bodyfile: exit %d %s", code, errs)
	}
	b, _ := os.ReadFile(body)
	if !strings.Contains(string(b), "|/data/blob.bin|") {
		t.Errorf("body file:\n%s", b)
	}
	if _, err := exec.LookPath("mactime"); err != nil {
		t.Skip("mactime (sleuthkit) not installed")
	}
	mt, err := exec.Command("mactime", "-b", body, "-z", "UTC", "-d").CombinedOutput()
	if err != nil || !strings.Contains(string(mt), `"/data/blob.bin"`) {
		t.Errorf("mactime: %v\n%s", err, mt)
	}
}
