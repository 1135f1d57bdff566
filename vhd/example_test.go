package vhd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
	"github.com/vhdxview/vhdxview/vhd"
)

// mkImage writes a VHD into memory with the test builder (a writer made
// from the VHD spec for tests); a real caller opens an *os.File or a Blob.
func mkImage(im *vhdbuilder.Image) *bytes.Reader {
	b, err := im.Bytes()
	if err != nil {
		log.Fatal(err)
	}
	return bytes.NewReader(b)
}

// A 4 MiB dynamic disk of 1 MiB blocks whose second block holds "hello".
func exampleDisk() *bytes.Reader {
	return mkImage(&vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 4 << 20, BlockSize: 1 << 20, Creator: "win ",
		Blocks: map[int64]vhdbuilder.Block{1: {Data: []byte("hello")}}})
}

func ExampleOpen() {
	f := exampleDisk()
	img, err := vhd.Open(context.Background(), f, f.Size(), &vhd.Options{Name: "disk.vhd"})
	if err != nil {
		log.Fatal(err)
	}
	in := img.Info()
	fmt.Println(in.Type, in.VirtualSize, in.BlockSize, in.Creator)
	for _, s := range in.Structures {
		fmt.Printf("%s at 0x%x, %d bytes\n", s.Name, s.Offset, s.Length)
	}
	// Output:
	// dynamic 4194304 1048576 win 1.0 (Windows)
	// footer copy at 0x0, 512 bytes
	// dynamic header at 0x200, 1024 bytes
	// BAT at 0x600, 512 bytes
	// footer at 0x100a00, 512 bytes
}

func ExampleImage_ReadAt() {
	f := exampleDisk()
	img, err := vhd.Open(context.Background(), f, f.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := img.ReadAt(buf, 1<<20); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", buf)
	// Output: "hello"
}

func ExampleImage_Verify() {
	f := exampleDisk()
	img, err := vhd.Open(context.Background(), f, f.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	rep := img.Verify(context.Background(), nil)
	fmt.Println(rep.Verdict, rep.Errors, rep.Warnings, rep.BAT[0].States)
	// Output: clean 0 0 map[allocated:1 unallocated:3]
}

func ExampleImage_Plan() {
	f := exampleDisk()
	img, err := vhd.Open(context.Background(), f, f.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	// Where the first 3 MiB of the disk are: zeros, the file, zeros.
	err = img.Plan(context.Background(), 0, 3<<20, func(r core.Run) error {
		fmt.Println(r.Kind, r.Offset, r.Length, r.Level, r.FileOffset)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// zero 0 1048576 0 0
	// file 1048576 1048576 0 2560
	// zero 2097152 1048576 0 0
}

// A differencing chain given in any order: OpenFiles finds the child and
// attaches the parent whose Unique Id the child's header names.
func ExampleOpenFiles() {
	baseID := uuid.MustParse("6d6f7665-0000-4000-8000-000000000001")
	base := mkImage(&vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 4 << 20, UniqueID: baseID,
		Blocks: map[int64]vhdbuilder.Block{0: {Data: []byte("from the base")}}})
	child := mkImage(&vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 4 << 20,
		Parent: &vhdbuilder.Parent{ID: baseID, Name: "base.vhd", Locators: []vhdbuilder.Locator{vhdbuilder.W2ru(`.\base.vhd`)}}})
	files := []core.File{{Name: "base.vhd", R: base, Size: base.Size()}, {Name: "child.vhd", R: child, Size: child.Size()}}
	images, _, err := vhd.OpenFiles(context.Background(), files, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, lvl := range images[0].Info().Chain {
		fmt.Println(lvl.Level, lvl.Name, lvl.Type)
	}
	buf := make([]byte, 13)
	images[0].ReadAt(buf, 0)
	fmt.Printf("%q\n", buf)

	// Without the parent the child opens with Partial, and says what is
	// missing; reads that need the parent fail.
	alone, _, _ := vhd.OpenFiles(context.Background(), files[1:], &vhd.Options{Partial: true})
	fmt.Println(alone[0].Info().MissingParent.Paths)
	_, err = alone[0].ReadAt(buf, 0)
	fmt.Println(errors.Is(err, vhd.ErrNoParent))
	// Output:
	// 0 child.vhd differencing
	// 1 base.vhd dynamic
	// "from the base"
	// [.\base.vhd base.vhd]
	// true
}
