package vhd

// The dynamic disk header (VHD spec, "Dynamic Disk Header Format"): 1024
// bytes at the footer's Data Offset in dynamic and differencing disks. It
// says where the BAT is, how large blocks are, and for a differencing
// disk who its parent is.

import (
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf16"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
)

const (
	headerSize   = 1024
	headerCookie = "cxsparse"
	// Block sizes: a power of two from one sector to 256 MiB. The spec
	// only asks for a power of two; the cap keeps a block's sector bitmap
	// within 64 KiB, the most a read of one block allocates.
	minBlockSize = sectorSize
	maxBlockSize = 256 << 20
	locatorCount = 8
)

type dynHeader struct {
	Offset          int64
	DataOffset      uint64
	TableOffset     uint64
	Version         uint32
	MaxTableEntries uint32
	BlockSize       uint32
	Checksum        uint32
	Computed        uint32
	ParentID        uuid.UUID
	ParentTimeStamp uint32
	ParentName      string
	Locators        [locatorCount]locator
}

func parseHeader(b []byte, off int64) *dynHeader {
	be := binary.BigEndian
	h := &dynHeader{
		Offset:          off,
		DataOffset:      be.Uint64(b[8:]),
		TableOffset:     be.Uint64(b[16:]),
		Version:         be.Uint32(b[24:]),
		MaxTableEntries: be.Uint32(b[28:]),
		BlockSize:       be.Uint32(b[32:]),
		Checksum:        be.Uint32(b[36:]),
		Computed:        checksum(b[:headerSize], 36),
		ParentTimeStamp: be.Uint32(b[56:]),
		ParentName:      parentName(b[64:576]),
	}
	copy(h.ParentID[:], b[40:56])
	for k := range h.Locators {
		e := b[576+24*k:]
		l := &h.Locators[k]
		l.Index = k + 1
		l.EntryOffset = off + 576 + int64(24*k)
		copy(l.Code[:], e[0:4])
		l.Space = be.Uint32(e[4:])
		l.Length = be.Uint32(e[8:])
		l.Reserved = be.Uint32(e[12:])
		l.DataOffset = be.Uint64(e[16:])
	}
	return h
}

// parentName decodes the Parent Unicode Name: UTF-16 big-endian (as
// libvhdi reads it), up to the first NUL.
func parentName(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.BigEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// readHeader reads and checks the dynamic header at off, which the footer
// check put inside the file. dataEnd is where the footer begins.
func readHeader(r io.ReaderAt, off, dataEnd int64, virtualSize int64) (*dynHeader, error) {
	const name = "dynamic header"
	if off+headerSize > dataEnd {
		return nil, formatErr(name, off, "", "overlaps the footer at the end of the file", fmt.Sprintf("header ends at 0x%x, footer at 0x%x", off+headerSize, dataEnd))
	}
	b := make([]byte, headerSize)
	if err := readFull(r, b, off); err != nil {
		return nil, &core.IOError{Structure: name, Offset: off, Err: err}
	}
	if string(b[:8]) != headerCookie {
		return nil, formatErr(name, off, "Cookie", "not \"cxsparse\"", fmt.Sprintf("%q", b[:8]))
	}
	h := parseHeader(b, off)
	// The spec: "If the checksum verification fails the file should be
	// assumed to be corrupt." Unlike the footer, the header has no copy.
	if h.Computed != h.Checksum {
		return nil, formatErr(name, off+36, "Checksum", "does not match the header's bytes",
			fmt.Sprintf("stored 0x%08x, computed 0x%08x", h.Checksum, h.Computed))
	}
	if major := h.Version >> 16; major != 1 {
		return nil, unsupportedErr(name, off+24, "Header Version", "unknown major version", fmt.Sprintf("0x%08x", h.Version))
	}
	bs := int64(h.BlockSize)
	if bs < minBlockSize || bs > maxBlockSize || bs&(bs-1) != 0 {
		return nil, formatErr(name, off+32, "Block Size", "not a power of two from 512 bytes to 256 MiB", h.BlockSize)
	}
	if need := (virtualSize + bs - 1) / bs; int64(h.MaxTableEntries) < need {
		return nil, formatErr(name, off+28, "Max Table Entries", fmt.Sprintf("too few for the disk's %d blocks", need), h.MaxTableEntries)
	}
	// The BAT lies in the file, after the footer copy, clear of the
	// header. Its entries are 4 bytes, so MaxTableEntries (at most 2^32-1)
	// is bounded by the file's size: nothing is allocated from it.
	t, n := h.TableOffset, uint64(h.MaxTableEntries)*4
	switch {
	case t < footerSize || t > uint64(dataEnd) || t+n > uint64(dataEnd):
		return nil, formatErr(name, off+16, "Table Offset", "the BAT it points at is not inside the file",
			fmt.Sprintf("BAT 0x%x+0x%x, data ends at 0x%x", t, n, dataEnd))
	case int64(t) < off+headerSize && off < int64(t+n):
		return nil, formatErr(name, off+16, "Table Offset", "the BAT overlaps the dynamic header", fmt.Sprintf("0x%x", t))
	}
	return h, nil
}

// batLength is the BAT's length in the file: its entries, padded to a
// sector ("The BAT is always extended to a sector boundary"), but not
// past the data area.
func (h *dynHeader) batLength(dataEnd int64) int64 {
	n := (int64(h.MaxTableEntries)*4 + sectorSize - 1) / sectorSize * sectorSize
	return min(n, dataEnd-int64(h.TableOffset))
}
