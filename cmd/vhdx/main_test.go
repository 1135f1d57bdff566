package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/builder"
	"github.com/vhdxview/vhdxview/volume"
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
		"virtual_disk_id", "creator", "structures", "chain", "log"} {
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
	// The structure list: header 2 (the greater sequence number) is current,
	// and its fields carry their file offsets.
	var hs map[string]any
	for _, st := range m["structures"].([]any)[0].(map[string]any)["children"].([]any) {
		if st.(map[string]any)["id"] == "headers" {
			hs = st.(map[string]any)
		}
	}
	kids := hs["children"].([]any)
	h2 := kids[1].(map[string]any)
	if len(kids) != 2 || h2["name"] != "header 2" || h2["offset"].(float64) != 0x20000 || h2["tags"].([]any)[0] != "current" {
		t.Errorf("headers %v", hs)
	}
	seq := h2["fields"].([]any)[2].(map[string]any)
	if seq["name"] != "SequenceNumber" || seq["offset"].(float64) != 0x20008 || seq["length"].(float64) != 8 {
		t.Errorf("SequenceNumber field %v", seq)
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
	// A wrong parent is refused with both GUIDs named: cat fails, info
	// describes the child alone and exits 1.
	wrong := write(t, other, "wrong.vhdx", sample())
	code, _, errs = runCLI("cat", "--parent", wrong, childPath)
	if code != 2 || !strings.Contains(errs, builder.DefaultDataWriteGUID.String()) || !strings.Contains(errs, base.DataWriteGUID.String()) {
		t.Fatalf("wrong parent: exit %d %q", code, errs)
	}
	code, out, errs = runCLI("info", "--parent", wrong, childPath)
	if code != 1 || !strings.Contains(out, "missing parent:    chain level 1, base.vhdx, the parent of "+childPath) ||
		!strings.Contains(errs, builder.DefaultDataWriteGUID.String()) || !strings.Contains(errs, base.DataWriteGUID.String()) {
		t.Fatalf("info with a wrong parent: exit %d %q %q", code, out, errs)
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
	// The chain's files as arguments, in either order.
	for _, args := range [][]string{{"cat", moved, childPath}, {"cat", childPath, moved}} {
		if code, out, errs := runCLI(args...); code != 0 || out != string(want) {
			t.Fatalf("%v: exit %d %s", args, code, errs)
		}
	}
	// Two separate disks are not one chain: both are named.
	code, _, errs = runCLI("info", moved, wrong)
	if code != 2 || !strings.Contains(errs, "separate disks") || !strings.Contains(errs, "wrong.vhdx") || !strings.Contains(errs, "renamed.vhdx") {
		t.Fatalf("separate disks: exit %d %q", code, errs)
	}
	// A file that is not VHDX beside the chain is skipped with a note.
	junk := filepath.Join(other, "notes.txt")
	os.WriteFile(junk, []byte("not a disk"), 0o644)
	code, out, errs = runCLI("cat", junk, childPath, moved)
	if code != 0 || out != string(want) || !strings.Contains(errs, "skipped "+junk) || !strings.Contains(errs, "is a text file; vhdxview reads VHDX, VHD and raw disk images") {
		t.Fatalf("with a stray file: exit %d %q", code, errs)
	}
}

// TestPartialChainInfo: info and check describe a grandchild given with
// its parent but not the base as the page does: chain levels 0 and 1,
// level 2 missing, named, and whose parent it is; they exit 1.
func TestPartialChainInfo(t *testing.T) {
	dir := t.TempDir()
	g := func(n byte) uuid.UUID { return uuid.UUID{0xcc, 15: n} }
	write(t, dir, "base.vhdx", &builder.Image{VirtualSize: 4 << 20, DataWriteGUID: g(1)})
	mid := write(t, dir, "mid.avhdx", &builder.Image{VirtualSize: 4 << 20, DataWriteGUID: g(2), Parent: builder.NewVHDXParent(g(1), `.\base.vhdx`)})
	leaf := write(t, dir, "leaf.avhdx", &builder.Image{VirtualSize: 4 << 20, DataWriteGUID: g(3), Parent: builder.NewVHDXParent(g(2), `.\mid.avhdx`)})
	os.Remove(filepath.Join(dir, "base.vhdx"))
	code, out, errs := runCLI("info", leaf, mid)
	if code != 1 || !strings.Contains(out, "chain level 1:     "+mid) || !strings.Contains(out, "missing parent:    chain level 2, base.vhdx, the parent of "+mid) {
		t.Fatalf("info: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI("info", "--json", mid, leaf)
	var in struct {
		Chain         []struct{ Name string }
		MissingParent struct {
			Child       string `json:"child"`
			ParentLevel int    `json:"parent_level"`
			ParentName  string `json:"parent_name"`
		} `json:"missing_parent"`
	}
	if err := json.Unmarshal([]byte(out), &in); err != nil || code != 1 || len(in.Chain) != 2 || in.MissingParent.ParentLevel != 2 ||
		in.MissingParent.ParentName != "base.vhdx" || in.MissingParent.Child != mid {
		t.Fatalf("info --json: exit %d %v %+v", code, err, in)
	}
	code, out, _ = runCLI("check", leaf, mid)
	if code != 1 || !strings.Contains(out, "warning [parent 1] parent at ") || !strings.Contains(out, "parent 2 (base.vhdx), the parent of "+mid+", is not attached") {
		t.Fatalf("check: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI("cat", leaf, mid); code != 2 || !strings.Contains(errs, "chain level 2, base.vhdx") {
		t.Fatalf("cat: exit %d %s", code, errs)
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

// runWith runs the CLI through c (for its test hooks) with stdout and
// stderr captured.
func runWith(c *cli, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	c.stdout, c.stderr = &out, &errb
	code := c.run(context.Background(), args)
	return code, out.String(), errb.String()
}

// extDisk makes a dynamic VHDX whose disk is an ext4 file system without a
// partition table (partition 0), holding hello.txt and holes.bin: 256 KiB
// of 'a', a 2 MiB hole, 256 KiB of 'b'. It returns the image and holes.bin.
func extDisk(t *testing.T) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello\n"), 0o644)
	holes := make([]byte, 2560<<10)
	copy(holes, bytes.Repeat([]byte("a"), 256<<10))
	copy(holes[2304<<10:], bytes.Repeat([]byte("b"), 256<<10))
	if err := os.WriteFile(filepath.Join(src, "holes.bin"), holes, 0o644); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "fs.raw")
	runTool(t, "mkfs.ext4", "-q", "-F", "-L", "holes", "-d", src, raw, "8M")
	img := filepath.Join(dir, "disk.vhdx")
	runTool(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic", raw, img)
	return img, holes
}

// Every command takes its flags after the arguments as well as before, and
// gives the same answer.
func TestFlagsAfterArguments(t *testing.T) {
	img, _ := extDisk(t)
	for _, c := range []struct{ before, after []string }{
		{[]string{"info", "--json", img}, []string{"info", img, "--json"}},
		{[]string{"check", "--json", img}, []string{"check", img, "--json"}},
		{[]string{"map", "--json", img}, []string{"map", img, "--json"}},
		{[]string{"cat", "--offset", "1K", "--length=4K", img}, []string{"cat", img, "--offset", "1K", "--length=4K"}},
		{[]string{"cat", "-o", "-", "--offset", "1K", img}, []string{"cat", img, "--offset", "1K", "-o", "-"}},
		{[]string{"parts", "--json", img}, []string{"parts", img, "--json"}},
		{[]string{"ls", "--json", img, "0", "/"}, []string{"ls", img, "0", "--json", "/"}},
		{[]string{"get", "-o", "-", img, "0", "/hello.txt"}, []string{"get", img, "0", "/hello.txt", "-o", "-"}},
		// Flags also between the arguments, and --debug after the command.
		{[]string{"--debug", "get", img, "0", "/hello.txt"}, []string{"get", img, "--debug", "0", "/hello.txt"}},
	} {
		code1, out1, err1 := runCLI(c.before...)
		code2, out2, err2 := runCLI(c.after...)
		if code1 != 0 || code2 != 0 || out1 != out2 || out1 == "" {
			t.Errorf("%q: exit %d %s\n%q: exit %d %s\noutputs equal: %v", c.before, code1, err1, c.after, code2, err2, out1 == out2)
		}
	}
	// "--" ends the flags: a file named like a flag.
	t.Chdir(filepath.Dir(img))
	os.Rename(img, "-d.vhdx")
	if code, _, errs := runCLI("info", "-d.vhdx"); code != 2 || !strings.HasPrefix(errs, "vhdx info: unknown flag: -d.vhdx\n") {
		t.Errorf("info -d.vhdx: exit %d %q", code, errs)
	}
	if code, out, errs := runCLI("info", "--json", "--", "-d.vhdx"); code != 0 || !strings.Contains(out, `"virtual_size"`) {
		t.Errorf("info --json -- -d.vhdx: exit %d %s", code, errs)
	}
}

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		pos  []string
		o    options
		err  string
	}{
		{args: []string{"a", "-o", "-", "b"}, pos: []string{"a", "b"}, o: options{out: "-", length: -1}},
		{args: []string{"--o=x", "-", "--json"}, pos: []string{"-"}, o: options{out: "x", json: true, length: -1}},
		{args: []string{"-json=false", "--parent", "p1", "a", "-parent=p2"}, pos: []string{"a"}, o: options{parents: stringList{"p1", "p2"}, length: -1}},
		{args: []string{"--length", "0x10", "--", "--json", "-o"}, pos: []string{"--json", "-o"}, o: options{length: 16}},
		{args: []string{"a", "-o"}, err: "flag needs a value: -o"},
		{args: []string{"--nope=1"}, err: "unknown flag: --nope"},
		{args: []string{"---json"}, err: "bad flag syntax: ---json"},
		{args: []string{"--json=maybe"}, err: `invalid value "maybe" for --json`},
		{args: []string{"a", "--help", "--nope"}, err: "flag: help requested"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var o options
		(&command{flags: takesJSON | takesParent | takesRange | takesOut}).define(fs, &o)
		pos, err := parseArgs(fs, c.args)
		if c.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(pos, c.pos) || o.out != c.o.out || o.json != c.o.json || o.length != c.o.length || !slices.Equal(o.parents, c.o.parents) {
			t.Errorf("%q: %q %+v %v, want %q %+v", c.args, pos, o, err, c.pos, c.o)
		}
	}
}

// --help, -h and `help CMD` print usage on stdout and exit 0; a bad flag
// exits 2 with one line and the usage on stderr.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"--debug", "--help"}} {
		code, out, errs := runCLI(args...)
		if code != 0 || !strings.HasPrefix(out, "usage: vhdx [--debug] COMMAND") || errs != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	for _, cmd := range commands {
		for _, args := range [][]string{{cmd.name, "--help"}, {cmd.name, "-h"}, {"help", cmd.name}, {cmd.name, "x.vhdx", "--help"}} {
			code, out, errs := runCLI(args...)
			if code != 0 || !strings.HasPrefix(out, "usage: vhdx "+cmd.name+" ") || !strings.Contains(out, "--parent PATH") || errs != "" {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
			}
		}
		code, out, errs := runCLI(cmd.name, "x.vhdx", "--nope")
		first, rest, _ := strings.Cut(errs, "\n")
		if code != 2 || out != "" || first != "vhdx "+cmd.name+": unknown flag: --nope" || !strings.HasPrefix(rest, "usage: vhdx "+cmd.name+" ") {
			t.Errorf("%s --nope: exit %d, stdout %q, stderr %q", cmd.name, code, out, errs)
		}
		if code, _, errs := runCLI(cmd.name); code != 2 || !strings.Contains(errs, "usage: vhdx "+cmd.name) {
			t.Errorf("%s without arguments: exit %d %q", cmd.name, code, errs)
		}
	}
	if code, out, errs := runCLI("frob"); code != 2 || out != "" || !strings.HasPrefix(errs, "vhdx: unknown command \"frob\"\nusage:") {
		t.Errorf("unknown command: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := runCLI("--frob", "info"); code != 2 || !strings.HasPrefix(errs, "vhdx: unknown flag: --frob\n") {
		t.Errorf("unknown global flag: exit %d %q", code, errs)
	}
	if code, _, _ := runCLI(); code != 2 {
		t.Errorf("no arguments: exit %d", code)
	}
}

// blocksOf returns how many bytes f occupies on disk.
func blocksOf(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Blocks * 512
}

// `-o -` is standard output for cat and get, and `-o FILE` leaves holes
// where the bytes are zeros, for both.
func TestOutput(t *testing.T) {
	dir := t.TempDir()
	im := sample()
	p := write(t, dir, "a.vhdx", im)
	want := expected(t, im, nil)
	code, out, errs := runCLI("cat", p, "-o", "-")
	if code != 0 || out != string(want) {
		t.Fatalf("cat -o -: exit %d, %d bytes, %s", code, len(out), errs)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Fatal("cat -o - made a file named -")
	}
	// cat -o FILE: 6 MiB with about 1 MiB of non-zero bytes.
	raw := filepath.Join(dir, "a.raw")
	if code, _, errs := runCLI("cat", p, "-o", raw); code != 0 {
		t.Fatalf("cat -o: exit %d %s", code, errs)
	}
	if got, _ := os.ReadFile(raw); !bytes.Equal(got, want) {
		t.Fatal("cat -o: bytes differ")
	}
	if used := blocksOf(t, raw); used > 2<<20 {
		t.Errorf("cat -o: %d bytes allocated for a 6 MiB disk with 1 MiB of data", used)
	}
	// Over an existing output, written in place: one full of other bytes
	// and longer than the disk, one shorter. The old bytes where the disk
	// reads as zeros are punched out, the tail is cut, and the result is as
	// sparse as a new file.
	for _, oldSize := range []int{8 << 20, 3<<20 + 100} {
		os.WriteFile(raw, bytes.Repeat([]byte{0xa5}, oldSize), 0o644)
		if code, _, errs := runCLI("cat", p, "-o", raw); code != 0 {
			t.Fatalf("cat -o over %d bytes: exit %d %s", oldSize, code, errs)
		}
		if got, _ := os.ReadFile(raw); !bytes.Equal(got, want) {
			t.Fatalf("cat -o over %d bytes of old output: bytes differ", oldSize)
		}
		if used := blocksOf(t, raw); used > 2<<20 {
			t.Errorf("cat -o over %d bytes of old output: %d bytes allocated for 1 MiB of data", oldSize, used)
		}
	}

	img, holes := extDisk(t)
	code, out, errs = runCLI("get", img, "0", "/holes.bin", "-o", "-")
	if code != 0 || out != string(holes) {
		t.Fatalf("get -o -: exit %d, %d bytes, %s", code, len(out), errs)
	}
	got := filepath.Join(dir, "holes.bin")
	if code, _, errs := runCLI("get", img, "0", "/holes.bin", "-o", got); code != 0 {
		t.Fatalf("get -o: exit %d %s", code, errs)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, holes) {
		t.Fatal("get -o: bytes differ")
	}
	// 512 KiB of data; the 2 MiB zero run is a hole.
	if used := blocksOf(t, got); used >= int64(len(holes))-1<<20 {
		t.Errorf("get -o: %d bytes allocated for a %d-byte file with a 2 MiB zero run", used, len(holes))
	}
	// The raw partition too (get without PATH goes through cat's writer).
	code, out, _ = runCLI("get", img, "0", "-o", "-")
	code2, whole, _ := runCLI("cat", img)
	if code != 0 || code2 != 0 || out != whole || len(out) != 8<<20 {
		t.Errorf("get IMAGE 0 -o -: exit %d, %d bytes; cat: %d bytes", code, len(out), len(whole))
	}

	// -o never overwrites the image it reads.
	before, _ := os.ReadFile(p)
	if code, _, errs := runCLI("cat", p, "-o", p); code != 2 || !strings.Contains(errs, "refusing to overwrite the input") {
		t.Errorf("cat -o IMAGE: exit %d %q", code, errs)
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
		t.Error("cat -o IMAGE changed the image")
	}
}

// countingReader counts ReadAt calls and fails them with err when set.
type countingReader struct {
	r     io.ReaderAt
	reads atomic.Int64
	err   error
}

func (c *countingReader) ReadAt(b []byte, off int64) (int, error) {
	c.reads.Add(1)
	if c.err != nil {
		return 0, c.err
	}
	return c.r.ReadAt(b, off)
}

// bigSparse is a 256 MiB dynamic disk with data in its first block only:
// 32 stream chunks.
func bigSparse(t *testing.T) string {
	return write(t, t.TempDir(), "big.vhdx", &builder.Image{
		VirtualSize: 256 << 20,
		Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: builder.FillIndex, Value: 1}},
		},
	})
}

// A failed write stops the copy: the rest of the disk is not read.
func TestWriteErrorStopsCopy(t *testing.T) {
	img := bigSparse(t)
	const chunks = (256 << 20) / streamChunk

	// Standard output is a pipe whose reader goes away after 1 KiB.
	pr, pw := io.Pipe()
	go func() {
		io.ReadFull(pr, make([]byte, 1024))
		pr.Close()
	}()
	cr := &countingReader{}
	c := &cli{wrapSource: func(r io.ReaderAt) io.ReaderAt { cr.r = r; return cr }}
	var errb bytes.Buffer
	c.stderr = &errb
	c.stdout = pw
	code := c.run(context.Background(), []string{"cat", img})
	if code != 2 || errb.String() != "vhdx: writing output: io: read/write on closed pipe\n" {
		t.Errorf("closed pipe: exit %d, stderr %q", code, errb.String())
	}
	// One chunk being written, two queued, one being read when it failed.
	if n := cr.reads.Load(); n > 4 {
		t.Errorf("closed pipe: %d of %d chunks read after the first write failed", n, chunks)
	}

	// A full device (not a regular file: the streaming path).
	cr = &countingReader{}
	code, _, errs := runWith(&cli{wrapSource: func(r io.ReaderAt) io.ReaderAt { cr.r = r; return cr }}, "cat", img, "-o", "/dev/full")
	if code != 2 || !strings.Contains(errs, "no space left on device") {
		t.Errorf("/dev/full: exit %d, stderr %q", code, errs)
	}
	if n := cr.reads.Load(); n > 4 {
		t.Errorf("/dev/full: %d of %d chunks read", n, chunks)
	}
}

// failingFile fails every write.
type failingFile struct{ writes atomic.Int64 }

func (f *failingFile) WriteAt(b []byte, off int64) (int, error) {
	f.writes.Add(1)
	return 0, syscall.ENOSPC
}
func (f *failingFile) Truncate(int64) error { return errors.New("truncate after a failed copy") }

// patternReader is size bytes of 0xa5 without holding them.
type patternReader struct{}

func (patternReader) ReadAt(b []byte, off int64) (int, error) {
	for i := range b {
		b[i] = 0xa5
	}
	return len(b), nil
}

// The parallel file writer stops at the first failed write too: each
// worker finishes at most the chunk it holds.
func TestSparseWriteErrorStopsCopy(t *testing.T) {
	cr := &countingReader{r: patternReader{}}
	f := &failingFile{}
	const size = 1 << 30 // 256 chunks
	err := copySparse(context.Background(), f, source{r: cr, n: size}, 0)
	var oe *outputError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error %v, want the write's ENOSPC", err)
	}
	if n, w := cr.reads.Load(), f.writes.Load(); n > 8 || w > 8 {
		t.Errorf("%d chunks read, %d written of %d after the first write failed", n, w, size/fileChunk)
	}
}

// A cancelled context (Ctrl-C) stops cat, get and check.
func TestInterrupted(t *testing.T) {
	img := bigSparse(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out")
	for _, args := range [][]string{{"cat", img}, {"cat", img, "-o", out}, {"check", img}, {"map", img}} {
		var o, e bytes.Buffer
		if code := run(ctx, args, &o, &e); code != 2 || !strings.Contains(e.String(), "vhdx: interrupted") {
			t.Errorf("%q: exit %d %q", args, code, e.String())
		}
	}
}

// An internal error (here an injected read failure) carries a stack trace,
// printed only with --debug; format errors stay one plain line.
func TestDebugStack(t *testing.T) {
	img := write(t, t.TempDir(), "a.vhdx", sample())
	inject := func() *cli {
		return &cli{wrapSource: func(r io.ReaderAt) io.ReaderAt {
			return &countingReader{r: r, err: errors.New("injected failure")}
		}}
	}
	for _, out := range []string{"-", filepath.Join(t.TempDir(), "out")} {
		code, _, errs := runWith(inject(), "cat", img, "-o", out)
		if code != 2 || errs != "vhdx: internal error: injected failure (--debug prints where)\n" {
			t.Errorf("-o %s without --debug: exit %d %q", out, code, errs)
		}
		for _, args := range [][]string{{"--debug", "cat", img, "-o", out}, {"cat", img, "-o", out, "--debug"}} {
			code, _, errs := runWith(inject(), args...)
			first, stack, _ := strings.Cut(errs, "\n")
			if code != 2 || first != "vhdx: internal error: injected failure" ||
				!strings.Contains(stack, "cmd/vhdx.readFull\n") || !strings.Contains(stack, "cmd/vhdx/copy.go:") {
				t.Errorf("%q: exit %d, stderr:\n%s", args, code, errs)
			}
		}
	}
	// A damaged image is a format error: one line, no stack, --debug or not.
	junk := filepath.Join(t.TempDir(), "junk.vhdx")
	os.WriteFile(junk, make([]byte, 2<<20), 0o644)
	code, _, errs := runCLI("--debug", "cat", junk)
	if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "file type identifier at 0x0") {
		t.Errorf("junk with --debug: exit %d %q", code, errs)
	}
	// A read error from the engine that names a structure stays plain too.
	for _, err := range []error{
		&core.FormatError{Structure: "BAT entry 3", Offset: 0x300000, Msg: "reserved state"},
		&volume.FSError{FS: "ext4", Op: "read", Path: "/x", Err: volume.ErrDamaged},
		&os.PathError{Op: "read", Path: "a.vhdx", Err: syscall.EIO},
		context.Canceled,
	} {
		if got := unexpected(err); got != err {
			t.Errorf("unexpected(%v) added a stack", err)
		}
	}
}

// A file that is another disk format is named as such, not called a
// damaged VHDX.
func TestForeignFormatNamed(t *testing.T) {
	dir := t.TempDir()
	q := filepath.Join(dir, "disk.qcow2")
	runTool(t, "qemu-img", "create", "-q", "-f", "qcow2", q, "8M")
	code, _, errs := runCLI("info", q)
	if code != 2 || !strings.Contains(errs, "disk.qcow2 is a QCOW image (QEMU); vhdxview reads VHDX, VHD and raw disk images (--raw reads any file as a raw disk)") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("exit %d %q", code, errs)
	}
}

// A disk that was not closed cleanly (its log replayed in memory) checks
// clean: exit 0, with the replay stated.
func TestCheckDirtyLogIsClean(t *testing.T) {
	im := sample()
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	im.Log = &builder.Log{Deferred: []builder.Deferred{{FileOffset: uint64(lay.Blocks[0]), Length: 4096}}}
	p := write(t, t.TempDir(), "dirty.vhdx", im)
	code, out, errs := runCLI("check", p)
	if code != 0 || !strings.Contains(out, "not closed cleanly") || !strings.Contains(out, "replayed in memory") || !strings.Contains(out, "verdict: clean") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}
