package volume

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExtNameHash compares extNameHash with debugfs's dx_hash (e2fsprogs'
// own implementation) for every hash version, a seed and none, and names
// of every length from 1 to 70 bytes (the half-MD4 and TEA blocks are 32
// and 16 bytes) with bytes above 0x7f, where signed and unsigned differ.
func TestExtNameHash(t *testing.T) {
	requireTool(t, "debugfs")
	requireTool(t, "mkfs.ext4")
	dir := t.TempDir()
	img := filepath.Join(dir, "e.img")
	run(t, "", "mkfs.ext4", "-q", "-F", img, "4M")
	var names []string
	for n := 1; n <= 70; n++ {
		var b strings.Builder
		for i := 0; i < n; i++ {
			c := byte('a' + (i*7+n)%26)
			if (i+n)%5 == 0 {
				c = byte(0x80 + (i*31+n)%0x7f) // high bytes: signed and unsigned differ
			}
			b.WriteByte(c)
		}
		names = append(names, b.String())
	}
	names = append(names, "file-12345.txt", "Ünïcödé.txt", "a")
	// s_hash_seed is the UUID's 16 bytes, read as four little-endian words.
	seeds := map[string][4]uint32{
		"":                                     {},
		"fa7a7cd5-5d10-4113-bb24-041ad67f0478": {0xd57c7afa, 0x1341105d, 0x1a0424bb, 0x78047fd6},
	}
	cmds := filepath.Join(dir, "cmds")
	var script strings.Builder
	type want struct {
		name string
		v    int
		seed [4]uint32
	}
	var wants []want
	for s, seed := range seeds {
		for v := 0; v <= 5; v++ {
			for _, n := range names {
				opt := ""
				if s != "" {
					opt = "-s " + s
				}
				fmt.Fprintf(&script, "dx_hash -h %d %s %s\n", v, opt, n)
				wants = append(wants, want{n, v, seed})
			}
		}
	}
	if err := os.WriteFile(cmds, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, "", "debugfs", "-f", cmds, img)
	sc := bufio.NewScanner(strings.NewReader(out))
	k := 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "Hash of ") {
			continue
		}
		var h uint32
		i := strings.LastIndex(line, " is 0x")
		if _, err := fmt.Sscanf(line[i:], " is 0x%x", &h); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		w := wants[k]
		k++
		if got := extNameHash([]byte(w.name), w.v, w.seed); got != h {
			t.Errorf("version %d seed %x %q: 0x%08x, debugfs 0x%08x", w.v, w.seed, w.name, got, h)
		}
	}
	if k != len(wants) {
		t.Fatalf("debugfs gave %d hashes for %d names:\n%s", k, len(wants), out[:min(len(out), 2000)])
	}
}
