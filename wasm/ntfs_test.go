//go:build js && wasm && !nofs

package main

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// TestLsIncomplete: a directory whose index cannot all be read lists what
// it can, and the reply says the listing is incomplete and why. The NTFS
// root of testdata/fs.vhdx.gz has its index in an INDX block; its
// signature is overwritten in the VHDX file (payload bytes are stored as
// they are, 4 KiB-aligned like the block within its volume).
func TestLsIncomplete(t *testing.T) {
	fx := loadFSFixture(t)
	disk := bytes.Clone(fx.disk)
	n := 0
	for off := 0; off+4096 <= len(disk); off += 4096 {
		first := off + 0x18 + int(binary.LittleEndian.Uint32(disk[off+0x18:]))
		if string(disk[off:off+4]) == "INDX" && first+0x18 <= off+4096 && binary.LittleEndian.Uint64(disk[first+0x10:])&(1<<48-1) == 5 {
			copy(disk[off:], "JUNK")
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d index blocks of the NTFS root found, want 1", n)
	}
	c := newClient(t)
	img, _ := c.open(newFile(t, "fs.vhdx", disk, 1700000000000))
	ls := c.ok("ls", map[string]any{"image": img, "partition": 2, "path": "/"})
	if inc := ls.Get("incomplete"); inc.Type().String() != "string" || !strings.Contains(inc.String(), `signature "JUNK"`) {
		t.Errorf("ls of a damaged root: %s", jsonString(ls))
	}
	if ls.Get("entries").Length() >= 14 {
		t.Errorf("ls of a damaged root lists %d entries", ls.Get("entries").Length())
	}
	// The ext4 volume is whole: no incomplete field.
	if ls := c.ok("ls", map[string]any{"image": img, "partition": 1, "path": "/"}); !ls.Get("incomplete").IsUndefined() {
		t.Errorf("ls of ext4: %s", jsonString(ls))
	}
}

// TestNTFSInfo: ntfs_info gives a file's MFT record facts: the record
// number ls gives as id, a record at that disk offset whose number is
// the same, the unnamed $DATA and the stream as attributes; metadata
// files are marked in ls; a path on ext4 is refused as unsupported.
func TestNTFSInfo(t *testing.T) {
	fx := loadFSFixture(t)
	c := newClient(t)
	img, _ := c.open(newFile(t, "fs.vhdx", fx.disk, 1700000000000))
	ls := c.ok("ls", map[string]any{"image": img, "partition": 2, "path": "/"})
	var id float64
	meta := map[string]bool{}
	for i := 0; i < ls.Get("entries").Length(); i++ {
		e := ls.Get("entries").Index(i)
		meta[e.Get("name").String()] = e.Get("metadata").Truthy()
		if e.Get("name").String() == "note.txt" {
			id = e.Get("id").Float()
		}
	}
	if !meta["$MFT"] || !meta["$Extend"] || meta["note.txt"] || id == 0 {
		t.Errorf("ls: metadata marks %v, note.txt's id %v", meta, id)
	}
	info := c.ok("ntfs_info", map[string]any{"image": img, "partition": 2, "path": "/note.txt:extra"})
	if info.Get("record").Float() != id || info.Get("metadata").Bool() {
		t.Errorf("ntfs_info /note.txt: %s", jsonString(info))
	}
	off := int64(info.Get("offset").Float())
	raw := c.read(img, off, 1024)
	if string(raw[:4]) != "FILE" || float64(binary.LittleEndian.Uint32(raw[0x2c:])) != id {
		t.Errorf("the disk at 0x%x is no FILE record %v: %q", off, id, raw[:4])
	}
	var data, extra bool
	attrs := info.Get("attributes")
	for i := 0; i < attrs.Length(); i++ {
		a := attrs.Index(i)
		if a.Get("type_name").String() == "$DATA" {
			data = data || a.Get("name").IsUndefined()
			extra = extra || a.Get("name").String() == "extra"
		}
	}
	if !data || !extra || info.Get("streams").Length() != 1 {
		t.Errorf("ntfs_info /note.txt attributes: %s", jsonString(attrs))
	}
	e := c.fail("ntfs_info", map[string]any{"image": img, "partition": 1, "path": "/"}, "FileSystemError")
	if e.Get("reason").String() != "unsupported" {
		t.Errorf("ntfs_info on ext4: %s", jsonString(e))
	}
	c.fail("ntfs_info", map[string]any{"image": img, "partition": 2, "path": "/nope"}, "FileSystemError")
}
