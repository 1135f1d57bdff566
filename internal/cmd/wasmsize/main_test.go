package main

import (
	"bytes"
	"testing"
)

// module builds a WebAssembly module by hand: one imported function and
// two bodies of 2 and 4 bytes, named as the Go linker names them.
func module() []byte {
	sec := func(id byte, body []byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	var b []byte
	b = append(b, "\x00asm\x01\x00\x00\x00"...)
	imp := []byte{1}
	imp = append(imp, str("go")...)
	imp = append(imp, str("debug")...)
	imp = append(imp, 0, 0) // func, type 0
	b = append(b, sec(2, imp)...)
	code := []byte{2, 2, 0, 0x0b, 4, 0, 1, 1, 0x0b} // two bodies, each after its size
	b = append(b, sec(10, code)...)
	names := []byte{2}
	names = append(names, 1)
	names = append(names, str("github.com_vhdxview_vhdxview_core.__Image_.ReadAt")...)
	names = append(names, 2)
	names = append(names, str("fmt.Println")...)
	custom := append(str("name"), sec(1, names)...)
	b = append(b, sec(0, custom)...)
	b = append(b, sec(11, []byte{0})...)
	return b
}

func TestMeasure(t *testing.T) {
	s, err := measure(module())
	if err != nil {
		t.Fatal(err)
	}
	if s.code != 6 || s.data != 1 || s.byPkg["github.com_vhdxview_vhdxview_core"] != 2 || s.byPkg["fmt"] != 4 || len(s.byPkg) != 2 {
		t.Fatalf("measure = %+v", s)
	}
	var out bytes.Buffer
	if err := report(&out, module(), 1); err != nil {
		t.Fatal(err)
	}
	if want := "code 6 bytes, data 1 bytes\n        4  fmt\n"; out.String() != want {
		t.Fatalf("report:\n%s\nwant:\n%s", out.String(), want)
	}
}

// Every truncation of a module is measured without a panic; one cut
// inside a section (or its header) is an error.
func TestTruncated(t *testing.T) {
	m := module()
	for n := 0; n < len(m); n++ {
		_, err := measure(m[:n])
		if err == nil && (n < 8 || n == len(m)-1) {
			t.Fatalf("%d of %d bytes: no error", n, len(m))
		}
	}
	if _, err := measure([]byte("not wasm at all")); err == nil {
		t.Fatal("a file that is no module was measured")
	}
}
