package preview

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func enc16(s string, order binary.AppendByteOrder, bom bool) []byte {
	var b []byte
	if bom {
		b = order.AppendUint16(b, 0xfeff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return b
}

func TestDetect(t *testing.T) {
	long := strings.Repeat("Grüße, déjà vu — 😀 line\n", 4)
	cases := []struct {
		name  string
		head  []byte
		whole bool
		kind  string
		enc   string
		bom   bool
		text  string
	}{
		{"empty", nil, true, "empty", "", false, ""},
		{"ascii", []byte("hello\nworld\n"), true, "text", "UTF-8", false, "hello\nworld\n"},
		{"utf-8", []byte(long), true, "text", "UTF-8", false, long},
		{"utf-8 bom", append([]byte{0xef, 0xbb, 0xbf}, "x"...), true, "text", "UTF-8", true, "x"},
		{"utf-16le bom", enc16(long, binary.LittleEndian, true), true, "text", "UTF-16LE", true, long},
		{"utf-16be bom", enc16(long, binary.BigEndian, true), true, "text", "UTF-16BE", true, long},
		{"utf-16le guessed", enc16(long, binary.LittleEndian, false), true, "text", "UTF-16LE", false, long},
		{"utf-16be guessed", enc16(long, binary.BigEndian, false), true, "text", "UTF-16BE", false, long},
		{"cp1252", []byte("caf\xe9 \x80 5 \x93quoted\x94"), true, "text", "windows-1252", false, "café € 5 “quoted”"},
		// A partial head cut inside "é" is still UTF-8, without the half.
		{"utf-8 cut", []byte("caf\xc3"), false, "text", "UTF-8", false, "caf"},
		{"utf-8 cut whole", []byte("caf\xc3"), true, "text", "windows-1252", false, "cafÃ"},
		{"binary nul", []byte("ab\x00cd"), true, "binary", "", false, ""},
		{"binary controls", []byte("\x01\x02\x03\x04abc"), true, "binary", "", false, ""},
	}
	for _, c := range cases {
		r := Detect(c.head, c.whole)
		if r.Kind != c.kind || r.Encoding != c.enc || r.BOM != c.bom || r.Text != c.text {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
}

func TestImages(t *testing.T) {
	bmp := make([]byte, 54)
	copy(bmp, "BM")
	for _, c := range []struct {
		head []byte
		mime string
	}{
		{[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{[]byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'}, "image/jpeg"},
		{[]byte("GIF89a\x01\x00\x01\x00"), "image/gif"},
		{bmp, "image/bmp"},
		{[]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), "image/webp"},
	} {
		if r := Detect(c.head, false); r.Kind != "image" || r.MIME != c.mime {
			t.Errorf("%q: %+v", c.head[:4], r)
		}
	}
	if r := Detect([]byte("BM is a band"), true); r.Kind != "text" {
		t.Errorf("text starting BM: %+v", r)
	}
}

// FuzzDetect: any head gives a kind, and text is valid UTF-8.
func FuzzDetect(f *testing.F) {
	f.Add([]byte("hello"), true)
	f.Add([]byte{0xff, 0xfe, 'a', 0}, false)
	f.Add([]byte{0xfe, 0xff, 0xd8, 0x00}, false)
	f.Add([]byte("caf\xc3"), false)
	f.Fuzz(func(t *testing.T, head []byte, whole bool) {
		r := Detect(head, whole)
		switch r.Kind {
		case "text", "image", "binary", "empty":
		default:
			t.Fatalf("kind %q", r.Kind)
		}
		if !utf8.ValidString(r.Text) {
			t.Errorf("text not UTF-8: %q", r.Text)
		}
	})
}
