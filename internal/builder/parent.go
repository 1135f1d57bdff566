package builder

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/google/uuid"
)

// Well-known VHDX parent locator keys (MS-VHDX 2.6.2.6.3).
const (
	KeyParentLinkage     = "parent_linkage"
	KeyParentLinkage2    = "parent_linkage2"
	KeyRelativePath      = "relative_path"
	KeyVolumePath        = "volume_path"
	KeyAbsoluteWin32Path = "absolute_win32_path"
)

// ParentLocator is the Parent Locator metadata item of a differencing image
// (MS-VHDX 2.6.2.6).
type ParentLocator struct {
	// Type is the LocatorType; the zero UUID means VHDXParentLocatorType.
	Type uuid.UUID `json:"type,omitzero"`
	// Entries are the key/value pairs, written in this order as UTF-16LE
	// without terminating NULs. They are not checked: duplicate keys,
	// empty strings or a missing parent_linkage make damaged locators.
	Entries []KeyValue `json:"entries"`
}

// KeyValue is one parent locator entry (MS-VHDX 2.6.2.6.2).
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// LinkageValue formats a GUID the way parent_linkage values are written:
// lowercase with enclosing braces, e.g. "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}".
func LinkageValue(u uuid.UUID) string { return "{" + strings.ToLower(u.String()) + "}" }

// NewVHDXParent returns a VHDX parent locator whose parent_linkage is the
// parent's DataWriteGuid and whose relative_path is relPath (use "\" as the
// separator, as the spec does; a bare file name means "next to the child").
func NewVHDXParent(parentDataWriteGUID uuid.UUID, relPath string) *ParentLocator {
	return &ParentLocator{Entries: []KeyValue{
		{KeyParentLinkage, LinkageValue(parentDataWriteGUID)},
		{KeyRelativePath, relPath},
	}}
}

// Get returns the value of the first entry with the given key.
func (pl *ParentLocator) Get(key string) (string, bool) {
	for _, e := range pl.Entries {
		if e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

// encodeUTF16 returns s as UTF-16LE.
func encodeUTF16(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// Bytes encodes the locator: a 20-byte header (LocatorType, Reserved,
// KeyValueCount; MS-VHDX 2.6.2.6.1), KeyValueCount 12-byte entries
// (KeyOffset, ValueOffset, KeyLength, ValueLength; MS-VHDX 2.6.2.6.2) and
// then the strings, key before value, in entry order. Offsets are relative
// to the start of the item.
func (pl *ParentLocator) Bytes() ([]byte, error) {
	if len(pl.Entries) > 0xFFFF {
		return nil, fmt.Errorf("parent locator: %d entries, at most 65535", len(pl.Entries))
	}
	typ := orUUID(pl.Type, VHDXParentLocatorType)
	n := len(pl.Entries)
	hdr := make([]byte, 20+12*n)
	PutGUID(hdr[0:16], typ)
	binary.LittleEndian.PutUint16(hdr[18:20], uint16(n))
	var strs []byte
	for i, e := range pl.Entries {
		k, v := encodeUTF16(e.Key), encodeUTF16(e.Value)
		if len(k) > 0xFFFF || len(v) > 0xFFFF {
			return nil, fmt.Errorf("parent locator entry %q: key or value longer than 65535 bytes", e.Key)
		}
		ent := hdr[20+12*i : 32+12*i]
		binary.LittleEndian.PutUint32(ent[0:4], uint32(len(hdr)+len(strs)))
		strs = append(strs, k...)
		binary.LittleEndian.PutUint32(ent[4:8], uint32(len(hdr)+len(strs)))
		strs = append(strs, v...)
		binary.LittleEndian.PutUint16(ent[8:10], uint16(len(k)))
		binary.LittleEndian.PutUint16(ent[10:12], uint16(len(v)))
	}
	b := append(hdr, strs...)
	return b, nil
}
