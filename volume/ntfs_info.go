package volume

// What a file's MFT record holds, for a viewer's details and `vhdx stat`:
// the record's number and place on the disk, its attributes one by one
// (type, name, resident or not, sizes, flags, runs), the DOS attribute
// bits and times of $STANDARD_INFORMATION and each $FILE_NAME. Layouts as
// in ntfs_record.go; $STANDARD_INFORMATION and $FILE_NAME field offsets
// and the FILE_ATTRIBUTE_* bits from the Linux-NTFS documentation and
// ntfs-3g's layout.h.

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"
)

// NTFSFile is what the MFT record of one file holds.
type NTFSFile struct {
	Record   uint64 `json:"record"`   // MFT record number (ntfs-3g's inode number)
	Sequence uint16 `json:"sequence"` // the record's sequence number
	// Offset is the record's byte offset on the disk (the volume's offset
	// plus where $MFT's runs place it); -1 when $MFT's runs do not map it.
	Offset     int64 `json:"offset"`
	RecordSize int64 `json:"record_size"`
	Directory  bool  `json:"directory"` // the record is flagged a directory
	Metadata   bool  `json:"metadata"`  // as Entry.Metadata
	HardLinks  int   `json:"hard_links"`
	// ExtensionRecords are the records the $ATTRIBUTE_LIST places
	// attributes in, besides the base record.
	ExtensionRecords []uint64 `json:"extension_records,omitempty"`
	// DOSAttributes are the FILE_ATTRIBUTE_* bits of
	// $STANDARD_INFORMATION; DOSFlags names the ones set.
	DOSAttributes uint32   `json:"dos_attributes"`
	DOSFlags      []string `json:"dos_flags"`
	// Times are $STANDARD_INFORMATION's: the ones Windows shows.
	Times NTFSTimes `json:"times"`
	// Names are the $FILE_NAME attributes: each hard link, and a DOS 8.3
	// name beside a long one, with the times and sizes Windows last wrote
	// there (often older than Times).
	Names      []NTFSName `json:"names"`
	Attributes []NTFSAttr `json:"attributes"`
	Streams    []Stream   `json:"streams,omitempty"` // alternate data streams
	// Problems are attribute-list entries that could not be followed.
	Problems []string `json:"problems,omitempty"`
}

// NTFSTimes are the four times of $STANDARD_INFORMATION or of a
// $FILE_NAME, UTC (zero when unset).
type NTFSTimes struct {
	Created  time.Time `json:"created,omitzero"`
	Modified time.Time `json:"modified,omitzero"` // the data last written
	Changed  time.Time `json:"changed,omitzero"`  // the MFT record last changed
	Accessed time.Time `json:"accessed,omitzero"`
}

// NTFSName is one $FILE_NAME attribute.
type NTFSName struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"` // "POSIX", "Win32", "DOS" or "Win32 & DOS"
	Parent    uint64    `json:"parent"`    // the directory's MFT record
	Times     NTFSTimes `json:"times"`
	Size      int64     `json:"size"`
	Allocated int64     `json:"allocated"`
	// DOSAttributes are the bits as the name's copy has them.
	DOSAttributes uint32 `json:"dos_attributes"`
}

// NTFSAttr is one attribute, its pieces in several records joined.
type NTFSAttr struct {
	Type     uint32 `json:"type"`
	TypeName string `json:"type_name"` // "$DATA", "$FILE_NAME"...
	Name     string `json:"name,omitempty"`
	Resident bool   `json:"resident"`
	// Size is the value's size; Allocated the clusters' bytes given to a
	// non-resident value (0 for a resident one, which lives in its
	// record); Initialized how much of it was written (non-resident).
	Size        int64 `json:"size"`
	Allocated   int64 `json:"allocated"`
	Initialized int64 `json:"initialized,omitempty"`
	// Flags is the attribute header's flags field.
	Flags      uint16 `json:"flags"`
	Compressed bool   `json:"compressed,omitempty"`
	Sparse     bool   `json:"sparse,omitempty"`
	Encrypted  bool   `json:"encrypted,omitempty"`
	// Runs counts a non-resident value's runs (sparse ones included);
	// FirstCluster is the first allocated run's LCN, -1 if none is.
	Runs         int   `json:"runs,omitempty"`
	FirstCluster int64 `json:"first_cluster,omitempty"`
	// Records are the MFT records holding its pieces, when not only the
	// base record.
	Records []uint64 `json:"records,omitempty"`
	Problem string   `json:"problem,omitempty"` // why its runs cannot all be read
	// ValueOffset is where a resident value lies on the disk, inside its
	// MFT record (0 when not resident, or when $MFT's runs do not map the
	// record). On disk the last two bytes of each of the record's 512-byte
	// sectors hold the update sequence number, not the value's bytes.
	ValueOffset int64 `json:"value_offset,omitempty"`
}

// NTFSFile gives what the MFT record of the file at name holds (paths as
// in Lookup; "path:stream" gives its file's record). On a volume that is
// not NTFS it fails with an error wrapping ErrUnsupportedFS.
func (f *FS) NTFSFile(name string) (info *NTFSFile, err error) {
	p := cleanPath(name)
	err = f.call("stat", p, func(ctx context.Context) error {
		n, ok := f.v.impl.(*ntfsFS)
		if !ok {
			return fmt.Errorf("%w: %s has no MFT records (NTFS only)", ErrUnsupportedFS, f.v.kind)
		}
		info, err = n.fileInfo(ctx, p)
		return err
	})
	if info != nil && info.Offset >= 0 {
		info.Offset += f.v.off
	}
	if info != nil {
		for i := range info.Attributes {
			if info.Attributes[i].ValueOffset > 0 {
				info.Attributes[i].ValueOffset += f.v.off
			}
		}
	}
	return info, err
}

func (n *ntfsFS) fileInfo(ctx context.Context, p string) (*NTFSFile, error) {
	file, _ := splitStream(p)
	f, name, err := n.lookup(ctx, file)
	if err != nil {
		return nil, err
	}
	e := n.entry(f, file, name)
	out := &NTFSFile{Record: f.num, Sequence: f.seq, Offset: n.recordOffset(ctx, f.num), RecordSize: n.recSize,
		Directory: f.flags&recordIsDir != 0, Metadata: e.Metadata, HardLinks: int(f.links),
		Streams: e.Streams, Names: []NTFSName{}, Attributes: []NTFSAttr{}, DOSFlags: []string{}}
	for _, pr := range f.problems {
		out.Problems = append(out.Problems, pr.msg)
	}
	ext := map[uint64]bool{}
	type key struct {
		typ  uint32
		name string
	}
	done := map[key]bool{}
	recOffsets := map[uint64]int64{f.num: out.Offset} // $MFT's runs walked once a record
	for _, a := range f.all {
		if a.record != f.num && !ext[a.record] {
			ext[a.record] = true
			out.ExtensionRecords = append(out.ExtensionRecords, a.record)
		}
		switch a.typ {
		case attrStandardInfo:
			if a.resident && len(a.value) >= 0x24 {
				out.Times = ntfsTimes(a.value, 0)
				out.DOSAttributes = binary.LittleEndian.Uint32(a.value[0x20:])
				out.DOSFlags = dosFlags(out.DOSAttributes)
			}
		case attrFileName:
			if a.resident {
				if fn, err := parseFileName(a.value); err == nil {
					out.Names = append(out.Names, NTFSName{Name: fn.name, Namespace: namespaces[fn.space], Parent: refNum(fn.parent),
						Times: ntfsTimes(a.value, 8), Size: fn.size, Allocated: int64(binary.LittleEndian.Uint64(a.value[0x28:])), DOSAttributes: fn.attrs})
				}
			}
		}
		// One row per attribute: the pieces of a non-resident one spread
		// over records are joined by stream. Resident attributes of one
		// type and name (a long and a DOS $FILE_NAME) are each their own.
		k := key{a.typ, a.name}
		if a.resident || !done[k] {
			done[k] = !a.resident
			at := n.attrInfo(f, a)
			if a.resident {
				ro, ok := recOffsets[a.record]
				if !ok {
					ro = n.recordOffset(ctx, a.record)
					recOffsets[a.record] = ro
				}
				if ro >= 0 {
					at.ValueOffset = ro + a.valueAt
				}
			}
			out.Attributes = append(out.Attributes, at)
		}
	}
	return out, nil
}

// attrInfo describes attribute a of f, all its pieces together.
func (n *ntfsFS) attrInfo(f *mftFile, a *ntfsAttr) NTFSAttr {
	at := NTFSAttr{Type: a.typ, TypeName: attrTypeName(a.typ), Name: a.name, Resident: a.resident}
	if a.typ == attrAttributeList || a.resident {
		// A resident value is whole in its record; an attribute list's
		// runs are always its own, in the base record.
		at.Flags = a.flags
		at.Size = int64(len(a.value))
		if a.record != f.num {
			at.Records = []uint64{a.record}
		}
		if !a.resident {
			at.Size, at.Allocated, at.Initialized = a.size, a.alloc, a.init
			at.Runs, at.FirstCluster = len(a.runs), firstLCN(a.runs)
		}
		flagBits(&at)
		return at
	}
	s, _ := n.stream(f, a.typ, a.name)
	if s.ntfsAttr == nil {
		at.Problem = summarize(s.problems)
		return at
	}
	at.Resident = s.resident
	at.Flags = s.flags
	at.Size, at.Allocated, at.Initialized = s.size, s.alloc, s.init
	if s.resident {
		at.Size, at.Allocated, at.Initialized = int64(len(s.value)), 0, 0
	} else {
		at.Runs, at.FirstCluster = len(s.runs), firstLCN(s.runs)
	}
	recs := map[uint64]bool{}
	for _, p := range f.all {
		if p.typ == a.typ && p.name == a.name && !recs[p.record] {
			recs[p.record] = true
			at.Records = append(at.Records, p.record)
		}
	}
	if len(at.Records) == 1 && at.Records[0] == f.num {
		at.Records = nil
	}
	if len(s.problems) > 0 {
		at.Problem = summarize(s.problems)
	}
	flagBits(&at)
	return at
}

func flagBits(at *NTFSAttr) {
	at.Compressed = at.Flags&attrCompressedMask != 0
	at.Sparse = at.Flags&attrSparse != 0
	at.Encrypted = at.Flags&attrEncrypted != 0
}

// firstLCN is the LCN of the first allocated run, -1 if none is.
func firstLCN(runs []ntfsRun) int64 {
	for _, r := range runs {
		if r.lcn >= 0 {
			return r.lcn
		}
	}
	return -1
}

// recordOffset is where MFT record num starts in the volume, from
// $MFT's own runs (record 0's $DATA, with its attribute list); -1 when
// they do not map it.
func (n *ntfsFS) recordOffset(ctx context.Context, num uint64) int64 {
	mft, err := n.file(ctx, 0)
	if err != nil {
		return -1
	}
	s, ok := n.stream(mft, attrData, "")
	if !ok || s.ntfsAttr == nil || s.resident {
		return -1
	}
	cs := n.clusterSize
	off := int64(num) * n.recSize
	vcn := off / cs
	for _, r := range s.runs {
		if vcn >= r.vcn && vcn < r.vcn+r.n {
			if r.lcn < 0 {
				return -1
			}
			return (r.lcn+vcn-r.vcn)*cs + off%cs
		}
	}
	return -1
}

// ntfsTimes reads the four FILETIMEs at b[at:]: created, modified, MFT
// changed, accessed ($STANDARD_INFORMATION at 0, $FILE_NAME at 8).
func ntfsTimes(b []byte, at int) NTFSTimes {
	ft := func(i int) time.Time { return filetime(binary.LittleEndian.Uint64(b[at+8*i:])) }
	return NTFSTimes{Created: ft(0), Modified: ft(1), Changed: ft(2), Accessed: ft(3)}
}

var namespaces = [4]string{"POSIX", "Win32", "DOS", "Win32 & DOS"}

// attrTypeNames are the attribute types of NTFS 3.1 ($AttrDef).
var attrTypeNames = map[uint32]string{
	0x10: "$STANDARD_INFORMATION", 0x20: "$ATTRIBUTE_LIST", 0x30: "$FILE_NAME", 0x40: "$OBJECT_ID",
	0x50: "$SECURITY_DESCRIPTOR", 0x60: "$VOLUME_NAME", 0x70: "$VOLUME_INFORMATION", 0x80: "$DATA",
	0x90: "$INDEX_ROOT", 0xa0: "$INDEX_ALLOCATION", 0xb0: "$BITMAP", 0xc0: "$REPARSE_POINT",
	0xd0: "$EA_INFORMATION", 0xe0: "$EA", 0xf0: "$PROPERTY_SET", 0x100: "$LOGGED_UTILITY_STREAM",
}

func attrTypeName(t uint32) string {
	if s, ok := attrTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("unknown (0x%x)", t)
}

// dosFlagNames name the FILE_ATTRIBUTE_* bits, low bit first.
var dosFlagNames = []struct {
	bit  uint32
	name string
}{
	{0x1, "read-only"}, {0x2, "hidden"}, {0x4, "system"}, {0x10, "directory"}, {0x20, "archive"},
	{0x40, "device"}, {0x80, "normal"}, {0x100, "temporary"}, {0x200, "sparse"}, {0x400, "reparse point"},
	{0x800, "compressed"}, {0x1000, "offline"}, {0x2000, "not content indexed"}, {0x4000, "encrypted"},
	{0x8000, "integrity stream"}, {0x10000, "virtual"}, {0x20000, "no scrub data"},
	{0x10000000, "directory (has an index)"}, {0x20000000, "view index"},
}

// dosFlags names the bits set in attrs; an unnamed bit as its value.
func dosFlags(attrs uint32) []string {
	out := []string{}
	for _, f := range dosFlagNames {
		if attrs&f.bit != 0 {
			out = append(out, f.name)
			attrs &^= f.bit
		}
	}
	for b := uint32(1); attrs != 0; b <<= 1 {
		if attrs&b != 0 {
			out = append(out, fmt.Sprintf("0x%x", b))
			attrs &^= b
		}
	}
	return out
}
