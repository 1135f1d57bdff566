package vhd

// The block allocation table (VHD spec, "Block Allocation Table (BAT) and
// Data Blocks"): one big-endian uint32 per block, the sector where the
// block's sector bitmap begins, its data following the bitmap; 0xFFFFFFFF
// for a block not allocated. A BAT can be 16 GiB (2^32 entries) in a file
// that large, so it is read in pages on demand through a small LRU cache.

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/lru"
)

const (
	unallocated    = 0xFFFFFFFF
	batPageEntries = 16384 // 64 KiB of entries per read
	batCachePages  = 128   // at most 8 MiB of BAT in memory
)

// BlockState is what the BAT says about a block.
type BlockState uint8

// Block states. A VHD BAT entry is either a block's place in the file or
// 0xFFFFFFFF.
const (
	// BlockUnallocated: the block has no place in the file. It reads as
	// zeros in a dynamic disk and from the parent in a differencing disk.
	BlockUnallocated BlockState = 0
	// BlockAllocated: the block is in the file; its sector bitmap says
	// which sectors (set bits) are.
	BlockAllocated BlockState = 1
)

func (s BlockState) String() string {
	if s == BlockAllocated {
		return "allocated"
	}
	return "unallocated"
}

// MarshalText makes states readable in JSON.
func (s BlockState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Block is what the BAT says about one block, checked.
type Block struct {
	Index int64      `json:"index"` // also its BAT entry's index
	State BlockState `json:"state"`
	// BitmapOffset is the file offset of the block's sector bitmap (the
	// BAT entry times 512), and FileOffset that of its data, which
	// follows the bitmap. Both are 0 for an unallocated block.
	BitmapOffset int64 `json:"bitmap_offset,omitempty"`
	FileOffset   int64 `json:"file_offset,omitempty"`
}

// bat reads entries lazily through a bounded page cache.
type bat struct {
	r       io.ReaderAt
	off     int64 // file offset of the BAT
	entries int64 // entries the disk uses (≤ Max Table Entries)

	mu    sync.Mutex
	pages *lru.Cache[int64, []uint32]
}

// entry returns BAT entry i (0 ≤ i < entries).
func (t *bat) entry(i int64) (uint32, error) {
	if i < 0 || i >= t.entries {
		return 0, formatErr("BAT", t.off, "", "entry index out of range", i)
	}
	p, err := t.page(i / batPageEntries)
	if err != nil {
		return 0, err
	}
	return p[i%batPageEntries], nil
}

func (t *bat) page(pi int64) ([]uint32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pages == nil {
		t.pages = lru.New[int64, []uint32](batCachePages)
	}
	if p, ok := t.pages.Get(pi); ok {
		return p, nil
	}
	n := min(batPageEntries, t.entries-pi*batPageEntries)
	buf := make([]byte, n*4)
	off := t.off + pi*batPageEntries*4
	if err := readFull(t.r, buf, off); err != nil {
		return nil, &core.IOError{Structure: "BAT", Offset: off, Err: err}
	}
	p := make([]uint32, n)
	for k := range p {
		p[k] = binary.BigEndian.Uint32(buf[k*4:])
	}
	t.pages.Add(pi, p)
	return p, nil
}

// block returns block b's entry, or a *core.BlockError when the entry
// cannot be used. Reads never touch a block this rejects.
func (img *Image) block(b int64) (Block, error) {
	e, err := img.bat.entry(b)
	if err != nil {
		return Block{}, err
	}
	blk, p := img.blockAt(b, e)
	if p.kind != fine {
		return blk, &core.BlockError{Level: img.level, Block: b, Entry: b, FileOffset: blk.BitmapOffset, Msg: img.why(p)}
	}
	return blk, nil
}

// blockAt decodes BAT entry e of block b and checks where it points.
func (img *Image) blockAt(b int64, e uint32) (Block, problem) {
	blk := Block{Index: b}
	if e == unallocated {
		return blk, problem{}
	}
	blk.State = BlockAllocated
	blk.BitmapOffset = int64(e) * sectorSize
	blk.FileOffset = blk.BitmapOffset + img.bitmapSize
	return blk, img.checkBlockRange(blk.BitmapOffset, img.blockSpan(b))
}

// blockSpan is the bytes block b takes in the file: its bitmap and as
// much of its data as the disk's size reaches.
func (img *Image) blockSpan(b int64) int64 {
	return img.bitmapSize + min(img.blockSize, img.Size()-b*img.blockSize)
}

// problem is why a block cannot be used, kept unformatted so that a walk
// over a BAT of bad entries allocates nothing per entry.
type problem struct {
	kind int    // fine, pastEnd or overlaps
	what string // the structure overlapped
}

const (
	fine = iota
	pastEnd
	overlaps
)

// checkBlockRange says whether a block at [off, off+n) of the file can be
// used.
func (img *Image) checkBlockRange(off, n int64) problem {
	if off+n > img.dataEnd {
		return problem{kind: pastEnd}
	}
	for _, s := range img.structures {
		if off < s.off+s.len && s.off < off+n {
			return problem{overlaps, s.name}
		}
	}
	return problem{}
}

func (img *Image) why(p problem) string {
	if p.kind == pastEnd {
		return fmt.Sprintf("lies past the end of the data area (0x%x)", img.dataEnd)
	}
	return "overlaps the " + p.what
}

// Block returns block b as the BAT describes it. The error is a
// *core.BlockError when the entry is damaged (the Block still carries its
// index and state). A fixed disk has no blocks.
func (img *Image) Block(b int64) (Block, error) {
	if b < 0 || b >= img.blocks {
		return Block{}, fmt.Errorf("vhd: block %d out of range (disk has %d)", b, img.blocks)
	}
	return img.block(b)
}

// States appends the state of blocks [first, first+n) to dst, for the
// allocation map. It reads only the BAT, page by page.
func (img *Image) States(dst []BlockState, first, n int64) ([]BlockState, error) {
	if first < 0 || n < 0 || first+n > img.blocks {
		return dst, fmt.Errorf("vhd: blocks %d+%d out of range (disk has %d)", first, n, img.blocks)
	}
	for b := first; b < first+n; b++ {
		e, err := img.bat.entry(b)
		if err != nil {
			return dst, err
		}
		s := BlockAllocated
		if e == unallocated {
			s = BlockUnallocated
		}
		dst = append(dst, s)
	}
	return dst, nil
}
