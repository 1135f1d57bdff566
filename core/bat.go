package core

// The block allocation table (MS-VHDX 2.4, 2.5). The BAT can be 512 MiB for a
// 64 TiB disk with 1 MiB blocks, so it is never read whole: entries are read
// in pages on demand and kept in a small LRU cache.

import (
	"encoding/binary"
	"fmt"
	"github.com/vhdxview/vhdxview/internal/lru"
	"io"
	"sync"
)

// PayloadState is the state of a payload block BAT entry (MS-VHDX 2.5.1.1).
type PayloadState uint8

// Payload block states. 4 and 5 are reserved.
const (
	PayloadNotPresent       PayloadState = 0
	PayloadUndefined        PayloadState = 1
	PayloadZero             PayloadState = 2
	PayloadUnmapped         PayloadState = 3
	PayloadFullyPresent     PayloadState = 6
	PayloadPartiallyPresent PayloadState = 7
)

func (s PayloadState) String() string {
	switch s {
	case PayloadNotPresent:
		return "NOT_PRESENT"
	case PayloadUndefined:
		return "UNDEFINED"
	case PayloadZero:
		return "ZERO"
	case PayloadUnmapped:
		return "UNMAPPED"
	case PayloadFullyPresent:
		return "FULLY_PRESENT"
	case PayloadPartiallyPresent:
		return "PARTIALLY_PRESENT"
	}
	return fmt.Sprintf("RESERVED(%d)", uint8(s))
}

// Sector bitmap block states (MS-VHDX 2.5.1.2).
const (
	sectorBitmapNotPresent = 0
	sectorBitmapPresent    = 6
)

// batEntry is one 64-bit BAT entry (MS-VHDX 2.5.1).
type batEntry uint64

// State is bits 0-2.
func (e batEntry) State() uint8 { return uint8(e & 7) }

// Reserved is bits 3-19, which must be zero.
func (e batEntry) Reserved() uint32 { return uint32(e>>3) & (1<<17 - 1) }

// FileOffsetMB is bits 20-63.
func (e batEntry) FileOffsetMB() uint64 { return uint64(e) >> 20 }

// FileOffset is FileOffsetMB in bytes.
func (e batEntry) FileOffset() int64 { return int64(e.FileOffsetMB()) << 20 }

const (
	batPageEntries = 8192 // 64 KiB of entries per read
	batCachePages  = 128  // at most 8 MiB of BAT in memory
)

// bat reads entries lazily through a bounded page cache.
type bat struct {
	r          io.ReaderAt
	off        int64 // file offset of the BAT region
	entries    int64 // entries the geometry needs (≤ what the region holds)
	chunkRatio int64

	mu    sync.Mutex
	pages *lru.Cache[int64, []batEntry]
	reads int64 // pages read from the file (for tests and benchmarks)
}

// entry returns BAT entry i (0 ≤ i < entries).
func (t *bat) entry(i int64) (batEntry, error) {
	if i < 0 || i >= t.entries {
		return 0, formatErr("BAT", t.off, "", "entry index out of range", i)
	}
	p, err := t.page(i / batPageEntries)
	if err != nil {
		return 0, err
	}
	return p[i%batPageEntries], nil
}

func (t *bat) page(pi int64) ([]batEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pages == nil {
		t.pages = lru.New[int64, []batEntry](batCachePages)
	}
	if p, ok := t.pages.Get(pi); ok {
		return p, nil
	}
	n := min(batPageEntries, t.entries-pi*batPageEntries)
	buf := make([]byte, n*8)
	off := t.off + pi*batPageEntries*8
	if _, err := t.r.ReadAt(buf, off); err != nil && !(err == io.EOF) {
		return nil, &IOError{Structure: "BAT", Offset: off, Err: err}
	}
	t.reads++
	p := make([]batEntry, n)
	for k := range p {
		p[k] = batEntry(binary.LittleEndian.Uint64(buf[k*8:]))
	}
	t.pages.Add(pi, p)
	return p, nil
}

// payloadIndex is the BAT index of payload block b: the sector bitmap entry
// of each chunk follows its chunkRatio payload entries.
func (t *bat) payloadIndex(b int64) int64 { return b + b/t.chunkRatio }

// bitmapIndex is the BAT index of chunk c's sector bitmap entry.
func (t *bat) bitmapIndex(c int64) int64 { return c*(t.chunkRatio+1) + t.chunkRatio }

// diskGeometry is what the metadata implies about blocks and the BAT.
type diskGeometry struct {
	VirtualSize       int64
	BlockSize         int64
	LogicalSectorSize int64
	ChunkRatio        int64 // payload blocks per sector bitmap block
	PayloadBlocks     int64
	BitmapBlocks      int64
	BATEntries        int64 // entries the BAT must hold (MS-VHDX 2.5)
}

func geometry(m *metadata) diskGeometry {
	g := diskGeometry{
		VirtualSize:       int64(m.VirtualDiskSize),
		BlockSize:         int64(m.FileParameters.BlockSize),
		LogicalSectorSize: int64(m.LogicalSectorSize),
	}
	g.ChunkRatio = (1 << 23) * g.LogicalSectorSize / g.BlockSize
	g.PayloadBlocks = (g.VirtualSize + g.BlockSize - 1) / g.BlockSize
	g.BitmapBlocks = (g.PayloadBlocks + g.ChunkRatio - 1) / g.ChunkRatio
	if m.FileParameters.HasParent {
		g.BATEntries = g.BitmapBlocks * (g.ChunkRatio + 1)
	} else {
		g.BATEntries = g.PayloadBlocks + (g.PayloadBlocks-1)/g.ChunkRatio
	}
	return g
}
