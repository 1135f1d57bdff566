//go:build js && wasm

package main

// VHD and raw disks through the protocol: open names the format in the
// summary, info is the format's own, verify, map and plan work on them,
// the inside-the-disk ops read a raw GPT disk, and a file of no known
// kind is refused with raw_possible until opened with raw: true.

import (
	"bytes"
	"syscall/js"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

func vhdFile(t *testing.T, im *vhdbuilder.Image) []byte {
	t.Helper()
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%253) ^ seed
	}
	return b
}

func TestOpenVHD(t *testing.T) {
	data := patterned(2*mib, 5)
	b := vhdFile(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 6 * mib, UniqueID: uuid.New(),
		Blocks: map[int64]vhdbuilder.Block{1: {Data: data}}})
	want := make([]byte, 6*mib)
	copy(want[2*mib:], data)
	c := newClient(t)
	img, res := c.open(newFile(t, "a.vhd", b, 1700000000000))
	sum := res.Get("summary")
	if sum.Get("format").String() != "vhd" || sum.Get("type").String() != "dynamic" || sum.Get("payload_blocks").Int() != 3 ||
		sum.Get("block_size").Int() != 2*mib || sum.Get("logical_sector_size").Int() != 512 || sum.Get("unique_id").String() == "" {
		t.Fatalf("summary %s", jsonString(sum))
	}
	if got := c.read(img, 0, 6*mib); !bytes.Equal(got, want) {
		t.Fatal("read differs from the blocks written")
	}
	in := c.ok("info", map[string]any{"image": img})
	if in.Get("format").String() != "vhd" || in.Get("structures").Length() < 4 || in.Get("geometry").Get("heads").Int() == 0 {
		t.Fatalf("info %s", jsonString(in))
	}
	if rep := c.ok("verify", map[string]any{"image": img}); rep.Get("verdict").String() != "clean" {
		t.Fatalf("verify %s", jsonString(rep))
	}
	m := c.ok("map", map[string]any{"image": img})
	st := bytesOf(m.Get("states"))
	if m.Get("format").String() != "vhd" || m.Get("blocks").Int() != 3 || !bytes.Equal(st, []byte{0, byte(core.PayloadFullyPresent), 0}) {
		t.Fatalf("map %s states %v", jsonString(m), st)
	}
	p := c.ok("plan", map[string]any{"image": img})
	runs := p.Get("runs")
	if runs.Length() != 3 || runs.Index(1).Get("kind").String() != "file" || runs.Index(0).Get("kind").String() != "zero" || !p.Get("next").IsNull() {
		t.Fatalf("plan %s", jsonString(p))
	}
}

func TestOpenVHDChain(t *testing.T) {
	pid := uuid.New()
	pdata, cdata := patterned(2*mib, 1), patterned(1024, 2)
	parent := vhdFile(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 4 * mib, UniqueID: pid,
		Blocks: map[int64]vhdbuilder.Block{0: {Data: pdata}}})
	child := vhdFile(t, &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 4 * mib, UniqueID: uuid.New(),
		Parent: &vhdbuilder.Parent{ID: pid, Name: "base.vhd", Locators: []vhdbuilder.Locator{vhdbuilder.W2ru(`.\base.vhd`)}},
		Blocks: map[int64]vhdbuilder.Block{0: {Data: cdata, Present: []vhdbuilder.SectorRange{{Start: 0, Count: 2}}}}})
	want := make([]byte, 4*mib)
	copy(want, pdata)
	copy(want, cdata)
	c := newClient(t)
	img, res := c.open(newFile(t, "base.vhd", parent, 1), newFile(t, "child.vhd", child, 2))
	sum := res.Get("summary")
	if sum.Get("name").String() != "child.vhd" || sum.Get("chain").Length() != 2 || sum.Get("chain").Index(1).Get("name").String() != "base.vhd" {
		t.Fatalf("summary %s", jsonString(sum))
	}
	if got := c.read(img, 0, 4*mib); !bytes.Equal(got, want) {
		t.Fatal("chain read differs")
	}
	m := c.ok("map", map[string]any{"image": img, "level": 1})
	if st := bytesOf(m.Get("states")); !bytes.Equal(st, []byte{byte(core.PayloadFullyPresent), 0}) {
		t.Fatalf("parent map %v", st)
	}
	// The child alone: the missing parent is named by its VHD locator.
	e := c.fail("open", map[string]any{"files": []any{newFile(t, "child.vhd", child, 2)}}, "MissingParentError")
	if ps := e.Get("paths"); ps.Length() != 1 || ps.Index(0).Get("key").String() != "W2ru" || ps.Index(0).Get("value").String() != `.\base.vhd` {
		t.Fatalf("missing parent: %s", jsonString(e))
	}
	res = c.ok("open", map[string]any{"files": []any{newFile(t, "child.vhd", child, 2)}, "partial": true})
	if pm := res.Get("summary").Get("parent_missing"); !pm.Truthy() || pm.Get("paths").Index(0).Get("value").String() != `.\base.vhd` {
		t.Fatalf("partial: %s", jsonString(res.Get("summary")))
	}
	e = c.fail("read", map[string]any{"image": res.Get("image"), "offset": 4096, "length": 512}, "MissingParentError")
	if e.Get("paths").Length() != 1 {
		t.Fatalf("read without the parent: %s", jsonString(e))
	}
}

func TestOpenForeignAsRaw(t *testing.T) {
	c := newClient(t)
	junk := patterned(64<<10, 9)
	e := c.fail("open", map[string]any{"files": newFile(t, "random.bin", junk, 1)}, "FormatError")
	if e.Get("kind").String() != "unknown" || !e.Get("raw_possible").Bool() || e.Get("file").String() != "random.bin" ||
		e.Get("message").String() != "random.bin is a file of unknown kind; vhdxview reads VHDX, VHD and raw disk images" {
		t.Fatalf("error %s", jsonString(e))
	}
	vmdk := append([]byte("KDMV"), make([]byte, 4096)...)
	e = c.fail("open", map[string]any{"files": newFile(t, "a.vmdk", vmdk, 1)}, "FormatError")
	if e.Get("kind").String() != "vmdk" || e.Get("kind_name").String() != "a VMDK image (VMware)" {
		t.Fatalf("vmdk error %s", jsonString(e))
	}
	res := c.ok("open", map[string]any{"files": newFile(t, "random.bin", junk, 1), "raw": true})
	img := res.Get("image").Int()
	if res.Get("summary").Get("format").String() != "raw" || !bytes.Equal(c.read(img, 0, int64(len(junk))), junk) {
		t.Fatalf("raw open: %s", jsonString(res.Get("summary")))
	}
	// Remembered as raw, it reopens as raw.
	if k := res.Get("key"); k.Type() == js.TypeString {
		c.storeEvent(k.String())
		r2 := c.ok("reopen", map[string]any{"key": k.String()})
		if r2.Get("summary").Get("format").String() != "raw" {
			t.Fatalf("reopen: %s", jsonString(r2.Get("summary")))
		}
	}
}
