package core

// The header section (MS-VHDX 2.2): the file type identifier at 0, two
// headers at 64 KiB and 128 KiB, two region tables at 192 KiB and 256 KiB.

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/utf16le"
)

const (
	headerSectionSize = 1 * mib
	headerSize        = 4 * kib
	fileIDSignature   = "vhdxfile"
	headerSignature   = "head"
)

// headerOffsets are the file offsets of header 1 and header 2.
var headerOffsets = [2]int64{64 * kib, 128 * kib}

// fileIdentifier is the structure at offset 0 (MS-VHDX 2.2.1).
type fileIdentifier struct {
	Signature [8]byte
	Creator   string // decoded UTF-16LE, up to the first NUL; diagnostic only
}

// parseFileIdentifier decodes the first bytes of the file (up to 520). A
// file that does not start with the signature is no VHDX file at all, which
// callers distinguish (ErrNotVHDX) from a damaged one.
func parseFileIdentifier(b []byte) (*fileIdentifier, error) {
	if len(b) < 8 || string(b[0:8]) != fileIDSignature {
		e := formatErr("file type identifier", 0, "Signature", "not a VHDX file", quoteBytes(b[:min(len(b), 8)]))
		if len(b) == 0 {
			e.Field, e.Msg, e.Val = "", "not a VHDX file: the file is empty", nil
		}
		e.notVHDX = true
		return nil, e
	}
	var fi fileIdentifier
	copy(fi.Signature[:], b[0:8])
	fi.Creator = utf16le.DecodeZ(b[8:])
	return &fi, nil
}

// header is one of the two 4 KiB headers (MS-VHDX 2.2.2).
type header struct {
	Signature      uint32
	Checksum       uint32
	SequenceNumber uint64
	FileWriteGUID  uuid.UUID
	DataWriteGUID  uuid.UUID
	LogGUID        uuid.UUID
	LogVersion     uint16
	Version        uint16
	LogLength      uint32
	LogOffset      uint64
}

func decodeHeader(b []byte) header {
	return header{
		Signature:      binary.LittleEndian.Uint32(b[0:]),
		Checksum:       binary.LittleEndian.Uint32(b[4:]),
		SequenceNumber: binary.LittleEndian.Uint64(b[8:]),
		FileWriteGUID:  guidAt(b[16:]),
		DataWriteGUID:  guidAt(b[32:]),
		LogGUID:        guidAt(b[48:]),
		LogVersion:     binary.LittleEndian.Uint16(b[64:]),
		Version:        binary.LittleEndian.Uint16(b[66:]),
		LogLength:      binary.LittleEndian.Uint32(b[68:]),
		LogOffset:      binary.LittleEndian.Uint64(b[72:]),
	}
}

// headerCopy is what was found at one header location: the decoded header
// and whether it is valid (signature and checksum), with the reason if not.
type headerCopy struct {
	Index            int   // 1 or 2
	Offset           int64 // file offset
	Header           header
	SignatureOK      bool
	ComputedChecksum uint32
	ChecksumOK       bool
	Err              error // why the copy is not valid; nil if valid
	raw              []byte
}

// Valid reports whether the copy may be used (MS-VHDX 2.2.2: signature and
// checksum both validate).
func (c *headerCopy) Valid() bool { return c.Err == nil }

func readHeaderCopy(b []byte, index int, off int64) *headerCopy {
	name := headerName(index)
	c := &headerCopy{Index: index, Offset: off, raw: b}
	c.Header = decodeHeader(b)
	c.SignatureOK = string(b[0:4]) == headerSignature
	c.ComputedChecksum = crcWithZeroedField(b, 4)
	c.ChecksumOK = c.ComputedChecksum == c.Header.Checksum
	switch {
	case !c.SignatureOK:
		c.Err = formatErr(name, off, "Signature", "bad signature", quoteBytes(b[0:4]))
	case !c.ChecksumOK:
		c.Err = formatErr(name, off+4, "Checksum", "CRC-32C mismatch", checksumPair(c.Header.Checksum, c.ComputedChecksum))
	}
	return c
}

func headerName(index int) string {
	if index == 1 {
		return "header 1"
	}
	return "header 2"
}

// selectHeader picks the current header (MS-VHDX 2.2.2): the only valid one,
// or the valid one with the greater sequence number. Two valid headers with
// equal sequence numbers are accepted only when they are byte-identical
// (Disk2VHD writes such files); then header 1 is used.
func selectHeader(h [2]*headerCopy) (int, string, error) {
	v1, v2 := h[0].Valid(), h[1].Valid()
	switch {
	case !v1 && !v2:
		return 0, "", &FormatError{Structure: "headers", Offset: headerOffsets[0], Msg: "neither header is valid", Err: errors.Join(h[0].Err, h[1].Err)}
	case v1 && !v2:
		return 0, "header 2 is not valid", nil
	case !v1 && v2:
		return 1, "header 1 is not valid", nil
	}
	s1, s2 := h[0].Header.SequenceNumber, h[1].Header.SequenceNumber
	switch {
	case s1 > s2:
		return 0, "greater sequence number", nil
	case s2 > s1:
		return 1, "greater sequence number", nil
	case bytes.Equal(h[0].raw, h[1].raw):
		return 0, "both headers identical", nil
	}
	return 0, "", formatErr("headers", headerOffsets[1], "SequenceNumber", "both headers are valid with the same sequence number but different contents", s1)
}

// checkHeader validates the fields of the current header that the rest of
// the file depends on.
func checkHeader(c *headerCopy, fileSize int64) error {
	h := &c.Header
	name := headerName(c.Index)
	if h.Version != 1 {
		return unsupportedErr(name, c.Offset+66, "Version", "unknown VHDX version", h.Version)
	}
	if h.LogVersion != 0 && h.LogGUID != uuid.Nil {
		return unsupportedErr(name, c.Offset+64, "LogVersion", "unknown log version with a log to replay", h.LogVersion)
	}
	if h.LogLength%mib != 0 {
		return formatErr(name, c.Offset+68, "LogLength", "not a multiple of 1 MiB", h.LogLength)
	}
	if h.LogOffset%mib != 0 {
		return formatErr(name, c.Offset+72, "LogOffset", "not a multiple of 1 MiB", h.LogOffset)
	}
	if h.LogLength > 0 && h.LogOffset < headerSectionSize {
		return formatErr(name, c.Offset+72, "LogOffset", "log overlaps the header section", h.LogOffset)
	}
	if h.LogOffset > uint64(maxFileOffset) {
		return formatErr(name, c.Offset+72, "LogOffset", "offset out of range", h.LogOffset)
	}
	return nil
}

// maxFileOffset bounds every file offset taken from the file so that sums
// of offsets and lengths never overflow int64.
const maxFileOffset = 1 << 60

func quoteBytes(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, len(b)*2)
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return "0x" + string(out)
}

type checksums struct{ stored, computed uint32 }

func checksumPair(stored, computed uint32) checksums { return checksums{stored, computed} }

func (c checksums) String() string {
	return "stored " + hex(int64(c.stored)) + ", computed " + hex(int64(c.computed))
}
