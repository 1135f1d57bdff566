package main

import (
	"bytes"
	"encoding/json"
	"github.com/vhdxview/vhdxview/internal/reftool"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/builder"
	"github.com/vhdxview/vhdxview/vhd"
)

const desc = `{
  "virtualSize": 6291968,
  "creator": "mkvhdx test",
  "dataWriteGuid": "83ed0ec3-24c8-49a6-a959-5e4bf1288bfb",
  "blocks": {
    "0": {"state": "FULLY_PRESENT", "fill": {"pattern": "index", "value": 1}},
    "2": {"state": 6, "data": "aGVsbG8="},
    "3": {"state": "ZERO"},
    "6": {"state": "fully_present", "fill": {"pattern": "byte", "value": 171}}
  },
  "log": {"deferred": [{"target": "bat-page", "index": 2}]},
  "headers": [{"sequence": 7}, {"sequence": 3}],
  "extraMetadata": [{"id": "deadbeef-0000-4000-8000-000000000001", "isUser": true, "data": "dXNlcg=="}],
  "rawBat": {"4": 2}
}`

// equivalent is desc written in Go.
func equivalent() *builder.Image {
	return &builder.Image{
		VirtualSize:   6*builder.MiB + 512,
		Creator:       "mkvhdx test",
		DataWriteGUID: uuid.MustParse("83ed0ec3-24c8-49a6-a959-5e4bf1288bfb"),
		Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: builder.FillIndex, Value: 1}},
			2: {State: builder.PayloadFullyPresent, Data: []byte("hello")},
			3: {State: builder.PayloadZero},
			6: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: builder.FillByte, Value: 171}},
		},
		Log:           &builder.Log{Deferred: []builder.Deferred{{Target: "bat-page", Index: 2}}},
		Headers:       [2]builder.HeaderOptions{{Sequence: 7}, {Sequence: 3}},
		ExtraMetadata: []builder.MetadataItem{{ID: uuid.MustParse("deadbeef-0000-4000-8000-000000000001"), IsUser: true, Data: []byte("user")}},
		RawBAT:        map[uint64]uint64{4: 2},
	}
}

func TestDescriptionMatchesGo(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "a.vhdx")
	var stdout bytes.Buffer
	if err := run([]string{"-o", out, "-layout", "-"}, strings.NewReader(desc), &stdout); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := equivalent().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("JSON description and Go description produce different images")
	}
	var lay builder.Layout
	if err := json.Unmarshal(stdout.Bytes(), &lay); err != nil {
		t.Fatalf("layout output: %v\n%s", err, stdout.String())
	}
	if lay.FileSize != int64(len(got)) || len(lay.LogEntries) != 1 || lay.Blocks[2] == 0 {
		t.Errorf("layout %+v", lay)
	}
}

func TestRejectsBadDescriptions(t *testing.T) {
	dir := t.TempDir()
	for name, d := range map[string]string{
		"unknown field": `{"virtualSize": 1048576, "blokSize": 1}`,
		"bad state":     `{"virtualSize": 1048576, "blocks": {"0": {"state": "FULL"}}}`,
		"bad pattern":   `{"virtualSize": 1048576, "blocks": {"0": {"state": 6, "fill": {"pattern": "x"}}}}`,
		"trailing":      `{"virtualSize": 1048576} {}`,
		"invalid image": `{"virtualSize": 1000}`,
	} {
		err := run([]string{"-o", filepath.Join(dir, "x.vhdx"), "-"}, strings.NewReader(d), &bytes.Buffer{})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := run([]string{"-"}, strings.NewReader("{}"), &bytes.Buffer{}); err == nil {
		t.Error("missing -o accepted")
	}
}

// waitForQemu: qemu-img must be installed (internal/reftool says how).
func waitForQemu(t *testing.T) { reftool.Require(t, "qemu-img") }

// TestQemuAgreesWithExpected replays the dirty image with qemu and compares
// its virtual disk with the -expected output.
func TestQemuAgreesWithExpected(t *testing.T) {
	waitForQemu(t)
	dir := t.TempDir()
	img, exp, raw := filepath.Join(dir, "a.vhdx"), filepath.Join(dir, "exp.raw"), filepath.Join(dir, "qemu.raw")
	descPath := filepath.Join(dir, "desc.json")
	if err := os.WriteFile(descPath, []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-o", img, "-expected", exp, descPath}, nil, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check", "-r", "all", "-f", "vhdx", img},
		{"check", "-f", "vhdx", img},
		{"convert", "-f", "vhdx", "-O", "raw", img, raw},
	} {
		reftool.Run(t, "qemu-img", args...)
	}
	a, err := os.ReadFile(exp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 6*builder.MiB+512 || !bytes.Equal(a, b) {
		t.Fatalf("qemu's virtual disk (%d bytes) differs from -expected (%d bytes)", len(b), len(a))
	}
	if !bytes.Equal(a[2*builder.MiB:2*builder.MiB+5], []byte("hello")) || a[6*builder.MiB] != 171 {
		t.Error("expected disk lacks the described data")
	}
}

func TestExpectedWithParent(t *testing.T) {
	dir := t.TempDir()
	parentRaw := filepath.Join(dir, "parent.raw")
	if err := os.WriteFile(parentRaw, bytes.Repeat([]byte{7}, 2*builder.MiB), 0o644); err != nil {
		t.Fatal(err)
	}
	d := `{"virtualSize": 2097152, "parent": {"entries": [{"key": "parent_linkage", "value": "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}"}, {"key": "relative_path", "value": "p.vhdx"}]},
	       "blocks": {"1": {"state": "PARTIALLY_PRESENT", "fill": {"pattern": "byte", "value": 9}, "present": [{"start": 1, "count": 1}]}}}`
	exp := filepath.Join(dir, "exp.raw")
	if err := run([]string{"-o", filepath.Join(dir, "c.vhdx"), "-expected", exp, "-parent", parentRaw, "-"}, strings.NewReader(d), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exp)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 7 || b[builder.MiB] != 7 || b[builder.MiB+512] != 9 || b[builder.MiB+1024] != 7 {
		t.Errorf("expected disk mixes parent and child wrongly: %d %d %d %d", b[0], b[builder.MiB], b[builder.MiB+512], b[builder.MiB+1024])
	}
}

// -vhd writes a VHD file the vhd package reads back as described.
func TestWriteVHD(t *testing.T) {
	dir := t.TempDir()
	desc := filepath.Join(dir, "d.json")
	os.WriteFile(desc, []byte(`{"Type": 3, "Size": 4194304, "UniqueID": "5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5",
		"Blocks": {"1": {"Data": "aGVsbG8="}}}`), 0o644)
	out := filepath.Join(dir, "d.vhd")
	if err := run([]string{"-vhd", "-o", out, desc}, nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	img, err := vhd.Open(t.Context(), bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := img.ReadAt(got, 2<<20); err != nil || string(got) != "hello" || img.Type() != "dynamic" {
		t.Fatalf("read %q, %v, type %s", got, err, img.Type())
	}
	os.WriteFile(desc, []byte(`{"Type": 3, "Size": 4194304, "Bogus": 1}`), 0o644)
	if err := run([]string{"-vhd", "-o", out, desc}, nil, io.Discard); err == nil {
		t.Fatal("unknown field accepted")
	}
}
