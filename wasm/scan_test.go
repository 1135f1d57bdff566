//go:build js && wasm && !nofs

package main

// The scan ops on Node (no hash-wasm there: Go's crypto hashes). The file
// hashes must be what testdata/fs.json says each source file hashed to;
// disk hashes and search hits are checked against the bytes read.

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"syscall/js"
	"testing"
)

func TestHashOp(t *testing.T) {
	fx := loadFSFixture(t)
	c := newClient(t)
	img, _ := c.open(newFile(t, "fs.vhdx", fx.disk, 1700000000000))
	for _, f := range fx.Files {
		res := c.ok("hash", map[string]any{"image": img, "partition": f.Partition, "path": f.Path})
		if got := res.Get("sha256").String(); got != f.SHA256 || !res.Get("md5").IsUndefined() {
			t.Errorf("%d %s: %s, want %s", f.Partition, f.Path, jsonString(res), f.SHA256)
		}
	}
	size := int64(c.ok("info", map[string]any{"image": img}).Get("virtual_size").Float())
	disk := c.read(img, 0, size)
	var progress int
	res, errv := c.wait(c.send("hash", map[string]any{"image": img, "algorithms": []any{"md5", "sha256"}}), func(done, total int64) {
		if total != size || done > total {
			t.Errorf("progress %d/%d", done, total)
		}
		progress++
	})
	m5 := md5.Sum(disk)
	if !errv.IsUndefined() || res.Get("sha256").String() != sha(disk) || res.Get("md5").String() != hex.EncodeToString(m5[:]) || progress == 0 {
		t.Errorf("disk: %s %s, %d progress messages", jsonString(res), jsonString(errv), progress)
	}
	// Partition 2 (NTFS), a range of it.
	p := c.ok("parts", map[string]any{"image": img}).Get("partitions").Index(1)
	poff := int64(p.Get("offset").Float())
	res = c.ok("hash", map[string]any{"image": img, "partition": 2, "offset": 1000, "length": 100000})
	if want := sha(disk[poff+1000 : poff+101000]); res.Get("sha256").String() != want {
		t.Errorf("partition range: %s, want %s", jsonString(res), want)
	}
	c.fail("hash", map[string]any{"image": img, "algorithms": []any{"crc"}}, "ArgumentError")
	c.fail("hash", map[string]any{"image": img, "offset": size + 1}, "ArgumentError")
	c.fail("hash", map[string]any{"image": img, "path": "/a"}, "ArgumentError")
	c.fail("hash", map[string]any{"image": img, "partition": 1, "path": "/nope"}, "FileSystemError")
}

func TestSearchOp(t *testing.T) {
	fx := loadFSFixture(t)
	c := newClient(t)
	img, _ := c.open(newFile(t, "fs.vhdx", fx.disk, 1700000000000))
	size := int64(c.ok("info", map[string]any{"image": img}).Get("virtual_size").Float())
	disk := c.read(img, 0, size)
	pattern := []byte("EFI PART") // both GPT headers
	var want []float64
	for i := 0; ; i++ {
		k := bytes.Index(disk[i:], pattern)
		if k < 0 {
			break
		}
		i += k
		want = append(want, float64(i))
	}
	if len(want) < 2 {
		t.Fatalf("the disk holds %d GPT signatures", len(want))
	}
	res := c.ok("search", map[string]any{"image": img, "pattern": uint8Array(pattern)})
	if got := jsonString(res.Get("hits")); got != jsonString(jsList(want)) || !res.Get("next").IsNull() {
		t.Errorf("hits %s next %s, want %v", got, jsonString(res.Get("next")), want)
	}
	res = c.ok("search", map[string]any{"image": img, "pattern": uint8Array(pattern), "limit": 1})
	if res.Get("hits").Length() != 1 || res.Get("next").Float() != want[0]+1 {
		t.Errorf("limit 1: %s", jsonString(res))
	}
	// A file: the first bytes of one are found at 0 in it.
	f := fx.Files[0]
	head := c.ok("file_read", map[string]any{"image": img, "partition": f.Partition, "path": f.Path, "offset": 0, "length": 16})
	res = c.ok("search", map[string]any{"image": img, "partition": f.Partition, "path": f.Path, "pattern": uint8Array(bytesOf(head)), "limit": 1})
	if res.Get("hits").Length() != 1 || res.Get("hits").Index(0).Int() != 0 {
		t.Errorf("file: %s", jsonString(res))
	}
	c.fail("search", map[string]any{"image": img, "pattern": "EFI"}, "ArgumentError")
	c.fail("search", map[string]any{"image": img, "pattern": uint8Array(nil)}, "ArgumentError")
	c.fail("search", map[string]any{"image": img, "pattern": uint8Array(pattern), "limit": 0}, "ArgumentError")
}

func jsList(f []float64) js.Value {
	a := make([]any, len(f))
	for i, x := range f {
		a[i] = x
	}
	return js.ValueOf(a)
}
