package core

// The metadata region (MS-VHDX 2.6): a 64 KiB table followed by items.

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/google/uuid"
)

const (
	metadataTableSize   = 64 * kib
	metadataSignature   = "metadata"
	maxMetadataEntries  = 2047
	maxUserEntries      = 1024
	metadataEntrySize   = 32
	maxMetadataItemSize = 1 * mib
	maxVirtualDiskSize  = 64 * tib
	minBlockSize        = 1 * mib
	maxBlockSize        = 256 * mib
)

// metadataEntry is one metadata table entry (MS-VHDX 2.6.1.2).
type metadataEntry struct {
	ItemID        uuid.UUID
	Offset        uint32 // relative to the metadata region
	Length        uint32
	IsUser        bool
	IsVirtualDisk bool
	IsRequired    bool
	Flags         uint32 // the raw flag word (bits 3..31 reserved)
}

// Name returns the spec's name for a known system item, or "unknown".
func (e metadataEntry) Name() string {
	if e.IsUser {
		return "user item"
	}
	switch e.ItemID {
	case itemFileParameters:
		return "file parameters"
	case itemVirtualDiskSize:
		return "virtual disk size"
	case itemVirtualDiskID:
		return "virtual disk ID"
	case itemLogicalSectorSize:
		return "logical sector size"
	case itemPhysicalSectorSize:
		return "physical sector size"
	case itemParentLocator:
		return "parent locator"
	}
	return "unknown"
}

// fileParameters is the file parameters item (MS-VHDX 2.6.2.1).
type fileParameters struct {
	BlockSize            uint32
	LeaveBlocksAllocated bool
	HasParent            bool
}

// metadata is the decoded metadata region.
type metadata struct {
	Offset             int64 // file offset of the region (and of the table)
	Length             int64
	EntryCount         uint16
	Entries            []metadataEntry
	FileParameters     fileParameters
	VirtualDiskSize    uint64
	VirtualDiskID      uuid.UUID
	LogicalSectorSize  uint32
	PhysicalSectorSize uint32
	ParentLocator      *parentLocator // nil unless present
	// decoded holds the known items whose values were read, and checked
	// unless the check of that item is what failed (all of them once
	// readMetadata succeeds).
	decoded map[uuid.UUID]bool
}

// knownItemSize is the exact length of each fixed-size known item; the
// parent locator has a variable length.
var knownItemSize = map[uuid.UUID]uint32{
	itemFileParameters:     8,
	itemVirtualDiskSize:    8,
	itemVirtualDiskID:      16,
	itemLogicalSectorSize:  4,
	itemPhysicalSectorSize: 4,
}

// readMetadata reads and checks the table and every known item. r is the
// (possibly log-replayed) file view. On damage found after the table was
// read it returns what it had decoded with the error, for Inspect: the
// entries before the bad one, and the items in decoded.
func readMetadata(r io.ReaderAt, size int64, region regionEntry) (*metadata, error) {
	off := int64(region.FileOffset)
	m := &metadata{Offset: off, Length: int64(region.Length)}
	if region.Length < metadataTableSize {
		return nil, formatErr("metadata region", off, "Length", "shorter than the 64 KiB metadata table", region.Length)
	}
	b, err := readStruct(r, size, off, metadataTableSize, "metadata table")
	if err != nil {
		return nil, err
	}
	if string(b[0:8]) != metadataSignature {
		return m, formatErr("metadata table", off, "Signature", "bad signature", quoteBytes(b[0:8]))
	}
	m.EntryCount = binary.LittleEndian.Uint16(b[10:])
	if m.EntryCount > maxMetadataEntries {
		return m, formatErr("metadata table", off+10, "EntryCount", "more than 2047 entries", m.EntryCount)
	}
	users := 0
	type key struct {
		id   uuid.UUID
		user bool
	}
	seen := make(map[key]bool, m.EntryCount)
	for i := 0; i < int(m.EntryCount); i++ {
		p := 32 + i*metadataEntrySize
		eoff := off + int64(p)
		flags := binary.LittleEndian.Uint32(b[p+24:])
		e := metadataEntry{
			ItemID:        guidAt(b[p:]),
			Offset:        binary.LittleEndian.Uint32(b[p+16:]),
			Length:        binary.LittleEndian.Uint32(b[p+20:]),
			IsUser:        flags&1 != 0,
			IsVirtualDisk: flags&2 != 0,
			IsRequired:    flags&4 != 0,
			Flags:         flags,
		}
		where := fmt.Sprintf("metadata entry %d", i)
		switch {
		case seen[key{e.ItemID, e.IsUser}]:
			return m, formatErr(where, eoff, "ItemID", "item listed twice", e.ItemID)
		case e.Length > maxMetadataItemSize:
			return m, formatErr(where, eoff+20, "Length", "item longer than 1 MiB", e.Length)
		case e.Length == 0 && e.Offset != 0:
			return m, formatErr(where, eoff+16, "Offset", "empty item with a non-zero offset", e.Offset)
		case e.Length > 0 && e.Offset < metadataTableSize:
			return m, formatErr(where, eoff+16, "Offset", "item inside the metadata table", e.Offset)
		case uint64(e.Offset)+uint64(e.Length) > uint64(region.Length):
			return m, formatErr(where, eoff+16, "Offset", "item extends past the metadata region", fmt.Sprintf("offset %d length %d region %d", e.Offset, e.Length, region.Length))
		}
		for j, o := range m.Entries {
			if e.Length > 0 && o.Length > 0 && overlaps(uint64(e.Offset), uint64(e.Length), uint64(o.Offset), uint64(o.Length)) {
				return m, formatErr(where, eoff+16, "Offset", fmt.Sprintf("item overlaps metadata entry %d", j), e.Offset)
			}
		}
		seen[key{e.ItemID, e.IsUser}] = true
		if e.IsUser {
			users++
			if users > maxUserEntries {
				return m, formatErr(where, eoff+24, "IsUser", "more than 1024 user items", users)
			}
		}
		if e.Name() == "unknown" && e.IsRequired {
			return m, unsupportedErr(where, eoff+24, "IsRequired", "unknown metadata item "+e.ItemID.String()+" is marked required", nil)
		}
		m.Entries = append(m.Entries, e)
	}
	if err := m.readKnownItems(r, size); err != nil {
		return m, err
	}
	return m, nil
}

func (m *metadata) entry(id uuid.UUID) (metadataEntry, int, bool) {
	for i, e := range m.Entries {
		if e.ItemID == id && !e.IsUser {
			return e, i, true
		}
	}
	return metadataEntry{}, -1, false
}

func (m *metadata) itemOffset(e metadataEntry) int64 { return m.Offset + int64(e.Offset) }

func (m *metadata) readKnownItems(r io.ReaderAt, size int64) error {
	m.decoded = map[uuid.UUID]bool{}
	items := map[uuid.UUID][]byte{}
	for _, id := range []uuid.UUID{itemFileParameters, itemVirtualDiskSize, itemVirtualDiskID, itemLogicalSectorSize, itemPhysicalSectorSize, itemParentLocator} {
		e, _, ok := m.entry(id)
		if !ok {
			continue
		}
		name := e.Name() + " item"
		if want, fixed := knownItemSize[id]; fixed && e.Length != want {
			return formatErr(name, m.itemOffset(e), "Length", fmt.Sprintf("must be %d bytes", want), e.Length)
		}
		b, err := readStruct(r, size, m.itemOffset(e), int(e.Length), name)
		if err != nil {
			return err
		}
		items[id] = b
	}
	for _, id := range []uuid.UUID{itemFileParameters, itemVirtualDiskSize, itemVirtualDiskID, itemLogicalSectorSize, itemPhysicalSectorSize} {
		if items[id] == nil {
			return formatErr("metadata table", m.Offset, "", "required item missing: "+metadataEntry{ItemID: id}.Name(), id)
		}
	}
	fp := items[itemFileParameters]
	e, _, _ := m.entry(itemFileParameters)
	fpOff := m.itemOffset(e)
	m.FileParameters = fileParameters{
		BlockSize:            binary.LittleEndian.Uint32(fp[0:]),
		LeaveBlocksAllocated: fp[4]&1 != 0,
		HasParent:            fp[4]&2 != 0,
	}
	m.decoded[itemFileParameters] = true // shown even when a check below fails
	bs := m.FileParameters.BlockSize
	if bs < minBlockSize || bs > maxBlockSize || bs&(bs-1) != 0 {
		return formatErr("file parameters item", fpOff, "BlockSize", "must be a power of two from 1 MiB to 256 MiB", bs)
	}

	m.LogicalSectorSize = binary.LittleEndian.Uint32(items[itemLogicalSectorSize])
	m.decoded[itemLogicalSectorSize] = true
	if m.LogicalSectorSize != 512 && m.LogicalSectorSize != 4096 {
		e, _, _ := m.entry(itemLogicalSectorSize)
		return formatErr("logical sector size item", m.itemOffset(e), "LogicalSectorSize", "must be 512 or 4096", m.LogicalSectorSize)
	}
	m.PhysicalSectorSize = binary.LittleEndian.Uint32(items[itemPhysicalSectorSize])
	m.decoded[itemPhysicalSectorSize] = true
	if m.PhysicalSectorSize != 512 && m.PhysicalSectorSize != 4096 {
		e, _, _ := m.entry(itemPhysicalSectorSize)
		return formatErr("physical sector size item", m.itemOffset(e), "PhysicalSectorSize", "must be 512 or 4096", m.PhysicalSectorSize)
	}
	m.VirtualDiskSize = binary.LittleEndian.Uint64(items[itemVirtualDiskSize])
	m.decoded[itemVirtualDiskSize] = true
	{
		e, _, _ := m.entry(itemVirtualDiskSize)
		switch {
		case m.VirtualDiskSize == 0:
			return formatErr("virtual disk size item", m.itemOffset(e), "VirtualDiskSize", "zero", nil)
		case m.VirtualDiskSize > maxVirtualDiskSize:
			return formatErr("virtual disk size item", m.itemOffset(e), "VirtualDiskSize", "larger than 64 TiB", m.VirtualDiskSize)
		case m.VirtualDiskSize%uint64(m.LogicalSectorSize) != 0:
			return formatErr("virtual disk size item", m.itemOffset(e), "VirtualDiskSize", fmt.Sprintf("not a multiple of the logical sector size %d", m.LogicalSectorSize), m.VirtualDiskSize)
		}
	}
	m.VirtualDiskID = guidAt(items[itemVirtualDiskID])
	m.decoded[itemVirtualDiskID] = true

	if b := items[itemParentLocator]; b != nil {
		e, _, _ := m.entry(itemParentLocator)
		loc, err := parseParentLocator(b, m.itemOffset(e))
		if err != nil {
			return err
		}
		m.ParentLocator = loc
		m.decoded[itemParentLocator] = true
	}
	if m.FileParameters.HasParent && m.ParentLocator == nil {
		return formatErr("file parameters item", fpOff+4, "HasParent", "differencing disk without a parent locator item", nil)
	}
	return nil
}
