package core

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for errors.Is. Every error Open, ReadAt, Plan and Verify return
// for a damaged file matches ErrFormat; the typed errors below say where.
var (
	// ErrFormat: the file is not a valid VHDX file or one of its
	// structures is damaged.
	ErrFormat = errors.New("vhdx: invalid format")
	// ErrNotVHDX: the file is not a VHDX file at all (its file type
	// identifier is not "vhdxfile"). It also matches ErrFormat.
	ErrNotVHDX = errors.New("vhdx: not a VHDX file")
	// ErrUnsupported: the file is valid as far as this reader can tell but
	// uses something it does not implement (an unknown required region or
	// metadata item, an unknown log version or locator type).
	ErrUnsupported = errors.New("vhdx: unsupported feature")
	// ErrNoParent: a read or plan needs a differencing disk's parent and
	// none is attached.
	ErrNoParent = errors.New("vhdx: parent disk not available")
)

// FormatError describes damage in one structure of the file. It mirrors
// debug/elf's FormatError: what was wrong, in which structure, where. Err is
// the damage found inside the structure's parts (both header copies, both
// region table copies), if that is why the structure is unusable.
type FormatError struct {
	Structure   string // e.g. "header 1", "region table 2", "metadata table"
	Offset      int64  // file offset of the structure (or of the field when known)
	Field       string // e.g. "Checksum"; empty when the whole structure is meant
	Msg         string // what is wrong
	Val         any    // the offending value, if any
	Err         error  // the underlying damage, or nil
	unsupported bool   // the file is plausible but needs something we lack
	notVHDX     bool   // the file type identifier is wrong
}

func (e *FormatError) Error() string { return "vhdx: " + e.detail() }

// detail is the message without the package prefix, so causes nest
// without repeating it.
func (e *FormatError) detail() string {
	s := fmt.Sprintf("%s at 0x%x", e.Structure, e.Offset)
	if e.Field != "" {
		s += ": " + e.Field
	}
	s += ": " + e.Msg
	if e.Val != nil {
		s += fmt.Sprintf(" (%v)", e.Val)
	}
	if e.Err != nil {
		s += ": " + detail(e.Err)
	}
	return s
}

// Unwrap returns the underlying damage.
func (e *FormatError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrFormat) true, and ErrUnsupported or ErrNotVHDX
// where they apply.
func (e *FormatError) Is(target error) bool {
	switch target {
	case ErrUnsupported:
		return e.unsupported
	case ErrFormat:
		return !e.unsupported
	case ErrNotVHDX:
		return e.notVHDX
	}
	return false
}

// detail renders err without the "vhdx: " prefix of this package's errors;
// joined errors are separated by "; ".
func detail(err error) string {
	var fe *FormatError
	if errors.As(err, &fe) && fe == err {
		return fe.detail()
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var parts []string
		for _, e := range j.Unwrap() {
			parts = append(parts, detail(e))
		}
		return strings.Join(parts, "; ")
	}
	return strings.TrimPrefix(err.Error(), "vhdx: ")
}

func formatErr(structure string, off int64, field, msg string, val any) *FormatError {
	return &FormatError{Structure: structure, Offset: off, Field: field, Msg: msg, Val: val}
}

func unsupportedErr(structure string, off int64, field, msg string, val any) *FormatError {
	e := formatErr(structure, off, field, msg, val)
	e.unsupported = true
	return e
}

// IOError is a failure of the underlying io.ReaderAt while reading a
// structure or payload: the file may be fine, the medium or the browser's
// Blob was not. It names what was being read and where.
type IOError struct {
	Structure string // e.g. "header 1", "payload", "BAT page 3"
	Offset    int64  // file offset of the read
	Level     int    // chain level of the file: 0 for the opened file
	Err       error  // what the reader returned
}

func (e *IOError) Error() string {
	return fmt.Sprintf("vhdx: reading %s at 0x%x: %v", e.Structure, e.Offset, e.Err)
}

// Unwrap returns the reader's error.
func (e *IOError) Unwrap() error { return e.Err }

// BlockError is returned by reads and plans that touch a payload block whose
// BAT entry is unusable (reserved state, offset past the end of the file,
// overlapping another structure). Reads never return such a block's bytes.
type BlockError struct {
	Level      int   // 0 for the opened file, k for its k-th parent
	Block      int64 // payload block index
	Entry      int64 // BAT entry index
	FileOffset int64 // file offset the entry points at (0 if none)
	Msg        string
}

func (e *BlockError) Error() string {
	lvl := ""
	if e.Level > 0 {
		lvl = fmt.Sprintf(" (parent level %d)", e.Level)
	}
	return fmt.Sprintf("vhdx: payload block %d%s (BAT entry %d, file offset 0x%x): %s", e.Block, lvl, e.Entry, e.FileOffset, e.Msg)
}

// Is makes errors.Is(err, ErrFormat) true for block errors.
func (e *BlockError) Is(target error) bool { return target == ErrFormat }
