package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/builder"
)

// write builds im into dir/name and returns the path.
func write(t *testing.T, dir, name string, im *builder.Image) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if _, err := im.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func sample() *builder.Image {
	return &builder.Image{
		VirtualSize: 6 << 20,
		Creator:     "cli test",
		Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: builder.FillIndex, Value: 7}},
			2: {State: builder.PayloadZero},
			4: {State: builder.PayloadFullyPresent, Data: bytes.Repeat([]byte("vhdx"), 1000)},
		},
	}
}

func expected(t *testing.T, im *builder.Image, parent io.ReaderAt) []byte {
	t.Helper()
	vd, err := im.Expected(parent)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, vd.Size())
	if _, err := vd.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return b
}

func TestInfoJSONKeys(t *testing.T) {
	p := write(t, t.TempDir(), "a.vhdx", sample())
	code, out, errs := runCLI("info", "--json", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "virtual_size", "logical_sector_size", "physical_sector_size", "block_size",
		"virtual_disk_id", "creator", "headers", "active_header", "region_tables", "metadata", "log"} {
		if _, ok := m[k]; !ok {
			t.Errorf("info --json lacks %q", k)
		}
	}
	if m["type"] != "dynamic" || m["virtual_size"].(float64) != 6<<20 || m["creator"] != "cli test" {
		t.Errorf("wrong values: type %v size %v creator %v", m["type"], m["virtual_size"], m["creator"])
	}
	if m["virtual_disk_id"] != builder.DefaultVirtualDiskID.String() {
		t.Errorf("virtual_disk_id %v, want %v", m["virtual_disk_id"], builder.DefaultVirtualDiskID)
	}
	hs := m["headers"].([]any)
	if len(hs) != 2 || m["active_header"].(float64) != 2 {
		t.Errorf("headers %v active %v", hs, m["active_header"])
	}
	for _, h := range hs {
		hm := h.(map[string]any)
		for _, k := range []string{"valid", "sequence_number", "checksum_ok"} {
			if _, ok := hm[k]; !ok {
				t.Errorf("header lacks %q", k)
			}
		}
	}
}

func TestCatMatchesExpected(t *testing.T) {
	dir := t.TempDir()
	im := sample()
	p := write(t, dir, "a.vhdx", im)
	want := expected(t, im, nil)
	// To a file (sparse path) and to stdout.
	out := filepath.Join(dir, "a.raw")
	if code, _, errs := runCLI("cat", "-o", out, p); code != 0 {
		t.Fatalf("cat: %d %s", code, errs)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Fatal("cat -o differs from the expected disk")
	}
	code, stdout, _ := runCLI("cat", "--offset", "0x1ff", "--length", "1M", p)
	if code != 0 || stdout != string(want[0x1ff:0x1ff+1<<20]) {
		t.Fatalf("cat --offset/--length wrong (exit %d, %d bytes)", code, len(stdout))
	}
	code, stdout, _ = runCLI("cat", "--offset", "4M", p)
	if code != 0 || stdout != string(want[4<<20:]) {
		t.Fatalf("cat to the end wrong (exit %d, %d bytes)", code, len(stdout))
	}
}

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	clean := write(t, dir, "clean.vhdx", sample())
	if code, out, _ := runCLI("check", clean); code != 0 || !strings.Contains(out, "verdict: clean") {
		t.Errorf("clean image: exit %d\n%s", code, out)
	}
	// Header 1 damaged: readable with problems.
	im := sample()
	im.Headers[0].CorruptChecksum = true
	damaged := write(t, dir, "h1.vhdx", im)
	if code, out, _ := runCLI("check", damaged); code != 1 || !strings.Contains(out, "header 1") {
		t.Errorf("damaged header: exit %d\n%s", code, out)
	}
	// Not a VHDX: unreadable, one line naming the structure and offset.
	junk := filepath.Join(dir, "junk.vhdx")
	os.WriteFile(junk, make([]byte, 2<<20), 0o644)
	code, _, errs := runCLI("check", junk)
	if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "file type identifier at 0x0") {
		t.Errorf("junk: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := runCLI("info", filepath.Join(dir, "missing.vhdx")); code != 2 {
		t.Errorf("missing file: exit %d", code)
	}
}

func TestMap(t *testing.T) {
	p := write(t, t.TempDir(), "a.vhdx", sample())
	code, out, _ := runCLI("map", p)
	if code != 0 {
		t.Fatal(code)
	}
	for _, want := range []string{"blocks 0-0 FULLY_PRESENT", "blocks 1-1 NOT_PRESENT", "blocks 2-2 ZERO", "blocks 4-4 FULLY_PRESENT"} {
		if !strings.Contains(out, want) {
			t.Errorf("map lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI("map", "--json", p)
	var m struct {
		Blocks []struct {
			Index int64
			State string
		}
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || code != 0 || len(m.Blocks) != 6 || m.Blocks[2].State != "ZERO" {
		t.Fatalf("map --json: exit %d err %v %+v", code, err, m.Blocks)
	}
}

// A chain base <- child resolved three ways: --parent, relative_path, and
// the bare name next to the child.
func TestCatChain(t *testing.T) {
	dir := t.TempDir()
	base := sample()
	base.DataWriteGUID = uuid.MustParse("11111111-2222-4333-8444-555555555555")
	basePath := write(t, dir, "base.vhdx", base)
	child := &builder.Image{
		VirtualSize:   base.VirtualSize,
		DataWriteGUID: uuid.MustParse("66666666-2222-4333-8444-555555555555"),
		Parent:        builder.NewVHDXParent(base.DataWriteGUID, `..\elsewhere\base.vhdx`),
		Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadPartiallyPresent, Data: bytes.Repeat([]byte{0xee}, 1<<20), Present: []builder.SectorRange{{Start: 1, Count: 3}}},
			1: {State: builder.PayloadFullyPresent, Data: []byte("child")},
		},
	}
	childPath := write(t, dir, "child.vhdx", child)
	baseRaw := expected(t, base, nil)
	want := expected(t, child, bytes.NewReader(baseRaw))

	// Bare file name next to the child (relative_path points elsewhere).
	code, out, errs := runCLI("cat", childPath)
	if code != 0 || out != string(want) {
		t.Fatalf("chain by bare name: exit %d %s", code, errs)
	}
	// --parent from another folder.
	other := t.TempDir()
	moved := filepath.Join(other, "renamed.vhdx")
	os.Rename(basePath, moved)
	if code, _, errs := runCLI("cat", childPath); code != 2 || !strings.Contains(errs, "parent") {
		t.Fatalf("missing parent: exit %d %q", code, errs)
	}
	code, out, errs = runCLI("cat", "--parent", moved, childPath)
	if code != 0 || out != string(want) {
		t.Fatalf("--parent: exit %d %s", code, errs)
	}
	// A wrong parent is refused with both GUIDs named.
	wrong := write(t, other, "wrong.vhdx", sample())
	code, _, errs = runCLI("info", "--parent", wrong, childPath)
	if code != 2 || !strings.Contains(errs, builder.DefaultDataWriteGUID.String()) || !strings.Contains(errs, base.DataWriteGUID.String()) {
		t.Fatalf("wrong parent: exit %d %q", code, errs)
	}
	// info --json lists the chain.
	code, out, _ = runCLI("info", "--json", "--parent", moved, childPath)
	var in struct {
		Type  string
		Chain []struct{ Level int }
	}
	json.Unmarshal([]byte(out), &in)
	if code != 0 || in.Type != "differencing" || len(in.Chain) != 2 {
		t.Fatalf("info chain: exit %d %+v", code, in)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512": 512, "0x200": 512, "4K": 4096, "1M": 1 << 20, "2G": 2 << 30, "1T": 1 << 40} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "x", "1Q", "99999999999T"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}
