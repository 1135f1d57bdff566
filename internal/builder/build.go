package builder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// built is an image assembled in memory.
type built struct {
	p      *params
	layout *Layout
	store  *pageStore
}

// build assembles the image. When Image.LogLength is zero it grows the log
// until the log entries fit.
func (im *Image) build() (*built, error) {
	p, err := im.resolve()
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	blocks, err := im.resolveBlocks(p)
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	items, err := im.metadataItems(p)
	if err != nil {
		return nil, fmt.Errorf("builder: metadata: %w", err)
	}
	logLen := uint64(im.LogLength)
	auto := logLen == 0
	if auto {
		logLen = DefaultLogLength
	}
	if logLen%MiB != 0 {
		return nil, fmt.Errorf("builder: log length %d is not a multiple of 1 MiB (MS-VHDX 2.2.2)", logLen)
	}
	for {
		b, err := im.buildWith(p, blocks, items, logLen, auto)
		var small *errLogTooSmall
		if auto && errors.As(err, &small) {
			logLen = roundUp(small.need, MiB)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("builder: %w", err)
		}
		return b, nil
	}
}

func (im *Image) buildWith(p *params, blocks map[uint64]*blockPlan, items []MetadataItem, logLen uint64, autoLog bool) (*built, error) {
	b := &built{p: p, store: newPageStore()}
	lay := &Layout{
		Headers:            [2]int64{headerOffset1, headerOffset2},
		RegionTables:       [2]int64{regionTable1, regionTable2},
		BATEntries:         p.batEntries,
		ChunkRatio:         p.chunkRatio,
		PayloadBlocks:      p.payloadBlocks,
		SectorBitmapBlocks: p.bitmapBlocks,
		BlockSize:          int64(p.blockSize),
		Blocks:             make(map[uint64]int64),
		SectorBitmaps:      make(map[uint64]int64),
	}
	b.layout = lay

	// Placement (MS-VHDX 2.1: everything 1 MiB aligned after the 1 MiB
	// header section).
	cursor := int64(headerSectionSize)
	lay.Log = Extent{cursor, int64(logLen)}
	cursor += int64(logLen)

	mdRegion, mdLen, mdExtents, err := encodeMetadataRegion(items)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	lay.Metadata = Extent{cursor, int64(mdLen)}
	cursor += int64(mdLen)
	for i, it := range items {
		e := mdExtents[i]
		if e.Length != 0 || e.Offset != 0 {
			e.Offset += lay.Metadata.Offset
		}
		lay.MetadataItems = append(lay.MetadataItems, MetadataItemLayout{
			ID: it.ID, Entry: lay.Metadata.Offset + 32 + 32*int64(i), Item: e})
	}

	batLen := roundUp(p.batEntries*8, MiB)
	lay.BAT = Extent{cursor, int64(batLen)}
	cursor += int64(batLen)

	end := cursor
	for i, r := range im.ExtraRegions {
		length := uint64(r.Length)
		if length == 0 {
			length = roundUp(uint64(len(r.Data)), MiB)
		}
		if uint64(len(r.Data)) > length {
			return nil, fmt.Errorf("extra region %s: %d bytes of data, length %d", r.GUID, len(r.Data), length)
		}
		if err := checkOffset(fmt.Sprintf("extra region %d", i), r.FileOffset, int(length)); err != nil {
			return nil, err
		}
		off := int64(r.FileOffset)
		if off == 0 {
			off = cursor
			cursor += int64(roundUp(length, MiB))
		}
		lay.ExtraRegions = append(lay.ExtraRegions, Extent{off, int64(length)})
		end = max(end, off+int64(length))
	}

	// Which chunks need a sector bitmap block (MS-VHDX 2.5.1.2: any chunk
	// with a PARTIALLY_PRESENT block).
	needBitmap := make(map[uint64]bool)
	if p.differencing {
		for i, bp := range blocks {
			if bp.state == PayloadPartiallyPresent {
				needBitmap[i/p.chunkRatio] = true
			}
		}
	}

	// Payload and sector bitmap blocks in BAT order. For a sparse image
	// only the listed blocks are visited.
	bat := make(map[uint64]uint64)
	var order []uint64
	if p.fixed {
		order = make([]uint64, p.payloadBlocks)
		for i := range order {
			order[i] = uint64(i)
		}
	} else {
		for i := range blocks {
			order = append(order, i)
		}
		slices.Sort(order)
	}
	placeBitmap := func(c uint64) {
		if needBitmap[c] {
			lay.SectorBitmaps[c] = cursor
			bat[SectorBitmapBATIndex(c, p.chunkRatio)] = BATEntry(SectorBitmapPresent, uint64(cursor))
			cursor += SectorBitmapBlockSize
			delete(needBitmap, c)
		}
	}
	for _, i := range order {
		c := i / p.chunkRatio
		// Bitmaps of earlier chunks without listed blocks at their end.
		for _, pc := range sortedKeys(needBitmap) {
			if pc < c {
				placeBitmap(pc)
			}
		}
		bp := blocks[i]
		state := PayloadNotPresent
		if bp != nil {
			state = bp.state
		} else if p.fixed {
			state = PayloadFullyPresent
		}
		var entry uint64
		allocated := p.fixed || (bp != nil && bp.hasData)
		referenced := (bp == nil && p.fixed) || (bp != nil && bp.hasData)
		if allocated {
			if referenced {
				lay.Blocks[i] = cursor
				entry = BATEntry(uint8(state), uint64(cursor))
			}
			cursor += int64(p.blockSize)
		}
		if entry == 0 {
			entry = uint64(state)
		}
		if entry != 0 {
			bat[PayloadBATIndex(i, p.chunkRatio)] = entry
		}
		if i%p.chunkRatio == p.chunkRatio-1 || i == p.payloadBlocks-1 {
			placeBitmap(c)
		}
	}
	for _, c := range sortedKeys(needBitmap) {
		placeBitmap(c)
	}
	end = max(end, cursor)
	for i, pt := range im.Patches {
		if err := checkOffset(fmt.Sprintf("patch %d", i), pt.FileOffset, len(pt.Data)); err != nil {
			return nil, err
		}
		end = max(end, int64(pt.FileOffset)+int64(len(pt.Data)))
	}
	lay.FileSize = end

	// Contents.
	st := b.store
	fti, err := fileTypeIdentifier(p.creator)
	if err != nil {
		return nil, err
	}
	st.put(fti, 0)
	hs := im.headers(p, lay.Log)
	switch {
	case hs[0].sequence > hs[1].sequence:
		lay.CurrentHeader = 0
	case hs[1].sequence > hs[0].sequence:
		lay.CurrentHeader = 1
	default:
		lay.CurrentHeader = -1
	}
	for i, h := range hs {
		if im.Headers[i].Omit {
			continue
		}
		raw := h.encode()
		if im.Headers[i].CorruptChecksum {
			raw[4] ^= 0xFF
		}
		st.put(raw, lay.Headers[i])
	}

	var regions []regionEntry
	for _, r := range []regionEntry{
		{BATRegionGUID, uint64(lay.BAT.Offset), uint32(lay.BAT.Length), 1},
		{MetadataRegionGUID, uint64(lay.Metadata.Offset), uint32(lay.Metadata.Length), 1},
	} {
		if !slices.Contains(im.OmitRegions, r.guid) {
			regions = append(regions, r)
		}
	}
	for i, r := range im.ExtraRegions {
		ext := lay.ExtraRegions[i]
		regions = append(regions, regionEntry{r.GUID, uint64(ext.Offset), uint32(ext.Length), r.Required})
		st.put(r.Data, ext.Offset)
	}
	rt, err := encodeRegionTable(regions)
	if err != nil {
		return nil, err
	}
	for i, o := range im.RegionTables {
		if o.Omit {
			continue
		}
		raw := slices.Clone(rt)
		if o.CorruptChecksum {
			raw[4] ^= 0xFF
		}
		st.put(raw, lay.RegionTables[i])
	}

	st.put(mdRegion, lay.Metadata.Offset)

	for idx, v := range im.RawBAT {
		if idx >= uint64(lay.BAT.Length)/8 {
			return nil, fmt.Errorf("RawBAT index %d outside the %d-entry BAT region", idx, lay.BAT.Length/8)
		}
		bat[idx] = v
	}
	var e8 [8]byte
	for idx, v := range bat {
		binary.LittleEndian.PutUint64(e8[:], v)
		st.put(e8[:], lay.BAT.Offset+8*int64(idx))
	}

	if err := b.writeBlocks(im, blocks); err != nil {
		return nil, err
	}

	if err := b.writeLog(im, autoLog); err != nil {
		return nil, err
	}

	for _, pt := range im.Patches {
		st.put(pt.Data, int64(pt.FileOffset))
	}
	return b, nil
}

// writeBlocks writes payload data and sector bitmaps.
func (b *built) writeBlocks(im *Image, blocks map[uint64]*blockPlan) error {
	p, lay, st := b.p, b.layout, b.store
	spb := uint64(p.blockSize / p.logical)
	for i, off := range lay.Blocks {
		bp := blocks[i]
		if bp == nil || bp.contents == nil && (bp.state != PayloadPartiallyPresent || len(im.AbsentSectorFill) == 0) {
			continue
		}
		data := bp.contents
		if bp.state == PayloadPartiallyPresent && len(im.AbsentSectorFill) > 0 {
			data = make([]byte, p.blockSize)
			copy(data, bp.contents)
			for s := uint64(0); s < spb; s++ {
				if bp.sectorPresent(s) {
					continue
				}
				sec := data[s*uint64(p.logical) : (s+1)*uint64(p.logical)]
				for k := range sec {
					sec[k] = im.AbsentSectorFill[k%len(im.AbsentSectorFill)]
				}
			}
		}
		st.put(data, off)
	}
	// Sector bitmaps (MS-VHDX 2.4): bit n of chunk c's block is sector
	// c*2^23+n. Bits are set for FULLY_PRESENT blocks and for the sectors
	// listed in Present/PresentBitmap.
	for c, off := range lay.SectorBitmaps {
		bm := make([]byte, SectorBitmapBlockSize)
		for j := uint64(0); j < p.chunkRatio; j++ {
			i := c*p.chunkRatio + j
			bp := blocks[i]
			if bp == nil {
				continue
			}
			dst := bm[j*spb/8 : (j+1)*spb/8]
			if bp.state == PayloadFullyPresent {
				for k := range dst {
					dst[k] = 0xFF
				}
			}
			for k := range bp.present {
				dst[k] |= bp.present[k]
			}
		}
		st.put(bm, off)
	}
	return nil
}

func sortedKeys(m map[uint64]bool) []uint64 {
	ks := make([]uint64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
