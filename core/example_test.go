package core_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/builder"
)

// mkImage writes a VHDX into memory with the test builder (a writer made
// from MS-VHDX for tests); a real caller opens an *os.File or a Blob.
func mkImage(im *builder.Image) *bytes.Reader {
	b, err := im.Bytes()
	if err != nil {
		log.Fatal(err)
	}
	return bytes.NewReader(b)
}

// A 4 MiB dynamic disk whose second 1 MiB block holds "hello".
func exampleDisk() *bytes.Reader {
	return mkImage(&builder.Image{VirtualSize: 4 << 20, BlockSize: 1 << 20, Creator: "example",
		Blocks: map[uint64]builder.Block{1: {State: builder.PayloadFullyPresent, Data: []byte("hello")}}})
}

func ExampleOpen() {
	f := exampleDisk()
	img, err := core.Open(context.Background(), f, f.Size(), &core.Options{Name: "disk.vhdx"})
	if err != nil {
		log.Fatal(err)
	}
	in := img.Info()
	fmt.Println(in.Type, in.VirtualSize, in.BlockSize, in.Creator)
	var walk func(ss []core.Structure, indent string)
	walk = func(ss []core.Structure, indent string) {
		for _, s := range ss {
			fmt.Printf("%s%s at 0x%x\n", indent, s.Name, s.Offset)
			if s.ID == "header-section" || s.ID == "headers" {
				walk(s.Children, indent+"  ")
			}
		}
	}
	walk(in.Structures, "")
	// Output:
	// dynamic 4194304 1048576 example
	// header section at 0x0
	//   file type identifier at 0x0
	//   headers at 0x10000
	//     header 1 at 0x10000
	//     header 2 at 0x20000
	//   region tables at 0x30000
	// log at 0x100000
	// metadata table at 0x200000
	// BAT at 0x300000
}

func ExampleImage_ReadAt() {
	f := exampleDisk()
	img, err := core.Open(context.Background(), f, f.Size(), nil)
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
	img, err := core.Open(context.Background(), f, f.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	rep := img.Verify(context.Background(), nil)
	fmt.Println(rep.Verdict, rep.Errors, rep.Warnings, rep.BAT[0].States)
	// Output: clean 0 0 map[FULLY_PRESENT:1 NOT_PRESENT:3]
}

func ExampleImage_Plan() {
	f := exampleDisk()
	img, err := core.Open(context.Background(), f, f.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	// Where the first 3 MiB of the disk are: zeros, then the file.
	err = img.Plan(context.Background(), 0, 3<<20, func(r core.Run) error {
		fmt.Println(r.Kind, r.Offset, r.Length, r.Level)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// zero 0 1048576 0
	// file 1048576 1048576 0
	// zero 2097152 1048576 0
}

// A differencing chain given in any order: OpenFiles finds the child and
// attaches its parent by the DataWriteGuid the child's locator names.
func ExampleOpenFiles() {
	baseID := uuid.MustParse("6d6f7665-0000-4000-8000-000000000001")
	base := mkImage(&builder.Image{VirtualSize: 4 << 20, DataWriteGUID: baseID,
		Blocks: map[uint64]builder.Block{0: {State: builder.PayloadFullyPresent, Data: []byte("from the base")}}})
	child := mkImage(&builder.Image{VirtualSize: 4 << 20, Parent: builder.NewVHDXParent(baseID, "base.vhdx")})
	files := []core.File{{Name: "base.vhdx", R: base, Size: base.Size()}, {Name: "child.avhdx", R: child, Size: child.Size()}}
	images, _, err := core.OpenFiles(context.Background(), files, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, lvl := range images[0].Info().Chain {
		fmt.Println(lvl.Level, lvl.Name, lvl.Type)
	}
	buf := make([]byte, 13)
	images[0].ReadAt(buf, 0)
	fmt.Printf("%q\n", buf)

	// Without the parent the child still opens with Partial, and says
	// what is missing; reads that need the parent fail.
	alone, _, _ := core.OpenFiles(context.Background(), files[1:], &core.Options{Partial: true})
	fmt.Println(alone[0].Info().MissingParent.Paths)
	_, err = alone[0].ReadAt(buf, 0)
	fmt.Println(errors.Is(err, core.ErrNoParent))
	// Output:
	// 0 child.avhdx differencing
	// 1 base.vhdx dynamic
	// "from the base"
	// [base.vhdx]
	// true
}

// A file that does not open still lists what was read before the damage:
// here both region tables are damaged, after two good headers.
func ExampleInspect() {
	f := mkImage(&builder.Image{VirtualSize: 4 << 20,
		RegionTables: [2]builder.RegionTableOptions{{CorruptChecksum: true}, {CorruptChecksum: true}}})
	in, err := core.Inspect(context.Background(), f, f.Size(), "bad.vhdx")
	fmt.Println(errors.Is(err, core.ErrFormat), in.Report.Verdict)
	var walk func(ss []core.Structure, indent string)
	walk = func(ss []core.Structure, indent string) {
		for _, s := range ss {
			fmt.Printf("%s%s: %s\n", indent, s.Name, s.Status)
			walk(s.Children, indent+"  ")
		}
	}
	walk(in.Structures, "")
	// Output:
	// true unreadable
	// header section: error
	//   file type identifier: ok
	//   headers: ok
	//     header 1: ok
	//     header 2: ok
	//   region tables: error
	//     region table 1: error
	//     region table 2: error
	// log: ok
}

// ZeroBad reads a block whose BAT entry is unusable as zeros, and its
// plan says which runs are such fills.
func ExampleImage_ZeroBad() {
	f := mkImage(&builder.Image{VirtualSize: 4 << 20,
		Blocks: map[uint64]builder.Block{1: {State: builder.PayloadFullyPresent, Data: []byte("hello")}},
		RawBAT: map[uint64]uint64{2: 6 | 1<<40}}) // block 2: FULLY_PRESENT, 1 TiB past the end
	img, err := core.Open(context.Background(), f, f.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	_, err = img.ReadAt(make([]byte, 4<<20), 0)
	fmt.Println("read:", err != nil)
	zb := img.ZeroBad()
	zb.Plan(context.Background(), 0, zb.Size(), func(r core.Run) error {
		if r.Bad != nil {
			fmt.Printf("filled 0x%x+0x%x: block %d\n", r.Offset, r.Length, r.Bad.Block)
		}
		return nil
	})
	// Output:
	// read: true
	// filled 0x200000+0x100000: block 2
}
