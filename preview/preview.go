// Package preview says what the first bytes of a file are, for a viewer
// that shows them: text (in which encoding, decoded), an image the
// browser can draw (PNG, JPEG, GIF, BMP, WebP), or other bytes. It only
// looks at the bytes it is given, so a caller passes a bounded head of
// the file (the viewer reads the first MiB) and says whether it is all of
// it.
package preview

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Result is what a head of a file is.
type Result struct {
	// Kind is "text", "image", "binary" or "empty".
	Kind string `json:"kind"`
	// Encoding (text) is "UTF-8", "UTF-16LE", "UTF-16BE" or
	// "windows-1252"; BOM says it was told by a byte order mark rather
	// than guessed.
	Encoding string `json:"encoding,omitempty"`
	BOM      bool   `json:"bom,omitempty"`
	// Text is the head decoded (without its BOM); a character cut by the
	// end of a partial head is left out.
	Text string `json:"text,omitempty"`
	// MIME (image) is the image's type: "image/png", "image/jpeg",
	// "image/gif", "image/bmp" or "image/webp".
	MIME string `json:"mime,omitempty"`
}

// Detect looks at head, the first bytes of a file; whole says head is the
// whole file (so a character cannot be cut at its end).
func Detect(head []byte, whole bool) Result {
	if len(head) == 0 {
		return Result{Kind: "empty"}
	}
	if m := imageType(head); m != "" {
		return Result{Kind: "image", MIME: m}
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		return Result{Kind: "text", Encoding: "UTF-8", BOM: true, Text: utf8Text(head[3:], whole)}
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		return Result{Kind: "text", Encoding: "UTF-16LE", BOM: true, Text: utf16Text(head[2:], binary.LittleEndian)}
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return Result{Kind: "text", Encoding: "UTF-16BE", BOM: true, Text: utf16Text(head[2:], binary.BigEndian)}
	}
	if enc := utf16Guess(head); enc != "" {
		order := binary.ByteOrder(binary.LittleEndian)
		if enc == "UTF-16BE" {
			order = binary.BigEndian
		}
		return Result{Kind: "text", Encoding: enc, Text: utf16Text(head, order)}
	}
	if !textLike(head) {
		return Result{Kind: "binary"}
	}
	if validUTF8(head, whole) {
		return Result{Kind: "text", Encoding: "UTF-8", Text: utf8Text(head, whole)}
	}
	s, _ := charmap.Windows1252.NewDecoder().Bytes(head)
	return Result{Kind: "text", Encoding: "windows-1252", Text: string(s)}
}

// imageType names the image formats browsers draw, by their signatures
// (PNG spec 5.2; JPEG SOI marker; GIF87a/89a; BMP "BM" with the file
// header's reserved words 0; RIFF WebP container).
func imageType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case len(b) >= 26 && b[0] == 'B' && b[1] == 'M' && binary.LittleEndian.Uint32(b[6:]) == 0:
		return "image/bmp"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// utf16Guess: text of mostly Latin characters in UTF-16 without a BOM has
// a zero in every other byte. At least 32 bytes, and zeros in at least
// 40% of the odd (LE) or even (BE) bytes and under 5% of the others.
func utf16Guess(b []byte) string {
	n := len(b) &^ 1
	if n < 32 {
		return ""
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*4 && even*20 < pairs:
		return "UTF-16LE"
	case even*10 >= pairs*4 && odd*20 < pairs:
		return "UTF-16BE"
	}
	return ""
}

// textLike: no NUL bytes and at most 1 in 32 bytes a control character
// other than tab, newline, carriage return, form feed, backspace and
// escape.
func textLike(b []byte) bool {
	ctl := 0
	for _, c := range b {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\b' && c != 0x1b, c == 0x7f:
			ctl++
		}
	}
	return ctl*32 <= len(b)
}

// validUTF8 allows a partial head to end inside a character.
func validUTF8(b []byte, whole bool) bool {
	if utf8.Valid(b) {
		return true
	}
	return !whole && utf8.Valid(b[:len(b)-cutRune(b)])
}

// cutRune is how many bytes at the end of b begin a character that b
// does not hold whole (0 to 3).
func cutRune(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c&0xc0 == 0x80 {
			continue // a continuation byte: look further back
		}
		if c >= 0xc0 && !utf8.FullRune(b[len(b)-k:]) {
			return k
		}
		return 0
	}
	return 0
}

func utf8Text(b []byte, whole bool) string {
	if !whole {
		b = b[:len(b)-cutRune(b)]
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

func utf16Text(b []byte, order binary.ByteOrder) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order.Uint16(b[2*i:])
	}
	// A high surrogate cut off by the end of the head is left out.
	if n := len(u); n > 0 && u[n-1] >= 0xd800 && u[n-1] < 0xdc00 {
		u = u[:n-1]
	}
	return string(utf16.Decode(u))
}
