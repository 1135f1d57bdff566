package main

// VHD (v1) and raw images through every command: bytes against qemu-img
// (fixed and dynamic VHD made by qemu-img itself) and libvhdi (a
// differencing chain), partitions and files of the disk inside, and --raw.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/reftool"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

// vhdDisks turns volumeDisk's raw GPT disk into disk.img, fixed.vhd and
// dynamic.vhd (qemu-img convert -O vpc) in one folder.
func vhdDisks(t *testing.T) (dir string, files map[string][]byte, raw []byte) {
	_, files, raw = volumeDisk(t)
	dir = t.TempDir()
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"fixed", "dynamic"} {
		runTool(t, "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat="+sub+",force_size=on", img, filepath.Join(dir, sub+".vhd"))
	}
	return dir, files, raw
}

func TestVHDAndRawCommands(t *testing.T) {
	dir, files, raw := vhdDisks(t)
	for _, c := range []struct{ name, format, typ string }{
		{"fixed.vhd", "vhd", "fixed"},
		{"dynamic.vhd", "vhd", "dynamic"},
		{"disk.img", "raw", "raw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			// The virtual disk, as qemu-img reads it, is the raw disk.
			want := raw
			if c.format == "vhd" {
				want = readFileT(t, reftool.QemuRawFormat(t, "vpc", p))
				if !bytes.Equal(want, raw) {
					t.Fatal("qemu-img's reading differs from the disk converted")
				}
			}
			if code, out, errs := runCLI("cat", p); code != 0 || out != string(want) {
				t.Fatalf("cat: exit %d, %d bytes of %d: %s", code, len(out), len(want), errs)
			}
			code, out, errs := runCLI("info", "--json", p)
			var in struct {
				Format      string `json:"format"`
				Type        string `json:"type"`
				VirtualSize int64  `json:"virtual_size"`
				Structures  []struct {
					Name string `json:"name"`
				} `json:"structures"`
			}
			if err := json.Unmarshal([]byte(out), &in); err != nil || code != 0 {
				t.Fatalf("info --json: exit %d %v %s", code, err, errs)
			}
			if in.Format != c.format || in.Type != c.typ || in.VirtualSize != int64(len(raw)) || len(in.Structures) == 0 {
				t.Fatalf("info --json: %+v", in)
			}
			code, out, _ = runCLI("info", p)
			if code != 0 || !strings.Contains(out, "format:            "+strings.ToUpper(c.format)) || !strings.Contains(out, in.Structures[0].Name+" at 0x") {
				t.Fatalf("info: exit %d\n%s", code, out)
			}
			if c.format == "vhd" && (!strings.Contains(out, "geometry:") || !strings.Contains(out, "creator:           qem") || !strings.Contains(out, "footer at 0x")) {
				t.Fatalf("info of a VHD lacks its footer facts:\n%s", out)
			}
			if code, out, _ := runCLI("check", p); code != 0 || !strings.Contains(out, "verdict: clean") {
				t.Fatalf("check: exit %d\n%s", code, out)
			}
			code, out, _ = runCLI("map", p)
			switch c.typ {
			case "dynamic":
				if code != 0 || !strings.Contains(out, " allocated at file 0x") || !strings.Contains(out, " unallocated") {
					t.Fatalf("map: exit %d\n%s", code, out)
				}
			case "fixed":
				if code != 0 || !strings.Contains(out, "a fixed VHD disk has no block table") {
					t.Fatalf("map: exit %d\n%s", code, out)
				}
			default:
				if code != 0 || !strings.Contains(out, "a raw disk image has no block table") {
					t.Fatalf("map: exit %d\n%s", code, out)
				}
			}
			if code, out, errs := runCLI("parts", p); code != 0 || !strings.Contains(out, "scheme: gpt") || !strings.Contains(out, "clivol") {
				t.Fatalf("parts: exit %d\n%s%s", code, out, errs)
			}
			if code, out, errs := runCLI("ls", p, "1", "/data"); code != 0 || !strings.Contains(out, "blob.bin") || !strings.Contains(out, "empty.file") {
				t.Fatalf("ls: exit %d\n%s%s", code, out, errs)
			}
			if code, out, errs := runCLI("get", p, "1", "/data/blob.bin"); code != 0 || out != string(files["data/blob.bin"]) {
				t.Fatalf("get: exit %d, %d bytes: %s", code, len(out), errs)
			}
		})
	}

	// --raw reads the VHD file itself as the disk.
	p := filepath.Join(dir, "dynamic.vhd")
	if code, out, errs := runCLI("cat", "--raw", p); code != 0 || out != string(readFileT(t, p)) {
		t.Fatalf("cat --raw: exit %d %s", code, errs)
	}
	if code, out, _ := runCLI("info", p, "--raw"); code != 0 || !strings.Contains(out, "format:            RAW") || !strings.Contains(out, "a VHD image") {
		t.Fatalf("info --raw: exit %d\n%s", code, out)
	}
}

// A differencing VHD finds its parent by its relative locator, and reads
// as libvhdi reads the chain.
func TestVHDChainCommands(t *testing.T) {
	dir, files, _ := vhdDisks(t)
	parent := filepath.Join(dir, "dynamic.vhd")
	_, out, _ := runCLI("info", "--json", parent)
	var in struct {
		UniqueID string `json:"unique_id"`
	}
	json.Unmarshal([]byte(out), &in)
	pid, err := uuid.Parse(in.UniqueID)
	if err != nil {
		t.Fatalf("parent unique id %q: %v", in.UniqueID, err)
	}
	// The child rewrites 8 KiB of partition 2 (at 9 MiB: block 4, sector
	// 2048 of the block).
	data := make([]byte, (2048+16)*512)
	copy(data[2048*512:], bytes.Repeat([]byte("child!"), 8192/6+1)[:8192])
	sub := filepath.Join(dir, "kids")
	os.Mkdir(sub, 0o755)
	child := filepath.Join(sub, "child.vhd")
	b, err := (&vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 16 << 20, UniqueID: uuid.New(),
		Parent: &vhdbuilder.Parent{ID: pid, Name: "dynamic.vhd", Locators: []vhdbuilder.Locator{vhdbuilder.W2ru(`..\dynamic.vhd`)}},
		Blocks: map[int64]vhdbuilder.Block{4: {Data: data, Present: []vhdbuilder.SectorRange{{Start: 2048, Count: 16}}}}}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(child, b, 0o644)
	want := readFileT(t, reftool.PyvhdiRaw(t, parent, child))
	if !bytes.Contains(want, []byte("child!child!")) {
		t.Fatal("libvhdi does not see the child's sectors")
	}
	code, out, errs := runCLI("cat", child)
	if code != 0 || out != string(want) {
		t.Fatalf("cat child: exit %d, %d bytes: %s", code, len(out), errs)
	}
	code, out, _ = runCLI("info", child)
	if code != 0 || !strings.Contains(out, "chain level 1") || !strings.Contains(out, "dynamic.vhd (dynamic") {
		t.Fatalf("info child: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI("check", child); code != 0 {
		t.Fatalf("check child: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI("get", child, "1", "/readme.txt"); code != 0 || out != string(files["readme.txt"]) {
		t.Fatalf("get through the chain: exit %d %q", code, out)
	}
	// Without its parent, the child says which file it wants.
	lone := filepath.Join(t.TempDir(), "child.vhd")
	os.WriteFile(lone, b, 0o644)
	if code, _, errs := runCLI("cat", lone); code != 2 || !strings.Contains(errs, "parent not found") || !strings.Contains(errs, pid.String()) {
		t.Fatalf("lone child: exit %d %s", code, errs)
	}
	// Given as arguments in any order, the chain opens too.
	if code, out, errs := runCLI("cat", parent, lone); code != 0 || out != string(want) {
		t.Fatalf("cat parent child: exit %d %s", code, errs)
	}
}

// A file of no known kind is refused with --raw offered; with --raw it
// reads as itself.
func TestUnknownFileRaw(t *testing.T) {
	p := filepath.Join(t.TempDir(), "random.bin")
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	os.WriteFile(p, b, 0o644)
	if code, _, errs := runCLI("info", p); code != 2 || !strings.Contains(errs, "random.bin is a file of unknown kind; vhdxview reads VHDX, VHD and raw disk images (--raw") {
		t.Fatalf("exit %d %q", code, errs)
	}
	if code, out, errs := runCLI("cat", "--raw", p); code != 0 || out != string(b) {
		t.Fatalf("cat --raw: exit %d %s", code, errs)
	}
	if code, out, _ := runCLI("parts", "--raw", p); code != 0 || !strings.Contains(out, "whole disk") {
		t.Fatalf("parts --raw: exit %d\n%s", code, out)
	}
}

func readFileT(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
