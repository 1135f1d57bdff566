package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/builder"
	"github.com/vhdxview/vhdxview/internal/reftool"
)

// TestInfoCheckUnreadable: info and check of a VHDX file whose metadata
// stops the open print what was read before the damage, then the error,
// and exit 2.
func TestInfoCheckUnreadable(t *testing.T) {
	im := sample()
	im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.FileParametersGUID, IsRequired: true, Data: builder.FileParameters(3<<20, false, false)}}
	p := write(t, t.TempDir(), "bad.vhdx", im)
	code, out, errs := runCLI("info", p)
	if code != exitFail || !strings.Contains(errs, "file parameters item at 0x") || !strings.Contains(errs, "BlockSize") {
		t.Fatalf("info: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"header 2 at 0x20000, 4 KiB: ok [current, CRC ok]", "region table 1 at 0x30000, 64 KiB: ok [in use, CRC ok]",
		"file parameters item at 0x", "open stopped here: file parameters item", "virtual disk size item at"} {
		if !strings.Contains(out, want) {
			t.Errorf("info output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI("check", p)
	if code != exitFail || !strings.Contains(out, "verdict: unreadable (1 errors, 0 warnings)") ||
		!strings.Contains(out, "ok      header 1 at 0x10000") || !strings.Contains(out, "error   file parameters item at 0x") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("check", "--json", p)
	var rep core.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFail || rep.Verdict != "unreadable" || rep.Errors != 1 {
		t.Errorf("check --json: exit %d, %v, %+v", code, err, rep)
	}
	code, out, _ = runCLI("info", "--json", p)
	var in struct {
		Structures []core.Structure `json:"structures"`
		Error      string           `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &in); err != nil || code != exitFail || len(in.Structures) != 3 || !strings.Contains(in.Error, "BlockSize") {
		t.Errorf("info --json: exit %d, %v, %d structures, error %q", code, err, len(in.Structures), in.Error)
	}
	// A file that is no disk at all gets no list.
	junk := filepath.Join(t.TempDir(), "junk.vhdx")
	os.WriteFile(junk, bytes.Repeat([]byte{1}, 1<<20), 0o644)
	if code, out, _ := runCLI("info", junk); code != exitFail || out != "" {
		t.Errorf("info of junk: exit %d, %q", code, out)
	}
}

// TestCatZeroBad: cat of a disk with two damaged BAT entries fails naming
// the first and offering --zero-bad; with it, the output equals qemu-img's
// raw of the same disk with good entries, those blocks zeroed, the filled
// ranges are listed on stderr and the exit status is 1.
func TestCatZeroBad(t *testing.T) {
	reftool.Require(t, "qemu-img")
	dir := t.TempDir()
	good := write(t, dir, "good.vhdx", sample())
	lay, err := sample().Layout()
	if err != nil {
		t.Fatal(err)
	}
	im := sample()
	im.RawBAT = map[uint64]uint64{
		builder.PayloadBATIndex(0, lay.ChunkRatio): builder.BATEntry(4, uint64(lay.Blocks[0])),
		builder.PayloadBATIndex(4, lay.ChunkRatio): builder.BATEntry(6, uint64(lay.FileSize)+(64<<20)),
	}
	bad := write(t, dir, "bad.vhdx", im)
	out := filepath.Join(dir, "out.raw")
	code, _, errs := runCLI("cat", "-o", out, bad)
	if code != exitFail || !strings.Contains(errs, "payload block 0") || !strings.Contains(errs, "--zero-bad") {
		t.Fatalf("cat without --zero-bad: exit %d, %q", code, errs)
	}
	for _, o := range []string{out, "-"} {
		code, stdout, errs := runCLI("cat", "--zero-bad", "-o", o, bad)
		if code != exitProblems {
			t.Fatalf("cat --zero-bad -o %s: exit %d, %q", o, code, errs)
		}
		for _, want := range []string{"2 blocks could not be read and were written as zeros",
			"filled 0x0+0x100000 (1 block from block 0): payload block 0 (BAT entry 0, file offset 0x0): reserved state 4",
			"filled 0x400000+0x100000 (1 block from block 4): payload block 4", "past the end of the file"} {
			if !strings.Contains(errs, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errs)
			}
		}
		got := []byte(stdout)
		if o != "-" {
			got, _ = os.ReadFile(out)
		}
		want, err := os.ReadFile(reftool.QemuRaw(t, good))
		if err != nil {
			t.Fatal(err)
		}
		clear(want[0 : 1<<20])
		clear(want[4<<20 : 5<<20])
		if !bytes.Equal(got, want) {
			t.Errorf("-o %s: the bytes differ from qemu-img's of the good disk with blocks 0 and 4 zeroed", o)
		}
	}
	// A range that misses the bad blocks lists nothing and exits 0.
	if code, _, errs := runCLI("cat", "--zero-bad", "--offset", "1M", "--length", "1M", "-o", out, bad); code != exitOK || errs != "" {
		t.Errorf("clean range: exit %d, %q", code, errs)
	}
}
