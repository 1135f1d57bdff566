package builder

import "github.com/google/uuid"

// GUIDBytes returns u in the on-disk GUID layout used throughout MS-VHDX
// (the Microsoft "mixed-endian" form): Data1 as a little-endian uint32,
// Data2 and Data3 as little-endian uint16s, then the remaining 8 bytes as
// they appear in the textual form.
//
// uuid.UUID holds the bytes in textual (big-endian) order, so
// 2DC27766-F623-4200-9D64-115E9BFD4A08 is written as
// 66 77 C2 2D 23 F6 00 42 9D 64 11 5E 9B FD 4A 08.
func GUIDBytes(u uuid.UUID) [16]byte {
	var b [16]byte
	b[0], b[1], b[2], b[3] = u[3], u[2], u[1], u[0]
	b[4], b[5] = u[5], u[4]
	b[6], b[7] = u[7], u[6]
	copy(b[8:], u[8:])
	return b
}

// PutGUID writes u into b[:16] in the on-disk layout (see GUIDBytes).
func PutGUID(b []byte, u uuid.UUID) {
	g := GUIDBytes(u)
	copy(b[:16], g[:])
}

// GUIDFromBytes is the inverse of GUIDBytes: it decodes an on-disk GUID.
func GUIDFromBytes(b []byte) uuid.UUID {
	var u uuid.UUID
	u[0], u[1], u[2], u[3] = b[3], b[2], b[1], b[0]
	u[4], u[5] = b[5], b[4]
	u[6], u[7] = b[7], b[6]
	copy(u[8:], b[8:16])
	return u
}

// Known region GUIDs (MS-VHDX 2.2.3.2).
var (
	BATRegionGUID      = uuid.MustParse("2DC27766-F623-4200-9D64-115E9BFD4A08")
	MetadataRegionGUID = uuid.MustParse("8B7CA206-4790-4B9A-B8FE-575F050F886E")
)

// Known metadata item GUIDs (MS-VHDX 2.6.2).
var (
	FileParametersGUID     = uuid.MustParse("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	VirtualDiskSizeGUID    = uuid.MustParse("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	VirtualDiskIDGUID      = uuid.MustParse("BECA12AB-B2E6-4523-93EF-C309E000C746")
	LogicalSectorSizeGUID  = uuid.MustParse("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
	PhysicalSectorSizeGUID = uuid.MustParse("CDA348C7-445D-4471-9CC9-E9885251C556")
	ParentLocatorGUID      = uuid.MustParse("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
)

// VHDXParentLocatorType is the LocatorType of a VHDX parent locator
// (MS-VHDX 2.6.2.6.3).
var VHDXParentLocatorType = uuid.MustParse("B04AEFB7-D19E-4A81-B789-25B8E9445913")

// Deterministic defaults used when the corresponding Image field is the zero
// UUID, so that the same description always produces the same bytes.
var (
	DefaultVirtualDiskID = uuid.MustParse("5648d8e1-0001-4b1d-8000-766864787669")
	DefaultDataWriteGUID = uuid.MustParse("5648d8e1-0002-4b1d-8000-766864787669")
	DefaultFileWriteGUID = uuid.MustParse("5648d8e1-0003-4b1d-8000-766864787669")
	DefaultLogGUID       = uuid.MustParse("5648d8e1-0004-4b1d-8000-766864787669")
)
