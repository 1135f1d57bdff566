package builder

import "fmt"

// BAT arithmetic (MS-VHDX 2.4 and 2.5).

// ChunkRatio returns the number of payload blocks per sector bitmap block:
// (2^23 * logicalSectorSize) / blockSize (MS-VHDX 2.4).
func ChunkRatio(logicalSectorSize, blockSize uint32) uint64 {
	return (SectorsPerBitmapBlock * uint64(logicalSectorSize)) / uint64(blockSize)
}

// BATEntryCount returns the number of BAT entries for a disk (MS-VHDX 2.5):
//
//	dynamic/fixed: PayloadBlocks + Fl((PayloadBlocks-1) / ChunkRatio)
//	differencing:  SectorBitmapBlocks * (ChunkRatio + 1)
//
// with PayloadBlocks = Ceil(VirtualSize / BlockSize) and
// SectorBitmapBlocks = Ceil(PayloadBlocks / ChunkRatio).
func BATEntryCount(virtualSize uint64, blockSize, logicalSectorSize uint32, differencing bool) uint64 {
	cr := ChunkRatio(logicalSectorSize, blockSize)
	pb := ceilDiv(virtualSize, uint64(blockSize))
	if pb == 0 {
		return 0
	}
	if differencing {
		return ceilDiv(pb, cr) * (cr + 1)
	}
	return pb + (pb-1)/cr
}

// PayloadBATIndex returns the BAT entry index of payload block i: the
// entries of each chunk's payload blocks are followed by that chunk's
// sector bitmap entry, so i + Fl(i / chunkRatio).
func PayloadBATIndex(i, chunkRatio uint64) uint64 { return i + i/chunkRatio }

// SectorBitmapBATIndex returns the BAT entry index of the sector bitmap
// block of chunk c: c*(chunkRatio+1) + chunkRatio.
func SectorBitmapBATIndex(c, chunkRatio uint64) uint64 { return c*(chunkRatio+1) + chunkRatio }

// BATEntry encodes a BAT entry (MS-VHDX 2.5.1): the state in bits 0-2 and
// FileOffsetMB (fileOffset / 1 MiB) in bits 20-63. fileOffset is truncated
// to a multiple of 1 MiB.
func BATEntry(state uint8, fileOffset uint64) uint64 {
	return uint64(state&7) | (fileOffset/MiB)<<20
}

// blockPlan is the resolved description of one payload block.
type blockPlan struct {
	state PayloadState
	// contents is the block's logical contents, possibly shorter than the
	// block (the rest is zero); nil means all zero.
	contents []byte
	// hasData means the block is allocated and its BAT entry points at it.
	hasData bool
	// present is the block's slice of the sector bitmap (one bit per
	// logical sector), or nil if no bit is set.
	present []byte
}

// resolveBlocks validates Blocks and materialises their contents.
func (im *Image) resolveBlocks(p *params) (map[uint64]*blockPlan, error) {
	plans := make(map[uint64]*blockPlan, len(im.Blocks))
	spb := uint64(p.blockSize / p.logical) // sectors per block
	for i, b := range im.Blocks {
		if i >= p.payloadBlocks {
			return nil, fmt.Errorf("block %d: out of range, the disk has %d payload blocks", i, p.payloadBlocks)
		}
		if b.State > 7 {
			return nil, fmt.Errorf("block %d: state %d out of range 0-7", i, b.State)
		}
		if b.State == PayloadPartiallyPresent && !p.differencing {
			return nil, fmt.Errorf("block %d: PARTIALLY_PRESENT is only valid in a differencing image (MS-VHDX 2.5.1.1); use RawBAT to force it", i)
		}
		if len(b.Data) > int(p.blockSize) {
			return nil, fmt.Errorf("block %d: %d bytes of data, block size is %d", i, len(b.Data), p.blockSize)
		}
		bp := &blockPlan{state: b.State, contents: b.Data}
		if b.Fill != nil {
			if b.Data != nil {
				return nil, fmt.Errorf("block %d: both Data and Fill given", i)
			}
			if err := b.Fill.validate(); err != nil {
				return nil, fmt.Errorf("block %d: %w", i, err)
			}
			bp.contents = make([]byte, p.blockSize)
			b.Fill.generate(bp.contents, i*uint64(p.blockSize))
		}
		bp.hasData = b.State == PayloadFullyPresent || b.State == PayloadPartiallyPresent ||
			b.Data != nil || b.Fill != nil
		if len(b.PresentBitmap) > int(spb/8) {
			return nil, fmt.Errorf("block %d: present bitmap of %d bytes, a block has %d sectors", i, len(b.PresentBitmap), spb)
		}
		if len(b.Present) > 0 || len(b.PresentBitmap) > 0 {
			bp.present = make([]byte, spb/8)
			copy(bp.present, b.PresentBitmap)
			for _, r := range b.Present {
				if r.Start > spb || r.Count > spb-r.Start {
					return nil, fmt.Errorf("block %d: sector range %d+%d outside the block's %d sectors", i, r.Start, r.Count, spb)
				}
				for s := r.Start; s < r.Start+r.Count; s++ {
					bp.present[s/8] |= 1 << (s % 8)
				}
			}
		}
		plans[i] = bp
	}
	return plans, nil
}

// sectorPresent reports whether sector s of the block has its bitmap bit
// set.
func (bp *blockPlan) sectorPresent(s uint64) bool {
	return bp.present != nil && bp.present[s/8]&(1<<(s%8)) != 0
}
