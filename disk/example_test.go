package disk_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
)

// A file with an MBR opens as a raw disk; a file of no known kind is named
// and refused unless raw is asked for.
func ExampleOpenFiles() {
	mbr := make([]byte, 1<<20)
	mbr[446+4] = 0x83                                // a Linux partition
	binary.LittleEndian.PutUint32(mbr[446+8:], 2048) // from LBA 2048
	binary.LittleEndian.PutUint32(mbr[446+12:], 10)
	mbr[510], mbr[511] = 0x55, 0xaa
	files := []core.File{{Name: "disk.img", R: bytes.NewReader(mbr), Size: int64(len(mbr))}}
	disks, _, err := disk.OpenFiles(context.Background(), files, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := disks[0]
	fmt.Println(d.Format(), d.Size(), d.Facts(0).Type)

	notes := []byte("just some notes\n")
	files = []core.File{{Name: "notes.txt", R: bytes.NewReader(notes), Size: int64(len(notes))}}
	_, _, err = disk.OpenFiles(context.Background(), files, nil)
	fmt.Println(err, errors.Is(err, disk.ErrNotDisk))
	disks, _, _ = disk.OpenFiles(context.Background(), files, &disk.Options{Raw: true})
	fmt.Println(disks[0].Format(), disks[0].Size())
	// Output:
	// raw 1048576 raw
	// notes.txt is a text file; vhdxview reads VHDX, VHD and raw disk images true
	// raw 16
}
