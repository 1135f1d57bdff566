package volume_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/volume"
)

// ExampleFS_NTFSFile prints what the MFT record of an NTFS file holds:
// its attributes, and whether the root's entries are NTFS metadata. The
// disk is testdata/fs.vhdx.gz: a GPT with an ext4 partition and an NTFS
// one whose /note.txt has a stream named extra.
func ExampleFS_NTFSFile() {
	f, err := os.Open("../testdata/fs.vhdx.gz")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		fmt.Println(err)
		return
	}
	img, err := core.Open(context.Background(), bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	tab, err := volume.Partitions(context.Background(), img, img.Size(), 512)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range tab.Partitions {
		if p.FileSystem != "ntfs" {
			continue
		}
		fsys, err := volume.OpenFS(img, p.Offset, p.Size, tab.SectorSize)
		if err != nil {
			fmt.Println(err)
			return
		}
		rec, err := fsys.NTFSFile("/note.txt")
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, a := range rec.Attributes {
			fmt.Printf("%s %q resident=%v\n", a.TypeName, a.Name, a.Resident)
		}
		mft, _ := fsys.Lookup("/$MFT")
		note, _ := fsys.Lookup("/note.txt")
		fmt.Println("metadata:", mft.Metadata, note.Metadata)
	}
	// Output:
	// $STANDARD_INFORMATION "" resident=true
	// $FILE_NAME "" resident=true
	// $SECURITY_DESCRIPTOR "" resident=true
	// $DATA "" resident=true
	// $DATA "extra" resident=true
	// metadata: true false
}
