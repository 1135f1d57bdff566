package volume

import (
	"bytes"
	"os"
	"testing"
	"testing/fstest"
)

// TestIOFS: fstest.TestFS on every file system the package reads, built
// at test time, expecting every file of the sample tree.
func TestIOFS(t *testing.T) {
	tr := sampleTree(false)
	flat := sampleTree(true)
	for _, c := range []struct {
		name string
		img  func() string
		tr   tree
	}{
		{"fat12", func() string { return mkFAT(t, 12, tr, 4) }, tr},
		{"fat16", func() string { return mkFAT(t, 16, tr, 16) }, tr},
		{"fat32", func() string { return mkFAT(t, 32, tr, 34) }, tr},
		{"ext2", func() string { return mkExt(t, "ext2", tr, 8) }, tr},
		{"ext3", func() string { return mkExt(t, "ext3", tr, 8) }, tr},
		{"ext4", func() string { return mkExt(t, "ext4", tr, 8) }, tr},
		{"ntfs", func() string { return mkNTFS(t, flat, tree{"hello.txt:secret": []byte("alternate stream\n")}, 8) }, flat},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(c.img())
			if err != nil {
				t.Fatal(err)
			}
			fsys, err := OpenFS(bytes.NewReader(b), 0, int64(len(b)), 512)
			if err != nil {
				t.Fatal(err)
			}
			if err := fstest.TestFS(fsys, c.tr.paths()...); err != nil {
				t.Fatal(err)
			}
		})
	}
}
