package vhd

// The hard disk footer (VHD spec, "Hard Disk Footer Format"): the last 512
// bytes of every VHD file, or the last 511 of images made before Virtual
// PC 2004, and for dynamic and differencing disks a copy at offset 0.
// When the footer's checksum fails the copy is used, as Virtual PC does.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
)

const (
	footerSize    = 512
	oldFooterSize = 511 // Virtual PC before 2004
	footerCookie  = "conectix"
	sectorSize    = 512
	// footerFields is where the defined fields end (Saved State is byte
	// 84); the rest is reserved.
	footerFields = 85
)

// Disk types (footer Disk Type).
const (
	typeNone         = 0
	typeFixed        = 2
	typeDynamic      = 3
	typeDifferencing = 4
)

// Feature bits.
const (
	featureTemporary = 1
	featureReserved  = 2 // the spec says it is always set
)

// maxVirtualSize caps Current Size: the spec's limit is 2040 GB, and no
// VHD disk reaches 64 TiB, so nothing sized from it can overflow.
const maxVirtualSize = 64 << 40

// epoch is the zero of VHD time stamps.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// footer holds the footer's fields.
type footer struct {
	Cookie          [8]byte
	Features        uint32
	Version         uint32
	DataOffset      uint64
	TimeStamp       uint32
	CreatorApp      [4]byte
	CreatorVersion  uint32
	CreatorHostOS   [4]byte
	OriginalSize    uint64
	CurrentSize     uint64
	Cylinders       uint16
	Heads           uint8
	SectorsPerTrack uint8
	DiskType        uint32
	Checksum        uint32
	UniqueID        uuid.UUID
	SavedState      uint8
}

func parseFooter(b []byte) footer {
	var f footer
	be := binary.BigEndian
	copy(f.Cookie[:], b[0:8])
	f.Features = be.Uint32(b[8:])
	f.Version = be.Uint32(b[12:])
	f.DataOffset = be.Uint64(b[16:])
	f.TimeStamp = be.Uint32(b[24:])
	copy(f.CreatorApp[:], b[28:32])
	f.CreatorVersion = be.Uint32(b[32:])
	copy(f.CreatorHostOS[:], b[36:40])
	f.OriginalSize = be.Uint64(b[40:])
	f.CurrentSize = be.Uint64(b[48:])
	f.Cylinders = be.Uint16(b[56:])
	f.Heads = b[58]
	f.SectorsPerTrack = b[59]
	f.DiskType = be.Uint32(b[60:])
	f.Checksum = be.Uint32(b[64:])
	copy(f.UniqueID[:], b[68:84]) // stored as 16 bytes, printed in that order (as libvhdi does)
	f.SavedState = b[84]
	return f
}

// checksum is the VHD checksum ("Checksum Calculation" in the spec's
// appendix): the one's complement of the byte sum, leaving out the 4-byte
// checksum field at at.
func checksum(b []byte, at int) uint32 {
	var s uint32
	for i, c := range b {
		if i < at || i >= at+4 {
			s += uint32(c)
		}
	}
	return ^s
}

// footerCopy is one place a footer may be: its bytes, fields and verdict.
type footerCopy struct {
	Name     string // "footer" or "footer copy"
	Offset   int64
	Size     int  // 512, or 511 for the old footer
	Present  bool // the cookie is there
	F        footer
	Computed uint32
	raw      []byte
	Err      error // why this copy cannot be used; nil when it can
}

// readFooter reads the footer-sized bytes at off (which must lie in the
// file) and checks them.
func readFooter(r io.ReaderAt, fileSize, off int64, n int, name string) (*footerCopy, error) {
	b := make([]byte, n)
	if err := readFull(r, b, off); err != nil {
		return nil, &core.IOError{Structure: name, Offset: off, Err: err}
	}
	fc := &footerCopy{Name: name, Offset: off, Size: n, raw: b}
	if string(b[:8]) != footerCookie {
		fc.Err = formatErr(name, off, "Cookie", "not \"conectix\"", fmt.Sprintf("%q", b[:8]))
		return fc, nil
	}
	fc.Present = true
	fc.F = parseFooter(b)
	fc.Computed = checksum(b, 64)
	if fc.Computed != fc.F.Checksum {
		fc.Err = formatErr(name, off+64, "Checksum", "does not match the footer's bytes",
			fmt.Sprintf("stored 0x%08x, computed 0x%08x", fc.F.Checksum, fc.Computed))
		return fc, nil
	}
	fc.Err = checkFooter(&fc.F, name, off, fileSize)
	return fc, nil
}

// checkFooter checks the fields a reader depends on.
func checkFooter(f *footer, name string, off, fileSize int64) error {
	if major := f.Version >> 16; major != 1 {
		return unsupportedErr(name, off+12, "File Format Version", "unknown major version", fmt.Sprintf("0x%08x", f.Version))
	}
	switch f.DiskType {
	case typeFixed, typeDynamic, typeDifferencing:
	case 1, 5, 6:
		return unsupportedErr(name, off+60, "Disk Type", "deprecated disk type", f.DiskType)
	default:
		return formatErr(name, off+60, "Disk Type", "not a disk type", f.DiskType)
	}
	if f.CurrentSize > maxVirtualSize {
		return formatErr(name, off+48, "Current Size", "larger than 64 TiB", f.CurrentSize)
	}
	if f.DiskType != typeFixed {
		// The dynamic header follows the footer copy and lies in the file.
		if f.DataOffset < footerSize || f.DataOffset > uint64(fileSize) || int64(f.DataOffset)+headerSize > fileSize {
			return formatErr(name, off+16, "Data Offset", "the dynamic header it points at is not inside the file",
				fmt.Sprintf("0x%x, file size 0x%x", f.DataOffset, fileSize))
		}
	}
	return nil
}

// readFull reads len(b) bytes at off, accepting io.EOF with a full buffer.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) && (err == nil || errors.Is(err, io.EOF)) {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// footers finds the footer to use: the one at the end when it is valid,
// else the copy at offset 0 of a dynamic or differencing disk. It returns
// the copies it looked at (end first) for reports, the one in use and
// where the end footer begins (the end of the data area).
func footers(r io.ReaderAt, size int64) (end, cp *footerCopy, use *footerCopy, dataEnd int64, err error) {
	if size < oldFooterSize {
		e := formatErr("footer", 0, "", "file is shorter than a footer", size)
		e.notVHD = true
		return nil, nil, nil, 0, e
	}
	dataEnd = size
	if size >= footerSize {
		if end, err = readFooter(r, size, size-footerSize, footerSize, "footer"); err != nil {
			return
		}
	}
	if end == nil || !end.Present {
		// Before Virtual PC 2004 the footer was 511 bytes long.
		old, err2 := readFooter(r, size, size-oldFooterSize, oldFooterSize, "footer")
		if err2 != nil {
			return nil, nil, nil, 0, err2
		}
		if old.Present || end == nil {
			end = old
		}
	}
	if end.Present {
		dataEnd = end.Offset
	}
	if size >= footerSize+headerSize {
		if cp, err = readFooter(r, size, 0, footerSize, "footer copy"); err != nil {
			return
		}
	}
	switch {
	case end.Err == nil:
		use = end
	case cp != nil && cp.Err == nil && cp.F.DiskType != typeFixed:
		use = cp
	default:
		e := end.Err.(*FormatError)
		if !end.Present && (cp == nil || !cp.Present) {
			e.Msg = "not \"conectix\" at the end of the file nor at its start: not a VHD file"
			e.notVHD = true
			return end, cp, nil, 0, e
		}
		if cp != nil && cp.Present {
			e.Err = cp.Err
			if cp.Err == nil { // a valid copy, but of a fixed disk: it is data
				e.Err = formatErr(cp.Name, 0, "Disk Type", "a fixed disk has no footer copy; offset 0 is data", "fixed")
			}
		}
		return end, cp, nil, 0, e
	}
	return end, cp, use, dataEnd, nil
}

// creatorString renders a 4-byte creator field: printable ASCII with
// padding spaces and NULs trimmed, or hex.
func fourCC(b [4]byte) string {
	n := len(b)
	for n > 0 && (b[n-1] == 0 || b[n-1] == ' ') {
		n--
	}
	for _, c := range b[:n] {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("0x%08x", binary.BigEndian.Uint32(b[:]))
		}
	}
	return string(b[:n])
}

func stamp(s uint32) string {
	return epoch.Add(time.Duration(s) * time.Second).Format(time.RFC3339)
}

func version(v uint32) string { return fmt.Sprintf("%d.%d", v>>16, v&0xffff) }

func typeName(t uint32) string {
	switch t {
	case typeFixed:
		return "fixed"
	case typeDynamic:
		return "dynamic"
	case typeDifferencing:
		return "differencing"
	}
	return fmt.Sprintf("type %d", t)
}

func hostOS(b [4]byte) string {
	switch string(b[:]) {
	case "Wi2k":
		return "Windows"
	case "Mac ":
		return "Macintosh"
	}
	return fourCC(b)
}
