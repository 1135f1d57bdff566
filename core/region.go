package core

// Region tables (MS-VHDX 2.2.3): two 64 KiB copies at 192 KiB and 256 KiB
// listing the BAT, the metadata region and any future regions.

import (
	"encoding/binary"

	"github.com/google/uuid"
)

const (
	regionTableSize       = 64 * kib
	regionSignature       = "regi"
	maxRegionEntries      = 2047
	regionEntrySize       = 32
	regionTableHeaderSize = 16
)

// regionTableOffsets are the file offsets of region table 1 and 2.
var regionTableOffsets = [2]int64{192 * kib, 256 * kib}

// regionEntry is one region table entry (MS-VHDX 2.2.3.2).
type regionEntry struct {
	GUID       uuid.UUID
	FileOffset uint64
	Length     uint32
	Required   uint32
}

// Name returns "BAT", "metadata" or "unknown".
func (e regionEntry) Name() string {
	switch e.GUID {
	case regionBAT:
		return "BAT"
	case regionMetadata:
		return "metadata"
	}
	return "unknown"
}

// regionTable is one copy of the region table.
type regionTable struct {
	Index            int
	Offset           int64
	Signature        uint32
	Checksum         uint32
	ComputedChecksum uint32
	EntryCount       uint32
	Entries          []regionEntry
	Err              error // nil when the copy is valid
}

func regionTableName(i int) string {
	if i == 1 {
		return "region table 1"
	}
	return "region table 2"
}

// parseRegionTable decodes one copy and checks it on its own: signature,
// checksum, entry count, entry alignment and uniqueness. Checks that need the
// rest of the file (overlaps, required regions) come later.
func parseRegionTable(b []byte, index int, off int64) *regionTable {
	name := regionTableName(index)
	t := &regionTable{
		Index:            index,
		Offset:           off,
		Signature:        binary.LittleEndian.Uint32(b[0:]),
		Checksum:         binary.LittleEndian.Uint32(b[4:]),
		EntryCount:       binary.LittleEndian.Uint32(b[8:]),
		ComputedChecksum: crcWithZeroedField(b, 4),
	}
	if string(b[0:4]) != regionSignature {
		t.Err = formatErr(name, off, "Signature", "bad signature", quoteBytes(b[0:4]))
		return t
	}
	if t.Checksum != t.ComputedChecksum {
		t.Err = formatErr(name, off+4, "Checksum", "CRC-32C mismatch", checksumPair(t.Checksum, t.ComputedChecksum))
		return t
	}
	if t.EntryCount > maxRegionEntries {
		t.Err = formatErr(name, off+8, "EntryCount", "more than 2047 entries", t.EntryCount)
		return t
	}
	seen := make(map[uuid.UUID]bool, t.EntryCount)
	for i := 0; i < int(t.EntryCount); i++ {
		p := regionTableHeaderSize + i*regionEntrySize
		e := regionEntry{
			GUID:       guidAt(b[p:]),
			FileOffset: binary.LittleEndian.Uint64(b[p+16:]),
			Length:     binary.LittleEndian.Uint32(b[p+24:]),
			Required:   binary.LittleEndian.Uint32(b[p+28:]),
		}
		eoff := off + int64(p)
		switch {
		case seen[e.GUID]:
			t.Err = formatErr(name, eoff, "Guid", "region listed twice", e.GUID)
		case e.FileOffset%mib != 0 || e.FileOffset < mib || e.FileOffset > maxFileOffset:
			t.Err = formatErr(name, eoff+16, "FileOffset", e.Name()+" region offset must be a multiple of 1 MiB, at least 1 MiB", e.FileOffset)
		case e.Length%mib != 0:
			t.Err = formatErr(name, eoff+24, "Length", e.Name()+" region length must be a multiple of 1 MiB", e.Length)
		}
		if t.Err != nil {
			return t
		}
		seen[e.GUID] = true
		t.Entries = append(t.Entries, e)
	}
	return t
}

// find returns the entry with the given GUID.
func (t *regionTable) find(g uuid.UUID) (regionEntry, bool) {
	for _, e := range t.Entries {
		if e.GUID == g {
			return e, true
		}
	}
	return regionEntry{}, false
}

// checkRegions enforces what a usable table needs: the BAT and metadata
// regions exactly once (uniqueness was checked while parsing), no unknown
// region marked required, no overlaps between regions or with the log.
func checkRegions(t *regionTable, logOff, logLen uint64) error {
	name := regionTableName(t.Index)
	for _, g := range []uuid.UUID{regionBAT, regionMetadata} {
		if _, ok := t.find(g); !ok {
			n := "BAT"
			if g == regionMetadata {
				n = "metadata"
			}
			return formatErr(name, t.Offset, "", "no "+n+" region", nil)
		}
	}
	for i, e := range t.Entries {
		eoff := t.Offset + regionTableHeaderSize + int64(i)*regionEntrySize
		if e.Name() == "unknown" && e.Required != 0 {
			return unsupportedErr(name, eoff+28, "Required", "unknown region "+e.GUID.String()+" is marked required", e.Required)
		}
		if e.Length == 0 {
			continue
		}
		if logLen > 0 && overlaps(e.FileOffset, uint64(e.Length), logOff, logLen) {
			return formatErr(name, eoff, "FileOffset", e.Name()+" region overlaps the log", e.FileOffset)
		}
		for j := 0; j < i; j++ {
			o := t.Entries[j]
			if o.Length > 0 && overlaps(e.FileOffset, uint64(e.Length), o.FileOffset, uint64(o.Length)) {
				return formatErr(name, eoff, "FileOffset", e.Name()+" region overlaps the "+o.Name()+" region", e.FileOffset)
			}
		}
	}
	return nil
}

func overlaps(a, alen, b, blen uint64) bool { return a < b+blen && b < a+alen }
