package core

import (
	"errors"
	"fmt"
)

// ErrFormat is matched (with errors.Is) by every *FormatError: the file is
// not a valid VHDX file or one of its structures is damaged.
var ErrFormat = errors.New("vhdx: invalid format")

// ErrUnsupported is matched by errors for files that are valid as far as
// this reader can tell but use something it does not implement (an unknown
// required region or metadata item, an unknown log version or locator type).
var ErrUnsupported = errors.New("vhdx: unsupported feature")

// ErrNoParent is returned by reads and plans that need a differencing disk's
// parent when no parent was resolved at Open.
var ErrNoParent = errors.New("vhdx: parent disk not available")

// FormatError describes damage in one structure of the file. It mirrors
// debug/elf's FormatError: what was wrong, in which structure, where.
type FormatError struct {
	Structure   string // e.g. "header 1", "region table 2", "BAT entry 17"
	Offset      int64  // file offset of the structure (or of the field when known)
	Field       string // e.g. "Checksum"; empty when the whole structure is meant
	Msg         string // what is wrong
	Val         any    // the offending value, if any
	unsupported bool   // the file is plausible but needs something we lack
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("vhdx: %s at 0x%x", e.Structure, e.Offset)
	if e.Field != "" {
		s += ": " + e.Field
	}
	s += ": " + e.Msg
	if e.Val != nil {
		s += fmt.Sprintf(" (%v)", e.Val)
	}
	return s
}

// Is makes errors.Is(err, ErrFormat) (or ErrUnsupported) true.
func (e *FormatError) Is(target error) bool {
	if e.unsupported {
		return target == ErrUnsupported
	}
	return target == ErrFormat
}

func formatErr(structure string, off int64, field, msg string, val any) *FormatError {
	return &FormatError{Structure: structure, Offset: off, Field: field, Msg: msg, Val: val}
}

func unsupportedErr(structure string, off int64, field, msg string, val any) *FormatError {
	e := formatErr(structure, off, field, msg, val)
	e.unsupported = true
	return e
}

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
