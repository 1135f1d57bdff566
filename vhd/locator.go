package vhd

// Parent locator entries (VHD spec, "Parent Locator Entries"): eight
// 24-byte entries in the dynamic header, each pointing at platform data
// elsewhere in the file that names the parent's file. The parent is
// matched by its Unique Id, never by these names: they are hints, handed
// to Options.Lookup.

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vhdxview/vhdxview/core"
)

// maxLocatorData caps a locator's platform data: the longest Windows path
// (32,767 UTF-16 units) fits.
const maxLocatorData = 64 << 10

// locator is one parent locator entry and what its data says.
type locator struct {
	Index       int   // 1..8
	EntryOffset int64 // file offset of the 24-byte entry
	Code        [4]byte
	Space       uint32 // Platform Data Space (sectors; some writers put bytes)
	Length      uint32 // Platform Data Length in bytes
	Reserved    uint32
	DataOffset  uint64
	Path        string // the decoded path, or "" for a Mac alias
	Note        string // what the data is, or a remark
	Err         error  // why the entry cannot be used
}

func (l *locator) used() bool { return binary.BigEndian.Uint32(l.Code[:]) != 0 }

func (l *locator) name() string { return fmt.Sprintf("parent locator %d", l.Index) }

// readLocators reads the data of each used entry. Damaged entries keep
// their error (Verify reports it) and are left out of the hints; they do
// not stop the disk from opening, since the parent is found by its ID.
func (h *dynHeader) readLocators(r io.ReaderAt, dataEnd int64) error {
	for k := range h.Locators {
		l := &h.Locators[k]
		if !l.used() {
			continue
		}
		code := string(l.Code[:])
		switch code {
		case "W2ru", "W2ku", "Wi2r", "Wi2k", "MacX", "Mac ":
		default:
			l.Err = unsupportedErr(l.name(), l.EntryOffset, "Platform Code", "unknown platform code", fmt.Sprintf("%q", code))
			continue
		}
		if l.Length == 0 {
			l.Err = formatErr(l.name(), l.EntryOffset+8, "Platform Data Length", "zero for a used entry", 0)
			continue
		}
		if l.Length > maxLocatorData {
			l.Err = formatErr(l.name(), l.EntryOffset+8, "Platform Data Length", "longer than 64 KiB", l.Length)
			continue
		}
		if l.DataOffset > uint64(dataEnd) || l.DataOffset+uint64(l.Length) > uint64(dataEnd) {
			l.Err = formatErr(l.name(), l.EntryOffset+16, "Platform Data Offset", "the data is not inside the file",
				fmt.Sprintf("0x%x+0x%x, data ends at 0x%x", l.DataOffset, l.Length, dataEnd))
			continue
		}
		b := make([]byte, l.Length) // ≤ 64 KiB
		if err := readFull(r, b, int64(l.DataOffset)); err != nil {
			return &core.IOError{Structure: l.name(), Offset: int64(l.DataOffset), Err: err}
		}
		path, err := decodeLocator(code, b)
		if err != nil {
			l.Err = formatErr(l.name(), int64(l.DataOffset), "", err.Error(), nil)
			continue
		}
		l.Path = path
		switch code {
		case "W2ru":
			l.Note = "relative Windows path"
		case "W2ku":
			l.Note = "absolute Windows path"
		case "Wi2r":
			l.Note = "relative Windows path (deprecated)"
		case "Wi2k":
			l.Note = "absolute Windows path (deprecated)"
		case "MacX":
			l.Note = "file URL"
		case "Mac ":
			l.Note = "Mac OS alias (not decoded)"
		}
		// The space is in sectors by the spec; Hyper-V writes bytes.
		// Either way it must hold the data.
		if uint64(l.Space)*sectorSize < uint64(l.Length) && l.Space < l.Length {
			l.Note += fmt.Sprintf("; Platform Data Space %d holds fewer than its %d bytes", l.Space, l.Length)
		}
	}
	return nil
}

// decodeLocator turns platform data into a path.
func decodeLocator(code string, b []byte) (string, error) {
	switch code {
	case "W2ru", "W2ku":
		// UTF-16 little-endian, though the rest of the file is big-endian:
		// that is what Windows writes and other readers expect.
		if len(b)%2 != 0 {
			return "", fmt.Errorf("odd length %d for a UTF-16 path", len(b))
		}
		u := make([]uint16, 0, len(b)/2)
		for i := 0; i < len(b); i += 2 {
			c := binary.LittleEndian.Uint16(b[i:])
			if c == 0 {
				break
			}
			u = append(u, c)
		}
		return nonEmpty(string(utf16.Decode(u)))
	case "Wi2r", "Wi2k":
		// Single-byte paths of the old products: UTF-8 if valid (ASCII
		// is), else Latin-1.
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			b = b[:i]
		}
		if utf8.Valid(b) {
			return nonEmpty(string(b))
		}
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return nonEmpty(string(r))
	case "MacX":
		s := strings.TrimRight(string(b), "\x00")
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("file URL is not UTF-8")
		}
		if u, err := url.Parse(s); err == nil && u.Scheme == "file" && u.Path != "" {
			return u.Path, nil
		}
		return nonEmpty(s)
	}
	return "", nil // "Mac ": an alias record, opaque here
}

func nonEmpty(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty path")
	}
	return s, nil
}

// hints returns the locator paths in the order Lookup gets them: relative
// paths first (they survive moving the pair of files), then absolute
// ones, then the file URL, then the parent name.
func (h *dynHeader) hints() (paths []string, byCode map[string]string) {
	byCode = map[string]string{}
	seen := map[string]bool{}
	for _, code := range []string{"W2ru", "Wi2r", "W2ku", "Wi2k", "MacX"} {
		for k := range h.Locators {
			l := &h.Locators[k]
			if l.used() && l.Err == nil && string(l.Code[:]) == code && l.Path != "" {
				if _, ok := byCode[code]; !ok {
					byCode[code] = l.Path
				}
				if !seen[l.Path] {
					seen[l.Path] = true
					paths = append(paths, l.Path)
				}
			}
		}
	}
	if n := h.ParentName; n != "" && !seen[n] {
		paths = append(paths, n)
	}
	return paths, byCode
}
