package builder

import (
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"
)

// On-disk signatures. The spec gives them as numbers whose byte order is
// inconsistent between structures (MS-VHDX 2.2.1 and 2.2.2 read as
// big-endian, 2.3.1 as little-endian), but every one of them spells its
// ASCII name in file order, which is what is written here.
const (
	sigFile     = "vhdxfile" // MS-VHDX 2.2.1
	sigHeader   = "head"     // MS-VHDX 2.2.2
	sigRegion   = "regi"     // MS-VHDX 2.2.3.1
	sigMetadata = "metadata" // MS-VHDX 2.6.1.1
	sigLogEntry = "loge"     // MS-VHDX 2.3.1.1
	sigZero     = "zero"     // MS-VHDX 2.3.1.2
	sigDesc     = "desc"     // MS-VHDX 2.3.1.3
	sigData     = "data"     // MS-VHDX 2.3.1.4
)

// fileTypeIdentifier encodes the file type identifier (MS-VHDX 2.2.1):
// the signature followed by the UTF-16LE creator (at most 512 bytes).
func fileTypeIdentifier(creator string) ([]byte, error) {
	c := encodeUTF16(creator)
	if len(c) > 512 {
		return nil, fmt.Errorf("creator %q: %d bytes of UTF-16, at most 512", creator, len(c))
	}
	b := make([]byte, 8+512)
	copy(b, sigFile)
	copy(b[8:], c)
	return b, nil
}

// headerFields are the values of one header (MS-VHDX 2.2.2).
type headerFields struct {
	sequence                  uint64
	fileWrite, dataWrite, log uuid.UUID
	logVersion, version       uint16
	logLength                 uint32
	logOffset                 uint64
}

// encode returns the 4 KiB header with its checksum.
func (h *headerFields) encode() []byte {
	b := make([]byte, HeaderSize)
	copy(b[0:4], sigHeader)
	binary.LittleEndian.PutUint64(b[8:16], h.sequence)
	PutGUID(b[16:32], h.fileWrite)
	PutGUID(b[32:48], h.dataWrite)
	PutGUID(b[48:64], h.log)
	binary.LittleEndian.PutUint16(b[64:66], h.logVersion)
	binary.LittleEndian.PutUint16(b[66:68], h.version)
	binary.LittleEndian.PutUint32(b[68:72], h.logLength)
	binary.LittleEndian.PutUint64(b[72:80], h.logOffset)
	FixHeaderChecksum(b)
	return b
}

// headers resolves the two headers from the description.
func (im *Image) headers(p *params, log Extent) [2]headerFields {
	var logGUID uuid.UUID
	if im.Log != nil {
		logGUID = orUUID(im.Log.GUID, DefaultLogGUID)
	}
	seq := [2]uint64{im.Headers[0].Sequence, im.Headers[1].Sequence}
	if seq[0] == 0 && seq[1] == 0 {
		seq = [2]uint64{1, 2}
	}
	var hs [2]headerFields
	for i, o := range im.Headers {
		h := headerFields{
			sequence:  seq[i],
			fileWrite: p.fileWrite,
			dataWrite: p.dataWrite,
			log:       logGUID,
			version:   1,
			logLength: uint32(log.Length),
			logOffset: uint64(log.Offset),
		}
		if o.LogGUID != nil {
			h.log = *o.LogGUID
		}
		if o.DataWriteGUID != nil {
			h.dataWrite = *o.DataWriteGUID
		}
		if o.Version != nil {
			h.version = *o.Version
		}
		if o.LogVersion != nil {
			h.logVersion = *o.LogVersion
		}
		if o.LogOffset != nil {
			h.logOffset = *o.LogOffset
		}
		if o.LogLength != nil {
			h.logLength = *o.LogLength
		}
		hs[i] = h
	}
	return hs
}

// regionEntry is one region table entry (MS-VHDX 2.2.3.2).
type regionEntry struct {
	guid       uuid.UUID
	fileOffset uint64
	length     uint32
	required   uint32
}

// encodeRegionTable returns the 64 KiB region table (MS-VHDX 2.2.3):
// a 16-byte header (Signature, Checksum, EntryCount, Reserved) followed by
// 32-byte entries.
func encodeRegionTable(entries []regionEntry) ([]byte, error) {
	if 16+32*len(entries) > RegionTableSize {
		return nil, fmt.Errorf("%d region table entries do not fit in 64 KiB", len(entries))
	}
	b := make([]byte, RegionTableSize)
	copy(b[0:4], sigRegion)
	binary.LittleEndian.PutUint32(b[8:12], uint32(len(entries)))
	for i, e := range entries {
		d := b[16+32*i:]
		PutGUID(d[0:16], e.guid)
		binary.LittleEndian.PutUint64(d[16:24], e.fileOffset)
		binary.LittleEndian.PutUint32(d[24:28], e.length)
		binary.LittleEndian.PutUint32(d[28:32], e.required)
	}
	FixRegionTableChecksum(b)
	return b, nil
}
