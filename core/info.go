package core

import (
	"fmt"

	"github.com/google/uuid"
)

// Info is a JSON-ready summary of an opened image: what `vhdx info --json`
// prints and what the page shows.
type Info struct {
	Name               string            `json:"name,omitempty"`
	Type               string            `json:"type"` // fixed | dynamic | differencing
	VirtualSize        int64             `json:"virtual_size"`
	LogicalSectorSize  int64             `json:"logical_sector_size"`
	PhysicalSectorSize int64             `json:"physical_sector_size"`
	BlockSize          int64             `json:"block_size"`
	VirtualDiskID      uuid.UUID         `json:"virtual_disk_id"`
	Creator            string            `json:"creator"`
	FileSize           int64             `json:"file_size"`
	DataWriteGUID      uuid.UUID         `json:"data_write_guid"`
	FileWriteGUID      uuid.UUID         `json:"file_write_guid"`
	Headers            []HeaderInfo      `json:"headers"`
	ActiveHeader       int               `json:"active_header"` // 1 or 2
	ActiveReason       string            `json:"active_reason"`
	RegionTables       []RegionTableInfo `json:"region_tables"`
	RegionNote         string            `json:"region_note,omitempty"`
	Metadata           MetadataInfo      `json:"metadata"`
	Log                *LogInfo          `json:"log"`
	BAT                BATInfo           `json:"bat"`
	ParentLocator      *LocatorInfo      `json:"parent_locator,omitempty"`
	Chain              []ChainLevel      `json:"chain,omitempty"`
}

// HeaderInfo is one header copy.
type HeaderInfo struct {
	Index            int       `json:"index"`
	Offset           int64     `json:"offset"`
	Valid            bool      `json:"valid"`
	Active           bool      `json:"active"`
	SignatureOK      bool      `json:"signature_ok"`
	ChecksumOK       bool      `json:"checksum_ok"`
	Checksum         string    `json:"checksum"`
	ComputedChecksum string    `json:"computed_checksum"`
	SequenceNumber   uint64    `json:"sequence_number"`
	FileWriteGUID    uuid.UUID `json:"file_write_guid"`
	DataWriteGUID    uuid.UUID `json:"data_write_guid"`
	LogGUID          uuid.UUID `json:"log_guid"`
	LogVersion       uint16    `json:"log_version"`
	Version          uint16    `json:"version"`
	LogLength        uint32    `json:"log_length"`
	LogOffset        uint64    `json:"log_offset"`
	Error            string    `json:"error,omitempty"`
}

// RegionTableInfo is one region table copy.
type RegionTableInfo struct {
	Index            int          `json:"index"`
	Offset           int64        `json:"offset"`
	Valid            bool         `json:"valid"`
	InUse            bool         `json:"in_use"`
	ChecksumOK       bool         `json:"checksum_ok"`
	Checksum         string       `json:"checksum"`
	ComputedChecksum string       `json:"computed_checksum"`
	EntryCount       uint32       `json:"entry_count"`
	Entries          []RegionInfo `json:"entries"`
	Error            string       `json:"error,omitempty"`
}

// RegionInfo is one region table entry.
type RegionInfo struct {
	GUID       uuid.UUID `json:"guid"`
	Name       string    `json:"name"`
	FileOffset uint64    `json:"file_offset"`
	Length     uint32    `json:"length"`
	Required   bool      `json:"required"`
}

// MetadataInfo is the metadata region.
type MetadataInfo struct {
	Offset               int64               `json:"offset"`
	Length               int64               `json:"length"`
	EntryCount           int                 `json:"entry_count"`
	Entries              []MetadataEntryInfo `json:"entries"`
	LeaveBlocksAllocated bool                `json:"leave_blocks_allocated"`
	HasParent            bool                `json:"has_parent"`
}

// MetadataEntryInfo is one metadata table entry.
type MetadataEntryInfo struct {
	ItemID        uuid.UUID `json:"item_id"`
	Name          string    `json:"name"`
	FileOffset    int64     `json:"file_offset"`
	Length        uint32    `json:"length"`
	IsUser        bool      `json:"is_user"`
	IsVirtualDisk bool      `json:"is_virtual_disk"`
	IsRequired    bool      `json:"is_required"`
}

// BATInfo is the BAT's geometry.
type BATInfo struct {
	Offset        int64 `json:"offset"`
	Length        int64 `json:"length"`
	Entries       int64 `json:"entries"`
	ChunkRatio    int64 `json:"chunk_ratio"`
	PayloadBlocks int64 `json:"payload_blocks"`
	BitmapBlocks  int64 `json:"sector_bitmap_blocks"`
}

// LocatorInfo is the parent locator.
type LocatorInfo struct {
	Offset      int64      `json:"offset"`
	LocatorType uuid.UUID  `json:"type"`
	Entries     []KeyValue `json:"entries"`
}

// ChainLevel is one file of a differencing chain.
type ChainLevel struct {
	Level         int       `json:"level"`
	Name          string    `json:"name"`
	Type          string    `json:"type"`
	VirtualDiskID uuid.UUID `json:"virtual_disk_id"`
	DataWriteGUID uuid.UUID `json:"data_write_guid"`
	// LinkageOK: this level's DataWriteGuid is what the level below names
	// as its parent (always true for level 0).
	LinkageOK bool `json:"linkage_ok"`
	Replayed  bool `json:"log_replayed"`
}

// Info summarises the image.
func (img *Image) Info() *Info {
	h := img.Header()
	m := img.Metadata
	in := &Info{
		Name: img.Name, Type: img.Type(), VirtualSize: img.Size(),
		LogicalSectorSize: int64(m.LogicalSectorSize), PhysicalSectorSize: int64(m.PhysicalSectorSize),
		BlockSize: img.Geometry.BlockSize, VirtualDiskID: m.VirtualDiskID, Creator: img.FileIdentifier.Creator,
		FileSize: img.FileSize, DataWriteGUID: h.DataWriteGUID, FileWriteGUID: h.FileWriteGUID,
		ActiveHeader: img.Current + 1, ActiveReason: img.CurrentReason, RegionNote: img.RegionNote, Log: img.Log,
		BAT: BATInfo{Offset: int64(img.BATRegion.FileOffset), Length: int64(img.BATRegion.Length), Entries: img.Geometry.BATEntries,
			ChunkRatio: img.Geometry.ChunkRatio, PayloadBlocks: img.Geometry.PayloadBlocks, BitmapBlocks: img.Geometry.BitmapBlocks},
	}
	for i, c := range img.Headers {
		hi := HeaderInfo{Index: c.Index, Offset: c.Offset, Valid: c.Valid(), Active: i == img.Current, SignatureOK: c.SignatureOK,
			ChecksumOK: c.ChecksumOK, Checksum: fmt.Sprintf("0x%08x", c.Header.Checksum), ComputedChecksum: fmt.Sprintf("0x%08x", c.ComputedChecksum),
			SequenceNumber: c.Header.SequenceNumber, FileWriteGUID: c.Header.FileWriteGUID, DataWriteGUID: c.Header.DataWriteGUID,
			LogGUID: c.Header.LogGUID, LogVersion: c.Header.LogVersion, Version: c.Header.Version, LogLength: c.Header.LogLength, LogOffset: c.Header.LogOffset}
		if c.Err != nil {
			hi.Error = c.Err.Error()
		}
		in.Headers = append(in.Headers, hi)
	}
	for _, t := range img.RegionTables {
		ti := RegionTableInfo{Index: t.Index, Offset: t.Offset, Valid: t.Err == nil, InUse: t == img.Regions,
			ChecksumOK: t.Checksum == t.ComputedChecksum, Checksum: fmt.Sprintf("0x%08x", t.Checksum),
			ComputedChecksum: fmt.Sprintf("0x%08x", t.ComputedChecksum), EntryCount: t.EntryCount, Entries: []RegionInfo{}}
		if t.Err != nil {
			ti.Error = t.Err.Error()
		}
		for _, e := range t.Entries {
			ti.Entries = append(ti.Entries, RegionInfo{GUID: e.GUID, Name: e.Name(), FileOffset: e.FileOffset, Length: e.Length, Required: e.Required != 0})
		}
		in.RegionTables = append(in.RegionTables, ti)
	}
	in.Metadata = MetadataInfo{Offset: m.Offset, Length: m.Length, EntryCount: int(m.EntryCount),
		LeaveBlocksAllocated: m.FileParameters.LeaveBlocksAllocated, HasParent: m.FileParameters.HasParent}
	for _, e := range m.Entries {
		in.Metadata.Entries = append(in.Metadata.Entries, MetadataEntryInfo{ItemID: e.ItemID, Name: e.Name(), FileOffset: m.itemOffset(e),
			Length: e.Length, IsUser: e.IsUser, IsVirtualDisk: e.IsVirtualDisk, IsRequired: e.IsRequired})
	}
	if l := m.ParentLocator; l != nil {
		in.ParentLocator = &LocatorInfo{Offset: l.Offset, LocatorType: l.LocatorType, Entries: l.Entries}
	}
	if m.FileParameters.HasParent {
		for _, lvl := range img.Chain() {
			cl := ChainLevel{Level: lvl.Level, Name: lvl.Name, Type: lvl.Type(), VirtualDiskID: lvl.Metadata.VirtualDiskID,
				DataWriteGUID: lvl.Header().DataWriteGUID, LinkageOK: true, Replayed: lvl.Log.Replayed}
			in.Chain = append(in.Chain, cl)
		}
	}
	return in
}
