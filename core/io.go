package core

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcWithZeroedField computes CRC-32C over b as if the 4 bytes at off were
// zero, without modifying b.
func crcWithZeroedField(b []byte, off int) uint32 {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, b[:off])
	c = crc32.Update(c, castagnoli, zero[:])
	return crc32.Update(c, castagnoli, b[off+4:])
}

// readStruct reads exactly n bytes at off. A short file becomes a
// FormatError naming the structure, so truncation is reported where it bites.
// n is always a constant or a value already checked against a fixed cap.
func readStruct(r io.ReaderAt, size int64, off int64, n int, structure string) ([]byte, error) {
	if off < 0 || off+int64(n) > size {
		return nil, formatErr(structure, off, "", "structure extends past the end of the file", size)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && len(b) == n) {
		return nil, &IOError{Structure: structure, Offset: off, Err: err}
	}
	return b, nil
}

func hex(v int64) string { return fmt.Sprintf("0x%x", v) }

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
	tib = 1 << 40
)
