package volume

import (
	"fmt"
	"testing"
)

// TestFATDirCache: opening each of 600 files of a FAT32 directory by path
// reads the directory once, not once per file (before the cache, each
// open read the root and the directory again: 1,200 reads and more).
func TestFATDirCache(t *testing.T) {
	tr := tree{}
	for i := 0; i < 600; i++ {
		tr[fmt.Sprintf("d/File Number %04d.txt", i)] = []byte(fmt.Sprint(i))
	}
	img := mkFAT(t, 32, tr, 40)
	cr, size := countingImage(t, img)
	fsys, err := OpenFS(cr, 0, size, 512)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 600; i++ {
		// Case differs from the disk's: FAT names match case-insensitively.
		f, err := fsys.OpenFile(fmt.Sprintf("/D/file number %04d.TXT", i))
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 8)
		n, _ := f.ReadAt(b, 0)
		if string(b[:n]) != fmt.Sprint(i) {
			t.Fatalf("file %d reads %q", i, b[:n])
		}
	}
	// 600 reads of the files' bytes, a few of the boot sector, FAT pages
	// and the two directories.
	if n := len(cr.reads); n > 600+50 {
		t.Errorf("%d reads to open and read 600 files", n)
	}
}
