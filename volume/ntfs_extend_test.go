//go:build linux

package volume

import (
	"bytes"
	"encoding/binary"
	"errors"
	iofs "io/fs"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestNTFSExtend: $Extend and every entry of it list and look up without
// errors, as ntfsls names them, on an mkntfs volume as made and with its
// view indexes ($Quota, $ObjId, $Reparse) also flagged directories. They
// are files (their indexes are not of file names); listing one says it is
// no directory. A file with the $UsnJrnl's streams $J and $Max shows and
// reads them (ntfs-3g cannot write into $Extend, so it lives at the root).
func TestNTFSExtend(t *testing.T) {
	requireTool(t, "ntfsls")
	j := randBytes(21, 70000)
	img := mkNTFS(t, tree{"usn": nil}, tree{"usn:$J": j, "usn:$Max": []byte("0123456789abcdef0123456789abcdef")}, 8)
	var oracle []string
	for _, l := range strings.Split(run(t, "", "ntfsls", "-a", "-s", "-p", "/$Extend", img), "\n") {
		// ntfsls also says it cannot tell the view indexes' types.
		if l = strings.TrimSpace(l); l != "" && l != "." && l != ".." && !strings.Contains(l, " ") {
			oracle = append(oracle, l)
		}
	}
	sort.Strings(oracle)
	base, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	flagged := append([]byte(nil), base...)
	for _, num := range []uint64{24, 25, 26} {
		off := findRecord(t, flagged, num)
		fl := binary.LittleEndian.Uint16(flagged[off+0x16:])
		binary.LittleEndian.PutUint16(flagged[off+0x16:], fl|recordIsDir)
	}
	for name, b := range map[string][]byte{"mkntfs": base, "flagged directories": flagged} {
		t.Run(name, func(t *testing.T) {
			fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
			if err != nil {
				t.Fatal(err)
			}
			es, err := fsys.List("/$Extend")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range es {
				names = append(names, e.Name)
				if e.IsDir || e.Type != "file" {
					t.Errorf("%s: %s, want a file (a view index)", e.Path, e.Type)
				}
				if _, err := fsys.Lookup(e.Path); err != nil {
					t.Errorf("Lookup %s: %v", e.Path, err)
				}
				if _, err := fsys.List(e.Path); !errors.Is(err, ErrNotDir) {
					t.Errorf("List %s: %v, want not a directory", e.Path, err)
				}
			}
			if strings.Join(names, " ") != strings.Join(oracle, " ") {
				t.Errorf("$Extend lists %q; ntfsls %q", names, oracle)
			}
			// The whole volume walks without an error.
			if err := iofs.WalkDir(fsys, ".", func(p string, d iofs.DirEntry, err error) error { return err }); err != nil {
				t.Errorf("walk: %v", err)
			}
			e, err := fsys.Lookup("/usn")
			if err != nil || len(e.Streams) != 2 {
				t.Fatalf("/usn: %+v, %v; want streams $J and $Max", e, err)
			}
			f, err := fsys.OpenFile("/usn:$J")
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, f.Size())
			if n, _ := f.ReadAt(got, 0); n != len(j) || !bytes.Equal(got, j) {
				t.Errorf("/usn:$J reads %d bytes, not the %d written", n, len(j))
			}
		})
	}
}
