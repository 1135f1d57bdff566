package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/internal/reftool"
)

// runTool runs a tool the test builds its disks with (see internal/reftool).
func runTool(t *testing.T, name string, args ...string) { reftool.Run(t, name, args...) }

// volumeDisk makes a dynamic VHDX holding a GPT disk (sgdisk) with an ext4
// volume (mkfs.ext4 -d) as partition 1 and an unformatted partition 2.
// It returns the image, the file tree and the raw disk.
func volumeDisk(t *testing.T) (string, map[string][]byte, []byte) {
	dir := t.TempDir()
	files := map[string][]byte{
		"readme.txt":      []byte("read me\n"),
		"data/blob.bin":   bytes.Repeat([]byte("0123456789abcdef"), 70000),
		"data/empty.file": {},
	}
	for p, b := range files {
		fp := filepath.Join(dir, "src", p)
		os.MkdirAll(filepath.Dir(fp), 0o755)
		os.WriteFile(fp, b, 0o644)
	}
	fsImg := filepath.Join(dir, "ext4.img")
	runTool(t, "mkfs.ext4", "-q", "-F", "-L", "clivol", "-d", filepath.Join(dir, "src"), fsImg, "8M")
	raw := filepath.Join(dir, "disk.raw")
	os.WriteFile(raw, nil, 0o644)
	os.Truncate(raw, 16<<20)
	runTool(t, "sgdisk", "-o", "-n", "1:2048:+8M", "-t", "1:8300", "-c", "1:root", "-n", "2:0:+4M", "-t", "2:0700", raw)
	runTool(t, "dd", "if="+fsImg, "of="+raw, "bs=512", "seek=2048", "conv=notrunc", "status=none")
	img := filepath.Join(dir, "disk.vhdx")
	runTool(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic", raw, img)
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	return img, files, b
}

func TestVolumeCommands(t *testing.T) {
	img, files, raw := volumeDisk(t)

	t.Run("parts", func(t *testing.T) {
		code, out, errs := runCLI("parts", img)
		if code != 0 || !strings.Contains(out, "scheme: gpt") || !strings.Contains(out, "ext4") || !strings.Contains(out, "clivol") || !strings.Contains(out, "unrecognised") {
			t.Errorf("exit %d\n%s%s", code, out, errs)
		}
		code, out, errs = runCLI("parts", "--json", img)
		var tab struct {
			Scheme     string `json:"scheme"`
			Partitions []struct {
				Index      int    `json:"index"`
				Offset     int64  `json:"offset"`
				Size       int64  `json:"size"`
				Name       string `json:"name"`
				TypeName   string `json:"type_name"`
				FileSystem string `json:"file_system"`
				Label      string `json:"label"`
				FSError    string `json:"fs_error"`
			} `json:"partitions"`
		}
		if err := json.Unmarshal([]byte(out), &tab); err != nil || code != 0 {
			t.Fatalf("exit %d, %v\n%s%s", code, err, out, errs)
		}
		if tab.Scheme != "gpt" || len(tab.Partitions) != 2 {
			t.Fatalf("%+v", tab)
		}
		p1, p2 := tab.Partitions[0], tab.Partitions[1]
		if p1.Index != 1 || p1.Offset != 2048*512 || p1.Size != 8<<20 || p1.Name != "root" || p1.FileSystem != "ext4" || p1.Label != "clivol" || p1.TypeName != "Linux filesystem" {
			t.Errorf("partition 1: %+v", p1)
		}
		if p2.FileSystem != "" || !strings.Contains(p2.FSError, "no file system recognised") {
			t.Errorf("partition 2: %+v", p2)
		}
	})

	t.Run("ls", func(t *testing.T) {
		code, out, errs := runCLI("ls", img, "1")
		if code != 0 || !strings.Contains(out, "readme.txt") || !strings.Contains(out, "d            0") || !strings.Contains(out, "data") {
			t.Errorf("exit %d\n%s%s", code, out, errs)
		}
		code, out, errs = runCLI("ls", img, "1", "/data", "--json")
		var es []struct {
			Name  string `json:"name"`
			Path  string `json:"path"`
			Size  int64  `json:"size"`
			IsDir bool   `json:"is_dir"`
			MTime string `json:"mod_time"`
		}
		if err := json.Unmarshal([]byte(out), &es); err != nil || code != 0 {
			t.Fatalf("exit %d %v\n%s%s", code, err, out, errs)
		}
		if len(es) != 2 || es[0].Name != "blob.bin" || es[0].Size != int64(len(files["data/blob.bin"])) || es[0].Path != "/data/blob.bin" || es[0].MTime == "" {
			t.Errorf("%+v", es)
		}
		// A file lists itself.
		if code, out, _ := runCLI("ls", img, "1", "readme.txt"); code != 0 || !strings.Contains(out, " 8 ") {
			t.Errorf("ls a file: %d %s", code, out)
		}
		// Two partitions and none named.
		if code, _, errs := runCLI("ls", img); code != 2 || !strings.Contains(errs, "name one") {
			t.Errorf("ls without a partition: %d %s", code, errs)
		}
		if code, _, errs := runCLI("ls", img, "1", "/nope"); code != 2 || !strings.Contains(errs, "does not exist") {
			t.Errorf("ls missing: %d %s", code, errs)
		}
		if code, _, errs := runCLI("ls", img, "2"); code != 2 || !strings.Contains(errs, "vhdx get IMAGE 2 -o FILE") {
			t.Errorf("ls unformatted: %d %s", code, errs)
		}
		if code, _, errs := runCLI("ls", img, "9"); code != 2 || !strings.Contains(errs, "no partition 9") {
			t.Errorf("ls partition 9: %d %s", code, errs)
		}
	})

	t.Run("get", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "blob")
		// -o after the positional arguments, as the usage shows.
		if code, _, errs := runCLI("get", img, "1", "/data/blob.bin", "-o", out); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if b, _ := os.ReadFile(out); !bytes.Equal(b, files["data/blob.bin"]) {
			t.Errorf("get -o: %d bytes differ", len(b))
		}
		code, stdout, errs := runCLI("get", img, "1", "readme.txt")
		if code != 0 || stdout != string(files["readme.txt"]) {
			t.Errorf("get to stdout: %d %q %s", code, stdout, errs)
		}
		code, stdout, _ = runCLI("get", img, "1", "/data/empty.file")
		if code != 0 || stdout != "" {
			t.Errorf("empty file: %d %q", code, stdout)
		}
		if code, _, errs := runCLI("get", img, "1", "/data"); code != 2 || !strings.Contains(errs, "is a directory") {
			t.Errorf("get a directory: %d %s", code, errs)
		}
		// The raw partition, also for the one without a file system.
		for _, c := range []struct {
			n         string
			off, size int64
		}{{"1", 2048 * 512, 8 << 20}, {"2", (2048 + 16384) * 512, 4 << 20}} {
			out := filepath.Join(t.TempDir(), "p"+c.n)
			if code, _, errs := runCLI("get", "-o", out, img, c.n); code != 0 {
				t.Fatalf("raw %s: %d %s", c.n, code, errs)
			}
			b, _ := os.ReadFile(out)
			if !bytes.Equal(b, raw[c.off:c.off+c.size]) {
				t.Errorf("raw partition %s: %d bytes differ", c.n, len(b))
			}
		}
		if code, _, _ := runCLI("get", img); code != 2 {
			t.Errorf("get without a partition: %d", code)
		}
	})
}
