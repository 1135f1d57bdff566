package core

// Parent locators (MS-VHDX 2.6.2.6) and differencing chains.

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/google/uuid"
)

// parentLocator is the parent locator metadata item.
type parentLocator struct {
	Offset      int64 // file offset of the item
	LocatorType uuid.UUID
	Entries     []keyValue // in file order
}

// keyValue is one parent locator key/value pair.
type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Get returns the value for key and whether it is present.
func (l *parentLocator) Get(key string) (string, bool) {
	for _, kv := range l.Entries {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Linkages returns the parent DataWriteGuids this locator accepts
// (parent_linkage, then parent_linkage2), skipping values that do not parse.
func (l *parentLocator) Linkages() []uuid.UUID {
	var out []uuid.UUID
	for _, k := range []string{"parent_linkage", "parent_linkage2"} {
		if v, ok := l.Get(k); ok {
			if g, err := uuid.Parse(strings.Trim(v, "{}")); err == nil {
				out = append(out, g)
			}
		}
	}
	return out
}

// Paths returns the locator's paths in the order the spec says to try them:
// relative_path, volume_path, absolute_win32_path.
func (l *parentLocator) Paths() []keyValue {
	var out []keyValue
	for _, k := range []string{"relative_path", "volume_path", "absolute_win32_path"} {
		if v, ok := l.Get(k); ok {
			out = append(out, keyValue{k, v})
		}
	}
	return out
}

func parseParentLocator(b []byte, off int64) (*parentLocator, error) {
	const name = "parent locator item"
	if len(b) < 20 {
		return nil, formatErr(name, off, "Length", "shorter than the 20-byte locator header", len(b))
	}
	l := &parentLocator{Offset: off, LocatorType: guidAt(b[0:])}
	count := int(binary.LittleEndian.Uint16(b[18:]))
	if 20+count*12 > len(b) {
		return nil, formatErr(name, off+18, "KeyValueCount", "entries extend past the item", count)
	}
	seen := make(map[string]bool, count)
	total := 0 // bytes of keys and values decoded so far
	for i := 0; i < count; i++ {
		p := 20 + i*12
		eoff := off + int64(p)
		ko := binary.LittleEndian.Uint32(b[p:])
		vo := binary.LittleEndian.Uint32(b[p+4:])
		kl := binary.LittleEndian.Uint16(b[p+8:])
		vl := binary.LittleEndian.Uint16(b[p+10:])
		where := fmt.Sprintf("parent locator entry %d", i)
		// Strings that do not overlap fit in the item. Entries that all
		// point at one long string would otherwise decode it count times.
		if total += int(kl) + int(vl); total > len(b) {
			return nil, formatErr(where, eoff, "", "keys and values add up to more than the item's length (overlapping strings)", total)
		}
		key, err := locatorString(b, ko, kl)
		if err != nil {
			return nil, formatErr(where, eoff, "Key", err.Error(), fmt.Sprintf("offset %d length %d", ko, kl))
		}
		val, err := locatorString(b, vo, vl)
		if err != nil {
			return nil, formatErr(where, eoff+4, "Value", err.Error(), fmt.Sprintf("offset %d length %d", vo, vl))
		}
		if seen[key] {
			return nil, formatErr(where, eoff, "Key", "duplicate key", key)
		}
		seen[key] = true
		l.Entries = append(l.Entries, keyValue{key, val})
	}
	return l, nil
}

func locatorString(b []byte, off uint32, n uint16) (string, error) {
	switch {
	case off == 0 || n == 0:
		return "", fmt.Errorf("zero offset or length")
	case n%2 != 0:
		return "", fmt.Errorf("odd UTF-16 length")
	case uint64(off)+uint64(n) > uint64(len(b)):
		return "", fmt.Errorf("string extends past the item")
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[int(off)+2*i:])
		if u[i] == 0 {
			return "", fmt.Errorf("string contains a NUL")
		}
	}
	return string(utf16.Decode(u)), nil
}

// maxChainDepth bounds differencing chains (the opened file is level 0).
const maxChainDepth = 256
