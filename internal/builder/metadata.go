package builder

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Metadata table entry flag bits (MS-VHDX 2.6.1.2).
const (
	flagIsUser        = 1 << 0
	flagIsVirtualDisk = 1 << 1
	flagIsRequired    = 1 << 2
)

// File Parameters flag bits (MS-VHDX 2.6.2.1).
const (
	FileParamLeaveBlockAllocated = 1 << 0
	FileParamHasParent           = 1 << 1
)

// FileParameters encodes a File Parameters item (MS-VHDX 2.6.2.1):
// BlockSize, then a 32-bit word with LeaveBlockAllocated (bit 0) and
// HasParent (bit 1).
func FileParameters(blockSize uint32, leaveBlockAllocated, hasParent bool) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b[0:4], blockSize)
	var f uint32
	if leaveBlockAllocated {
		f |= FileParamLeaveBlockAllocated
	}
	if hasParent {
		f |= FileParamHasParent
	}
	binary.LittleEndian.PutUint32(b[4:8], f)
	return b
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// metadataItems returns the metadata table in order: the known items of
// MS-VHDX 2.6.2 with the flags of its table, then the description's
// replacements, omissions and extra items.
func (im *Image) metadataItems(p *params) ([]MetadataItem, error) {
	id := GUIDBytes(p.virtualDiskID)
	items := []MetadataItem{
		{ID: FileParametersGUID, IsRequired: true,
			Data: FileParameters(p.blockSize, im.LeaveBlocksAllocated || p.fixed, p.differencing)},
		{ID: VirtualDiskSizeGUID, IsVirtualDisk: true, IsRequired: true, Data: le64(p.virtualSize)},
		{ID: VirtualDiskIDGUID, IsVirtualDisk: true, IsRequired: true, Data: id[:]},
		{ID: LogicalSectorSizeGUID, IsVirtualDisk: true, IsRequired: true, Data: le32(p.logical)},
		{ID: PhysicalSectorSizeGUID, IsVirtualDisk: true, IsRequired: true, Data: le32(p.physical)},
	}
	if im.Parent != nil {
		loc, err := im.Parent.Bytes()
		if err != nil {
			return nil, err
		}
		items = append(items, MetadataItem{ID: ParentLocatorGUID, IsRequired: true, Data: loc})
	}
	for _, r := range im.ReplaceMetadata {
		i := slices.IndexFunc(items, func(it MetadataItem) bool { return it.ID == r.ID })
		if i < 0 {
			return nil, fmt.Errorf("ReplaceMetadata: no built-in metadata item %s", r.ID)
		}
		items[i] = r
	}
	items = slices.DeleteFunc(items, func(it MetadataItem) bool {
		return slices.Contains(im.OmitMetadata, it.ID)
	})
	return append(items, im.ExtraMetadata...), nil
}

// encodeMetadataRegion returns the used part of the metadata region (the
// 64 KiB table followed by the packed items; MS-VHDX 2.6), the region
// length (rounded up to 1 MiB) and, for each entry, its item extent
// relative to the region.
func encodeMetadataRegion(items []MetadataItem) (region []byte, length uint64, extents []Extent, err error) {
	if 32+32*len(items) > metadataTableSize {
		return nil, 0, nil, fmt.Errorf("%d metadata entries do not fit in the 64 KiB table", len(items))
	}
	// Place the items.
	extents = make([]Extent, len(items))
	cursor := int64(metadataTableSize)
	end := cursor
	for i, it := range items {
		n := int64(len(it.Data))
		switch {
		case it.Offset != 0:
			extents[i] = Extent{int64(it.Offset), n}
		case n == 0:
			extents[i] = Extent{0, 0} // MS-VHDX 2.6.1.2: Length 0 => Offset 0
		default:
			extents[i] = Extent{cursor, n}
			cursor += n
		}
		end = max(end, extents[i].End())
	}
	region = make([]byte, end)
	copy(region, sigMetadata)
	binary.LittleEndian.PutUint16(region[10:12], uint16(len(items)))
	for i, it := range items {
		e := region[32+32*i:]
		PutGUID(e[0:16], it.ID)
		binary.LittleEndian.PutUint32(e[16:20], uint32(extents[i].Offset))
		binary.LittleEndian.PutUint32(e[20:24], uint32(extents[i].Length))
		var f uint32
		if it.IsUser {
			f |= flagIsUser
		}
		if it.IsVirtualDisk {
			f |= flagIsVirtualDisk
		}
		if it.IsRequired {
			f |= flagIsRequired
		}
		binary.LittleEndian.PutUint32(e[24:28], f)
	}
	for i, it := range items {
		copy(region[extents[i].Offset:], it.Data)
	}
	return region, roundUp(uint64(end), MiB), extents, nil
}
