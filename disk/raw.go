package disk

// Raw disks: a file that is its own virtual disk, byte for byte (a dd
// image, a partition or volume dump). There is no container to parse, so
// there is nothing to damage: reads go straight through, the plan is one
// file run, the check is a single note.

import (
	"context"
	"fmt"
	"io"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/sniff"
)

// Raw is a file read as a virtual disk of the file's size.
type Raw struct {
	r          io.ReaderAt
	size       int64
	name       string
	sectorSize int
	kind       sniff.Kind // what the file's signature says
}

// NewRaw returns the raw disk of the file r of the given size; name is
// for reports. Its logical sector size is 4096 when a GPT header sits at
// byte 4096 and not at 512, else 512.
func NewRaw(r io.ReaderAt, size int64, name string) *Raw {
	return &Raw{r: r, size: max(size, 0), name: name, sectorSize: rawSectorSize(r, size), kind: sniff.Identify(r, size)}
}

func rawSectorSize(r io.ReaderAt, size int64) int {
	gptAt := func(off int64) bool {
		b := make([]byte, 8)
		return off+8 <= size && readFull(r, b, off) == nil && string(b) == "EFI PART"
	}
	if !gptAt(512) && gptAt(4096) {
		return 4096
	}
	return 512
}

// Size returns the file's size: the virtual disk's.
func (d *Raw) Size() int64 { return d.size }

// SectorSize returns the logical sector size partitions are read with.
func (d *Raw) SectorSize() int { return d.sectorSize }

// ReadAt reads the file, clipped to its size as io.ReaderAt wants.
func (d *Raw) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("disk: negative offset %d", off)
	}
	if off >= d.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), d.size-off)
	if err := readFull(d.r, p[:n], off); err != nil {
		return 0, &core.IOError{Structure: "raw disk data", Offset: off, Err: err}
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// Plan emits the one run covering [off, off+n) (clipped to the disk):
// the same bytes of the file.
func (d *Raw) Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error {
	if off < 0 || n < 0 {
		return fmt.Errorf("disk: negative offset or length")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if off >= d.size || n == 0 {
		return nil
	}
	n = min(n, d.size-off)
	return emit(core.Run{Kind: core.RunFile, Offset: off, Length: n, FileOffset: off})
}

// Verify has no container to check: its report is clean, with one note
// saying so.
func (d *Raw) Verify(ctx context.Context, progress func(done, total int64)) *core.Report {
	rep := &core.Report{Verdict: "clean", BAT: []core.BATStats{}, Checks: []core.Check{{
		Structure: "raw disk", Length: d.size, Status: core.StatusOK,
		Message: "a raw disk image has no container structures to check: the file's bytes are the disk's",
	}}}
	if progress != nil {
		progress(0, 0)
	}
	return rep
}

// File returns the file for level 0; a raw disk has no parents.
func (d *Raw) File(k int) (io.ReaderAt, int64, string) {
	if k != 0 {
		return nil, 0, ""
	}
	return d.r, d.size, d.name
}

// RawInfo is a JSON-ready description of a raw disk.
type RawInfo struct {
	Name              string `json:"name,omitempty"`
	Format            string `json:"format"` // always "raw"
	Type              string `json:"type"`   // always "raw"
	VirtualSize       int64  `json:"virtual_size"`
	FileSize          int64  `json:"file_size"`
	LogicalSectorSize int64  `json:"logical_sector_size"`
	// Signature is what the file's first bytes say it holds, e.g. "a raw
	// disk image (GPT partition table)" or "a file of unknown kind" when
	// it was opened as raw on request.
	Signature  string           `json:"signature"`
	Structures []core.Structure `json:"structures"`
}

// Info describes the raw disk: no container, one range of disk data.
func (d *Raw) Info() *RawInfo {
	return &RawInfo{Name: d.name, Format: FormatRaw, Type: "raw", VirtualSize: d.size, FileSize: d.size,
		LogicalSectorSize: int64(d.sectorSize), Signature: d.kind.Name,
		Structures: []core.Structure{{ID: "data", Name: "disk data", Offset: 0, Length: d.size, Status: core.StatusOK,
			Tags: []string{"raw"},
			Note: "a raw disk image: no container, the file's bytes are the virtual disk's",
			Fields: []core.Field{
				{Name: "Signature", Value: d.kind.Name},
				{Name: "Logical sector size", Value: fmt.Sprint(d.sectorSize)},
			}}},
	}
}

// readFull reads len(b) bytes at off; a short read is io.ErrUnexpectedEOF.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
