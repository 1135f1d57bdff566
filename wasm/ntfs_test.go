//go:build js && wasm

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
