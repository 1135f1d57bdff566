package builder

import (
	"encoding/binary"
	"fmt"
)

// Fill describes generated block contents, so that descriptions (and the
// mkvhdx JSON) need not carry megabytes of literal data.
type Fill struct {
	// Pattern selects the generator:
	//
	//   - "index": every 512-byte unit of the virtual disk is filled with 64
	//     little-endian uint64 words; even words hold the unit's virtual
	//     sector number (virtual byte offset / 512), odd words hold Value.
	//     Every unit is thus distinct, and different images of a chain can
	//     be told apart by giving them different Values.
	//   - "byte": every byte is the low 8 bits of Value.
	Pattern string `json:"pattern"`
	// Value parameterises the pattern (see Pattern).
	Value uint64 `json:"value,omitempty"`
}

// Fill patterns.
const (
	FillIndex = "index"
	FillByte  = "byte"
)

func (f *Fill) validate() error {
	switch f.Pattern {
	case FillIndex, FillByte:
		return nil
	}
	return fmt.Errorf("unknown fill pattern %q (want %q or %q)", f.Pattern, FillIndex, FillByte)
}

// generate fills b, which holds the bytes at virtual offset off (a multiple
// of 512), with the pattern.
func (f *Fill) generate(b []byte, off uint64) {
	switch f.Pattern {
	case FillByte:
		for i := range b {
			b[i] = byte(f.Value)
		}
	case FillIndex:
		for i := 0; i+16 <= len(b); i += 16 {
			sector := (off + uint64(i)) / 512
			binary.LittleEndian.PutUint64(b[i:], sector)
			binary.LittleEndian.PutUint64(b[i+8:], f.Value)
		}
	}
}
