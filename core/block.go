package core

import "fmt"

// Block is what the BAT says about one payload block, checked.
type Block struct {
	Index      int64        `json:"index"`
	Entry      int64        `json:"entry"` // BAT entry index
	State      PayloadState `json:"state"`
	FileOffset int64        `json:"file_offset"` // FULLY/PARTIALLY_PRESENT: where the block is
	// BitmapOffset is the file offset of the chunk's sector bitmap block,
	// for PARTIALLY_PRESENT blocks.
	BitmapOffset int64 `json:"bitmap_offset,omitempty"`
}

// block returns payload block b's entry, or a *BlockError when the entry
// cannot be used. Reads never touch a block this rejects.
func (img *Image) block(b int64) (Block, error) {
	idx := img.bat.payloadIndex(b)
	e, err := img.bat.entry(idx)
	if err != nil {
		return Block{}, err
	}
	blk := Block{Index: b, Entry: idx, State: PayloadState(e.State())}
	bad := func(msg string) (Block, error) {
		return blk, &BlockError{Level: img.level, Block: b, Entry: idx, FileOffset: blk.FileOffset, Msg: msg}
	}
	if e.Reserved() != 0 {
		return bad(fmt.Sprintf("reserved bits are set (0x%x)", e.Reserved()))
	}
	switch blk.State {
	case PayloadNotPresent, PayloadUndefined, PayloadZero, PayloadUnmapped:
		return blk, nil
	case PayloadFullyPresent:
	case PayloadPartiallyPresent:
		if !img.meta.FileParameters.HasParent {
			return bad("PARTIALLY_PRESENT in a disk without a parent")
		}
	default:
		return bad(fmt.Sprintf("reserved state %d", blk.State))
	}
	blk.FileOffset = e.FileOffset()
	if blk.FileOffset == 0 {
		return bad("present block with file offset 0")
	}
	n := min(img.geom.BlockSize, img.Size()-b*img.geom.BlockSize)
	if why := img.checkBlockRange(blk.FileOffset, n); why != "" {
		return bad(why)
	}
	if blk.State == PayloadPartiallyPresent {
		c := b / img.geom.ChunkRatio
		si := img.bat.bitmapIndex(c)
		se, err := img.bat.entry(si)
		if err != nil {
			return bad("its chunk's sector bitmap entry is missing")
		}
		if se.State() != sectorBitmapPresent || se.Reserved() != 0 {
			return bad(fmt.Sprintf("its chunk's sector bitmap (BAT entry %d) is not present (state %d)", si, se.State()))
		}
		blk.BitmapOffset = se.FileOffset()
		if why := img.checkBlockRange(blk.BitmapOffset, mib); why != "" || blk.BitmapOffset == 0 {
			if why == "" {
				why = "is at file offset 0"
			}
			return bad(fmt.Sprintf("its chunk's sector bitmap (BAT entry %d) %s", si, why))
		}
	}
	return blk, nil
}

// Block returns payload block b as the BAT describes it. The error is a
// *BlockError when the entry is damaged (the Block still carries its index,
// entry and state).
func (img *Image) Block(b int64) (Block, error) {
	if b < 0 || b >= img.geom.PayloadBlocks {
		return Block{}, fmt.Errorf("vhdx: block %d out of range (disk has %d)", b, img.geom.PayloadBlocks)
	}
	return img.block(b)
}

// States appends the raw payload state of blocks [first, first+n) to dst,
// for the allocation map. It reads the BAT page by page.
func (img *Image) States(dst []PayloadState, first, n int64) ([]PayloadState, error) {
	if first < 0 || n < 0 || first+n > img.geom.PayloadBlocks {
		return dst, fmt.Errorf("vhdx: blocks %d+%d out of range (disk has %d)", first, n, img.geom.PayloadBlocks)
	}
	for b := first; b < first+n; b++ {
		e, err := img.bat.entry(img.bat.payloadIndex(b))
		if err != nil {
			return dst, err
		}
		dst = append(dst, PayloadState(e.State()))
	}
	return dst, nil
}
