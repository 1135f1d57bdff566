// Package vhdbuilder writes VHD (v1) files from a description, for tests.
// It is written from the VHD specification (../shared/spec/VHD.md)
// without using package vhd, so that each checks the other; qemu-img and
// libvhdi (pyvhdi) check both. It writes what qemu cannot: differencing
// disks with parent locators, partial sector bitmaps, the 511-byte footer
// of old Virtual PC images, any block size and BAT order.
//
// Layout of a dynamic or differencing file, as Virtual PC and qemu write
// it: footer copy at 0, dynamic header at 512, the BAT at 1536 (padded to
// a sector), the parent locators' data, the blocks (each a sector bitmap
// and the block's data) and the footer. All numbers are big-endian.
package vhdbuilder

import (
	"encoding/binary"
	"fmt"
	"sort"
	"unicode/utf16"

	"github.com/google/uuid"
)

// DiskType is the footer's Disk Type field.
type DiskType uint32

// Disk types ("Hard Disk Footer Format", Disk Type).
const (
	Fixed        DiskType = 2
	Dynamic      DiskType = 3
	Differencing DiskType = 4
)

// Sizes of the structures.
const (
	FooterSize  = 512
	HeaderSize  = 1024
	SectorSize  = 512
	Unallocated = 0xFFFFFFFF // a BAT entry with no block
)

// Image describes a VHD file. Zero fields take the defaults named.
type Image struct {
	Type         DiskType
	Size         int64 // Current Size
	OriginalSize int64 // 0: Size
	BlockSize    int64 // 0: 2 MiB (dynamic and differencing)
	UniqueID     uuid.UUID
	Time         uint32 // Time Stamp, seconds since 2000-01-01 UTC
	Creator      string // Creator Application, 4 bytes; "": "vhdb"
	CreatorVer   uint32 // 0: 0x00010000
	HostOS       string // "": "Wi2k"
	Features     uint32 // 0: 2 (the reserved bit the spec wants set)
	SavedState   bool
	// Data is a fixed disk's content from offset 0; the rest is zeros.
	Data []byte
	// Blocks are the allocated blocks of a dynamic or differencing disk.
	Blocks map[int64]Block
	// Order is the order the blocks are laid out in the file (default:
	// ascending index). Listing an index twice is an error.
	Order []int64
	// BAT overrides entries after layout (index → raw value), to make
	// damaged files: an entry past the end, two blocks at one offset.
	BAT             map[int64]uint32
	MaxTableEntries uint32 // 0: the blocks the size needs
	Parent          *Parent
	// Footer511 writes the 511-byte footer of images made before Virtual
	// PC 2004 (at the end; the copy at offset 0 stays a 512-byte sector).
	Footer511 bool
}

// Block is one allocated block.
type Block struct {
	// Data is written from the start of the block, whatever the bitmap
	// says (so a test can put bytes behind clear bits); the rest of the
	// block is zeros.
	Data []byte
	// Present lists the sectors whose bitmap bit is set; nil sets every
	// sector's bit.
	Present []SectorRange
}

// SectorRange is Count sectors from Start, within a block.
type SectorRange struct{ Start, Count int64 }

// Parent describes a differencing disk's parent fields.
type Parent struct {
	ID       uuid.UUID // Parent Unique ID: the parent footer's Unique Id
	Time     uint32    // Parent Time Stamp
	Name     string    // Parent Unicode Name (UTF-16 big-endian)
	Locators []Locator // at most 8
}

// Locator is a parent locator entry and its platform data.
type Locator struct {
	Code  string // platform code, 4 bytes: "W2ru", "W2ku", "Wi2r", "Wi2k", "MacX", "Mac "
	Data  []byte // platform data as stored
	Space uint32 // Platform Data Space in sectors; 0: enough for Data
}

// W2ru is a relative Windows path locator (UTF-16 little-endian, as
// Windows writes these even though the rest of the file is big-endian).
func W2ru(path string) Locator { return Locator{Code: "W2ru", Data: utf16LE(path)} }

// W2ku is an absolute Windows path locator.
func W2ku(path string) Locator { return Locator{Code: "W2ku", Data: utf16LE(path)} }

func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// Built is a written file and where its structures are.
type Built struct {
	Bytes          []byte
	HeaderOffset   int64
	BATOffset      int64
	LocatorOffsets []int64         // data offset of each locator
	BlockOffsets   map[int64]int64 // block index → file offset of its sector bitmap
	BitmapSize     int64
	FooterOffset   int64
}

// Bytes writes the file.
func (im *Image) Bytes() ([]byte, error) {
	b, err := im.Build()
	if err != nil {
		return nil, err
	}
	return b.Bytes, nil
}

// Build writes the file and returns where its structures are.
func (im *Image) Build() (*Built, error) {
	if im.Size < 0 {
		return nil, fmt.Errorf("negative size")
	}
	footer := im.footer()
	out := &Built{BlockOffsets: map[int64]int64{}}
	if im.Type == Fixed {
		if int64(len(im.Data)) > im.Size {
			return nil, fmt.Errorf("data larger than the disk")
		}
		b := make([]byte, im.Size)
		copy(b, im.Data)
		out.FooterOffset = im.Size
		out.Bytes = append(b, im.endFooter(footer)...)
		return out, nil
	}
	bs := im.BlockSize
	if bs == 0 {
		bs = 2 << 20
	}
	if bs < SectorSize || bs&(bs-1) != 0 {
		return nil, fmt.Errorf("block size %d is not a power of two ≥ 512", bs)
	}
	blocks := (im.Size + bs - 1) / bs
	entries := int64(im.MaxTableEntries)
	if entries == 0 {
		entries = blocks
	}
	bitmap := roundUp((bs/SectorSize+7)/8, SectorSize)
	out.BitmapSize = bitmap
	out.HeaderOffset = FooterSize
	out.BATOffset = out.HeaderOffset + HeaderSize
	pos := out.BATOffset + roundUp(entries*4, SectorSize)

	var locs []Locator
	if im.Parent != nil {
		locs = im.Parent.Locators
	}
	if len(locs) > 8 {
		return nil, fmt.Errorf("%d locators; the header has room for 8", len(locs))
	}
	for _, l := range locs {
		out.LocatorOffsets = append(out.LocatorOffsets, pos)
		pos += int64(l.space()) * SectorSize
	}

	order := im.Order
	if order == nil {
		for i := range im.Blocks {
			order = append(order, i)
		}
		sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	}
	for _, i := range order {
		if _, ok := im.Blocks[i]; !ok || i < 0 || i >= entries {
			return nil, fmt.Errorf("order lists block %d, which is not described or out of range", i)
		}
		if _, dup := out.BlockOffsets[i]; dup {
			return nil, fmt.Errorf("order lists block %d twice", i)
		}
		out.BlockOffsets[i] = pos
		pos += bitmap + bs
	}
	if len(out.BlockOffsets) != len(im.Blocks) {
		return nil, fmt.Errorf("order misses some blocks")
	}
	out.FooterOffset = pos
	b := make([]byte, pos)

	copy(b, footer) // the copy at 0 is always a whole sector
	copy(b[out.HeaderOffset:], im.header(out, entries, bs))
	for i := int64(0); i < entries; i++ {
		v := uint32(Unallocated)
		if off, ok := out.BlockOffsets[i]; ok {
			v = uint32(off / SectorSize)
		}
		if o, ok := im.BAT[i]; ok {
			v = o
		}
		binary.BigEndian.PutUint32(b[out.BATOffset+4*i:], v)
	}
	for k, l := range locs {
		copy(b[out.LocatorOffsets[k]:], l.Data)
	}
	for i, blk := range im.Blocks {
		off := out.BlockOffsets[i]
		if int64(len(blk.Data)) > bs {
			return nil, fmt.Errorf("block %d: data larger than the block", i)
		}
		bm := b[off : off+bitmap]
		if blk.Present == nil {
			for s := int64(0); s < bs/SectorSize; s++ {
				setBit(bm, s)
			}
		}
		for _, r := range blk.Present {
			if r.Start < 0 || r.Count < 0 || r.Start+r.Count > bs/SectorSize {
				return nil, fmt.Errorf("block %d: sectors %d+%d outside the block", i, r.Start, r.Count)
			}
			for s := r.Start; s < r.Start+r.Count; s++ {
				setBit(bm, s)
			}
		}
		copy(b[off+bitmap:], blk.Data)
	}
	out.Bytes = append(b, im.endFooter(footer)...)
	return out, nil
}

// setBit sets sector s's bit: the first sector is the most significant
// bit of the first byte.
func setBit(bm []byte, s int64) { bm[s/8] |= 0x80 >> (s % 8) }

func (l Locator) space() uint32 {
	if l.Space != 0 {
		return l.Space
	}
	return uint32(max(1, (len(l.Data)+SectorSize-1)/SectorSize))
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

func (im *Image) endFooter(f []byte) []byte {
	if !im.Footer511 {
		return f
	}
	// The old footer is the same fields in 511 bytes; its checksum sums
	// the same bytes, the dropped one being a reserved zero.
	return f[:511]
}

func fourCC(s, def string) []byte {
	if s == "" {
		s = def
	}
	b := []byte(s + "    ")[:4]
	return b
}

func (im *Image) footer() []byte {
	f := make([]byte, FooterSize)
	copy(f[0:], "conectix")
	feat := im.Features
	if feat == 0 {
		feat = 2
	}
	binary.BigEndian.PutUint32(f[8:], feat)
	binary.BigEndian.PutUint32(f[12:], 0x00010000)
	if im.Type == Fixed {
		binary.BigEndian.PutUint64(f[16:], 0xFFFFFFFFFFFFFFFF)
	} else {
		binary.BigEndian.PutUint64(f[16:], FooterSize)
	}
	binary.BigEndian.PutUint32(f[24:], im.Time)
	copy(f[28:32], fourCC(im.Creator, "vhdb"))
	ver := im.CreatorVer
	if ver == 0 {
		ver = 0x00010000
	}
	binary.BigEndian.PutUint32(f[32:], ver)
	copy(f[36:40], fourCC(im.HostOS, "Wi2k"))
	orig := im.OriginalSize
	if orig == 0 {
		orig = im.Size
	}
	binary.BigEndian.PutUint64(f[40:], uint64(orig))
	binary.BigEndian.PutUint64(f[48:], uint64(im.Size))
	c, h, s := Geometry(im.Size / SectorSize)
	binary.BigEndian.PutUint16(f[56:], c)
	f[58], f[59] = h, s
	binary.BigEndian.PutUint32(f[60:], uint32(im.Type))
	copy(f[68:84], im.UniqueID[:])
	if im.SavedState {
		f[84] = 1
	}
	FixFooter(f)
	return f
}

func (im *Image) header(out *Built, entries, bs int64) []byte {
	h := make([]byte, HeaderSize)
	copy(h[0:], "cxsparse")
	binary.BigEndian.PutUint64(h[8:], 0xFFFFFFFFFFFFFFFF)
	binary.BigEndian.PutUint64(h[16:], uint64(out.BATOffset))
	binary.BigEndian.PutUint32(h[24:], 0x00010000)
	binary.BigEndian.PutUint32(h[28:], uint32(entries))
	binary.BigEndian.PutUint32(h[32:], uint32(bs))
	if p := im.Parent; p != nil {
		copy(h[40:56], p.ID[:])
		binary.BigEndian.PutUint32(h[56:], p.Time)
		u := utf16.Encode([]rune(p.Name))
		for i := 0; i < len(u) && i < 256; i++ {
			binary.BigEndian.PutUint16(h[64+2*i:], u[i])
		}
		for k, l := range p.Locators {
			e := h[576+24*k:]
			copy(e[0:4], fourCC(l.Code, "    "))
			binary.BigEndian.PutUint32(e[4:], l.space())
			binary.BigEndian.PutUint32(e[8:], uint32(len(l.Data)))
			binary.BigEndian.PutUint64(e[16:], uint64(out.LocatorOffsets[k]))
		}
	}
	FixHeader(h)
	return h
}

// Checksum is the VHD checksum of b: the one's complement of the sum of
// its bytes, leaving out the 4-byte checksum field at at.
func Checksum(b []byte, at int) uint32 {
	var s uint32
	for i, c := range b {
		if i < at || i >= at+4 {
			s += uint32(c)
		}
	}
	return ^s
}

// FixFooter stores the checksum of the footer in b (512 or 511 bytes).
func FixFooter(b []byte) { binary.BigEndian.PutUint32(b[64:], Checksum(b, 64)) }

// FixHeader stores the checksum of the dynamic header in b (1024 bytes).
func FixHeader(b []byte) { binary.BigEndian.PutUint32(b[36:], Checksum(b[:HeaderSize], 36)) }

// Geometry is the spec's CHS calculation (appendix) for a disk of the
// given number of sectors.
func Geometry(totalSectors int64) (cylinders uint16, heads, sectorsPerTrack uint8) {
	if totalSectors > 65535*16*255 {
		totalSectors = 65535 * 16 * 255
	}
	var spt, h, cth int64
	if totalSectors >= 65535*16*63 {
		spt, h = 255, 16
		cth = totalSectors / spt
	} else {
		spt = 17
		cth = totalSectors / spt
		h = (cth + 1023) / 1024
		if h < 4 {
			h = 4
		}
		if cth >= h*1024 || h > 16 {
			spt, h = 31, 16
			cth = totalSectors / spt
		}
		if cth >= h*1024 {
			spt, h = 63, 16
			cth = totalSectors / spt
		}
	}
	return uint16(cth / h), uint8(h), uint8(spt)
}
