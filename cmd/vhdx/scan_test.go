package main

// vhdx hash and search against sha256sum, sha1sum, md5sum and Python
// over the raw bytes qemu-img converts the same image to.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/internal/reftool"
)

func TestHashCommand(t *testing.T) {
	img, files, _ := volumeDisk(t)
	raw := reftool.QemuRaw(t, img)
	want := map[string]string{}
	for _, tool := range []string{"sha256sum", "sha1sum", "md5sum"} {
		want[strings.TrimSuffix(tool, "sum")] = strings.Fields(reftool.Run(t, tool, raw))[0]
	}
	code, out, errs := runCLI("hash", "--json", "--algo", "md5,sha1,sha256", img)
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 || len(got) != 3 {
		t.Fatalf("exit %d %v\n%s%s", code, err, out, errs)
	}
	for a, w := range want {
		if got[a] != w {
			t.Errorf("%s: %s, want %s", a, got[a], w)
		}
	}
	code, out, _ = runCLI("hash", img)
	if code != 0 || out != want["sha256"]+"  sha256\n" {
		t.Errorf("plain: exit %d %q", code, out)
	}

	pyHash := func(off, n int64) string {
		return strings.TrimSpace(reftool.Run(t, reftool.Python, "-c",
			fmt.Sprintf("import hashlib,sys\nf=open(sys.argv[1],'rb');f.seek(%d);print(hashlib.sha256(f.read(%d)).hexdigest())", off, n), raw))
	}
	// A range, and partition 1 (2048 sectors in, 8 MiB), and a range of it.
	for _, c := range []struct {
		args   []string
		off, n int64
	}{
		{[]string{"--offset", "1M", "--length", "0x300001"}, 1 << 20, 0x300001},
		{[]string{"--part", "1"}, 2048 * 512, 8 << 20},
		{[]string{"--part", "1", "--offset", "1000", "--length", "5000"}, 2048*512 + 1000, 5000},
	} {
		code, out, errs := runCLI(append(append([]string{"hash"}, c.args...), img)...)
		if w := pyHash(c.off, c.n); code != 0 || out != w+"  sha256\n" {
			t.Errorf("%v: exit %d %q%s, Python says %s", c.args, code, out, errs, w)
		}
	}
	// A file, whole and a range of it: the bytes mkfs.ext4 -d copied in.
	blob := files["data/blob.bin"]
	for _, c := range []struct {
		args []string
		b    []byte
	}{
		{[]string{"--part", "1", "--path", "/data/blob.bin"}, blob},
		{[]string{"--part", "1", "--path", "/data/blob.bin", "--offset", "4095", "--length", "70000"}, blob[4095 : 4095+70000]},
		{[]string{"--part", "1", "--path", "/data/empty.file"}, nil},
	} {
		code, out, errs := runCLI(append(append([]string{"hash"}, c.args...), img)...)
		s := sha256.Sum256(c.b)
		if w := hex.EncodeToString(s[:]); code != 0 || out != w+"  sha256\n" {
			t.Errorf("%v: exit %d %q%s, want %s", c.args, code, out, errs, w)
		}
	}
	// Mistakes are said plainly.
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--algo", "crc32"}, "unknown hash"},
		{[]string{"--offset", "1T"}, "outside the disk"},
		{[]string{"--part", "9"}, "no partition 9"},
		{[]string{"--part", "1", "--path", "/nope"}, "/nope"},
		{[]string{"--path", "/readme.txt"}, "the disk has 2 partitions"},
	} {
		code, out, errs := runCLI(append(append([]string{"hash"}, c.args...), img)...)
		if code != 2 || out != "" || !strings.Contains(errs, c.msg) || strings.Contains(errs, "internal") {
			t.Errorf("%v: exit %d %q %q", c.args, code, out, errs)
		}
	}
}

func TestSearchCommand(t *testing.T) {
	dir := t.TempDir()
	d := make([]byte, 12<<20)
	for i := 3 << 20; i < 5<<20; i++ {
		d[i] = byte(i*31 + i>>9 | 1)
	}
	utf := []byte("N\x00\xe9\x00d\x00l\x00e\x00") // "Nédle" in UTF-16LE
	for _, at := range []int{17, 3<<20 - 4, 4 << 20, 4<<20 + 2, 8<<20 - 1, len(d) - 5} {
		copy(d[at:], "Nédle")
	}
	copy(d[6<<20-7:], utf)
	copy(d[8<<20+100:], utf)
	rawIn := filepath.Join(dir, "in.raw")
	os.WriteFile(rawIn, d, 0o644)
	img := filepath.Join(dir, "s.vhdx")
	reftool.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=1M", rawIn, img)
	raw := reftool.QemuRaw(t, img)
	scanPy := func(pattern []byte, off, n int64) []int64 {
		out := reftool.Run(t, reftool.Python, "-c", `import sys
b=open(sys.argv[1],'rb').read();p=bytes.fromhex(sys.argv[2]);o=int(sys.argv[3]);e=o+int(sys.argv[4]);i=b.find(p,o)
while 0<=i and i+len(p)<=e:
    print(i);i=b.find(p,i+1)`, raw, hex.EncodeToString(pattern), strconv.FormatInt(off, 10), strconv.FormatInt(n, 10))
		hits := []int64{}
		for _, f := range strings.Fields(out) {
			h, _ := strconv.ParseInt(f, 10, 64)
			hits = append(hits, h)
		}
		return hits
	}
	for _, c := range []struct {
		args    []string
		pattern []byte
		off, n  int64
	}{
		{[]string{"--text", "Nédle"}, []byte("Nédle"), 0, int64(len(d))},
		{[]string{"--text", "Nédle", "--utf16"}, utf, 0, int64(len(d))},
		{[]string{"--hex", "4e c3 a9", "--offset", "4M", "--length", "4M"}, []byte("N\xc3\xa9"), 4 << 20, 4 << 20},
		{[]string{"--hex", "00000000000000004e"}, []byte("\x00\x00\x00\x00\x00\x00\x00\x00N"), 0, int64(len(d))},
		{[]string{"--hex", "6c65000000"}, []byte("le\x00\x00\x00"), 0, int64(len(d))},
	} {
		want := scanPy(c.pattern, c.off, c.n)
		code, out, errs := runCLI(append(append([]string{"search", "--json"}, c.args...), img)...)
		var got struct {
			Hits []int64 `json:"hits"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 || fmt.Sprint(got.Hits) != fmt.Sprint(want) {
			t.Errorf("%v: exit %d %v %s%s, Python says %v", c.args, code, err, out, errs, want)
		}
		code, out, _ = runCLI(append(append([]string{"search"}, c.args...), img)...)
		var lines []string
		for _, h := range want {
			lines = append(lines, fmt.Sprintf("%d\t0x%x\n", h, h))
		}
		if code != 0 || out != strings.Join(lines, "") {
			t.Errorf("%v plain: exit %d %q", c.args, code, out)
		}
	}
	// --limit stops and says where to go on; a pattern not found exits 1.
	code, out, _ := runCLI("search", "--json", "--limit", "2", "--text", "Nédle", img)
	if code != 0 || out != fmt.Sprintf("{\"hits\": [17, %d], \"next\": %d}\n", 3<<20-4, 3<<20-3) {
		t.Errorf("limit: exit %d %q", code, out)
	}
	code, out, _ = runCLI("search", "--text", "absent", img)
	if code != 1 || out != "" {
		t.Errorf("absent: exit %d %q", code, out)
	}
	for _, args := range [][]string{{"--hex", "zz"}, {}, {"--hex", "00", "--text", "a"}, {"--hex", "00", "--utf16"}} {
		code, out, errs := runCLI(append(append([]string{"search"}, args...), img)...)
		if code != 2 || out != "" || !strings.Contains(errs, "vhdx search:") {
			t.Errorf("%v: exit %d %q %q", args, code, out, errs)
		}
	}
}
