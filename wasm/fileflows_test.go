//go:build js && wasm && !nofs

package main

import (
	"encoding/csv"
	"strings"
	"testing"
)

// listing: paged entries (with SHA-256) of both volumes of the fixture
// hold every fixture file with its size and digest, the same rows as one
// page; CSV pages join into one table with one header.
func TestListingOp(t *testing.T) {
	fx := loadFSFixture(t)
	c := newClient(t)
	img, _ := c.open(newFile(t, "fs.vhdx", fx.disk, 1700000000000))
	for part := 1; part <= 2; part++ {
		one := c.ok("listing", map[string]any{"image": img, "partition": part, "format": "entries", "hash": []any{"sha256"}, "limit": 100000})
		if !one.Get("next").IsNull() {
			t.Fatalf("partition %d: one page has a next", part)
		}
		type row struct {
			size int64
			sum  string
		}
		all := map[string]row{}
		var order []string
		es := one.Get("entries")
		for i := 0; i < es.Length(); i++ {
			e := es.Index(i)
			sum := ""
			if s := e.Get("sums"); !s.IsUndefined() {
				sum = s.Get("sha256").String()
			}
			all[e.Get("path").String()] = row{int64(e.Get("size").Float()), sum}
			order = append(order, e.Get("path").String())
		}
		for _, f := range fx.Files {
			if f.Partition != part {
				continue
			}
			if r, ok := all[f.Path]; !ok || r.size != f.Size || r.sum != f.SHA256 {
				t.Errorf("partition %d %s: %+v, want %d %s", part, f.Path, r, f.Size, f.SHA256[:12])
			}
		}
		// Pages of 7 rows give the same rows in the same order.
		var paged []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > len(order) {
				t.Fatal("pages never end")
			}
			p := c.ok("listing", map[string]any{"image": img, "partition": part, "format": "entries", "limit": 7, "cursor": cursor})
			es := p.Get("entries")
			for i := 0; i < es.Length(); i++ {
				paged = append(paged, es.Index(i).Get("path").String())
			}
			if p.Get("next").IsNull() {
				break
			}
			cursor = p.Get("next").String()
		}
		if strings.Join(paged, "\n") != strings.Join(order, "\n") {
			t.Errorf("partition %d: pages of 7 give\n%v\nwant\n%v", part, paged, order)
		}
	}
	// CSV in pages: one header, every file.
	var text strings.Builder
	cursor := ""
	for {
		p := c.ok("listing", map[string]any{"image": img, "partition": 1, "limit": 10, "cursor": cursor, "hash": []any{"md5"}})
		text.WriteString(p.Get("text").String())
		if p.Get("next").IsNull() {
			break
		}
		cursor = p.Get("next").String()
	}
	recs, err := csv.NewReader(strings.NewReader(text.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "path" || recs[0][8] != "md5" {
		t.Errorf("header %v", recs[0])
	}
	n := 0
	for _, r := range recs[1:] {
		if r[0] == "path" {
			t.Error("a second header")
		}
		n++
	}
	if n < 40 {
		t.Errorf("%d rows", n)
	}
	c.fail("listing", map[string]any{"image": img, "partition": 1, "format": "xml"}, "ArgumentError")
	c.fail("listing", map[string]any{"image": img, "partition": 1, "cursor": "x"}, "ArgumentError")
	c.fail("listing", map[string]any{"image": img, "partition": 1, "hash": []any{"crc32"}}, "ArgumentError")
}

// file_extents: a mapped file's pieces cover it in order and read, at
// their disk offsets, the file's bytes; an NTFS resident file is unmapped.
// file_preview names a text file's encoding and gives its text.
func TestFileExtentsAndPreview(t *testing.T) {
	fx := loadFSFixture(t)
	c := newClient(t)
	img, _ := c.open(newFile(t, "fs.vhdx", fx.disk, 1700000000000))
	var disk []byte
	for _, f := range fx.Files {
		if f.Partition != 1 || f.Size < 4096 {
			continue
		}
		x := c.ok("file_extents", map[string]any{"image": img, "partition": 1, "path": f.Path})
		if !x.Get("mapped").Bool() || !x.Get("next").IsNull() {
			t.Fatalf("%s: %s", f.Path, jsonString(x))
		}
		if disk == nil {
			disk = c.readWhole(img, 1, f.Path, f.Size, 1<<20) // warm; the disk bytes come from read below
		}
		var got []byte
		at := int64(0)
		es := x.Get("extents")
		for i := 0; i < es.Length(); i++ {
			e := es.Index(i)
			fo, do, n := int64(e.Get("file_offset").Float()), int64(e.Get("disk_offset").Float()), int64(e.Get("length").Float())
			if fo != at {
				t.Fatalf("%s: piece %d at %d, want %d", f.Path, i, fo, at)
			}
			if do < 0 {
				got = append(got, make([]byte, n)...)
			} else {
				for k := int64(0); k < n; k += 1 << 20 {
					got = append(got, bytesOf(c.ok("read", map[string]any{"image": img, "offset": do + k, "length": min(1<<20, n-k)}))...)
				}
			}
			at += n
		}
		if at != f.Size || sha(got) != f.SHA256 {
			t.Errorf("%s: extents cover %d bytes, sha256 %s", f.Path, at, sha(got)[:12])
		}
	}
	for _, f := range fx.Files {
		if f.Partition == 2 && f.Size < 512 && !strings.Contains(f.Path, ":") {
			x := c.ok("file_extents", map[string]any{"image": img, "partition": 2, "path": f.Path})
			if x.Get("mapped").Bool() || x.Get("extents").Length() != 0 {
				t.Errorf("resident %s: %s", f.Path, jsonString(x))
			}
			break
		}
	}
	p := c.ok("file_preview", map[string]any{"image": img, "partition": 1, "path": "/docs/n1.txt"})
	want := string(c.readWhole(img, 1, "/docs/n1.txt", 7, 100))
	if p.Get("kind").String() != "text" || p.Get("encoding").String() != "UTF-8" || p.Get("text").String() != want || p.Get("read").Int() != 7 {
		t.Errorf("preview: %s", jsonString(p))
	}
	p = c.ok("file_preview", map[string]any{"image": img, "partition": 1, "path": "/big/sparse.bin", "limit": 4096})
	if p.Get("read").Int() != 4096 || p.Get("size").Int() != 2097156 {
		t.Errorf("preview of a large file: %s", jsonString(p))
	}
}
