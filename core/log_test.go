package core

// Dirty logs (MS-VHDX 2.3): images whose final BAT, metadata, region table
// or sector bitmap pages exist only in the log must read, after the
// in-memory replay, exactly like the clean image, and like qemu's replay
// (`qemu-img check -r all` on a copy) where qemu can do it. LogInfo must
// describe what was replayed and what was skipped.

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/builder"
)

// logBase is the clean image every log scenario must read as.
func logBase() *builder.Image {
	return &builder.Image{VirtualSize: 8 * mB, Blocks: map[uint64]builder.Block{
		0: fullBlock(fillIdx(1)),
		3: fullBlock(fillByte(0xAB)),
		5: {State: builder.PayloadZero},
		6: {State: builder.PayloadUnmapped, Fill: fillByte(0xEE)},
		7: {State: builder.PayloadFullyPresent, Data: []byte("last block")},
	}}
}

var foreignLogGUID = uuid.MustParse("0badbeef-0000-4000-8000-000000000000")

type logCase struct {
	name      string
	qemu      bool   // qemu 7.2 can replay it (at most 126 descriptors per entry)
	logLength uint32 // set on both the clean and the dirty image
	log       func(final []byte, lay *builder.Layout) *builder.Log
	seqs      []uint64 // the active sequence, tail first
	damaged   int      // entries Open must report as damaged
}

func logCases() []logCase {
	return []logCase{
		{name: "bat-page", qemu: true, seqs: []uint64{1},
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				return &builder.Log{Deferred: []builder.Deferred{{Target: "bat-page", Index: 3}}}
			}},
		{name: "bat+metadata+region-table+zero-descriptors", qemu: true, seqs: []uint64{1},
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				junk := bytes.Repeat([]byte{0xEE}, 4096)
				return &builder.Log{ZeroDescriptors: true, Deferred: []builder.Deferred{
					{Target: "bat"}, {Target: "metadata"}, {Target: "region-table"}, {Target: "region-table-2"},
					// A free metadata page holding junk the log zeroes.
					{FileOffset: uint64(lay.Metadata.Offset) + 512*kB, Length: 8192, Stale: junk},
				}}
			}},
		{name: "several-entries", qemu: true, seqs: []uint64{1000, 1001, 1002, 1003, 1004, 1005, 1006},
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				return &builder.Log{MaxDescriptors: 5, Sequence: 1000, Deferred: []builder.Deferred{
					{FileOffset: uint64(lay.Metadata.Offset), Length: 128 * kB},
					{Target: "bat-page", Index: 3},
				}}
			}},
		{name: "sequence-wraps", qemu: true, logLength: mB, seqs: []uint64{41, 42},
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				mt := uint64(lay.Metadata.Offset)
				return &builder.Log{Entries: []builder.LogEntry{{
					Sequence: 41, At: u32p(mB - 8192),
					Writes: []builder.LogWrite{{FileOffset: mt, Data: final[mt : mt+4096]}},
				}}, Deferred: []builder.Deferred{{Target: "bat-page", Index: 3}}}
			}},
		{name: "entry-wraps", qemu: true, logLength: mB, seqs: []uint64{7},
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				return &builder.Log{AllowEntryWrap: true, At: u32p(mB - 4096), Sequence: 7,
					Deferred: []builder.Deferred{{Target: "bat-page", Index: 3}, {Target: "metadata-table"}}}
			}},
		{name: "stale-damaged-foreign", qemu: true, seqs: []uint64{10}, damaged: 3,
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				// A wrong BAT page: block 3 points at block 0's data.
				page := lay.PayloadEntryOffset(3) &^ 4095
				wrong := bytes.Clone(final[page : page+4096])
				copy(wrong[lay.PayloadEntryOffset(3)-page:], final[lay.PayloadEntryOffset(0):lay.PayloadEntryOffset(0)+8])
				w := []builder.LogWrite{{FileOffset: uint64(page), Data: wrong}}
				return &builder.Log{Sequence: 10, At: u32p(256 * kB),
					Entries: []builder.LogEntry{
						// An older complete sequence (1-2) with the wrong page.
						{Sequence: 1, At: u32p(0), Writes: w},
						{Sequence: 2, Writes: w},
						// A newer entry with a bad checksum (damaged).
						{Sequence: 20, At: u32p(512 * kB), Writes: w, CorruptChecksum: true},
						// Entries of another log session right after the
						// active one, with the next sequence number (damaged:
						// wrong LogGuid).
						{Sequence: 11, At: u32p(256*kB + 8192), Writes: w, LogGUID: &foreignLogGUID},
						{Sequence: 30, At: u32p(768 * kB), Writes: w, LogGUID: &foreignLogGUID},
					},
					Deferred: []builder.Deferred{{Target: "bat-page", Index: 3}},
				}
			}},
		{name: "127-descriptors", logLength: 2 * mB, seqs: []uint64{1},
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				return &builder.Log{Deferred: []builder.Deferred{{Target: "bat-page", Index: 3},
					{FileOffset: uint64(lay.Metadata.Offset), Length: 126 * 4096}}}
			}},
		{name: "300-descriptors", logLength: 2 * mB, seqs: []uint64{1},
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				return &builder.Log{Deferred: []builder.Deferred{{Target: "bat-page", Index: 3},
					{FileOffset: uint64(lay.Metadata.Offset), Length: 299 * 4096}}}
			}},
		{name: "239-zero-descriptors", logLength: 2 * mB, seqs: []uint64{1},
			log: func(final []byte, lay *builder.Layout) *builder.Log {
				// Junk on every other free page of the metadata and BAT
				// regions, zeroed by separate zero descriptors.
				junk := bytes.Repeat([]byte{0xEE}, 4096)
				d := []builder.Deferred{{Target: "bat-page", Index: 3}}
				for off := lay.Metadata.Offset + 128*kB; off < lay.Metadata.End(); off += 8192 {
					d = append(d, builder.Deferred{FileOffset: uint64(off), Length: 4096, Stale: junk})
				}
				for off := lay.BAT.Offset + 8192; off < lay.BAT.End(); off += 8192 {
					d = append(d, builder.Deferred{FileOffset: uint64(off), Length: 4096, Stale: junk})
				}
				return &builder.Log{ZeroDescriptors: true, Deferred: d}
			}},
	}
}

// buildLogCase returns the clean image, the dirty image's description and
// its bytes and layout.
func buildLogCase(t *testing.T, c logCase) (*builder.Image, *builder.Image, []byte, *builder.Layout) {
	t.Helper()
	base := logBase()
	base.LogLength = c.logLength
	final, flay := imageBytes(t, base)
	dirty := logBase()
	dirty.LogLength = c.logLength
	dirty.Log = c.log(final, flay)
	b, lay := imageBytes(t, dirty)
	if len(lay.Deferred) == 0 {
		t.Fatal("the scenario defers nothing to the log")
	}
	return base, dirty, b, lay
}

func TestLogReplay(t *testing.T) {
	for _, c := range logCases() {
		t.Run(c.name, func(t *testing.T) {
			base, _, b, lay := buildLogCase(t, c)
			img, err := openBytes(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			exp := expectedDisk(t, base, nil)
			compareDisks(t, "replayed disk", img, exp, exp.Size())

			li := img.log
			if !li.Present || !li.Replayed {
				t.Fatalf("LogInfo: present %v replayed %v", li.Present, li.Replayed)
			}
			var seqs []uint64
			for _, a := range li.Active {
				seqs = append(seqs, a.Sequence)
			}
			if !slices.Equal(seqs, c.seqs) {
				t.Errorf("active sequence %v, want %v", seqs, c.seqs)
			}
			wantData, wantZero := 0, 0
			for _, e := range lay.LogEntries {
				if slices.Contains(c.seqs, e.Sequence) {
					wantData += e.DataSectors
					wantZero += e.Descriptors - e.DataSectors
				}
			}
			if li.DataSectors != wantData || li.ZeroRanges != wantZero {
				t.Errorf("replayed %d data sectors and %d zero ranges, want %d and %d", li.DataSectors, li.ZeroRanges, wantData, wantZero)
			}
			if len(li.Damaged) != c.damaged {
				t.Errorf("%d damaged entries, want %d: %+v", len(li.Damaged), c.damaged, li.Damaged)
			}
			all := replayedRanges(t, img, li)
			for _, d := range lay.Deferred {
				i, _ := slices.BinarySearchFunc(all, d.Offset, func(r fileRange, off int64) int { return cmp.Compare(r.Offset+r.Length, off+1) })
				if i == len(all) || all[i].Offset > d.Offset || d.End() > all[i].Offset+all[i].Length {
					t.Errorf("deferred page 0x%x is not in the replayed ranges", d.Offset)
				}
			}
			if li.ReplayedSize != int64(len(b)) || li.FileSize != int64(len(b)) {
				t.Errorf("sizes: file %d replayed %d, want %d", li.FileSize, li.ReplayedSize, len(b))
			}
			rep := img.Verify(t.Context(), nil)
			wantCheck(t, rep, "log", StatusOK, "replayed in memory")
			if rep.Errors != 0 {
				t.Errorf("Verify: %d errors", rep.Errors)
			}
			// Entries of earlier sessions (another LogGuid) are normal, not
			// damage: only the others are warnings.
			stale, warned := 0, 0
			for _, d := range li.Damaged {
				stale += b2i(d.Stale)
			}
			for _, ch := range rep.Checks {
				if ch.Structure == "log entry" {
					warned++
				}
			}
			if warned != len(li.Damaged)-stale || (c.name == "stale-damaged-foreign" && stale != 2) {
				t.Errorf("%d stale of %d damaged entries, %d warnings", stale, len(li.Damaged), warned)
			}
			if stale+warned == 0 && rep.Verdict != "clean" {
				t.Errorf("a log replayed in memory gives verdict %q: %+v", rep.Verdict, rep.Checks)
			}
			checkPlan(t, img, 0, img.Size())
		})
	}
}

// replayedRanges returns every range the overlay of img holds, merged,
// after checking that LogInfo counts them, adds up their lengths and lists
// the first maxReportedRanges.
func replayedRanges(t testing.TB, img *Image, li *logInfo) []fileRange {
	t.Helper()
	ov, ok := img.view.(*overlay)
	if !ok {
		t.Fatal("replayed image without an overlay")
	}
	var all []fileRange
	var bytes int64
	ov.coverage(func(r fileRange) {
		if n := len(all); n > 0 && all[n-1].Offset+all[n-1].Length >= r.Offset {
			t.Fatalf("ranges %v and %v are not merged or not in order", all[n-1], r)
		}
		all = append(all, r)
		bytes += r.Length
	})
	if li.RangeCount != len(all) || li.RangeBytes != bytes || !slices.Equal(li.Ranges, all[:min(len(all), maxReportedRanges)]) {
		t.Errorf("LogInfo reports %d ranges of %d bytes (%v), the overlay holds %d of %d bytes", li.RangeCount, li.RangeBytes, li.Ranges, len(all), bytes)
	}
	if li.Entries != len(li.Active) || li.Descriptors != li.DataSectors+li.ZeroRanges {
		t.Errorf("LogInfo counts %d entries, %d descriptors; active %d, %d data + %d zero", li.Entries, li.Descriptors, len(li.Active), li.DataSectors, li.ZeroRanges)
	}
	return all
}

// TestLogNotVacuous: with the log's GUID cleared from the headers (so
// nothing is replayed), each scenario's file no longer reads as the clean
// image, or no longer opens: the log really carries the final state.
func TestLogNotVacuous(t *testing.T) {
	for _, c := range logCases() {
		t.Run(c.name, func(t *testing.T) {
			base, _, b, _ := buildLogCase(t, c)
			for i := range 2 {
				editHeader(b, i, func(h []byte) { clear(h[48:64]) })
			}
			img, err := openBytes(b, nil)
			if err != nil {
				return // the stale structures do not even open
			}
			if img.log.Replayed {
				t.Fatal("replayed a log whose GUID is zero")
			}
			exp := expectedDisk(t, base, nil)
			if diffDisks(img, exp, exp.Size(), nil) == nil {
				t.Fatal("the unreplayed file reads like the clean image")
			}
		})
	}
}

// TestLogQemu replays each scenario qemu can handle with
// `qemu-img check -r all` on a copy and compares qemu's virtual disk with
// core's in-memory replay of the untouched file.
func TestLogQemu(t *testing.T) {
	requireTool(t, "qemu-img")
	for _, c := range logCases() {
		if !c.qemu {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			_, _, b, _ := buildLogCase(t, c)
			dir := t.TempDir()
			path := filepath.Join(dir, "dirty.vhdx")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			img, err := openBytes(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			copyPath := filepath.Join(dir, "copy.vhdx")
			if err := os.WriteFile(copyPath, b, 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, "qemu-img", "check", "-q", "-r", "all", "-f", "vhdx", copyPath)
			raw, size := rawFile(t, qemuRaw(t, copyPath))
			if size != img.Size() {
				t.Fatalf("qemu raw %d bytes, want %d", size, img.Size())
			}
			compareDisks(t, "core replay vs qemu replay", img, raw, size)
		})
	}
}

// TestLogExtendsFile: the log moves a block past the end of the file and
// says the file is longer (LastFileOffset); the replayed view grows, with
// zeros where neither the file nor the log has bytes.
func TestLogExtendsFile(t *testing.T) {
	base := logBase()
	base.LogLength = mB
	final, flay := imageBytes(t, base)
	newOff := uint64(flay.FileSize) // 1 MiB aligned: just past the end
	page := flay.PayloadEntryOffset(4) &^ 4095
	bat := bytes.Clone(final[page : page+4096])
	binary.LittleEndian.PutUint64(bat[flay.PayloadEntryOffset(4)-page:], builder.BATEntry(6, newOff))
	payload := bytes.Repeat([]byte("grown!"), 8192/6+1)[:8192]
	dirty := logBase()
	dirty.LogLength = mB
	dirty.Log = &builder.Log{Entries: []builder.LogEntry{{
		Writes:         []builder.LogWrite{{FileOffset: uint64(page), Data: bat}, {FileOffset: newOff, Data: payload}},
		LastFileOffset: newOff + mB,
	}}}
	b, _ := imageBytes(t, dirty)
	if int64(len(b)) != flay.FileSize {
		t.Fatalf("dirty file is %d bytes, clean %d", len(b), flay.FileSize)
	}
	img, err := openBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if img.log.ReplayedSize != int64(newOff+mB) || img.log.FileSize != int64(len(b)) {
		t.Errorf("replayed size %d, file size %d", img.log.ReplayedSize, img.log.FileSize)
	}
	want := make([]byte, img.Size())
	exp := expectedDisk(t, logBase(), nil)
	exp.ReadAt(want, 0)
	copy(want[4*mB:], payload)
	got := readAll(t, img)
	if !bytes.Equal(got, want) {
		t.Fatal("replayed disk differs from the expected one")
	}
	rep := img.Verify(t.Context(), nil)
	if rep.Errors != 0 {
		t.Errorf("Verify: %+v", rep.Checks)
	}

	// qemu 7.2 is not a reference here: its replay writes the data but
	// does not extend the file to LastFileOffset, and its check then
	// reports block 4 past the end of the file.
}

// TestLogOpenCases: logs that open normally and logs that must not open.
func TestLogOpenCases(t *testing.T) {
	w := func(lay *builder.Layout) []builder.LogWrite {
		return []builder.LogWrite{{FileOffset: uint64(lay.Metadata.Offset) + 512*kB, Data: []byte("junk")}}
	}
	for _, c := range []struct {
		name string
		log  func(lay *builder.Layout) *builder.Log
		want *wantErr // nil: opens, not replayed, reads like logBase
	}{
		{"guid-set-empty-log", func(*builder.Layout) *builder.Log { return &builder.Log{} }, nil},
		{"only-foreign-entries", func(lay *builder.Layout) *builder.Log {
			return &builder.Log{Entries: []builder.LogEntry{
				{Writes: w(lay), LogGUID: &foreignLogGUID}, {Writes: w(lay), LogGUID: &foreignLogGUID},
			}}
		}, nil},
		{"fully-corrupt", func(lay *builder.Layout) *builder.Log {
			return &builder.Log{Entries: []builder.LogEntry{
				{Writes: w(lay), CorruptChecksum: true}, {Writes: w(lay), CorruptChecksum: true},
			}}
		}, &wantErr{structure: "log", msg: "none forms a valid sequence"}},
		{"corrupt-and-foreign", func(lay *builder.Layout) *builder.Log {
			return &builder.Log{Entries: []builder.LogEntry{
				{Writes: w(lay), LogGUID: &foreignLogGUID}, {Writes: w(lay), CorruptChecksum: true},
			}}
		}, &wantErr{structure: "log", msg: "1 log entries"}},
		{"tail-outside-sequence", func(lay *builder.Layout) *builder.Log {
			return &builder.Log{Entries: []builder.LogEntry{{Writes: w(lay), Tail: u32p(512 * kB)}}}
		}, &wantErr{structure: "log", msg: "none forms a valid sequence"}},
		{"flushed-past-eof", func(lay *builder.Layout) *builder.Log {
			return &builder.Log{Entries: []builder.LogEntry{{Writes: w(lay), FlushedFileOffset: uint64(lay.FileSize) + mB}}}
		}, &wantErr{structure: "log", field: "FlushedFileOffset", msg: "truncated"}},
		{"flushed-2^63", func(lay *builder.Layout) *builder.Log {
			return &builder.Log{Entries: []builder.LogEntry{{Writes: w(lay), FlushedFileOffset: 1 << 63}}}
		}, &wantErr{structure: "log", field: "FlushedFileOffset", msg: "truncated"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			im := logBase()
			im.LogLength = mB
			lay0, err := im.Layout()
			if err != nil {
				t.Fatal(err)
			}
			im.Log = c.log(lay0)
			b, _ := imageBytes(t, im)
			img, err := openBytes(b, nil)
			if c.want != nil {
				c.want.check(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !img.log.Present || img.log.Replayed || len(img.log.Active) != 0 {
				t.Errorf("LogInfo %+v", img.log)
			}
			compareDisks(t, "disk", img, expectedDisk(t, logBase(), nil), img.Size())
			rep := img.Verify(t.Context(), nil)
			wantCheck(t, rep, "log", StatusOK, "nothing to replay")
		})
	}
}

// TestLogReplaysOnlyInMemory: replay leaves the file's bytes untouched.
func TestLogReplaysOnlyInMemory(t *testing.T) {
	_, _, b, _ := buildLogCase(t, logCases()[1])
	orig := bytes.Clone(b)
	img, err := openBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, img)
	img.Verify(t.Context(), nil)
	if !bytes.Equal(b, orig) {
		t.Fatal("opening a dirty image changed its bytes")
	}
}

// TestLogEntryParse checks entryAt on hand-made entries: descriptor counts
// around the 126/128 per-sector boundaries and specific damage.
func TestLogEntryParse(t *testing.T) {
	guid := builder.DefaultLogGUID
	for _, n := range []int{0, 1, 126, 127, 254, 255, 300} {
		ring, want := entryRing(t, n, guid)
		e, err := ring.entryAt(0)
		if err != nil {
			t.Fatalf("%d descriptors: %v", n, err)
		}
		ds := entryDescriptors(t, ring, e)
		if len(ds) != n || e.dataDescs != n || e.zeroDescs != 0 {
			t.Fatalf("%d descriptors decoded (%d data, %d zero), want %d", len(ds), e.dataDescs, e.zeroDescs, n)
		}
		for i, d := range ds {
			if d.zero || !bytes.Equal(d.data, want[i]) || d.fileOffset != uint64(4*mB+i*4096) {
				t.Fatalf("%d descriptors: descriptor %d decoded wrong (offset 0x%x)", n, i, d.fileOffset)
			}
		}
	}
	for _, c := range []struct {
		name string
		edit func(e []byte)
		msg  string
	}{
		{"signature", func(e []byte) { e[0] = 'L' }, "no log entry signature"},
		{"checksum", func(e []byte) { e[100] ^= 1 }, "Checksum"},
		{"length", func(e []byte) { binary.LittleEndian.PutUint32(e[8:], 4097) }, "EntryLength"},
		{"guid", func(e []byte) { e[40] ^= 1 }, "LogGuid"},
		{"sequence-zero", func(e []byte) { clear(e[16:24]) }, "SequenceNumber is zero"},
		{"tail", func(e []byte) { binary.LittleEndian.PutUint32(e[12:], 100) }, "Tail"},
		{"descriptor-count", func(e []byte) { binary.LittleEndian.PutUint32(e[24:], 1000) }, "do not fit"},
		{"descriptor-sequence", func(e []byte) { e[64+24] ^= 1 }, "descriptor 0: SequenceNumber"},
		{"data-signature", func(e []byte) { e[4096] = 'D' }, "bad signature"},
		{"data-sequence", func(e []byte) { e[4096+4092] ^= 1 }, "sequence number halves"},
		{"descriptor-signature", func(e []byte) { e[64] = 'x' }, "descriptor 0: bad signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ring, _ := entryRing(t, 3, guid)
			c.edit(ring.b)
			if c.name != "checksum" && c.name != "signature" {
				builder.FixLogEntryChecksum(ring.b)
			}
			_, err := ring.entryAt(0)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("entryAt: %v, want %q", err, c.msg)
			}
		})
	}
}

// decodedDescriptor is a descriptor with its data page reassembled.
type decodedDescriptor struct {
	logDescriptor
	data []byte
}

// entryDescriptors decodes the descriptors of a valid entry, pages and all.
func entryDescriptors(t testing.TB, ring *logRing, e *logEntry) []decodedDescriptor {
	t.Helper()
	var ds []decodedDescriptor
	err := ring.descriptors(e.logOffset, &e.header, func(d logDescriptor) {
		dd := decodedDescriptor{logDescriptor: d}
		if !d.zero {
			dd.data = make([]byte, logSector)
			ring.page(dd.data, d.desc, d.sector)
		}
		ds = append(ds, dd)
	})
	if err != nil {
		t.Fatalf("entry at 0x%x: %v", e.logOffset, err)
	}
	return ds
}

// entryRing builds an image whose log holds one entry with n data
// descriptors and returns the log as a ring and the descriptors' pages.
func entryRing(t testing.TB, n int, guid uuid.UUID) (*logRing, [][]byte) {
	t.Helper()
	var pages [][]byte
	data := make([]byte, n*4096)
	for i := range data {
		data[i] = byte(i*7 + i/4096 + 1)
	}
	for i := range n {
		pages = append(pages, data[i*4096:(i+1)*4096])
	}
	var writes []builder.LogWrite
	if n > 0 {
		writes = []builder.LogWrite{{FileOffset: 4 * mB, Data: data}}
	}
	im := &builder.Image{VirtualSize: 4 * mB, LogLength: 2 * mB, Log: &builder.Log{GUID: guid,
		Entries: []builder.LogEntry{{Sequence: 5, Writes: writes, LastFileOffset: 6 * mB}}}}
	if n == 0 {
		// An entry with no descriptors.
		im.Log.Entries[0].Writes = nil
	}
	b, lay := imageBytes(t, im)
	log := bytes.Clone(b[lay.Log.Offset:lay.Log.End()])
	return &logRing{b: log, fileOff: lay.Log.Offset, guid: guid}, pages
}

// TestLogScanBounded: a log whose every 4 KiB sector starts an entry
// header claiming the whole log would cost (log size / 4 KiB) checksums of
// the whole log; the scan gives up with a clear error after a bounded
// amount of work instead.
func TestLogScanBounded(t *testing.T) {
	const L = 8 * mB
	im := &builder.Image{VirtualSize: 4 * mB, LogLength: L, Log: &builder.Log{}}
	b, lay := imageBytes(t, im)
	log := b[lay.Log.Offset:lay.Log.End()]
	for p := 0; p < L; p += 4096 {
		e := log[p:]
		copy(e, "loge")
		binary.LittleEndian.PutUint32(e[8:], L)
		binary.LittleEndian.PutUint32(e[12:], uint32(p))
		binary.LittleEndian.PutUint64(e[16:], 1)
		builder.PutGUID(e[32:], builder.DefaultLogGUID)
	}
	_, err := openBytes(b, nil)
	(&wantErr{structure: "log", msg: "too many overlapping entry headers"}).check(t, err)

	ring := &logRing{b: bytes.Clone(log), fileOff: lay.Log.Offset, guid: builder.DefaultLogGUID}
	ring.activeSequence(&logInfo{})
	if !ring.overBudget || ring.checksummed > ring.checksumBudget() {
		t.Errorf("checksummed %d bytes, budget %d", ring.checksummed, ring.checksumBudget())
	}

	// Real logs stay far below the budget.
	for _, c := range logCases() {
		_, _, b, lay := buildLogCase(t, c)
		ring := &logRing{b: b[lay.Log.Offset:lay.Log.End()], guid: builder.DefaultLogGUID}
		ring.activeSequence(&logInfo{})
		if ring.checksummed > 2*lay.Log.Length {
			t.Errorf("%s: checksummed %d bytes of a %d-byte log", c.name, ring.checksummed, lay.Log.Length)
		}
	}
}
