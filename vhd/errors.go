package vhd

// Errors. The sentinels are core's, so one errors.Is test serves VHDX and
// VHD images alike; *core.IOError and *core.BlockError are reused as they
// are, since their fields say all a VHD read needs. FormatError and
// ChainError are this package's own: core's constructors and the flags
// behind their Is methods are unexported, and a VHD error should not call
// itself "vhdx".

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vhdxview/vhdxview/core"
)

// Sentinels for errors.Is. ErrFormat, ErrUnsupported and ErrNoParent are
// core's own values.
var (
	// ErrFormat: the file is not a valid VHD file or a structure is
	// damaged. Every error Open, ReadAt, Plan and Verify return for a
	// damaged file matches it.
	ErrFormat = core.ErrFormat
	// ErrUnsupported: a deprecated disk type or a format version this
	// reader does not know.
	ErrUnsupported = core.ErrUnsupported
	// ErrNoParent: a read needs a differencing disk's parent and none is
	// attached.
	ErrNoParent = core.ErrNoParent
	// ErrNotVHD: the file is no VHD file at all (no "conectix" cookie at
	// its end or its start). It also matches ErrFormat.
	ErrNotVHD = errors.New("vhd: not a VHD file")
)

// FormatError describes damage in one structure of the file: which
// structure, its file offset, the field and what was wrong. It has the
// fields of *core.FormatError. Err is the damage found in the other copy
// when both footer copies are unusable.
type FormatError struct {
	Structure   string // "footer", "footer copy", "dynamic header", "BAT", "parent locator 2"
	Offset      int64  // file offset of the structure, or of the field when known
	Field       string // e.g. "Checksum"; empty when the whole structure is meant
	Msg         string // what is wrong
	Val         any    // the offending value, if any
	Err         error  // the underlying damage, or nil
	unsupported bool
	notVHD      bool
}

func (e *FormatError) Error() string { return "vhd: " + e.detail() }

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
		s += "; " + detail(e.Err)
	}
	return s
}

// Unwrap returns the underlying damage.
func (e *FormatError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrFormat) true, and ErrUnsupported or ErrNotVHD
// where they apply.
func (e *FormatError) Is(target error) bool {
	switch target {
	case ErrUnsupported:
		return e.unsupported
	case ErrFormat:
		return !e.unsupported
	case ErrNotVHD:
		return e.notVHD
	}
	return false
}

func formatErr(structure string, off int64, field, msg string, val any) *FormatError {
	return &FormatError{Structure: structure, Offset: off, Field: field, Msg: msg, Val: val}
}

func unsupportedErr(structure string, off int64, field, msg string, val any) *FormatError {
	e := formatErr(structure, off, field, msg, val)
	e.unsupported = true
	return e
}

// detail renders err without the package prefixes, so causes nest
// without repeating them.
func detail(err error) string {
	var fe *FormatError
	if errors.As(err, &fe) && fe == err {
		return fe.detail()
	}
	s := err.Error()
	for _, p := range []string{"vhd: ", "vhdx: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// ChainError says why a differencing disk's parent could not be attached.
// It matches ErrNoParent when no file given is the parent, and ErrFormat
// when one that claims to be cannot be (a cycle, a chain too deep). Its
// fields are named as core.ChainError's.
type ChainError struct {
	Child    string   `json:"child"`    // the file whose parent is missing or wrong
	Level    int      `json:"level"`    // its level in the chain
	Linkages []string `json:"linkages"` // the Parent Unique ID it names
	// ParentName is the dynamic header's Parent Unicode Name.
	ParentName string `json:"parent_name,omitempty"`
	// Paths are the parent locators' paths, in the order Lookup is given
	// them (relative first), then the parent name.
	Paths []string `json:"paths"`
	// Locator maps each usable locator's platform code ("W2ru", "W2ku",
	// ...) to its path.
	Locator  map[string]string `json:"locator,omitempty"`
	Tried    []string          `json:"tried,omitempty"` // each candidate and why it is not the parent
	Msg      string            `json:"message"`
	noParent bool
}

func (e *ChainError) Error() string {
	s := "vhd: " + e.Msg
	if len(e.Linkages) > 0 {
		s += " (parent unique ID " + e.Linkages[0] + ")"
	}
	for _, t := range e.Tried {
		s += "; " + t
	}
	return s
}

// Is makes errors.Is(err, ErrNoParent) true when the parent is missing,
// and ErrFormat otherwise.
func (e *ChainError) Is(target error) bool {
	return (e.noParent && target == ErrNoParent) || (!e.noParent && target == ErrFormat)
}
