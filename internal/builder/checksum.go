package builder

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// castagnoli is the CRC-32C table required by MS-VHDX 2 ("Structures").
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of b.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Sizes of checksummed structures.
const (
	HeaderSize      = 4 * 1024  // MS-VHDX 2.2.2: a header is a 4 KiB structure.
	RegionTableSize = 64 * 1024 // MS-VHDX 2.2.3.1: the checksum covers the 64 KiB table.
)

// checksumAt zeroes the 4-byte checksum field at b[4:8], computes the CRC-32C
// over b and stores it in the field. Every VHDX checksum field sits at
// offset 4 of its structure.
func checksumAt(b []byte) uint32 {
	binary.LittleEndian.PutUint32(b[4:8], 0)
	c := Checksum(b)
	binary.LittleEndian.PutUint32(b[4:8], c)
	return c
}

// FixHeaderChecksum recomputes the Checksum field of the header in b[:4096]
// (MS-VHDX 2.2.2: CRC-32C over the 4 KiB header with the field taken as
// zero). It panics if b is shorter than 4 KiB.
func FixHeaderChecksum(b []byte) {
	if len(b) < HeaderSize {
		panic(fmt.Sprintf("builder: FixHeaderChecksum: need %d bytes, have %d", HeaderSize, len(b)))
	}
	checksumAt(b[:HeaderSize])
}

// FixRegionTableChecksum recomputes the Checksum field of the region table
// in b[:65536] (MS-VHDX 2.2.3.1: CRC-32C over the whole 64 KiB table). It
// panics if b is shorter than 64 KiB.
func FixRegionTableChecksum(b []byte) {
	if len(b) < RegionTableSize {
		panic(fmt.Sprintf("builder: FixRegionTableChecksum: need %d bytes, have %d", RegionTableSize, len(b)))
	}
	checksumAt(b[:RegionTableSize])
}

// FixLogEntryChecksum recomputes the Checksum field of the log entry that
// starts at b[0] (MS-VHDX 2.3.1.1: CRC-32C over EntryLength bytes). The
// EntryLength field is read from b[8:12]; b must hold the whole entry
// contiguously (for an entry that wraps around the end of the log, the
// caller must unwrap it first). It panics if b is too short.
func FixLogEntryChecksum(b []byte) {
	if len(b) < 64 {
		panic(fmt.Sprintf("builder: FixLogEntryChecksum: need at least 64 bytes, have %d", len(b)))
	}
	n := binary.LittleEndian.Uint32(b[8:12])
	if uint64(len(b)) < uint64(n) || n < 64 {
		panic(fmt.Sprintf("builder: FixLogEntryChecksum: EntryLength %d, have %d bytes", n, len(b)))
	}
	checksumAt(b[:n])
}
