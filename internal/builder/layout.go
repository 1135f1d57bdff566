package builder

import "github.com/google/uuid"

// Extent is a byte range of the file.
type Extent struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// End returns the offset just past the extent.
func (e Extent) End() int64 { return e.Offset + e.Length }

// Layout tells where the builder placed each structure, so tests can
// damage exactly the bytes they mean to. All offsets are file offsets in
// bytes unless stated otherwise.
type Layout struct {
	// FileSize is the size of the file.
	FileSize int64 `json:"fileSize"`
	// Headers are the two header offsets (64 KiB and 128 KiB), each a
	// 4 KiB structure (MS-VHDX 2.2.2).
	Headers [2]int64 `json:"headers"`
	// CurrentHeader is the index (0 or 1) of the header with the greater
	// sequence number, or -1 if they are equal.
	CurrentHeader int `json:"currentHeader"`
	// RegionTables are the two region table offsets (192 KiB and
	// 256 KiB), each 64 KiB (MS-VHDX 2.2.3).
	RegionTables [2]int64 `json:"regionTables"`

	// Log is the log region (MS-VHDX 2.3).
	Log Extent `json:"log"`
	// LogEntries lists the entries written to the log, explicit entries
	// first, then the ones generated for Log.Deferred.
	LogEntries []LogEntryLayout `json:"logEntries,omitempty"`
	// Deferred lists the 4 KiB pages whose final contents exist only in
	// the log (their file location holds stale bytes).
	Deferred []Extent `json:"deferred,omitempty"`

	// Metadata is the metadata region; its first 64 KiB are the metadata
	// table (MS-VHDX 2.6).
	Metadata Extent `json:"metadata"`
	// MetadataItems lists the metadata table entries in table order.
	MetadataItems []MetadataItemLayout `json:"metadataItems"`

	// BAT is the BAT region (MS-VHDX 2.5).
	BAT Extent `json:"bat"`
	// BATEntries is the number of BAT entries the disk needs.
	BATEntries uint64 `json:"batEntries"`
	// ChunkRatio is the number of payload blocks per chunk.
	ChunkRatio uint64 `json:"chunkRatio"`
	// PayloadBlocks and SectorBitmapBlocks count the virtual blocks.
	PayloadBlocks      uint64 `json:"payloadBlocks"`
	SectorBitmapBlocks uint64 `json:"sectorBitmapBlocks"`
	// BlockSize is the payload block size.
	BlockSize int64 `json:"blockSize"`
	// Blocks maps payload block index to the file offset its BAT entry
	// points at (blocks without file data are absent).
	Blocks map[uint64]int64 `json:"blocks,omitempty"`
	// SectorBitmaps maps chunk index to the file offset of its 1 MiB
	// sector bitmap block.
	SectorBitmaps map[uint64]int64 `json:"sectorBitmaps,omitempty"`

	// ExtraRegions are the extents of Image.ExtraRegions, in order.
	ExtraRegions []Extent `json:"extraRegions,omitempty"`
}

// LogEntryLayout describes one log entry as written.
type LogEntryLayout struct {
	// At is the entry's offset within the log.
	At uint32 `json:"at"`
	// Offset is the file offset of the entry's first sector.
	Offset int64 `json:"offset"`
	// Length is EntryLength.
	Length uint32 `json:"length"`
	// Sequence is the entry's SequenceNumber and Tail its Tail field.
	Sequence uint64 `json:"sequence"`
	Tail     uint32 `json:"tail"`
	// Descriptors is DescriptorCount; DescriptorSectors and DataSectors
	// count the entry's sectors of each kind.
	Descriptors       int `json:"descriptors"`
	DescriptorSectors int `json:"descriptorSectors"`
	DataSectors       int `json:"dataSectors"`
	// Wraps is true if the entry continues at the start of the log.
	Wraps bool `json:"wraps,omitempty"`
	// Generated is true for entries made from Log.Deferred.
	Generated bool `json:"generated,omitempty"`
}

// MetadataItemLayout describes one metadata table entry.
type MetadataItemLayout struct {
	ID uuid.UUID `json:"id"`
	// Entry is the file offset of the 32-byte table entry.
	Entry int64 `json:"entry"`
	// Item is the item's extent in the file (Offset is the file offset,
	// i.e. metadata region offset + the entry's Offset field).
	Item Extent `json:"item"`
}

// PayloadEntryOffset returns the file offset of the BAT entry of payload
// block i.
func (l *Layout) PayloadEntryOffset(i uint64) int64 {
	return l.BAT.Offset + 8*int64(PayloadBATIndex(i, l.ChunkRatio))
}

// SectorBitmapEntryOffset returns the file offset of the BAT entry of the
// sector bitmap block of chunk c.
func (l *Layout) SectorBitmapEntryOffset(c uint64) int64 {
	return l.BAT.Offset + 8*int64(SectorBitmapBATIndex(c, l.ChunkRatio))
}

// MetadataItem returns the layout of the first table entry with the given
// ID.
func (l *Layout) MetadataItem(id uuid.UUID) (MetadataItemLayout, bool) {
	for _, it := range l.MetadataItems {
		if it.ID == id {
			return it, true
		}
	}
	return MetadataItemLayout{}, false
}
