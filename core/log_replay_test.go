package core

// Log replay at scale and against a naive reference (issue #11): a log
// entry with 180,000 disjoint zero descriptors past the end of the file
// (it used to take ~97 s to open, replay being quadratic), a 64 MiB log of
// about two million 1 GiB zero descriptors whose replay must cost memory
// in proportion to the log and not to the bytes it zeroes, and random
// logs of overlapping data and zero descriptors, replayed by core and by
// a page-by-page reference that applies each descriptor in order (MS-VHDX
// 2.3.3: later descriptors win).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
)

// manyZerosCount is issue #11's case: 180,000 zero descriptors take 5.5
// MiB of descriptor sectors, one entry in an 8 MiB log.
const manyZerosCount = 180_000

// manyZerosImage returns an image whose log holds one entry of n disjoint
// 4 KiB zero descriptors, 8 KiB apart, starting at the end of the file;
// the entry's LastFileOffset extends the file past the last one. With
// data set, the entry starts with two data descriptors at the end of the
// file: the first zero descriptor then zeroes the first page (it comes
// later) while the second page lies in a gap and keeps its data. It
// returns the bytes, the file size before replay and the data written.
func manyZerosImage(t testing.TB, n int, data bool) ([]byte, int64, []byte) {
	t.Helper()
	im := &builder.Image{VirtualSize: 4 * mB, LogLength: 8 * mB, Blocks: map[uint64]builder.Block{
		0: fullBlock(fillIdx(3)),
		1: {State: builder.PayloadFullyPresent, Data: []byte("block one")},
	}}
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	end := uint64(lay.FileSize)
	e := builder.LogEntry{
		Zeros:          []builder.ZeroSeries{{FileOffset: end, Length: 4096, Stride: 8192, Count: n}},
		LastFileOffset: (end + uint64(n)*8192 + mB - 1) &^ (mB - 1),
	}
	var written []byte
	if data {
		written = bytes.Repeat([]byte("replayed"), 1024)
		e.Writes = []builder.LogWrite{{FileOffset: end, Data: written}}
	}
	im.Log = &builder.Log{Entries: []builder.LogEntry{e}}
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != lay.FileSize {
		t.Fatalf("image is %d bytes with its log, %d without", len(b), lay.FileSize)
	}
	return b, lay.FileSize, written
}

// TestLogReplayManyDescriptors opens issue #11's case and checks what
// replay did: the counts, the first ranges, the replayed size, and every
// byte of the replayed file read back through the overlay.
func TestLogReplayManyDescriptors(t *testing.T) {
	b, fileSize, written := manyZerosImage(t, manyZerosCount, true)
	img, err := openBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	li := img.log
	const n = manyZerosCount
	if !li.Replayed || li.Entries != 1 || li.Descriptors != n+2 || li.ZeroRanges != n || li.DataSectors != 2 || li.ZeroBytes != n*4096 {
		t.Fatalf("LogInfo: replayed %v, %d entries, %d descriptors (%d zero of %d bytes, %d data)",
			li.Replayed, li.Entries, li.Descriptors, li.ZeroRanges, li.ZeroBytes, li.DataSectors)
	}
	// The two data pages and the first two zero descriptors make one
	// range: the pages at the end of the file, +4 KiB and +8 KiB.
	all := replayedRanges(t, img, li)
	if len(all) != n-1 || all[0] != (fileRange{fileSize, 3 * 4096}) || li.RangeBytes != (n+1)*4096 {
		t.Fatalf("%d ranges of %d bytes, first %v", len(all), li.RangeBytes, all[0])
	}
	for k, r := range all[1:] {
		if r != (fileRange{fileSize + int64(k+2)*8192, 4096}) {
			t.Fatalf("range %d is %v", k+1, r)
		}
	}
	wantSize := (fileSize + n*8192 + mB - 1) &^ (mB - 1)
	if li.ReplayedSize != wantSize || img.viewSize != wantSize || li.FileSize != fileSize {
		t.Fatalf("replayed size %d (view %d), file %d; want %d and %d", li.ReplayedSize, img.viewSize, li.FileSize, wantSize, fileSize)
	}

	// The replayed file: the file's bytes, then the data page that no
	// zero descriptor covers, and zeros everywhere else up to the new size.
	want := func(off int64, p []byte) {
		clear(p)
		if off < fileSize {
			copy(p, b[off:])
		}
		if a, z := max(off, fileSize+4096), min(off+int64(len(p)), fileSize+8192); a < z {
			copy(p[a-off:z-off], written[a-fileSize:])
		}
	}
	const chunk = 4 * mB
	got, exp := make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); off < wantSize; off += chunk {
		k, err := img.view.ReadAt(got, off)
		if k != int(min(chunk, wantSize-off)) || (err != nil && err != io.EOF) {
			t.Fatalf("reading the replayed file at 0x%x: %d bytes, %v", off, k, err)
		}
		want(off, exp[:k])
		if !bytes.Equal(got[:k], exp[:k]) {
			i := 0
			for got[i] == exp[i] {
				i++
			}
			t.Fatalf("replayed file byte 0x%x is 0x%02x, want 0x%02x", off+int64(i), got[i], exp[i])
		}
	}
	if k, err := img.view.ReadAt(got[:1], wantSize); k != 0 || err != io.EOF {
		t.Fatalf("read at the replayed size: %d bytes, %v", k, err)
	}
	// The virtual disk is untouched: the log only wrote past the file.
	im := &builder.Image{VirtualSize: 4 * mB, Blocks: map[uint64]builder.Block{
		0: fullBlock(fillIdx(3)),
		1: {State: builder.PayloadFullyPresent, Data: []byte("block one")},
	}}
	compareDisks(t, "virtual disk", img, expectedDisk(t, im, nil), img.Size())
	checkPlan(t, img, 0, img.Size())
}

// BenchmarkReplayManyDescriptors opens issue #11's case: one log entry
// of 180,000 disjoint zero descriptors.
func BenchmarkReplayManyDescriptors(b *testing.B) {
	raw, _, _ := manyZerosImage(b, manyZerosCount, false)
	b.SetBytes(8 * mB) // the log
	b.ReportAllocs()
	for b.Loop() {
		img, err := openBytes(raw, nil)
		if err != nil {
			b.Fatal(err)
		}
		if img.log.ZeroRanges != manyZerosCount {
			b.Fatalf("replayed %d zero descriptors", img.log.ZeroRanges)
		}
	}
}

// TestLogReplayAllocationBounded: the largest log Open accepts (64 MiB)
// filled with zero descriptors, each zeroing 1 GiB: about two million of
// them, 2 PiB in all when they are disjoint. Open may allocate a small
// multiple of the log, and nothing per zeroed page (that would be 2^39
// pages). The second case stacks them all on one range, which keeps every
// one of them live in the sweep at once.
func TestLogReplayAllocationBounded(t *testing.T) {
	const logLen = maxLogSize
	// One entry exactly as long as the log: 16,384 descriptor sectors.
	n := 126 + 128*(logLen/logSector-1)
	for _, c := range []struct {
		name   string
		stride uint64
		ranges int
	}{{"disjoint", 2 << 30, n}, {"stacked", 0, 1}} {
		t.Run(c.name, func(t *testing.T) {
			im := &builder.Image{VirtualSize: 4 * mB, LogLength: logLen}
			lay, err := im.Layout()
			if err != nil {
				t.Fatal(err)
			}
			im.Log = &builder.Log{Entries: []builder.LogEntry{{
				Zeros: []builder.ZeroSeries{{FileOffset: uint64(lay.FileSize), Length: 1 << 30, Stride: c.stride, Count: n}},
			}}}
			b, err := im.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			var img *Image
			alloc := allocated(func() { img, err = openBytes(b, nil) })
			if err != nil {
				t.Fatal(err)
			}
			li := img.log
			if !li.Replayed || li.ZeroRanges != n || li.RangeCount != c.ranges || li.RangeBytes != int64(c.ranges)<<30 {
				t.Fatalf("LogInfo: replayed %v, %d zero descriptors, %d ranges of %d bytes", li.Replayed, li.ZeroRanges, li.RangeCount, li.RangeBytes)
			}
			last := lay.FileSize + int64(n-1)*int64(c.stride)
			if want := last + 1<<30; li.ReplayedSize != want || len(li.Ranges) != min(c.ranges, maxReportedRanges) {
				t.Fatalf("replayed size %d, want %d; %d ranges listed", li.ReplayedSize, want, len(li.Ranges))
			}
			t.Logf("Open allocated %d MiB for a %d MiB log of %d descriptors", alloc/mB, logLen/mB, n)
			if alloc > 3*logLen {
				t.Errorf("Open allocated %d MiB for a %d MiB log, want at most %d MiB", alloc/mB, logLen/mB, 3*logLen/mB)
			}
			// A read across the last zeroed range and what follows it
			// (the file's end, then nothing) is a binary search.
			p := bytes.Repeat([]byte{1}, 3*4096)
			if k, err := img.view.ReadAt(p, last+1<<30-4096); k != 4096 || err != io.EOF || !bytes.Equal(p[:k], make([]byte, k)) {
				t.Fatalf("read at the end: %d bytes, %v", k, err)
			}
			p = bytes.Repeat([]byte{1}, 3*4096)
			if k, err := img.view.ReadAt(p, last-4096); k != len(p) || err != nil || !bytes.Equal(p, make([]byte, len(p))) {
				t.Fatalf("read at 0x%x: %d bytes, %v, zero %v", last-4096, k, err, bytes.Equal(p, make([]byte, len(p))))
			}
		})
	}
}

// naiveReplay is the reference: the file's bytes, then every descriptor
// of every entry applied in order, a page at a time, the file extended
// where a descriptor reaches past its end, and finally to LastFileOffset
// (MS-VHDX 2.3.3). It works from the builder's description of the log,
// not from the log's bytes.
func naiveReplay(file []byte, entries []builder.LogEntry) []byte {
	size := len(file)
	for _, e := range entries {
		for _, w := range e.Writes {
			size = max(size, int(w.FileOffset+w.ZeroLength)+(len(w.Data)+logSector-1)&^(logSector-1))
		}
	}
	if n := len(entries); n > 0 {
		size = max(size, int(entries[n-1].LastFileOffset))
	}
	out := make([]byte, size)
	copy(out, file)
	for _, e := range entries {
		for _, w := range e.Writes {
			off := int(w.FileOffset)
			if w.ZeroLength > 0 {
				for p := off; p < off+int(w.ZeroLength); p += logSector {
					clear(out[p : p+logSector])
				}
				continue
			}
			for i := 0; i < len(w.Data); i += logSector {
				page := out[off+i : off+i+logSector]
				clear(page)
				copy(page, w.Data[i:])
			}
		}
	}
	return out
}

// naiveRanges returns the pages the entries touch, merged into ranges.
func naiveRanges(entries []builder.LogEntry) []fileRange {
	var pages []int64
	for _, e := range entries {
		for _, w := range e.Writes {
			n := w.ZeroLength
			if n == 0 {
				n = uint64(len(w.Data)+logSector-1) &^ (logSector - 1)
			}
			for p := w.FileOffset; p < w.FileOffset+n; p += logSector {
				pages = append(pages, int64(p))
			}
		}
	}
	slices.Sort(pages)
	pages = slices.Compact(pages)
	var rs []fileRange
	for _, p := range pages {
		if n := len(rs); n > 0 && rs[n-1].Offset+rs[n-1].Length == p {
			rs[n-1].Length += logSector
		} else {
			rs = append(rs, fileRange{p, logSector})
		}
	}
	return rs
}

// randomLog returns 1-4 entries of up to 40 writes each: data writes of
// 1-8 pages and zero writes of 1-64 pages (sometimes no writes at all), anywhere from
// the start of the file to 2 MiB past its end, so that they overlap each
// other, the file's structures and its end. The head entry sometimes
// extends the file further.
func randomLog(r *rand.Rand, fileSize int64) []builder.LogEntry {
	pages := (fileSize + 2*mB) / logSector
	entries := make([]builder.LogEntry, 1+r.IntN(4))
	for i := range entries {
		ws := make([]builder.LogWrite, r.IntN(41))
		for j := range ws {
			off := uint64(r.Int64N(pages)) * logSector
			if r.IntN(2) == 0 {
				ws[j] = builder.LogWrite{FileOffset: off, ZeroLength: uint64(1+r.IntN(64)) * logSector}
				continue
			}
			data := make([]byte, (1+r.IntN(8))*logSector-r.IntN(100)) // the builder zero-pads the last page
			for k := range data {
				data[k] = byte(r.Uint32())
			}
			data[0] |= 1 // LeadingBytes matter
			ws[j] = builder.LogWrite{FileOffset: off, Data: data}
		}
		entries[i].Writes = ws
	}
	if r.IntN(3) == 0 {
		entries[len(entries)-1].LastFileOffset = uint64(fileSize + int64(1+r.IntN(4))*mB)
	}
	return entries
}

// TestLogReplayMatchesNaive replays random logs of overlapping data and
// zero descriptors with core and with naiveReplay, and compares the whole
// replayed file, its size and the ranges LogInfo reports.
func TestLogReplayMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	im := &builder.Image{VirtualSize: 2 * mB, BlockSize: mB, LogLength: mB, Blocks: map[uint64]builder.Block{
		0: fullBlock(fillIdx(1)),
		1: fullBlock(fillByte(0xC3)),
	}}
	clean, lay := imageBytes(t, im)
	for i := range 100 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			entries := randomLog(r, lay.FileSize)
			for k := range entries {
				if entries[k].LastFileOffset == 0 {
					entries[k].LastFileOffset = uint64(lay.FileSize)
				}
			}
			im.Log = &builder.Log{Entries: entries}
			b, err := im.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b[lay.Log.End():], clean[lay.Log.End():]) {
				t.Fatal("the log changed the file outside the log")
			}
			// Replay straight from the log: the descriptors may overwrite
			// the headers, the BAT or the metadata, which Open would then
			// refuse, and the log region itself.
			h := &header{LogGUID: builder.DefaultLogGUID, LogOffset: uint64(lay.Log.Offset), LogLength: uint32(lay.Log.Length)}
			li, view, size, err := openLog(context.Background(), bytes.NewReader(b), int64(len(b)), h)
			if err != nil {
				t.Fatal(err)
			}
			want := naiveReplay(b, entries)
			if !li.Replayed || size != int64(len(want)) || li.ReplayedSize != size {
				t.Fatalf("replayed %v, size %d (LogInfo %d), want %d", li.Replayed, size, li.ReplayedSize, len(want))
			}
			got := make([]byte, size+7)
			if k, err := view.ReadAt(got, 0); int64(k) != size || err != io.EOF {
				t.Fatalf("ReadAt: %d bytes, %v", k, err)
			}
			if !bytes.Equal(got[:size], want) {
				for k := range want {
					if got[k] != want[k] {
						t.Fatalf("replayed byte 0x%x is 0x%02x, want 0x%02x (page 0x%x)", k, got[k], want[k], k&^(logSector-1))
					}
				}
			}
			// Reads that start and end anywhere agree too.
			for range 50 {
				off := r.Int64N(size)
				n := min(r.Int64N(3*logSector), size-off)
				p := got[:n]
				if k, err := view.ReadAt(p, off); int64(k) != n || (err != nil && err != io.EOF) || !bytes.Equal(p, want[off:off+n]) {
					t.Fatalf("ReadAt(0x%x, %d): %d bytes, %v, equal %v", off, n, k, err, bytes.Equal(p, want[off:off+n]))
				}
			}
			ranges := naiveRanges(entries)
			zero, data := 0, 0
			for _, e := range entries {
				for _, w := range e.Writes {
					if w.ZeroLength > 0 {
						zero++
					} else {
						data += (len(w.Data) + logSector - 1) / logSector
					}
				}
			}
			var bytes int64
			for _, rg := range ranges {
				bytes += rg.Length
			}
			if li.ZeroRanges != zero || li.DataSectors != data || li.Descriptors != zero+data || li.Entries != len(entries) {
				t.Errorf("LogInfo: %d zero, %d data, %d descriptors, %d entries; want %d, %d, %d, %d",
					li.ZeroRanges, li.DataSectors, li.Descriptors, li.Entries, zero, data, zero+data, len(entries))
			}
			if li.RangeCount != len(ranges) || li.RangeBytes != bytes || !slices.Equal(li.Ranges, ranges[:min(len(ranges), maxReportedRanges)]) {
				t.Errorf("LogInfo ranges: %d of %d bytes, %v; want %d of %d bytes, %v", li.RangeCount, li.RangeBytes, li.Ranges, len(ranges), bytes, ranges)
			}
		})
	}
}
