//go:build js && wasm && !nofs

package main

// file_read and file_plan with deleted: true, on a FAT16 volume (a raw
// disk without a partition table) built here byte by byte: its root holds
// a file deleted as DOS deletes one (first byte 0xE5, chain cleared).

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// deletedFAT16 is a 4 MiB FAT16 volume (512-byte sectors and clusters, one
// reserved sector, two FATs of 32 sectors, 512 root entries) whose root
// holds ONE.BIN deleted, its bytes in clusters 2 onwards.
func deletedFAT16(data []byte) []byte {
	const sectors = 8192
	img := make([]byte, sectors*512)
	b := img[:512]
	copy(b, []byte{0xeb, 0x3c, 0x90})
	copy(b[3:], "MSWIN4.1")
	binary.LittleEndian.PutUint16(b[0x0b:], 512) // bytes per sector
	b[0x0d] = 1                                  // sectors per cluster
	binary.LittleEndian.PutUint16(b[0x0e:], 1)   // reserved sectors
	b[0x10] = 2                                  // FATs
	binary.LittleEndian.PutUint16(b[0x11:], 512) // root entries
	binary.LittleEndian.PutUint16(b[0x13:], sectors)
	b[0x15] = 0xf8
	binary.LittleEndian.PutUint16(b[0x16:], 32) // sectors per FAT
	b[0x26] = 0x29
	copy(b[0x2b:], "NO NAME    FAT16   ")
	b[0x1fe], b[0x1ff] = 0x55, 0xaa
	for f := 0; f < 2; f++ {
		copy(img[(1+32*f)*512:], []byte{0xf8, 0xff, 0xff, 0xff})
	}
	root := img[65*512:]
	copy(root, "\xe5ONE    BIN")
	root[11] = 0x20
	binary.LittleEndian.PutUint16(root[26:], 2)
	binary.LittleEndian.PutUint32(root[28:], uint32(len(data)))
	copy(img[97*512:], data)
	return img
}

func TestFileDeleted(t *testing.T) {
	want := bytes.Repeat([]byte("deleted but not gone "), 150)
	c := newClient(t)
	img, _ := c.open(newFile(t, "fat16.img", deletedFAT16(want), 1))
	ls := c.ok("ls", map[string]any{"image": img, "partition": 0, "path": "/"})
	es := ls.Get("entries")
	if es.Length() != 1 {
		t.Fatalf("ls %s", jsonString(ls))
	}
	e := es.Index(0)
	if e.Get("name").String() != "_ONE.BIN" || !e.Get("deleted").Bool() || !e.Get("recoverable").Bool() || e.Get("recover_note").String() == "" {
		t.Fatalf("entry %s", jsonString(e))
	}
	a := map[string]any{"image": img, "partition": 0, "path": "/_ONE.BIN", "deleted": true, "id": e.Get("id").Int()}
	got := c.ok("file_read", merge(a, map[string]any{"offset": 0, "length": 1 << 20}))
	if !bytes.Equal(bytesOf(got), want) {
		t.Fatalf("file_read: %d bytes, want the %d deleted", len(bytesOf(got)), len(want))
	}
	p := c.ok("file_plan", a)
	if !p.Get("mapped").Bool() || p.Get("size").Int() != len(want) || p.Get("runs").Length() != 1 || p.Get("runs").Index(0).Get("file_offset").Int() != 97*512 {
		t.Fatalf("file_plan %s", jsonString(p))
	}
	// Without deleted: true the name is not there; a wrong id is no entry.
	if e := c.fail("file_read", merge(a, map[string]any{"deleted": false, "offset": 0, "length": 10}), "FileSystemError"); e.Get("reason").String() != "not_found" {
		t.Fatalf("file_read of a deleted name without deleted: %s", jsonString(e))
	}
	if e := c.fail("file_read", merge(a, map[string]any{"id": 3, "offset": 0, "length": 10}), "FileSystemError"); e.Get("reason").String() != "not_found" {
		t.Fatalf("file_read with a wrong id: %s", jsonString(e))
	}
}

func merge(a, b map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}
