// Package builder writes VHDX (MS-VHDX, virtual hard disk v2) images from a
// declarative description, for tests.
//
// It is written from the specification alone (MS-VHDX sections 2.2-2.6) and
// independently of the reader in package core, so that the two can be
// checked against each other and against third-party readers (qemu-img,
// libvhdi).
//
// An Image describes the virtual disk (size, block and sector sizes, the
// state and contents of each payload block, an optional parent locator) and
// optional damage: raw BAT entries, header and region-table overrides, extra
// regions and metadata items, dirty-log entries and raw byte patches. The
// builder lays the file out as
//
//	0          header section (1 MiB, MS-VHDX 2.2)
//	1 MiB      log (LogLength, MS-VHDX 2.3)
//	...        metadata region (MS-VHDX 2.6)
//	...        BAT region (MS-VHDX 2.5)
//	...        extra regions, then payload and sector bitmap blocks in BAT order
//
// with every object 1 MiB aligned (MS-VHDX 2.1), and writes only the bytes
// that are not zero, so a target that starts out zero-filled (a new file,
// which the file system keeps sparse) receives exactly the image.
package builder

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"
)

// Sizes used by the layout.
const (
	KiB = 1024
	MiB = 1024 * KiB
	GiB = 1024 * MiB
	TiB = 1024 * GiB

	// MaxVirtualSize is the largest virtual disk size allowed by MS-VHDX
	// 2.6.2.2 ("at most 64 TB").
	MaxVirtualSize = 64 * TiB

	// DefaultBlockSize is used when Image.BlockSize is zero. It is the
	// smallest legal block size, which keeps test images small.
	DefaultBlockSize = 1 * MiB
	// DefaultSectorSize is used when a sector size is zero.
	DefaultSectorSize = 512
	// DefaultLogLength is the minimum log size; the builder grows the log
	// when Image.LogLength is zero and the log entries need more room.
	DefaultLogLength = 1 * MiB
	// DefaultCreator is written to the file type identifier when
	// Image.Creator is empty.
	DefaultCreator = "vhdxview builder"

	// SectorBitmapBlockSize is the size of a sector bitmap block
	// (MS-VHDX 2.4).
	SectorBitmapBlockSize = 1 * MiB
	// SectorsPerBitmapBlock is the number of sectors one sector bitmap
	// block describes (2^23, MS-VHDX 2.4).
	SectorsPerBitmapBlock = 1 << 23

	headerSectionSize = 1 * MiB
	headerOffset1     = 64 * KiB
	headerOffset2     = 128 * KiB
	regionTable1      = 192 * KiB
	regionTable2      = 256 * KiB
	metadataTableSize = 64 * KiB
)

// Image describes a VHDX file. The zero value of every field except
// VirtualSize selects a sensible, deterministic default, so that
//
//	builder.Image{VirtualSize: 8 << 20}
//
// is a valid, empty, dynamic 8 MiB disk.
type Image struct {
	// VirtualSize is the virtual disk size in bytes (MS-VHDX 2.6.2.2). It
	// must be a non-zero multiple of LogicalSectorSize, at most 64 TiB.
	VirtualSize uint64 `json:"virtualSize"`
	// BlockSize is the payload block size (MS-VHDX 2.6.2.1): a power of
	// two from 1 MiB to 256 MiB. Zero means DefaultBlockSize (1 MiB).
	BlockSize uint32 `json:"blockSize,omitempty"`
	// LogicalSectorSize is 512 or 4096 (MS-VHDX 2.6.2.4); zero means 512.
	LogicalSectorSize uint32 `json:"logicalSectorSize,omitempty"`
	// PhysicalSectorSize is 512 or 4096 (MS-VHDX 2.6.2.5); zero means 512.
	PhysicalSectorSize uint32 `json:"physicalSectorSize,omitempty"`
	// Creator is written as UTF-16LE into the file type identifier
	// (MS-VHDX 2.2.1), at most 256 UTF-16 code units. Empty means
	// DefaultCreator.
	Creator string `json:"creator,omitempty"`

	// VirtualDiskID is the Virtual Disk ID metadata item (MS-VHDX
	// 2.6.2.3). The zero UUID means DefaultVirtualDiskID.
	VirtualDiskID uuid.UUID `json:"virtualDiskId,omitzero"`
	// DataWriteGUID goes into both headers (MS-VHDX 2.2.2); a child's
	// parent_linkage must name the parent's DataWriteGUID. The zero UUID
	// means DefaultDataWriteGUID.
	DataWriteGUID uuid.UUID `json:"dataWriteGuid,omitzero"`
	// FileWriteGUID goes into both headers. The zero UUID means
	// DefaultFileWriteGUID.
	FileWriteGUID uuid.UUID `json:"fileWriteGuid,omitzero"`

	// LeaveBlocksAllocated sets the LeaveBlockAllocated bit of the File
	// Parameters item (MS-VHDX 2.6.2.1). Fixed implies it.
	LeaveBlocksAllocated bool `json:"leaveBlocksAllocated,omitempty"`
	// Fixed makes a fixed VHDX (MS-VHDX 1.3): every payload block gets file
	// space, in block order, and blocks absent from Blocks are
	// FULLY_PRESENT with zero contents. Blocks listed in Blocks keep their
	// state (the spec allows other states in fixed files, note <6>-<9>);
	// their space is still reserved but only referenced by the BAT if the
	// block has file data (see Block). Fixed and Parent are exclusive.
	Fixed bool `json:"fixed,omitempty"`

	// Blocks gives the state and contents of payload blocks, keyed by
	// payload block index (virtual offset / BlockSize). Blocks that are
	// not listed are NOT_PRESENT (or FULLY_PRESENT zero blocks if Fixed).
	Blocks map[uint64]Block `json:"blocks,omitempty"`

	// Parent, if non-nil, makes a differencing image: the HasParent bit is
	// set, the BAT gets the differencing entry count (MS-VHDX 2.5) and a
	// Parent Locator metadata item is written (MS-VHDX 2.6.2.6).
	Parent *ParentLocator `json:"parent,omitempty"`
	// AbsentSectorFill, if non-empty, is repeated over every sector of a
	// PARTIALLY_PRESENT block whose sector bitmap bit is clear, replacing
	// the block's Data there. Readers that ignore the bitmap then return
	// this marker instead of the parent's data.
	AbsentSectorFill []byte `json:"absentSectorFill,omitempty"`

	// LogLength is the size of the log (MS-VHDX 2.2.2 LogLength), a
	// multiple of 1 MiB. Zero means the smallest multiple of 1 MiB (at
	// least DefaultLogLength) that holds the entries of Log.
	LogLength uint32 `json:"logLength,omitempty"`
	// Log, if non-nil, makes the log non-empty: the headers get a non-zero
	// LogGuid and the described entries are written (MS-VHDX 2.3). A
	// non-nil Log without entries describes a file whose log claims to
	// hold entries but has none (a corrupt file, MS-VHDX 2.3.3).
	Log *Log `json:"log,omitempty"`

	// Headers overrides fields of the two headers (index 0 at 64 KiB,
	// index 1 at 128 KiB).
	Headers [2]HeaderOptions `json:"headers,omitzero"`
	// RegionTables damages the two region table copies (index 0 at
	// 192 KiB, index 1 at 256 KiB).
	RegionTables [2]RegionTableOptions `json:"regionTables,omitzero"`
	// ExtraRegions are appended to the region table after the BAT and
	// metadata regions. A region with the GUID of a known region makes a
	// duplicate entry.
	ExtraRegions []Region `json:"extraRegions,omitempty"`
	// OmitRegions removes the BAT and/or metadata region entry (by GUID)
	// from the region table; the structures are still written.
	OmitRegions []uuid.UUID `json:"omitRegions,omitempty"`

	// ReplaceMetadata replaces the built-in metadata item with the same ID
	// (keeping its place in the table), e.g. raw File Parameters bytes. An
	// item whose ID matches no built-in item is an error.
	ReplaceMetadata []MetadataItem `json:"replaceMetadata,omitempty"`
	// OmitMetadata removes built-in metadata items by ID.
	OmitMetadata []uuid.UUID `json:"omitMetadata,omitempty"`
	// ExtraMetadata is appended to the metadata table after the built-in
	// items. Duplicate IDs are written as given.
	ExtraMetadata []MetadataItem `json:"extraMetadata,omitempty"`

	// RawBAT overrides BAT entries by BAT entry index (not payload block
	// index; see PayloadBATIndex) with raw 64-bit values, after the
	// builder has filled the BAT. Indexes may exceed the entry count as
	// long as they fall within the BAT region.
	RawBAT map[uint64]uint64 `json:"rawBat,omitempty"`

	// Patches are raw byte writes applied last, after everything including
	// the log. Checksums are not recomputed.
	Patches []Patch `json:"patches,omitempty"`
}

// Block describes one payload block.
//
// A block "has file data", and is allocated in the file with its BAT entry's
// FileOffsetMB pointing at it, if its state is FULLY_PRESENT or
// PARTIALLY_PRESENT, or if Data or Fill is given. For the other states the
// data is stale content that a correct reader must not return
// (MS-VHDX 2.5.1.1 lets UNDEFINED and UNMAPPED entries point at old
// contents; for NOT_PRESENT and ZERO the field is reserved, so giving Data
// there produces a reserved-field violation on purpose).
type Block struct {
	// State is the payload BAT entry state.
	State PayloadState `json:"state"`
	// Data is the block's contents, zero-padded to the block size. It may
	// not be longer than the block.
	Data []byte `json:"data,omitempty"`
	// Fill generates the contents instead of Data (exclusive with Data).
	Fill *Fill `json:"fill,omitempty"`
	// Present lists, for a differencing image, sector ranges (relative to
	// the block, in logical sectors) whose sector bitmap bits are set.
	// Together with PresentBitmap it defines which sectors of a
	// PARTIALLY_PRESENT block come from this file.
	Present []SectorRange `json:"present,omitempty"`
	// PresentBitmap is the block's slice of the sector bitmap: bit n
	// (bit n%8 of byte n/8) set means sector n of the block is present.
	// It is OR-ed with Present.
	PresentBitmap []byte `json:"presentBitmap,omitempty"`
}

// SectorRange is a run of Count logical sectors starting at Start.
type SectorRange struct {
	Start uint64 `json:"start"`
	Count uint64 `json:"count"`
}

// HeaderOptions overrides fields of one header (MS-VHDX 2.2.2). The zero
// value writes a correct header.
type HeaderOptions struct {
	// Sequence is the SequenceNumber. If both headers have Sequence 0 the
	// builder uses 1 for the first and 2 for the second, so the header at
	// 128 KiB is current.
	Sequence uint64 `json:"sequence,omitempty"`
	// Omit leaves the header's 4 KiB zero (invalid signature).
	Omit bool `json:"omit,omitempty"`
	// CorruptChecksum stores a wrong checksum.
	CorruptChecksum bool `json:"corruptChecksum,omitempty"`
	// LogGUID overrides the LogGuid (nil: Log.GUID, or zero if no log).
	LogGUID *uuid.UUID `json:"logGuid,omitempty"`
	// DataWriteGUID overrides Image.DataWriteGUID for this header.
	DataWriteGUID *uuid.UUID `json:"dataWriteGuid,omitempty"`
	// Version overrides the Version field (default 1).
	Version *uint16 `json:"version,omitempty"`
	// LogVersion overrides the LogVersion field (default 0).
	LogVersion *uint16 `json:"logVersion,omitempty"`
	// LogOffset overrides the LogOffset field (default: where the log is).
	LogOffset *uint64 `json:"logOffset,omitempty"`
	// LogLength overrides the LogLength field (default: the log size).
	LogLength *uint32 `json:"logLength,omitempty"`
}

// RegionTableOptions damages one region table copy (MS-VHDX 2.2.3).
type RegionTableOptions struct {
	// Omit leaves the 64 KiB table zero.
	Omit bool `json:"omit,omitempty"`
	// CorruptChecksum stores a wrong checksum.
	CorruptChecksum bool `json:"corruptChecksum,omitempty"`
}

// Region is an additional region table entry (MS-VHDX 2.2.3.2).
type Region struct {
	// GUID identifies the region.
	GUID uuid.UUID `json:"guid"`
	// FileOffset places the region; zero lets the builder allocate it
	// (1 MiB aligned, after the BAT). An explicit offset is used as given,
	// even if it overlaps other structures.
	FileOffset uint64 `json:"fileOffset,omitempty"`
	// Length is the region length. Zero means len(Data) rounded up to
	// 1 MiB. It is written as given even if it is not a multiple of 1 MiB.
	Length uint32 `json:"length,omitempty"`
	// Required is the raw Required field: 1 means the region must be
	// understood to open the file.
	Required uint32 `json:"required,omitempty"`
	// Data is written at the start of the region.
	Data []byte `json:"data,omitempty"`
}

// MetadataItem is a metadata table entry and its item data (MS-VHDX
// 2.6.1.2).
type MetadataItem struct {
	// ID is the ItemID.
	ID            uuid.UUID `json:"id"`
	IsUser        bool      `json:"isUser,omitempty"`
	IsVirtualDisk bool      `json:"isVirtualDisk,omitempty"`
	IsRequired    bool      `json:"isRequired,omitempty"`
	// Data is the item. An empty item gets Offset 0 and Length 0, as the
	// spec requires.
	Data []byte `json:"data,omitempty"`
	// Offset, if non-zero, places the item at this offset within the
	// metadata region instead of packing it after the previous item. It is
	// used as given (it may overlap the table or other items).
	Offset uint32 `json:"offset,omitempty"`
}

// Patch is a raw write applied after the image is built.
type Patch struct {
	FileOffset uint64 `json:"fileOffset"`
	Data       []byte `json:"data"`
}

// params holds the resolved description.
type params struct {
	blockSize, logical, physical uint32
	virtualSize                  uint64
	chunkRatio                   uint64
	payloadBlocks, bitmapBlocks  uint64
	batEntries                   uint64
	differencing, fixed          bool
	creator                      string
	virtualDiskID, dataWrite     uuid.UUID
	fileWrite                    uuid.UUID
}

func orUUID(u, def uuid.UUID) uuid.UUID {
	if u == uuid.Nil {
		return def
	}
	return u
}

func (im *Image) resolve() (*params, error) {
	p := &params{
		blockSize:     im.BlockSize,
		logical:       im.LogicalSectorSize,
		physical:      im.PhysicalSectorSize,
		virtualSize:   im.VirtualSize,
		differencing:  im.Parent != nil,
		fixed:         im.Fixed,
		creator:       im.Creator,
		virtualDiskID: orUUID(im.VirtualDiskID, DefaultVirtualDiskID),
		dataWrite:     orUUID(im.DataWriteGUID, DefaultDataWriteGUID),
		fileWrite:     orUUID(im.FileWriteGUID, DefaultFileWriteGUID),
	}
	if p.blockSize == 0 {
		p.blockSize = DefaultBlockSize
	}
	if p.logical == 0 {
		p.logical = DefaultSectorSize
	}
	if p.physical == 0 {
		p.physical = DefaultSectorSize
	}
	if p.creator == "" {
		p.creator = DefaultCreator
	}
	if p.blockSize < MiB || p.blockSize > 256*MiB || p.blockSize&(p.blockSize-1) != 0 {
		return nil, fmt.Errorf("block size %d: must be a power of two from 1 MiB to 256 MiB (MS-VHDX 2.6.2.1)", p.blockSize)
	}
	if p.logical != 512 && p.logical != 4096 {
		return nil, fmt.Errorf("logical sector size %d: must be 512 or 4096 (MS-VHDX 2.6.2.4)", p.logical)
	}
	if p.physical != 512 && p.physical != 4096 {
		return nil, fmt.Errorf("physical sector size %d: must be 512 or 4096 (MS-VHDX 2.6.2.5)", p.physical)
	}
	if p.virtualSize == 0 || p.virtualSize%uint64(p.logical) != 0 || p.virtualSize > MaxVirtualSize {
		return nil, fmt.Errorf("virtual size %d: must be a non-zero multiple of %d, at most 64 TiB (MS-VHDX 2.6.2.2)", p.virtualSize, p.logical)
	}
	if p.fixed && p.differencing {
		return nil, errors.New("an image cannot be both Fixed and differencing (Parent set)")
	}
	p.chunkRatio = ChunkRatio(p.logical, p.blockSize)
	p.payloadBlocks = ceilDiv(p.virtualSize, uint64(p.blockSize))
	p.bitmapBlocks = ceilDiv(p.payloadBlocks, p.chunkRatio)
	p.batEntries = BATEntryCount(p.virtualSize, p.blockSize, p.logical, p.differencing)
	return p, nil
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }

func roundUp(a, b uint64) uint64 { return ceilDiv(a, b) * b }

// WriteTo writes the image into w, which must read as zeros wherever
// nothing is written (a new or truncated file, or a zeroed buffer), and
// returns the file size. Only non-zero bytes are written, so a sparse file
// receives holes for the rest. The caller must make the target at least
// size bytes long (WriteFile does).
func (im *Image) WriteTo(w io.WriterAt) (size int64, err error) {
	lay, err := im.Write(w)
	if err != nil {
		return 0, err
	}
	return lay.FileSize, nil
}

// Write is WriteTo returning the full Layout.
func (im *Image) Write(w io.WriterAt) (*Layout, error) {
	b, err := im.build()
	if err != nil {
		return nil, err
	}
	if err := b.store.flush(w, b.layout.FileSize); err != nil {
		return nil, err
	}
	return b.layout, nil
}

// Layout returns where each structure of the image will be placed, without
// writing anything.
func (im *Image) Layout() (*Layout, error) {
	b, err := im.build()
	if err != nil {
		return nil, err
	}
	return b.layout, nil
}

// Bytes returns the whole image in memory. Use it for small images only.
func (im *Image) Bytes() ([]byte, error) {
	b, err := im.build()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, b.layout.FileSize)
	if err := b.store.flush(byteWriter(buf), b.layout.FileSize); err != nil {
		return nil, err
	}
	return buf, nil
}

// WriteFile creates (or truncates) the file at path, writes the image and
// sets the file to its final size. Unwritten ranges stay holes on file
// systems that support sparse files.
func (im *Image) WriteFile(path string) (lay *Layout, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("builder: %w", cerr)
		}
	}()
	lay, err = im.Write(f)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(lay.FileSize); err != nil {
		return nil, fmt.Errorf("builder: setting size of %s: %w", path, err)
	}
	return lay, nil
}

// byteWriter is an io.WriterAt over a fixed buffer.
type byteWriter []byte

func (b byteWriter) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(b)) {
		return 0, fmt.Errorf("write of %d bytes at %d outside buffer of %d", len(p), off, len(b))
	}
	return copy(b[off:], p), nil
}
