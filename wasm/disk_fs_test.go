//go:build js && wasm && !nofs

package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/vhdxview/vhdxview/core"
)

// A raw GPT disk (fs.vhdx's virtual disk) opens directly, without a
// container, and its partitions and files read as through the VHDX.
func TestOpenRawGPT(t *testing.T) {
	fx := loadFSFixture(t)
	vx, err := core.Open(context.Background(), bytes.NewReader(fx.disk), int64(len(fx.disk)), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, vx.Size())
	if _, err := vx.ReadAt(raw, 0); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	img, res := c.open(newFile(t, "fs.img", raw, 1))
	sum := res.Get("summary")
	if sum.Get("format").String() != "raw" || sum.Get("type").String() != "raw" || sum.Get("virtual_size").Int() != len(raw) || sum.Get("payload_blocks").Int() != 0 {
		t.Fatalf("summary %s", jsonString(sum))
	}
	in := c.ok("info", map[string]any{"image": img})
	if in.Get("format").String() != "raw" || in.Get("structures").Length() != 1 || in.Get("signature").String() != "a raw disk image (GPT partition table)" {
		t.Fatalf("info %s", jsonString(in))
	}
	if m := c.ok("map", map[string]any{"image": img}); m.Get("blocks").Int() != 0 || m.Get("count").Int() != 0 {
		t.Fatalf("map %s", jsonString(m))
	}
	if rep := c.ok("verify", map[string]any{"image": img}); rep.Get("verdict").String() != "clean" {
		t.Fatalf("verify %s", jsonString(rep))
	}
	tab := c.ok("parts", map[string]any{"image": img})
	if tab.Get("scheme").String() != "gpt" || tab.Get("partitions").Length() != len(fx.Parts) {
		t.Fatalf("parts %s", jsonString(tab))
	}
	f := fx.Files[0]
	got := c.readWhole(img, f.Partition, f.Path, f.Size, 1<<20)
	if sha(got) != f.SHA256 {
		t.Fatalf("%s: hash differs", f.Path)
	}
	p := c.ok("plan", map[string]any{"image": img, "offset": 4096, "length": 8192})
	if r := p.Get("runs"); r.Length() != 1 || r.Index(0).Get("file_offset").Int() != 4096 || r.Index(0).Get("level").Int() != 0 {
		t.Fatalf("plan %s", jsonString(p))
	}
}
