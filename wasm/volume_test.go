//go:build js && wasm && !nofs

package main

// The inside-the-disk ops on testdata/fs.vhdx.gz (made by
// testdata/make-fs.sh with mkfs.ext4, mkntfs, ntfscp, sgdisk and
// qemu-img): every file's bytes, read with file_read and rebuilt from
// file_plan, must hash to what testdata/fs.json says the source file
// hashed to.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"syscall/js"
	"testing"
)

type fsFixture struct {
	disk  []byte
	Parts []struct {
		Index      int    `json:"index"`
		FirstLBA   int64  `json:"first_lba"`
		LastLBA    int64  `json:"last_lba"`
		FileSystem string `json:"file_system"`
		Label      string `json:"label"`
	} `json:"partitions"`
	Files []struct {
		Partition int    `json:"partition"`
		Path      string `json:"path"`
		Size      int64  `json:"size"`
		SHA256    string `json:"sha256"`
	} `json:"files"`
}

func loadFSFixture(t *testing.T) *fsFixture {
	t.Helper()
	var fx fsFixture
	j, err := os.ReadFile("../testdata/fs.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &fx); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/fs.vhdx.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if fx.disk, err = io.ReadAll(zr); err != nil {
		t.Fatal(err)
	}
	return &fx
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// readWhole reads a file with file_read in chunks of n bytes.
func (c *client) readWhole(img, part int, p string, size, n int64) []byte {
	c.t.Helper()
	var out []byte
	for off := int64(0); ; off += n {
		res := c.ok("file_read", map[string]any{"image": img, "partition": part, "path": p, "offset": off, "length": n})
		b := bytesOf(res)
		out = append(out, b...)
		if int64(len(b)) < n {
			break
		}
	}
	if end := c.ok("file_read", map[string]any{"image": img, "partition": part, "path": p, "offset": size + 5, "length": 10}); bytesOf(end) == nil || len(bytesOf(end)) != 0 {
		c.t.Errorf("%s: read past the end gives %d bytes", p, len(bytesOf(end)))
	}
	return out
}

func TestPartsAndFiles(t *testing.T) {
	fx := loadFSFixture(t)
	c := newClient(t)
	img, _ := c.open(newFile(t, "fs.vhdx", fx.disk, 1700000000000))

	tab := c.ok("parts", map[string]any{"image": img})
	if tab.Get("scheme").String() != "gpt" || tab.Get("sector_size").Int() != 512 || tab.Get("partitions").Length() != len(fx.Parts) {
		t.Fatalf("parts: %s", jsonString(tab))
	}
	for i, want := range fx.Parts {
		p := tab.Get("partitions").Index(i)
		if p.Get("index").Int() != want.Index || int64(p.Get("first_lba").Float()) != want.FirstLBA ||
			int64(p.Get("last_lba").Float()) != want.LastLBA || p.Get("file_system").String() != want.FileSystem ||
			!p.Get("supported").Bool() || int64(p.Get("offset").Float()) != want.FirstLBA*512 {
			t.Errorf("partition %d: %s, want %+v", i, jsonString(p), want)
		}
	}
	hs := tab.Get("gpt_headers")
	if hs.Length() != 2 || !hs.Index(0).Get("used").Bool() || !hs.Index(1).Get("valid").Bool() {
		t.Errorf("gpt headers: %s", jsonString(hs))
	}

	// Listings: every directory holding a fixture file lists it with its
	// size; the volume's type and label come with each listing.
	dirs := map[[2]any][]string{}
	sizes := map[string]int64{}
	for _, f := range fx.Files {
		if strings.Contains(f.Path, ":") {
			continue
		}
		k := [2]any{f.Partition, path.Dir(f.Path)}
		dirs[k] = append(dirs[k], path.Base(f.Path))
		sizes[f.Path] = f.Size
	}
	for k, names := range dirs {
		part, dir := k[0].(int), k[1].(string)
		ls := c.ok("ls", map[string]any{"image": img, "partition": part, "path": dir})
		want := fx.Parts[part-1]
		if fs := ls.Get("fs"); fs.Get("type").String() != want.FileSystem || fs.Get("label").String() != want.Label {
			t.Errorf("ls %d %s: fs %s", part, dir, jsonString(fs))
		}
		got := map[string]js.Value{}
		es := ls.Get("entries")
		var order []string
		for i := 0; i < es.Length(); i++ {
			e := es.Index(i)
			got[e.Get("name").String()] = e
			order = append(order, e.Get("name").String())
		}
		if !sort.StringsAreSorted(order) {
			t.Errorf("ls %d %s: not sorted: %v", part, dir, order)
		}
		for _, n := range names {
			e, ok := got[n]
			p := path.Join(dir, n)
			if !ok {
				t.Errorf("ls %d %s: %s missing (got %v)", part, dir, n, order)
				continue
			}
			if int64(e.Get("size").Float()) != sizes[p] || e.Get("is_dir").Bool() || e.Get("path").String() != p ||
				e.Get("mod_time").Type() != js.TypeString {
				t.Errorf("ls %d %s: %s", part, dir, jsonString(e))
			}
		}
	}

	// The NTFS stream is listed with its file.
	note := c.ok("stat", map[string]any{"image": img, "partition": 2, "path": "/note.txt"})
	if st := note.Get("streams"); st.Length() != 1 || st.Index(0).Get("name").String() != "extra" {
		t.Errorf("stat /note.txt: %s", jsonString(note))
	}

	// Every file's bytes, read two ways: file_read in odd-sized chunks,
	// and file_plan's runs executed over the image file.
	for _, f := range fx.Files {
		got := c.readWhole(img, f.Partition, f.Path, f.Size, 77777)
		if int64(len(got)) != f.Size || sha(got) != f.SHA256 {
			t.Errorf("file_read %d %s: %d bytes, sha256 %s; want %d, %s", f.Partition, f.Path, len(got), sha(got)[:12], f.Size, f.SHA256[:12])
		}
		p := c.ok("file_plan", map[string]any{"image": img, "partition": f.Partition, "path": f.Path})
		if int64(p.Get("size").Float()) != f.Size {
			t.Errorf("file_plan %s: size %v", f.Path, p.Get("size"))
		}
		// ext files are mapped; NTFS ones unless resident (kept in their
		// MFT record, so under 1 KiB).
		mapped := p.Get("mapped").Bool()
		if mapped != (f.Partition == 1 || f.Size > 1024) {
			t.Errorf("file_plan %d %s: mapped %v", f.Partition, f.Path, mapped)
		}
		if !mapped {
			if p.Get("runs").Length() != 0 {
				t.Errorf("file_plan %s: unmapped with runs", f.Path)
			}
			continue
		}
		if !p.Get("next").IsNull() {
			t.Fatalf("file_plan %s: next %v", f.Path, p.Get("next"))
		}
		if b := execPlan(t, p.Get("runs"), [][]byte{fx.disk}, 0, f.Size); sha(b) != f.SHA256 {
			t.Errorf("file_plan %s: the plan's bytes differ from the file", f.Path)
		}
	}

	// Paged plan of the sparse file: a few runs per page, from an offset
	// inside the hole to the end.
	const sparse = "/big/sparse.bin"
	var want []byte
	for _, f := range fx.Files {
		if f.Path == sparse {
			want = c.readWhole(img, 1, sparse, f.Size, 1<<20)
		}
	}
	off, pages := int64(1000), 0
	var all []byte
	for {
		p := c.ok("file_plan", map[string]any{"image": img, "partition": 1, "path": sparse, "offset": off, "limit": 1})
		end := int64(p.Get("end").Float())
		all = append(all, execPlan(t, p.Get("runs"), [][]byte{fx.disk}, off, end)...)
		pages++
		if p.Get("next").IsNull() {
			break
		}
		off = end
	}
	if pages < 2 || !bytes.Equal(all, want[1000:]) {
		t.Errorf("paged file_plan: %d pages, equal %v", pages, bytes.Equal(all, want[1000:]))
	}

	// Errors say what and where.
	e := c.fail("ls", map[string]any{"image": img, "partition": 1, "path": "/nope"}, "FileSystemError")
	if e.Get("reason").String() != "not_found" || e.Get("fs").String() != "ext4" || e.Get("offset").Int() != 2048*512 || e.Get("path").String() != "/nope" {
		t.Errorf("ls /nope: %s", jsonString(e))
	}
	e = c.fail("ls", map[string]any{"image": img, "partition": 1, "path": "/hello.txt"}, "FileSystemError")
	if e.Get("reason").String() != "not_a_directory" {
		t.Errorf("ls a file: %s", jsonString(e))
	}
	e = c.fail("file_read", map[string]any{"image": img, "partition": 2, "path": "/", "offset": 0, "length": 1}, "FileSystemError")
	if e.Get("reason").String() != "is_a_directory" {
		t.Errorf("file_read a directory: %s", jsonString(e))
	}
	c.fail("ls", map[string]any{"image": img, "partition": 9}, "ArgumentError")
	c.fail("ls", map[string]any{"image": img}, "ArgumentError")
	c.fail("file_read", map[string]any{"image": img, "partition": 1, "path": "/hello.txt", "offset": 0, "length": MaxRead + 1}, "ArgumentError")
	c.fail("file_plan", map[string]any{"image": img, "partition": 1, "path": "/hello.txt", "limit": 0}, "ArgumentError")
	c.fail("stat", map[string]any{"image": img, "partition": 1}, "ArgumentError")

	c.ok("close", map[string]any{"image": img})
	c.fail("parts", map[string]any{"image": img}, "NotOpenError")
}

// A disk without a partition table whose bytes are no file system: parts
// lists the whole disk, unsupported; ls says so.
func TestUnsupportedVolume(t *testing.T) {
	c := newClient(t)
	ti := dynamicImage(t)
	img, _ := c.open(ti.jsFile(t))
	tab := c.ok("parts", map[string]any{"image": img})
	ps := tab.Get("partitions")
	if tab.Get("scheme").String() != "none" || ps.Length() != 1 || ps.Index(0).Get("index").Int() != 0 ||
		ps.Index(0).Get("supported").Bool() || int64(ps.Index(0).Get("size").Float()) != 16*mib {
		t.Fatalf("parts: %s", jsonString(tab))
	}
	e := c.fail("ls", map[string]any{"image": img, "partition": 0}, "FileSystemError")
	if e.Get("reason").String() != "unsupported" || e.Get("op").String() != "open" || !strings.Contains(e.Get("message").String(), "no file system") {
		t.Errorf("ls: %s", jsonString(e))
	}
}
