package builder

// A test-side log replayer that follows MS-VHDX 2.3.3 step by step. It is
// used to check the builder's log encoding independently of qemu (which
// rejects entries with more than 126 descriptors).

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/uuid"
)

type tLogEntry struct {
	at, length, tail uint32
	seq              uint64
	flushed, last    uint64
	descs            []tDesc
}

type tDesc struct {
	zero    bool
	off     uint64
	zeroLen uint64
	data    []byte
}

// readEntry validates and decodes the entry at log offset at (MS-VHDX
// 2.3.1). It returns an error describing the first problem.
func readEntry(log []byte, at uint32, guid uuid.UUID) (*tLogEntry, error) {
	L := uint32(len(log))
	sector := func(i uint32) []byte {
		o := (at + i*4096) % L
		return log[o : o+4096]
	}
	h := sector(0)
	if string(h[0:4]) != "loge" {
		return nil, fmt.Errorf("signature %q", h[0:4])
	}
	e := &tLogEntry{at: at, length: le.Uint32(h[8:]), tail: le.Uint32(h[12:]), seq: le.Uint64(h[16:]),
		flushed: le.Uint64(h[48:]), last: le.Uint64(h[56:])}
	n := le.Uint32(h[24:])
	if e.length == 0 || e.length%4096 != 0 || e.length > L {
		return nil, fmt.Errorf("entry length %d", e.length)
	}
	if e.tail%4096 != 0 || e.seq == 0 || le.Uint32(h[28:]) != 0 {
		return nil, fmt.Errorf("tail %d / seq %d / reserved", e.tail, e.seq)
	}
	if msGUID(h[32:]) != guid {
		return nil, fmt.Errorf("log guid %s, header has %s", msGUID(h[32:]), guid)
	}
	if e.flushed%MiB != 0 || e.last%MiB != 0 {
		return nil, fmt.Errorf("file offsets %d/%d not MiB aligned", e.flushed, e.last)
	}
	// Unwrap the entry and check the checksum over EntryLength bytes.
	var raw []byte
	for i := uint32(0); i < e.length/4096; i++ {
		raw = append(raw, sector(i)...)
	}
	if !crcOK(raw) {
		return nil, fmt.Errorf("checksum")
	}
	// Descriptor sectors: 126 descriptors after the 64-byte header, then
	// 128 per sector.
	descSectors := uint32(1)
	if n > 126 {
		descSectors += (n - 126 + 127) / 128
	}
	if descSectors*4096 > e.length {
		return nil, fmt.Errorf("%d descriptors do not fit", n)
	}
	dataSector := descSectors
	for i := range n {
		var d []byte
		if i < 126 {
			d = raw[64+32*i : 96+32*i]
		} else {
			j := i - 126
			s := 1 + j/128
			d = raw[s*4096+(j%128)*32 : s*4096+(j%128)*32+32]
		}
		if le.Uint64(d[24:]) != e.seq {
			return nil, fmt.Errorf("descriptor %d sequence", i)
		}
		off := le.Uint64(d[16:])
		if off%4096 != 0 {
			return nil, fmt.Errorf("descriptor %d offset %d", i, off)
		}
		switch string(d[0:4]) {
		case "zero":
			zl := le.Uint64(d[8:])
			if zl%4096 != 0 || le.Uint32(d[4:]) != 0 {
				return nil, fmt.Errorf("zero descriptor %d", i)
			}
			e.descs = append(e.descs, tDesc{zero: true, off: off, zeroLen: zl})
		case "desc":
			if (dataSector+1)*4096 > e.length {
				return nil, fmt.Errorf("descriptor %d has no data sector", i)
			}
			s := raw[dataSector*4096 : (dataSector+1)*4096]
			dataSector++
			if string(s[0:4]) != "data" || uint64(le.Uint32(s[4:]))<<32|uint64(le.Uint32(s[4092:])) != e.seq {
				return nil, fmt.Errorf("data sector of descriptor %d", i)
			}
			page := make([]byte, 4096)
			copy(page[0:8], d[8:16])      // LeadingBytes
			copy(page[8:4092], s[8:4092]) // data
			copy(page[4092:], d[4:8])     // TrailingBytes
			e.descs = append(e.descs, tDesc{off: off, data: page})
		default:
			return nil, fmt.Errorf("descriptor %d signature %q", i, d[0:4])
		}
	}
	if dataSector*4096 != e.length {
		return nil, fmt.Errorf("entry has %d sectors, descriptors account for %d", e.length/4096, dataSector)
	}
	return e, nil
}

// activeSequence runs the search of MS-VHDX 2.3.3 literally and returns the
// entries of the active sequence, tail first.
func activeSequence(log []byte, guid uuid.UUID) []*tLogEntry {
	L := uint32(len(log))
	var candidate []*tLogEntry
	var candSeq uint64
	var curTail, oldTail uint32
	for {
		var cur []*tLogEntry
		head := curTail
		for {
			e, err := readEntry(log, head, guid)
			if err != nil || (len(cur) > 0 && e.seq != cur[len(cur)-1].seq+1) {
				break
			}
			cur = append(cur, e)
			head = (head + e.length) % L
			if len(cur) > int(L/4096) {
				break // went round the whole log
			}
		}
		valid := false
		if len(cur) > 0 {
			h := cur[len(cur)-1]
			for i, e := range cur {
				if e.at == h.tail {
					valid = true
					cur = cur[i:]
					break
				}
			}
		}
		if valid && cur[len(cur)-1].seq > candSeq {
			candidate, candSeq = cur, cur[len(cur)-1].seq
		}
		if !valid {
			curTail += 4096
			if curTail == L {
				curTail = 0
			}
		} else {
			curTail = head
		}
		if curTail < oldTail {
			break
		}
		oldTail = curTail
	}
	return candidate
}

// specReplay returns a copy of img with its log replayed per MS-VHDX 2.3.3,
// and the number of entries replayed. It fails the test if the log is
// non-empty but has no active sequence.
func specReplay(t *testing.T, img []byte) ([]byte, int) {
	t.Helper()
	h := currentHeader(t, img)
	if h.log == uuid.Nil {
		return bytes.Clone(img), 0
	}
	log := img[h.logOffset : h.logOffset+uint64(h.logLength)]
	seq := activeSequence(log, h.log)
	if len(seq) == 0 {
		t.Fatalf("log GUID %s set but no active log sequence", h.log)
	}
	out := bytes.Clone(img)
	head := seq[len(seq)-1]
	if uint64(len(out)) < head.flushed {
		t.Fatalf("file is %d bytes, FlushedFileOffset %d", len(out), head.flushed)
	}
	grow := func(n uint64) {
		if uint64(len(out)) < n {
			out = append(out, make([]byte, n-uint64(len(out)))...)
		}
	}
	for _, e := range seq {
		for _, d := range e.descs {
			if d.zero {
				grow(d.off + d.zeroLen)
				clear(out[d.off : d.off+d.zeroLen])
			} else {
				grow(d.off + 4096)
				copy(out[d.off:], d.data)
			}
		}
	}
	grow(head.last)
	return out, len(seq)
}
