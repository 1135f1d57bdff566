// Package utf16le decodes the UTF-16 little-endian strings that on-disk
// formats store in fixed-size fields: VHDX's Creator and parent locator
// entries, GPT partition names, NTFS and FAT names.
//
// Both functions accept any bytes: an odd final byte is ignored and an
// unpaired surrogate becomes U+FFFD, as in unicode/utf16.Decode, so the
// result is always valid UTF-8 and never longer than 3/2 of the input.
package utf16le

import (
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Decode decodes all of b as UTF-16LE code units, zeros included.
func Decode(b []byte) string {
	return decode(b, false)
}

// DecodeZ decodes b up to its first zero code unit: a NUL-terminated or
// zero-padded field. Without a zero unit it is Decode.
func DecodeZ(b []byte) string {
	return decode(b, true)
}

func decode(b []byte, stopAtZero bool) string {
	var sb strings.Builder
	// A code unit never becomes more than 3 bytes of UTF-8 (a surrogate
	// pair: 4 bytes from 2 units).
	sb.Grow(len(b) / 2 * 3)
	for i := 0; i+1 < len(b); i += 2 {
		c := rune(binary.LittleEndian.Uint16(b[i:]))
		if c == 0 && stopAtZero {
			break
		}
		if utf16.IsSurrogate(c) {
			r := utf8.RuneError
			if i+3 < len(b) {
				if d := utf16.DecodeRune(c, rune(binary.LittleEndian.Uint16(b[i+2:]))); d != utf8.RuneError {
					r = d
					i += 2
				}
			}
			sb.WriteRune(r)
			continue
		}
		sb.WriteRune(c)
	}
	return sb.String()
}
