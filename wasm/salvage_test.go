//go:build js && wasm

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
)

// TestUnreadableStructures: open's FormatError for a VHDX file that does
// not open carries the structures read before the damage and their report.
func TestUnreadableStructures(t *testing.T) {
	c := newClient(t)
	bad := build(t, "bad.vhdx", &builder.Image{VirtualSize: 8 * mib,
		RegionTables: [2]builder.RegionTableOptions{{CorruptChecksum: true}, {CorruptChecksum: true}}}, nil)
	e := c.fail("open", map[string]any{"files": []any{bad.jsFile(t)}}, "FormatError")
	st := e.Get("structures")
	if st.Length() != 2 || st.Index(0).Get("id").String() != "header-section" {
		t.Fatalf("structures: %s", jsonString(e))
	}
	kids := st.Index(0).Get("children")
	if kids.Length() != 3 || kids.Index(2).Get("id").String() != "regions" || kids.Index(2).Get("status").String() != "error" ||
		kids.Index(1).Get("children").Index(1).Get("tags").Index(0).String() != "current" {
		t.Fatalf("header section: %s", jsonString(st))
	}
	rep := e.Get("report")
	if rep.Get("verdict").String() != "unreadable" || rep.Get("errors").Int() != 3 {
		t.Fatalf("report: %s", jsonString(rep))
	}
	// A file that is no VHDX file has none.
	e = c.fail("open", map[string]any{"files": []any{newFile(t, "junk.vhdx", make([]byte, 2*mib), 0)}}, "FormatError")
	if !e.Get("structures").IsUndefined() {
		t.Fatalf("junk: %s", jsonString(e))
	}
}

// TestZeroBadPlan: a plan with zero_bad fills the damaged blocks with
// marked zero runs, and bad_ranges lists them.
func TestZeroBadPlan(t *testing.T) {
	c := newClient(t)
	blk := build(t, "badblock.vhdx", &builder.Image{VirtualSize: 8 * mib,
		Blocks: map[uint64]builder.Block{0: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "byte", Value: 1}}},
		RawBAT: map[uint64]uint64{2: builder.BATEntry(6, 4096*mib), 3: 5, 6: builder.BATEntry(4, 0)}}, nil)
	img, _ := c.open(blk.jsFile(t))
	c.fail("plan", map[string]any{"image": img}, "BlockError")
	p := c.ok("plan", map[string]any{"image": img, "zero_bad": true})
	var bad []string
	var out []byte
	for i := 0; i < p.Get("runs").Length(); i++ {
		r := p.Get("runs").Index(i)
		n := r.Get("length").Int()
		switch r.Get("kind").String() {
		case "zero":
			out = append(out, make([]byte, n)...)
		case "file":
			fo := r.Get("file_offset").Int()
			out = append(out, blk.file[fo:fo+n]...)
		}
		if b := r.Get("bad"); !b.IsUndefined() {
			bad = append(bad, b.Get("message").String())
			if r.Get("kind").String() != "zero" {
				t.Fatalf("bad run %s", jsonString(r))
			}
		}
	}
	want := bytes.Clone(blk.expected)
	clear(want[2*mib : 4*mib])
	clear(want[6*mib : 7*mib])
	if !bytes.Equal(out, want) {
		t.Fatalf("zero_bad plan bytes differ")
	}
	if len(bad) != 3 || !strings.Contains(bad[0], "payload block 2") || !strings.Contains(bad[1], "reserved state 5") {
		t.Fatalf("bad runs %q", bad)
	}
	res := c.ok("bad_ranges", map[string]any{"image": img})
	rs := res.Get("ranges")
	if res.Get("blocks").Int() != 3 || rs.Length() != 2 || !res.Get("listed_all").Bool() ||
		rs.Index(0).Get("offset").Int() != 2*mib || rs.Index(0).Get("length").Int() != 2*mib || rs.Index(0).Get("blocks").Int() != 2 ||
		rs.Index(1).Get("offset").Int() != 6*mib {
		t.Fatalf("bad_ranges %s", jsonString(res))
	}
	if r := c.ok("bad_ranges", map[string]any{"image": img, "offset": 0, "length": 2 * mib}); r.Get("blocks").Int() != 0 {
		t.Fatalf("bad_ranges of a clean range %s", jsonString(r))
	}
}
