package builder

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestDescriptorSectors(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, 1}, {1, 1}, {126, 1}, {127, 2}, {254, 2}, {255, 3}, {382, 3}, {383, 4},
	} {
		if got := DescriptorSectors(c.n); got != c.want {
			t.Errorf("DescriptorSectors(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestLogEntryEncoding decodes generated entries by hand (MS-VHDX 2.3.1)
// for descriptor counts around the sector boundaries.
func TestLogEntryEncoding(t *testing.T) {
	for _, n := range []int{1, 125, 126, 127, 254, 255, 300} {
		// A region of n pages, each page distinct and non-zero at both
		// ends so LeadingBytes/TrailingBytes matter.
		data := make([]byte, n*4096)
		for i := range data {
			data[i] = byte(i*7 + i/4096 + 1)
		}
		id := BATRegionGUID
		id[15] ^= 1
		im := &Image{VirtualSize: 4 * MiB, LogLength: 2 * MiB,
			ExtraRegions: []Region{{GUID: id, Data: data}},
			Log:          &Log{Sequence: 0x1234567800000009, Deferred: []Deferred{{FileOffset: 0, Length: 0}}}}
		lay0, err := (&Image{VirtualSize: 4 * MiB, LogLength: 2 * MiB, ExtraRegions: im.ExtraRegions}).Layout()
		if err != nil {
			t.Fatal(err)
		}
		reg := lay0.ExtraRegions[0]
		im.Log.Deferred[0] = Deferred{FileOffset: uint64(reg.Offset), Length: uint64(n * 4096)}
		img, err := im.Bytes()
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		lay, err := im.Layout()
		if err != nil {
			t.Fatal(err)
		}
		if len(lay.LogEntries) != 1 {
			t.Fatalf("n=%d: %d entries", n, len(lay.LogEntries))
		}
		le0 := lay.LogEntries[0]
		ds := DescriptorSectors(n)
		if le0.Descriptors != n || le0.DescriptorSectors != ds || le0.DataSectors != n ||
			int(le0.Length) != (ds+n)*4096 {
			t.Fatalf("n=%d: layout %+v", n, le0)
		}
		e := img[le0.Offset : le0.Offset+int64(le0.Length)]
		if string(e[0:4]) != "loge" || !crcOK(e) {
			t.Fatalf("n=%d: bad entry header/checksum", n)
		}
		seq := binary.LittleEndian.Uint64(e[16:])
		if seq != 0x1234567800000009 || binary.LittleEndian.Uint32(e[24:]) != uint32(n) ||
			binary.LittleEndian.Uint32(e[8:]) != le0.Length || binary.LittleEndian.Uint32(e[12:]) != 0 {
			t.Fatalf("n=%d: header fields", n)
		}
		if msGUID(e[32:]) != DefaultLogGUID {
			t.Fatalf("n=%d: log guid %s", n, msGUID(e[32:]))
		}
		if got := binary.LittleEndian.Uint64(e[48:]); got != uint64(lay.FileSize) {
			t.Fatalf("FlushedFileOffset %d, want %d", got, lay.FileSize)
		}
		for i := 0; i < n; i++ {
			// Descriptor i: first sector after the 64-byte header, then
			// 128 per sector.
			var d []byte
			if i < 126 {
				d = e[64+32*i:]
			} else {
				j := i - 126
				d = e[(1+j/128)*4096+(j%128)*32:]
			}
			d = d[:32]
			if string(d[0:4]) != "desc" {
				t.Fatalf("n=%d: descriptor %d signature %q", n, i, d[0:4])
			}
			if binary.LittleEndian.Uint64(d[24:]) != seq {
				t.Fatalf("n=%d: descriptor %d sequence", n, i)
			}
			off := binary.LittleEndian.Uint64(d[16:])
			if off != uint64(reg.Offset)+uint64(i*4096) {
				t.Fatalf("n=%d: descriptor %d offset %#x", n, i, off)
			}
			want := data[i*4096 : (i+1)*4096]
			s := e[(ds+i)*4096 : (ds+i+1)*4096]
			if string(s[0:4]) != "data" || binary.LittleEndian.Uint32(s[4:]) != 0x12345678 ||
				binary.LittleEndian.Uint32(s[4092:]) != 9 {
				t.Fatalf("n=%d: data sector %d header/trailer", n, i)
			}
			if !bytes.Equal(d[8:16], want[0:8]) || !bytes.Equal(d[4:8], want[4092:]) ||
				!bytes.Equal(s[8:4092], want[8:4092]) {
				t.Fatalf("n=%d: page %d not split into Leading/Data/Trailing correctly", n, i)
			}
		}
		// The stale location is zero.
		if !allZero(img[reg.Offset : reg.Offset+int64(n*4096)]) {
			t.Fatalf("n=%d: deferred range not stale", n)
		}
	}
}

// TestLogScenariosSpecReplay replays every dirty-log scenario with the
// test-side implementation of MS-VHDX 2.3.3 and compares the result with
// the clean image.
func TestLogScenariosSpecReplay(t *testing.T) {
	for _, sc := range logScenarios {
		t.Run(sc.name, func(t *testing.T) {
			final, _, dirty, lay := buildScenario(t, sc)
			// The log must matter: the dirty image differs from the final
			// one outside the headers and the log.
			if diffOutside(dirty, final, lay.Log) == nil {
				t.Fatal("dirty image equals the final image without replay")
			}
			got, n := specReplay(t, dirty)
			if n != sc.entries {
				t.Errorf("active sequence has %d entries, want %d", n, sc.entries)
			}
			if err := diffOutside(got, final, lay.Log); err != nil {
				t.Fatalf("replayed image differs from the final image: %v", err)
			}
		})
	}
}

func TestLogLayout(t *testing.T) {
	final, _, _, lay := buildScenario(t, logScenarios[3]) // sequence-wraps-between-entries
	_ = final
	if len(lay.LogEntries) != 2 {
		t.Fatalf("%d entries", len(lay.LogEntries))
	}
	a, b := lay.LogEntries[0], lay.LogEntries[1]
	if a.At != MiB-8192 || a.Sequence != 41 || a.Tail != a.At {
		t.Errorf("first entry %+v", a)
	}
	if b.At != 0 || b.Sequence != 42 || b.Tail != a.At || !b.Generated || b.Wraps {
		t.Errorf("second entry %+v", b)
	}
	_, _, _, lay = buildScenario(t, logScenarios[4]) // entry-wraps
	if e := lay.LogEntries[0]; !e.Wraps || e.At != MiB-4096 || e.Length != 3*4096 {
		t.Errorf("wrapping entry %+v", e)
	}
}

func TestLogAutoGrows(t *testing.T) {
	im := logBase()
	im.Log = &Log{Deferred: []Deferred{{FileOffset: 2 * MiB, Length: 300 * 4096}}}
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	// 300 data sectors + 3 descriptor sectors > 256 sectors of 1 MiB.
	if lay.Log.Length != 2*MiB {
		t.Errorf("log length %d, want 2 MiB", lay.Log.Length)
	}
	if lay.Metadata.Offset != 3*MiB {
		t.Errorf("metadata at %#x, want after the grown log", lay.Metadata.Offset)
	}
}

func TestLogErrors(t *testing.T) {
	for name, lg := range map[string]*Log{
		"unaligned write":  {Entries: []LogEntry{{Writes: []LogWrite{{FileOffset: 100, Data: []byte{1}}}}}},
		"empty write":      {Entries: []LogEntry{{Writes: []LogWrite{{FileOffset: 4096}}}}},
		"unaligned zero":   {Entries: []LogEntry{{Writes: []LogWrite{{FileOffset: 4096, ZeroLength: 100}}}}},
		"unaligned At":     {Entries: []LogEntry{{At: u32p(100)}}},
		"overlap":          {Entries: []LogEntry{{At: u32p(0)}, {At: u32p(0)}}},
		"wrap not allowed": {Entries: []LogEntry{{At: u32p(MiB - 4096), Writes: []LogWrite{{FileOffset: 4096, Data: []byte{1}}}}}},
		"unknown target":   {Deferred: []Deferred{{Target: "nope"}}},
		"stale too long":   {Deferred: []Deferred{{Target: "bat-page", Stale: make([]byte, 4097)}}},
		"unaligned series": {Entries: []LogEntry{{Zeros: []ZeroSeries{{FileOffset: 4096, Length: 4096, Stride: 100, Count: 2}}}}},
		"series too far":   {Entries: []LogEntry{{Zeros: []ZeroSeries{{FileOffset: 4096, Length: 4096, Stride: 1 << 50, Count: 1 << 10}}}}},
	} {
		im := logBase()
		im.LogLength = MiB
		im.Log = lg
		if _, err := im.Bytes(); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "builder: ") {
			t.Errorf("%s: error %q lacks context", name, err)
		}
	}
}

// TestLogZeroSeries: a zero series is written as one zero descriptor per
// element, after the entry's Writes and in order, across descriptor
// sectors, and replays (test-side, MS-VHDX 2.3.3) as the zeros it names
// and the file extension LastFileOffset asks for.
func TestLogZeroSeries(t *testing.T) {
	const n = 1024 // the zeros end 8 MiB past the file: LastFileOffset is a multiple of 1 MiB
	im := logBase()
	im.LogLength = MiB
	lay0, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	end := uint64(lay0.FileSize)
	last := end + n*8192
	im.Log = &Log{Entries: []LogEntry{{
		Writes:         []LogWrite{{FileOffset: uint64(lay0.Blocks[0]), ZeroLength: 4096}},
		Zeros:          []ZeroSeries{{FileOffset: end, Length: 4096, Stride: 8192, Count: n}, {FileOffset: uint64(lay0.Blocks[3]), Length: 8192, Count: 2}},
		LastFileOffset: last,
	}}}
	img, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	h := currentHeader(t, img)
	log := img[h.logOffset : h.logOffset+uint64(h.logLength)]
	e, err := readEntry(log, 0, h.log)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.descs) != n+3 || lay.LogEntries[0].Descriptors != n+3 || lay.LogEntries[0].DataSectors != 0 {
		t.Fatalf("%d descriptors decoded, layout %+v", len(e.descs), lay.LogEntries[0])
	}
	want := []tDesc{{zero: true, off: uint64(lay0.Blocks[0]), zeroLen: 4096}}
	for k := range uint64(n) {
		want = append(want, tDesc{zero: true, off: end + k*8192, zeroLen: 4096})
	}
	want = append(want, tDesc{zero: true, off: uint64(lay0.Blocks[3]), zeroLen: 8192}, tDesc{zero: true, off: uint64(lay0.Blocks[3]), zeroLen: 8192})
	for i := range want {
		if e.descs[i].zero != want[i].zero || e.descs[i].off != want[i].off || e.descs[i].zeroLen != want[i].zeroLen {
			t.Fatalf("descriptor %d is %+v, want %+v", i, e.descs[i], want[i])
		}
	}
	got, entries := specReplay(t, img)
	if entries != 1 || uint64(len(got)) != last {
		t.Fatalf("replayed %d entries into %d bytes, want 1 and %d", entries, len(got), last)
	}
	if !allZero(got[lay0.Blocks[0]:lay0.Blocks[0]+4096]) || !allZero(got[lay0.Blocks[3]:lay0.Blocks[3]+8192]) {
		t.Error("zero descriptors inside the file not replayed")
	}
	if allZero(img[lay0.Blocks[3] : lay0.Blocks[3]+8192]) {
		t.Error("block 3 was zero before replay: the test proves nothing")
	}
}

func TestFixLogEntryChecksum(t *testing.T) {
	_, _, img, lay := buildScenario(t, logScenarios[0])
	e := lay.LogEntries[0]
	b := img[e.Offset : e.Offset+int64(e.Length)]
	if !crcOK(b) {
		t.Fatal("entry checksum wrong")
	}
	b[4096+100] ^= 1 // damage the data sector
	if crcOK(b) {
		t.Fatal("damage not detected")
	}
	FixLogEntryChecksum(b)
	if !crcOK(b) {
		t.Fatal("FixLogEntryChecksum did not fix the checksum")
	}
	// ReadLogEntry unwraps a wrapping entry.
	_, _, img, lay = buildScenario(t, logScenarios[4])
	w := lay.LogEntries[0]
	raw, err := ReadLogEntry(img[lay.Log.Offset:lay.Log.End()], w.At)
	if err != nil || len(raw) != int(w.Length) || !crcOK(raw) {
		t.Fatalf("ReadLogEntry: %v (len %d)", err, len(raw))
	}
}
