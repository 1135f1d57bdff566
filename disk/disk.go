package disk

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/vhd"
)

// Image is what every opened disk offers, whatever its format: the
// virtual disk's bytes (ReadAt, Size), where each byte comes from (Plan,
// in core.Run values, so downloads and scans read the files directly),
// a check of its structures (Verify) and the files of its chain (File).
// *core.Image, *vhd.Image and *Raw satisfy it.
type Image interface {
	io.ReaderAt
	Size() int64
	Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error
	Verify(ctx context.Context, progress func(done, total int64)) *core.Report
	File(k int) (r io.ReaderAt, size int64, name string)
}

// Formats, as Disk.Format and Facts.Format name them.
const (
	FormatVHDX = "vhdx"
	FormatVHD  = "vhd"
	FormatRaw  = "raw"
)

var (
	_ Image = (*core.Image)(nil)
	_ Image = (*vhd.Image)(nil)
	_ Image = (*Raw)(nil)
)

// Disk is an opened disk: its format's image and what a caller needs to
// render it. It is safe for concurrent use.
type Disk struct {
	Image
	format string
	facts  []*Facts // per chain level, built at open: images do not change
}

// Format returns "vhdx", "vhd" or "raw".
func (d *Disk) Format() string { return d.format }

// Levels returns the number of files in the disk's chain (1 unless it is
// a differencing disk with its parents attached).
func (d *Disk) Levels() int { return len(d.facts) }

// Facts describes chain level k (0 = the disk itself); nil when k is out
// of range.
func (d *Disk) Facts(k int) *Facts {
	if k < 0 || k >= len(d.facts) {
		return nil
	}
	return d.facts[k]
}

// Info is the format's own JSON-ready description of the disk, with its
// structures: a *core.Info, a *vhd.Info or a *RawInfo. Each has a
// "format" field.
func (d *Disk) Info() any {
	switch img := d.Image.(type) {
	case *core.Image:
		return img.Info()
	case *vhd.Image:
		return img.Info()
	case *Raw:
		return img.Info()
	}
	return nil
}

// Structures lists the file's structures in file order, as the format's
// Info does.
func (d *Disk) Structures() []core.Structure {
	switch in := d.Info().(type) {
	case *core.Info:
		return in.Structures
	case *vhd.Info:
		return in.Structures
	case *RawInfo:
		return in.Structures
	}
	return nil
}

// Facts are what every format says about one file of a disk, for
// summaries and block maps. Fields a format lacks are zero.
type Facts struct {
	Format      string `json:"format"` // vhdx | vhd | raw
	Name        string `json:"name"`
	Type        string `json:"type"` // fixed | dynamic | differencing | raw
	VirtualSize int64  `json:"virtual_size"`
	FileSize    int64  `json:"file_size"`
	// BlockSize and Blocks size the block map; both are 0 when the file
	// has none (a fixed VHD, a raw disk).
	BlockSize          int64  `json:"block_size"`
	Blocks             int64  `json:"payload_blocks"`
	LogicalSectorSize  int64  `json:"logical_sector_size"`
	PhysicalSectorSize int64  `json:"physical_sector_size"`
	Creator            string `json:"creator"`
	// ID is the disk's identity: VHDX VirtualDiskId, VHD Unique Id.
	ID string `json:"id,omitempty"`
	// DataWriteGUID is VHDX's (what a child's parent_linkage names).
	DataWriteGUID string `json:"data_write_guid,omitempty"`
	LogReplayed   bool   `json:"log_replayed"`
	// Missing names the parent not attached, when level 0 was opened
	// partially.
	Missing *Missing `json:"missing,omitempty"`
}

// Missing is a differencing disk's parent that is not attached, in the
// same words for VHDX and VHD.
type Missing struct {
	Message string `json:"message"`
	Child   string `json:"child"` // the disk whose parent is missing
	Level   int    `json:"level"` // its chain level
	// ParentLevel is the missing parent's chain level (Level+1): 2 for
	// the base of a grandchild opened with its parent.
	ParentLevel int `json:"parent_level"`
	// ParentName is the missing parent's file name as the child names it
	// (its locator's first path; a VHD's Parent Unicode Name), "" when
	// it names none.
	ParentName string `json:"parent_name,omitempty"`
	// Unidentified: the child names no parent identity (a VHDX locator
	// without parent_linkage), so no file can be attached as its parent.
	Unidentified bool       `json:"unidentified,omitempty"`
	Linkages     []string   `json:"linkages"` // the identities the child accepts
	Paths        []KeyValue `json:"paths"`    // the locator's paths, in the order to try them
	Tried        []string   `json:"tried,omitempty"`
}

// KeyValue is one locator path with the key (VHDX) or platform code (VHD)
// it was stored under.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// vhdxPathKeys and vhdPathCodes are the locator entries holding paths, in
// the order each spec tries them (MS-VHDX 2.6.2.6.3; VHD spec, "Parent
// Locator Entries": relative before absolute).
var (
	vhdxPathKeys = []string{"relative_path", "volume_path", "absolute_win32_path"}
	vhdPathCodes = []string{"W2ru", "W2ku", "Wi2r", "Wi2k", "Mac ", "MacX"}
)

// MissingOf returns err's missing-parent facts when err is a VHDX or VHD
// chain error, else nil.
func MissingOf(err error) *Missing {
	switch ce := chainError(err).(type) {
	case *core.ChainError:
		return missingVHDX(ce)
	case *vhd.ChainError:
		return missingVHD(ce)
	}
	return nil
}

func missingVHDX(ce *core.ChainError) *Missing {
	m := newMissing(ce.Error(), ce.Child, ce.Level, ce.Linkages, ce.Tried, ce.Locator, vhdxPathKeys)
	m.ParentName = ce.ParentName
	m.Unidentified = ce.Unidentified
	return m
}

func missingVHD(ce *vhd.ChainError) *Missing {
	m := newMissing(ce.Error(), ce.Child, ce.Level, ce.Linkages, ce.Tried, ce.Locator, vhdPathCodes)
	m.ParentName = baseName(ce.ParentName)
	if m.ParentName == "" && len(ce.Paths) > 0 {
		m.ParentName = baseName(ce.Paths[0])
	}
	return m
}

// baseName is the last element of a Windows or slash-separated path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// newMissing is a Missing from either format's chain error; keys orders
// the locator's paths as the format lists them.
func newMissing(msg, child string, level int, linkages, tried []string, locator map[string]string, keys []string) *Missing {
	m := &Missing{Message: msg, Child: child, Level: level, ParentLevel: level + 1, Linkages: linkages, Paths: []KeyValue{}, Tried: tried}
	for _, k := range keys {
		if v, ok := locator[k]; ok {
			m.Paths = append(m.Paths, KeyValue{k, v})
		}
	}
	return m
}

// newDisk builds the facts of every chain level.
func newDisk(img Image) *Disk {
	d := &Disk{Image: img}
	switch img := img.(type) {
	case *core.Image:
		d.format = FormatVHDX
		for _, lvl := range img.Chain() {
			in := lvl.Info()
			d.facts = append(d.facts, &Facts{Format: FormatVHDX, Name: in.Name, Type: in.Type, VirtualSize: in.VirtualSize,
				FileSize: in.FileSize, BlockSize: in.BlockSize, Blocks: in.PayloadBlocks,
				LogicalSectorSize: in.LogicalSectorSize, PhysicalSectorSize: in.PhysicalSectorSize, Creator: in.Creator,
				ID: in.VirtualDiskID, DataWriteGUID: in.DataWriteGUID, LogReplayed: in.LogReplayed})
		}
		if ce := img.Info().MissingParent; ce != nil {
			d.facts[0].Missing = missingVHDX(ce)
		}
	case *vhd.Image:
		d.format = FormatVHD
		for _, lvl := range img.Chain() {
			in := lvl.Info()
			d.facts = append(d.facts, &Facts{Format: FormatVHD, Name: in.Name, Type: in.Type, VirtualSize: in.VirtualSize,
				FileSize: in.FileSize, BlockSize: in.BlockSize, Blocks: in.PayloadBlocks,
				LogicalSectorSize: vhdSectorSize, PhysicalSectorSize: vhdSectorSize, Creator: in.Creator, ID: in.UniqueID})
		}
		if ce := img.Info().MissingParent; ce != nil {
			d.facts[0].Missing = missingVHD(ce)
		}
	case *Raw:
		d.format = FormatRaw
		d.facts = []*Facts{{Format: FormatRaw, Name: img.name, Type: "raw", VirtualSize: img.size, FileSize: img.size,
			LogicalSectorSize: int64(img.sectorSize), PhysicalSectorSize: int64(img.sectorSize)}}
	}
	return d
}

// vhdSectorSize is VHD's only sector size (VHD spec: "sectors are 512
// bytes").
const vhdSectorSize = 512

// States appends the allocation state of blocks [first, first+n) of chain
// level k to dst, in VHDX's numbering (MS-VHDX 2.5.1.1) so one map draws
// both formats: a VHD block not in the file is NOT_PRESENT (zeros, or the
// parent's in a differencing disk), a block in the file FULLY_PRESENT, or
// PARTIALLY_PRESENT in a differencing disk, whose sector bitmap says
// which sectors are here. A raw disk has no blocks.
func (d *Disk) States(dst []core.PayloadState, k int, first, n int64) ([]core.PayloadState, error) {
	f := d.Facts(k)
	if f == nil {
		return dst, fmt.Errorf("disk: level %d, but the chain has %d levels", k, d.Levels())
	}
	if first < 0 || n < 0 || first+n > f.Blocks {
		return dst, fmt.Errorf("disk: blocks %d+%d out of range (level %d has %d)", first, n, k, f.Blocks)
	}
	switch img := d.Image.(type) {
	case *core.Image:
		return img.Chain()[k].States(dst, first, n)
	case *vhd.Image:
		lvl := img.Chain()[k]
		present := core.PayloadFullyPresent
		if lvl.Type() == "differencing" {
			present = core.PayloadPartiallyPresent
		}
		// States reads in BAT pages; go a page's worth at a time so a
		// huge request holds no second copy.
		var buf []vhd.BlockState
		for done := int64(0); done < n; {
			step := min(n-done, 16384)
			var err error
			if buf, err = lvl.States(buf[:0], first+done, step); err != nil {
				return dst, err
			}
			for _, s := range buf {
				if s == vhd.BlockAllocated {
					dst = append(dst, present)
				} else {
					dst = append(dst, core.PayloadNotPresent)
				}
			}
			done += step
		}
		return dst, nil
	}
	return dst, nil
}

// Block is one block of the block map as the file's table describes it.
type Block struct {
	Index int64 `json:"index"`
	// State is the format's own name: VHDX's "FULLY_PRESENT", ...;
	// VHD's "allocated" or "unallocated".
	State      string `json:"state"`
	FileOffset int64  `json:"file_offset,omitempty"` // where its data is, if in the file
}

// Block returns block b of the disk itself (level 0). The error is a
// *core.BlockError when its table entry is damaged (the Block still
// carries its index and state).
func (d *Disk) Block(b int64) (Block, error) {
	switch img := d.Image.(type) {
	case *core.Image:
		blk, err := img.Block(b)
		return Block{Index: b, State: blk.State.String(), FileOffset: blk.FileOffset}, err
	case *vhd.Image:
		blk, err := img.Block(b)
		return Block{Index: b, State: blk.State.String(), FileOffset: blk.FileOffset}, err
	}
	return Block{}, fmt.Errorf("disk: a %s disk has no blocks", d.format)
}
