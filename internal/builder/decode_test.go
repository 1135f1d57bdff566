package builder

// Test-side decoding of VHDX structures, written directly from MS-VHDX
// (not from the builder's encoders), so that tests check the bytes rather
// than re-running the builder's own logic.

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/google/uuid"
)

var le = binary.LittleEndian

// crcOK checks a CRC-32C field at b[4:8] computed over b with the field
// zeroed.
func crcOK(b []byte) bool {
	c := bytes.Clone(b)
	want := le.Uint32(c[4:8])
	copy(c[4:8], []byte{0, 0, 0, 0})
	return crc32.Checksum(c, crc32.MakeTable(crc32.Castagnoli)) == want
}

// msGUID decodes a mixed-endian on-disk GUID independently of GUIDFromBytes.
func msGUID(b []byte) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint32(u[0:4], le.Uint32(b[0:4]))
	binary.BigEndian.PutUint16(u[4:6], le.Uint16(b[4:6]))
	binary.BigEndian.PutUint16(u[6:8], le.Uint16(b[6:8]))
	copy(u[8:], b[8:16])
	return u
}

type tHeader struct {
	valid                     bool
	seq                       uint64
	fileWrite, dataWrite, log uuid.UUID
	logVersion, version       uint16
	logLength                 uint32
	logOffset                 uint64
}

func parseHeader(b []byte) tHeader {
	h := b[:4096]
	return tHeader{
		valid:      string(h[0:4]) == "head" && crcOK(h),
		seq:        le.Uint64(h[8:]),
		fileWrite:  msGUID(h[16:]),
		dataWrite:  msGUID(h[32:]),
		log:        msGUID(h[48:]),
		logVersion: le.Uint16(h[64:]),
		version:    le.Uint16(h[66:]),
		logLength:  le.Uint32(h[68:]),
		logOffset:  le.Uint64(h[72:]),
	}
}

// currentHeader applies MS-VHDX 2.2.2: the only valid header, or the valid
// one with the greater sequence number.
func currentHeader(t *testing.T, img []byte) tHeader {
	t.Helper()
	h1, h2 := parseHeader(img[64*KiB:]), parseHeader(img[128*KiB:])
	switch {
	case h1.valid && h2.valid && h1.seq > h2.seq, h1.valid && !h2.valid:
		return h1
	case h1.valid && h2.valid && h2.seq > h1.seq, h2.valid && !h1.valid:
		return h2
	}
	t.Fatalf("no current header (h1 valid %v seq %d, h2 valid %v seq %d)", h1.valid, h1.seq, h2.valid, h2.seq)
	return tHeader{}
}

type tRegion struct {
	guid     uuid.UUID
	off      uint64
	length   uint32
	required uint32
}

func parseRegionTable(t *testing.T, b []byte) []tRegion {
	t.Helper()
	rt := b[:64*KiB]
	if string(rt[0:4]) != "regi" || !crcOK(rt) {
		t.Fatalf("bad region table signature %q or checksum", rt[0:4])
	}
	n := le.Uint32(rt[8:])
	var out []tRegion
	for i := range n {
		e := rt[16+32*i:]
		out = append(out, tRegion{msGUID(e), le.Uint64(e[16:]), le.Uint32(e[24:]), le.Uint32(e[28:])})
	}
	return out
}

type tMeta struct {
	id                                uuid.UUID
	off, length                       uint32
	isUser, isVirtualDisk, isRequired bool
	data                              []byte
}

func parseMetadata(t *testing.T, img []byte, regionOff uint64) []tMeta {
	t.Helper()
	r := img[regionOff:]
	if string(r[0:8]) != "metadata" {
		t.Fatalf("metadata signature %q", r[0:8])
	}
	n := le.Uint16(r[10:])
	var out []tMeta
	for i := range int(n) {
		e := r[32+32*i:]
		m := tMeta{id: msGUID(e), off: le.Uint32(e[16:]), length: le.Uint32(e[20:])}
		f := le.Uint32(e[24:])
		m.isUser, m.isVirtualDisk, m.isRequired = f&1 != 0, f&2 != 0, f&4 != 0
		m.data = r[m.off : m.off+m.length]
		out = append(out, m)
	}
	return out
}

func findMeta(ms []tMeta, id uuid.UUID) (tMeta, bool) {
	for _, m := range ms {
		if m.id == id {
			return m, true
		}
	}
	return tMeta{}, false
}

// batEntryAt returns the raw BAT entry at index i.
func batEntryAt(img []byte, batOff uint64, i uint64) (state uint8, offset uint64) {
	v := le.Uint64(img[batOff+8*i:])
	return uint8(v & 7), (v >> 20) * MiB
}

// regionOf returns the region with the given GUID.
func regionOf(t *testing.T, rs []tRegion, id uuid.UUID) tRegion {
	t.Helper()
	for _, r := range rs {
		if r.guid == id {
			return r
		}
	}
	t.Fatalf("region %s missing", id)
	return tRegion{}
}
