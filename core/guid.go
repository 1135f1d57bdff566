package core

import (
	"encoding/binary"

	"github.com/google/uuid"
)

// guidAt decodes a GUID stored in Microsoft's mixed-endian layout: Data1
// (uint32), Data2 and Data3 (uint16) little-endian, then 8 bytes as they are.
// uuid.UUID holds the canonical (big-endian, RFC 4122 text order) form.
func guidAt(b []byte) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint32(u[0:], binary.LittleEndian.Uint32(b[0:]))
	binary.BigEndian.PutUint16(u[4:], binary.LittleEndian.Uint16(b[4:]))
	binary.BigEndian.PutUint16(u[6:], binary.LittleEndian.Uint16(b[6:]))
	copy(u[8:], b[8:16])
	return u
}

// putGUID is the inverse of guidAt (used by tests and by identity hashing).
func putGUID(b []byte, u uuid.UUID) {
	binary.LittleEndian.PutUint32(b[0:], binary.BigEndian.Uint32(u[0:]))
	binary.LittleEndian.PutUint16(b[4:], binary.BigEndian.Uint16(u[4:]))
	binary.LittleEndian.PutUint16(b[6:], binary.BigEndian.Uint16(u[6:]))
	copy(b[8:16], u[8:])
}

// Known GUIDs (MS-VHDX 2.2.3.2, 2.6.2, 2.6.2.6.3).
var (
	regionBAT      = uuid.MustParse("2DC27766-F623-4200-9D64-115E9BFD4A08")
	regionMetadata = uuid.MustParse("8B7CA206-4790-4B9A-B8FE-575F050F886E")

	itemFileParameters     = uuid.MustParse("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	itemVirtualDiskSize    = uuid.MustParse("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	itemVirtualDiskID      = uuid.MustParse("BECA12AB-B2E6-4523-93EF-C309E000C746")
	itemLogicalSectorSize  = uuid.MustParse("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
	itemPhysicalSectorSize = uuid.MustParse("CDA348C7-445D-4471-9CC9-E9885251C556")
	itemParentLocator      = uuid.MustParse("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")

	locatorTypeVHDX = uuid.MustParse("B04AEFB7-D19E-4A81-B789-25B8E9445913")
)
