package core

// Parent locators (MS-VHDX 2.6.2.6) and differencing chains.

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/google/uuid"
)

// ParentLocator is the parent locator metadata item.
type ParentLocator struct {
	Offset      int64 // file offset of the item
	LocatorType uuid.UUID
	Entries     []KeyValue // in file order
}

// KeyValue is one parent locator key/value pair.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Get returns the value for key and whether it is present.
func (l *ParentLocator) Get(key string) (string, bool) {
	for _, kv := range l.Entries {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Linkages returns the parent DataWriteGuids this locator accepts
// (parent_linkage, then parent_linkage2), skipping values that do not parse.
func (l *ParentLocator) Linkages() []uuid.UUID {
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
func (l *ParentLocator) Paths() []KeyValue {
	var out []KeyValue
	for _, k := range []string{"relative_path", "volume_path", "absolute_win32_path"} {
		if v, ok := l.Get(k); ok {
			out = append(out, KeyValue{k, v})
		}
	}
	return out
}

func parseParentLocator(b []byte, off int64) (*ParentLocator, error) {
	const name = "parent locator item"
	if len(b) < 20 {
		return nil, formatErr(name, off, "Length", "shorter than the 20-byte locator header", len(b))
	}
	l := &ParentLocator{Offset: off, LocatorType: guidAt(b[0:])}
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
		l.Entries = append(l.Entries, KeyValue{key, val})
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

// MaxChainDepth bounds differencing chains (the opened file is level 0).
const MaxChainDepth = 256

// ParentFile is a candidate parent offered by a ParentResolver.
type ParentFile struct {
	Name string
	R    io.ReaderAt
	Size int64
}

// ParentResolver offers candidate parents for a differencing disk. The
// engine opens them in order and takes the first whose DataWriteGuid matches
// the child's parent_linkage (or parent_linkage2). The CLI offers --parent
// paths and the locator's paths; the browser offers the other dropped files.
type ParentResolver interface {
	Candidates(child *Image) ([]ParentFile, error)
}

// ParentResolverFunc adapts a function to ParentResolver.
type ParentResolverFunc func(child *Image) ([]ParentFile, error)

// Candidates calls f.
func (f ParentResolverFunc) Candidates(child *Image) ([]ParentFile, error) { return f(child) }

// ChainError says why a differencing disk's parent could not be attached.
// It matches ErrNoParent when no candidate was found or none matched.
type ChainError struct {
	Child    string      // the child's name
	Level    int         // the child's level in the chain
	Linkages []uuid.UUID // the DataWriteGuids the child accepts
	Paths    []KeyValue  // the locator's paths, to show the user
	Tried    []string    // each candidate and why it was rejected
	Msg      string
	noParent bool
}

func (e *ChainError) Error() string {
	s := "vhdx: " + e.Msg
	if len(e.Linkages) > 0 {
		s += fmt.Sprintf(" (parent_linkage %s)", e.Linkages[0])
	}
	for _, t := range e.Tried {
		s += "; " + t
	}
	return s
}

// Is makes errors.Is(err, ErrNoParent) true when the parent is missing.
func (e *ChainError) Is(target error) bool {
	return (e.noParent && target == ErrNoParent) || (!e.noParent && target == ErrFormat)
}

func (img *Image) resolveChain(res ParentResolver) error {
	seen := map[uuid.UUID]bool{img.identity(): true}
	for child := img; child.Metadata.FileParameters.HasParent; child = child.Parent {
		loc := child.Metadata.ParentLocator
		ce := &ChainError{Child: child.describe(), Level: child.Level, Linkages: loc.Linkages(), Paths: loc.Paths()}
		if loc.LocatorType != LocatorTypeVHDX {
			ce.Msg = fmt.Sprintf("%s: unknown parent locator type %s", ce.Child, loc.LocatorType)
			return ce
		}
		if len(ce.Linkages) == 0 {
			ce.Msg = ce.Child + ": parent locator has no valid parent_linkage"
			return ce
		}
		if child.Level+1 >= MaxChainDepth {
			ce.Msg = fmt.Sprintf("%s: chain deeper than %d levels", ce.Child, MaxChainDepth)
			return ce
		}
		cands, err := res.Candidates(child)
		if err != nil {
			return err
		}
		var parent *Image
		for _, c := range cands {
			p, err := openFile(c.R, c.Size, c.Name, child.Level+1)
			if err != nil {
				ce.Tried = append(ce.Tried, c.Name+": "+err.Error())
				continue
			}
			dwg := p.identity()
			match := false
			for _, l := range ce.Linkages {
				match = match || l == dwg
			}
			if !match {
				ce.Tried = append(ce.Tried, fmt.Sprintf("%s: DataWriteGuid %s does not match parent_linkage %s", c.Name, dwg, ce.Linkages[0]))
				continue
			}
			parent = p
			break
		}
		if parent == nil {
			ce.noParent = true
			ce.Msg = ce.Child + ": parent not found"
			return ce
		}
		if seen[parent.identity()] {
			ce.Msg = fmt.Sprintf("%s: chain has a cycle (%s appears twice)", ce.Child, parent.describe())
			return ce
		}
		seen[parent.identity()] = true
		if parent.Geometry.LogicalSectorSize != child.Geometry.LogicalSectorSize {
			ce.Msg = fmt.Sprintf("%s: parent %s has logical sector size %d, child %d", ce.Child, parent.describe(), parent.Geometry.LogicalSectorSize, child.Geometry.LogicalSectorSize)
			return ce
		}
		child.Parent = parent
	}
	return nil
}
