package utf16le

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"
)

// le encodes code units as UTF-16LE bytes.
func le(units ...uint16) []byte {
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return b
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    []byte
		want  string // Decode
		wantZ string // DecodeZ
	}{
		{"empty", nil, "", ""},
		{"ascii", le('a', 'b', 'c'), "abc", "abc"},
		{"zero padded", le('E', 'F', 'I', 0, 0, 0), "EFI\x00\x00\x00", "EFI"},
		{"zero inside", le('a', 0, 'b'), "a\x00b", "a"},
		{"odd final byte", append(le('h', 'i'), 'x'), "hi", "hi"},
		{"BMP", le(0x00dc, 0x00ef, 0x20ac), "Üï€", "Üï€"},
		{"surrogate pair", le(0xd83d, 0xde00, '!'), "😀!", "😀!"},
		{"lone high surrogate", le(0xd83d, 'a'), "\uFFFDa", "\uFFFDa"},
		{"lone low surrogate", le(0xde00, 'a'), "\uFFFDa", "\uFFFDa"},
		{"high surrogate at the end", le('a', 0xd83d), "a\uFFFD", "a\uFFFD"},
		{"high surrogate then zero", le(0xd83d, 0, 'a'), "\uFFFD\x00a", "\uFFFD"},
	} {
		if got := Decode(c.in); got != c.want {
			t.Errorf("%s: Decode = %q, want %q", c.name, got, c.want)
		}
		if got := DecodeZ(c.in); got != c.wantZ {
			t.Errorf("%s: DecodeZ = %q, want %q", c.name, got, c.wantZ)
		}
	}
}

// FuzzDecode checks Decode against unicode/utf16.Decode, which defines
// the same replacement of unpaired surrogates.
func FuzzDecode(f *testing.F) {
	f.Add(le('a', 0xd83d, 0xde00, 0, 'b'))
	f.Add([]byte{0xff, 0xdb, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		units := make([]uint16, len(b)/2)
		for i := range units {
			units[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		if got, want := Decode(b), string(utf16.Decode(units)); got != want {
			t.Fatalf("Decode(%x) = %q, want %q", b, got, want)
		}
		z := len(units)
		for i, u := range units {
			if u == 0 {
				z = i
				break
			}
		}
		if got, want := DecodeZ(b), string(utf16.Decode(units[:z])); got != want {
			t.Fatalf("DecodeZ(%x) = %q, want %q", b, got, want)
		}
	})
}
