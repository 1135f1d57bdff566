package core

// Fuzzing, in the pattern of archive/zip/fuzz_test.go: FuzzOpen is seeded
// with the small images in ../testdata (see ../testdata/README.md) and runs
// the whole API on whatever opens; FuzzLogEntry, FuzzLogReplay and
// FuzzParentLocator hit the two variable-length parsers directly
// (FuzzLogReplay fixing checksums so that mutations reach replay, and
// checking replay against a page-by-page one). Crashers found so far are kept
// as regression inputs in testdata/fuzz/. The allocation tests check that
// hostile sizes and counts cannot make Open or Verify allocate much.

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/builder"
)

// Seed images. Each is built from its description and committed gzipped
// (the 1 MiB alignment of every VHDX structure makes even tiny disks 5-6
// MiB of mostly zeros); TestSeedsUpToDate checks the committed files and
// rewrites them with -update-seeds.
var updateSeeds = flag.Bool("update-seeds", false, "rewrite the seed images in ../testdata")

const seedDir = "../testdata"

// seedParentGUID is the DataWriteGuid of dynamic.vhdx, child.vhdx's parent.
var seedParentGUID = uuid.MustParse("5eed0000-0001-4000-8000-000000000001")

func seedImages() map[string]*builder.Image {
	short := func(s string) builder.Block {
		return builder.Block{State: builder.PayloadFullyPresent, Data: []byte(s)}
	}
	return map[string]*builder.Image{
		// A 4 MiB dynamic disk: one block with data, one ZERO, one
		// UNMAPPED, the rest NOT_PRESENT.
		"dynamic.vhdx": {VirtualSize: 4 * mB, DataWriteGUID: seedParentGUID, Blocks: map[uint64]builder.Block{
			0: short("dynamic seed, block 0"),
			2: {State: builder.PayloadZero},
			3: {State: builder.PayloadUnmapped},
		}},
		// A differencing child of dynamic.vhdx with a partially present
		// block (sector bitmap) over the parent.
		"child.vhdx": {VirtualSize: 4 * mB, Parent: builder.NewVHDXParent(seedParentGUID, "dynamic.vhdx"),
			Blocks: map[uint64]builder.Block{
				0: {State: builder.PayloadPartiallyPresent, Data: bytes.Repeat([]byte("child "), 300),
					Present: []builder.SectorRange{{Start: 1, Count: 2}, {Start: 5, Count: 1}}},
			}},
		// A dirty log: the BAT page and the metadata table exist only in
		// the log (two entries).
		"dirty.vhdx": {VirtualSize: 2 * mB, Blocks: map[uint64]builder.Block{1: short("dirty seed, block 1")},
			Log: &builder.Log{MaxDescriptors: 10, Deferred: []builder.Deferred{{Target: "bat-page", Index: 1}, {Target: "metadata-table"}}}},
		// Unusable BAT entries (a reserved state over a data block, an
		// offset past the end): the file opens, reads of those blocks
		// fail, and a ZeroBad plan fills them.
		"badbat.vhdx": {VirtualSize: 4 * mB, Blocks: map[uint64]builder.Block{0: short("badbat seed, block 0"), 1: short("block 1")},
			RawBAT: map[uint64]uint64{1: 4 | 3*mB, 2: 6 | 1<<40}},
		// 4096-byte logical sectors, odd virtual size.
		"sector4k.vhdx": {VirtualSize: 2*mB + 4096, LogicalSectorSize: 4096, PhysicalSectorSize: 4096,
			Blocks: map[uint64]builder.Block{1: short("4k seed, block 1"), 2: short("last sector")}},
	}
}

// readSeed returns a seed image, decompressed.
func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join(seedDir, name+".gz"))
	if err != nil {
		t.Fatalf("%v (regenerate with: go test ./core -run TestSeedsUpToDate -update-seeds)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSeedsUpToDate(t *testing.T) {
	for name, im := range seedImages() {
		b, err := im.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if *updateSeeds {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Name = name
			zw.Write(b)
			zw.Close()
			if err := os.WriteFile(filepath.Join(seedDir, name+".gz"), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if have := readSeed(t, name); !bytes.Equal(have, b) {
			t.Errorf("%s.gz is stale; regenerate with: go test ./core -run TestSeedsUpToDate -update-seeds", name)
			continue
		}
		// Every seed opens and reads as described.
		parent := readSeed(t, "dynamic.vhdx")
		parents := []File{{Name: "dynamic.vhdx", R: bytes.NewReader(parent), Size: int64(len(parent))}}
		img, err := openBytes(b, &Options{Name: name, Parents: parents})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var exp *builder.VirtualDisk
		if im.Parent != nil {
			exp = expectedDisk(t, im, expectedDisk(t, seedImages()["dynamic.vhdx"], nil))
		} else {
			exp = expectedDisk(t, im, nil)
		}
		if im.RawBAT == nil {
			compareDisks(t, name, img, exp, exp.Size())
		} else {
			// Blocks whose entries the seed damages read as zeros
			// through ZeroBad (entry index = block index below the
			// first chunk's bitmap entry).
			want := make([]byte, exp.Size())
			exp.ReadAt(want, 0)
			for e := range im.RawBAT {
				clear(want[int64(e)*int64(mB) : int64(e+1)*int64(mB)])
			}
			compareDisks(t, name, img.ZeroBad(), bytes.NewReader(want), exp.Size())
		}
		// The sparse encoding used by FuzzOpen round-trips.
		r, size := sparseDecode(sparseEncode(b))
		if size != int64(len(b)) {
			t.Fatalf("%s: sparse size %d", name, size)
		}
		got := make([]byte, size)
		r.ReadAt(got, 0)
		if !bytes.Equal(got, b) {
			t.Errorf("%s: sparse encoding does not round-trip", name)
		}
	}
}

// The go fuzzer keeps inputs in a quoted text encoding and re-parses them
// often, so multi-MiB inputs of mostly zeros make it crawl. FuzzOpen's
// input is therefore a sparse file: an 8-byte little-endian file size
// (capped at maxFuzzFile; bit 63 asks for checksums to be fixed, see
// fixChecksums), then records of a 4-byte offset, a 2-byte length and that
// many bytes placed at the offset; everything else reads as zeros.
const (
	maxFuzzFile   = 8 * mB
	fixChecksumFl = 1 << 63
)

func sparseEncode(b []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(b)))
	for i := 0; i < len(b); {
		if b[i] == 0 {
			i++
			continue
		}
		// A run of data, ending at 16 zero bytes or 64 KiB.
		j, zeros := i, 0
		for j < len(b) && j-i < 0xFFFF && zeros < 16 {
			if b[j] == 0 {
				zeros++
			} else {
				zeros = 0
			}
			j++
		}
		j -= zeros
		out = binary.LittleEndian.AppendUint32(out, uint32(i))
		out = binary.LittleEndian.AppendUint16(out, uint16(j-i))
		out = append(out, b[i:j]...)
		i = j
	}
	return out
}

type extent struct {
	off  int64
	data []byte
}

type sparseFile struct {
	size    int64
	extents []extent // in input order; later ones win
}

func sparseDecode(b []byte) (*sparseFile, int64) {
	if len(b) < 8 {
		return &sparseFile{}, 0
	}
	f := &sparseFile{size: int64(min(binary.LittleEndian.Uint64(b)&^fixChecksumFl, maxFuzzFile))}
	for b = b[8:]; len(b) >= 6; {
		off := int64(binary.LittleEndian.Uint32(b))
		n := int(binary.LittleEndian.Uint16(b[4:]))
		b = b[6:]
		n = min(n, len(b))
		f.extents = append(f.extents, extent{off, b[:n]})
		b = b[n:]
	}
	return f, f.size
}

// fixChecksums recomputes the checksums of both headers, both region
// tables and every log entry that does not wrap, so that mutations reach
// the checks behind them. The fixed copies are added as extents.
func (f *sparseFile) fixChecksums() {
	read := func(off int64, n int) []byte {
		b := make([]byte, n)
		f.ReadAt(b, off)
		return b
	}
	for _, off := range headerOffsets {
		h := read(off, headerSize)
		builder.FixHeaderChecksum(h)
		f.extents = append(f.extents, extent{off, h})
		logOff, logLen := int64(binary.LittleEndian.Uint64(h[72:])), int64(binary.LittleEndian.Uint32(h[68:]))
		if logOff < 0 || logOff > f.size || logOff+logLen > f.size {
			continue
		}
		for p := int64(0); p+64 <= logLen; p += logSector {
			e := read(logOff+p, 64)
			if n := int64(binary.LittleEndian.Uint32(e[8:])); string(e[0:4]) == "loge" && n >= 64 && p+n <= logLen {
				e = read(logOff+p, int(n))
				builder.FixLogEntryChecksum(e)
				f.extents = append(f.extents, extent{logOff + p, e})
			}
		}
	}
	for _, off := range regionTableOffsets {
		rt := read(off, regionTableSize)
		builder.FixRegionTableChecksum(rt)
		f.extents = append(f.extents, extent{off, rt})
	}
}

func (f *sparseFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), f.size-off))
	clear(p[:n])
	for _, e := range f.extents {
		lo, hi := max(e.off, off), min(e.off+int64(len(e.data)), off+int64(n))
		if lo < hi {
			copy(p[lo-off:hi-off], e.data[lo-e.off:hi-e.off])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// maxFuzzRead bounds how much of a fuzzed virtual disk is read.
const maxFuzzRead = 16 * mB

func FuzzOpen(f *testing.F) {
	for name := range seedImages() {
		b := sparseEncode(readSeed(f, name))
		f.Add(b)
		b = bytes.Clone(b)
		b[7] |= fixChecksumFl >> 56 // the same with checksums fixed
		f.Add(b)
	}
	parent := readSeed(f, "dynamic.vhdx")
	f.Fuzz(func(t *testing.T, b []byte) {
		file, size := sparseDecode(b)
		if len(b) >= 8 && binary.LittleEndian.Uint64(b)&fixChecksumFl != 0 && size >= mB {
			file.fixChecksums()
		}
		// The fuzzed file is offered as its own parent (cycles) along
		// with the dynamic seed (chains that resolve).
		parents := []File{
			{Name: "self", R: file, Size: size},
			{Name: "dynamic.vhdx", R: bytes.NewReader(parent), Size: int64(len(parent))},
		}
		img, err := Open(context.Background(), file, size, &Options{Name: "fuzz", Parents: parents})
		// Inspect reads the file alone: it fails exactly where Open does
		// on the file itself, and lists something unless it is no VHDX.
		in, ierr := Inspect(context.Background(), file, size, "fuzz")
		var ce0 *ChainError
		switch {
		case err != nil && !errors.As(err, &ce0) && (ierr == nil || ierr.Error() != err.Error()):
			t.Fatalf("Inspect: %v, Open: %v", ierr, err)
		case (err == nil || errors.As(err, &ce0)) && ierr != nil:
			t.Fatalf("Inspect: %v, but the file opens", ierr)
		case in == nil && !errors.Is(ierr, ErrNotVHDX):
			t.Fatalf("Inspect gave no list: %v", ierr)
		}
		if err != nil {
			var fe *FormatError
			var ce *ChainError
			if !errors.As(err, &fe) && !errors.As(err, &ce) {
				t.Fatalf("Open error is neither a *FormatError nor a *ChainError: %v (%T)", err, err)
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrNoParent) {
				t.Fatalf("Open error matches no sentinel: %v", err)
			}
			_ = err.Error()
			return
		}
		exerciseImage(t, img)
	})
}

// exerciseImage runs the whole API on an opened image, checking the
// invariants that must hold for any input.
func exerciseImage(t *testing.T, img *Image) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// ZeroBad plans every block: a bad entry is a fill, never an error.
	var be *BlockError
	if err := img.ZeroBad().Plan(ctx, 0, img.Size(), func(Run) error { return nil }); errors.As(err, &be) {
		t.Fatalf("ZeroBad plan: %v", err)
	}
	rep := img.Verify(ctx, nil)
	if rep.Errors+rep.Warnings > 0 && rep.Verdict != "problems" {
		t.Fatalf("verdict %s with %d errors", rep.Verdict, rep.Errors)
	}
	in := img.Info()
	if in.VirtualSize != img.Size() || img.Size() <= 0 || img.Size() > maxVirtualDiskSize {
		t.Fatalf("virtual size %d", img.Size())
	}
	if img.Size()%img.geom.LogicalSectorSize != 0 {
		t.Fatalf("virtual size %d is not a multiple of the sector size", img.Size())
	}
	n := min(img.Size(), maxFuzzRead)
	buf := make([]byte, mB+123)
	for off := int64(0); off < n; off += int64(len(buf)) {
		k, err := img.ReadAt(buf, off)
		if err == nil && k != len(buf) {
			t.Fatalf("ReadAt at 0x%x: %d bytes and no error", off, k)
		}
		if k < 0 || k > len(buf) {
			t.Fatalf("ReadAt returned %d", k)
		}
	}
	// Across the end of the disk, and at it.
	if k, err := img.ReadAt(buf[:1000], img.Size()-500); err == nil || (err == io.EOF && k != 500) {
		t.Fatalf("read across the end: %d bytes, %v", k, err)
	}
	if k, err := img.ReadAt(buf[:10], img.Size()); k != 0 || err != io.EOF {
		t.Fatalf("read at the end: %d, %v", k, err)
	}
	// Plans cover what they are asked for, and run the same as ReadAt.
	pn := min(img.Size(), 2*mB)
	runs, err := img.planRuns(0, pn, 1<<16)
	if err != nil {
		return
	}
	pos := int64(0)
	got := make([]byte, pn)
	for _, r := range runs {
		if r.Offset != pos || r.Length <= 0 {
			t.Fatalf("run %+v at 0x%x", r, pos)
		}
		dst := got[r.Offset : r.Offset+r.Length]
		switch r.Kind {
		case RunBytes:
			if int64(len(r.Data)) != r.Length {
				t.Fatalf("bytes run %+v with %d bytes", r, len(r.Data))
			}
			copy(dst, r.Data)
		case RunFile:
			f, size, _ := img.File(r.Level)
			if f == nil || r.FileOffset < 0 || r.FileOffset+r.Length > size {
				t.Fatalf("file run %+v outside level %d (%d bytes)", r, r.Level, size)
			}
			f.ReadAt(dst, r.FileOffset)
		}
		pos += r.Length
	}
	if pos != pn {
		t.Fatalf("plan covers 0x%x of 0x%x", pos, pn)
	}
	want := make([]byte, pn)
	if _, err := img.ReadAt(want, 0); err != nil && err != io.EOF {
		t.Fatalf("Plan succeeded where ReadAt fails: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("executing the plan differs from ReadAt")
	}
}

// trimLog returns the log's sectors up to the last one that is not zero.
func trimLog(log []byte) []byte {
	n := len(log)
	for n > 0 && bytes.Count(log[n-logSector:n], []byte{0}) == logSector {
		n -= logSector
	}
	return log[:n]
}

// maxFuzzLog bounds the logs the log fuzz targets take: room for issue
// #11's 180,000-descriptor entry (5.5 MiB).
const maxFuzzLog = 8 * mB

// fuzzFileSize is the size of the file the fuzzed log lies in: the log at
// offset 0, then zeros. It passes the FlushedFileOffset of the seeds,
// which come from whole images.
const fuzzFileSize = 32 * mB

// paddedLog is that file.
type paddedLog []byte

func (l paddedLog) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= fuzzFileSize {
		return 0, io.EOF
	}
	n := min(int64(len(p)), fuzzFileSize-off)
	clear(p[:n])
	if off < int64(len(l)) {
		copy(p[:n], l[off:])
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// addLogSeeds seeds a log fuzz target: the dirty seed image's log (two
// entries), single entries of a few shapes, an entry with 130 zero
// descriptors (two descriptor sectors), four entries of overlapping data
// and zero descriptors, and issue #11's entry of 180,000 zero descriptors
// (with two data descriptors under the first). That one is 5.5 MiB and
// takes ~100 ms to replay with the fuzzer's instrumentation: as is, the
// fuzzer would spend its time minimizing its mutants, so it is added
// deflated (290 KB) and the targets inflate inputs marked packed.
func addLogSeeds(f *testing.F) {
	guid := builder.DefaultLogGUID
	f.Add(false, trimLog(readSeed(f, "dirty.vhdx")[mB:2*mB]))
	for _, n := range []int{0, 1, 3} {
		ring, _ := entryRing(f, n, guid)
		f.Add(false, trimLog(ring.b))
	}
	var zeros []builder.LogWrite
	for i := range 130 {
		zeros = append(zeros, builder.LogWrite{FileOffset: uint64(4*mB + 8192*i), ZeroLength: 4096})
	}
	b, lay := imageBytes(f, &builder.Image{VirtualSize: 4 * mB, Log: &builder.Log{GUID: guid, Entries: []builder.LogEntry{{Writes: zeros}}}})
	f.Add(false, trimLog(b[lay.Log.Offset:lay.Log.End()]))
	// Three entries whose data and zero descriptors overlap.
	page := func(c byte) []byte { return bytes.Repeat([]byte{c}, 4096) }
	base := uint64(8 * mB)
	b, lay = imageBytes(f, &builder.Image{VirtualSize: 4 * mB, Log: &builder.Log{GUID: guid, Entries: []builder.LogEntry{
		{Writes: []builder.LogWrite{{FileOffset: base, Data: append(page(1), page(2)...)}, {FileOffset: base + 4096, ZeroLength: 4 * 4096}}},
		{Writes: []builder.LogWrite{{FileOffset: base, ZeroLength: 4096}, {FileOffset: base + 8192, Data: page(3)}}},
		{Writes: []builder.LogWrite{{FileOffset: base - 4096, ZeroLength: 3 * 4096}, {FileOffset: base + 4096, Data: page(4)}}},
	}}})
	f.Add(false, trimLog(b[lay.Log.Offset:lay.Log.End()]))
	b, _, _ = manyZerosImage(f, manyZerosCount, true)
	var packed bytes.Buffer
	w, _ := flate.NewWriter(&packed, flate.BestSpeed)
	w.Write(trimLog(b[mB : 9*mB])) // the builder puts the 8 MiB log after the 1 MiB header section
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(true, packed.Bytes())
}

// fuzzLog returns the log a fuzz input stands for: b, or b inflated if
// packed, cut to whole 4 KiB sectors and at most maxFuzzLog bytes.
func fuzzLog(packed bool, b []byte) []byte {
	if packed {
		// What inflates before an error is a log as good as any.
		b, _ = io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), maxFuzzLog))
	}
	return b[:min(len(b), maxFuzzLog)&^(logSector-1)]
}

// FuzzLogEntry runs the log scan and replay on whatever the fuzzer makes
// of a log, checksums included (so most mutations make damaged entries).
func FuzzLogEntry(f *testing.F) {
	addLogSeeds(f)
	guid := builder.DefaultLogGUID
	f.Fuzz(func(t *testing.T, packed bool, b []byte) {
		b = fuzzLog(packed, b)
		n := len(b)
		if n == 0 {
			return
		}
		ring := &logRing{b: b, fileOff: mB, guid: guid}
		for p := int64(0); p < int64(n); p += logSector {
			e, err := ring.entryAt(p)
			if err != nil {
				continue
			}
			ds := entryDescriptors(t, ring, e)
			if int(e.header.DescriptorCount) != len(ds) || len(ds) != e.dataDescs+e.zeroDescs {
				t.Fatalf("entry at %d: %d descriptors (%d data, %d zero), header says %d", p, len(ds), e.dataDescs, e.zeroDescs, e.header.DescriptorCount)
			}
		}
		info := &logInfo{}
		active, _ := ring.activeSequence(info)
		for i := 1; i < len(active); i++ {
			if active[i].header.SequenceNumber != active[i-1].header.SequenceNumber+1 {
				t.Fatalf("active sequence not consecutive: %d after %d", active[i].header.SequenceNumber, active[i-1].header.SequenceNumber)
			}
		}
		if len(info.Damaged) > maxDamagedReports {
			t.Fatalf("%d damaged reports", len(info.Damaged))
		}
		// The whole replay over a header that points at this log.
		h := &header{LogGUID: guid, LogLength: uint32(n), LogOffset: 0}
		if li, view, size, err := openLog(context.Background(), paddedLog(b), fuzzFileSize, h); err == nil && li.Replayed {
			view.ReadAt(make([]byte, 4096), min(size-1, 3*mB))
			if len(li.Ranges) > maxReportedRanges || li.RangeCount < len(li.Ranges) {
				t.Fatalf("%d ranges listed of %d", len(li.Ranges), li.RangeCount)
			}
		} else if err != nil {
			asFormatError(t, err)
		}
	})
}

// FuzzLogReplay is FuzzLogEntry with every entry-shaped header's checksum
// made right before the log is read, so that mutations reach the
// descriptors and replay instead of stopping at the checksum. Whatever
// replays is compared with a page-by-page replay of the same descriptors
// in order (later ones win, MS-VHDX 2.3.3), when that takes at most
// maxNaivePages pages.
func FuzzLogReplay(f *testing.F) {
	addLogSeeds(f)
	guid := builder.DefaultLogGUID
	const maxNaivePages = 1 << 18
	f.Fuzz(func(t *testing.T, packed bool, b []byte) {
		log := bytes.Clone(fuzzLog(packed, b))
		n := len(log)
		if n == 0 {
			return
		}
		// Last entry first: an entry's checksum covers the entries that
		// start inside it.
		for p := n - logSector; p >= 0; p -= logSector {
			if string(log[p:p+4]) != "loge" {
				continue
			}
			if raw, err := builder.ReadLogEntry(log, uint32(p)); err == nil {
				builder.FixLogEntryChecksum(raw)
				copy(log[p+4:p+8], raw[4:8])
			}
		}
		h := &header{LogGUID: guid, LogLength: uint32(n), LogOffset: 0}
		li, view, size, err := openLog(context.Background(), paddedLog(log), fuzzFileSize, h)
		if err != nil {
			asFormatError(t, err)
			return
		}
		if !li.Replayed {
			return
		}

		// The reference: the same active sequence's descriptors, applied
		// a page at a time into a map (nil: zeros).
		ring := &logRing{b: log, guid: guid}
		active, _ := ring.activeSequence(&logInfo{})
		pages := map[int64][]byte{}
		wantSize := int64(fuzzFileSize)
		work := 0
		for _, e := range active {
			for _, d := range entryDescriptors(t, ring, e) {
				if d.length == 0 {
					continue
				}
				off, end := int64(d.fileOffset), int64(d.fileOffset+d.length)
				wantSize = max(wantSize, end)
				if work += int(min(d.length/logSector, maxNaivePages+1)); work > maxNaivePages {
					continue
				}
				for p := off; p < end; p += logSector {
					pages[p] = d.data
				}
			}
		}
		if last := active[len(active)-1].header.LastFileOffset; last <= maxFileOffset {
			wantSize = max(wantSize, int64(last))
		}
		if size != wantSize || li.ReplayedSize != size {
			t.Fatalf("replayed size %d (LogInfo %d), want %d", size, li.ReplayedSize, wantSize)
		}
		if work > maxNaivePages {
			return
		}
		got := make([]byte, logSector)
		for p, want := range pages {
			if k, err := view.ReadAt(got, p); k != logSector || (err != nil && err != io.EOF) {
				t.Fatalf("reading replayed page 0x%x: %d bytes, %v", p, k, err)
			}
			if want == nil {
				want = make([]byte, logSector)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("replayed page 0x%x differs from the page-by-page replay", p)
			}
		}
		// Nothing else was replayed: the ranges cover exactly these pages.
		if li.RangeBytes != int64(len(pages))*logSector {
			t.Fatalf("replay wrote %d bytes, the page-by-page replay %d", li.RangeBytes, len(pages)*logSector)
		}
	})
}

func FuzzParentLocator(f *testing.F) {
	for _, loc := range []*builder.ParentLocator{
		builder.NewVHDXParent(seedParentGUID, "dynamic.vhdx"),
		{Entries: []builder.KeyValue{
			{Key: "parent_linkage", Value: builder.LinkageValue(seedParentGUID)},
			{Key: "parent_linkage2", Value: "{not-a-guid}"},
			{Key: "relative_path", Value: `..\base.vhdx`},
			{Key: "volume_path", Value: `\\?\Volume{26A21BDA-A627-11D7-9931-806E6F6E6963}\base.vhdx`},
			{Key: "absolute_win32_path", Value: `\\?\C:\base ünïcode.vhdx`},
		}},
		{Entries: nil},
	} {
		b, err := loc.Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxMetadataItemSize {
			return
		}
		l, err := parseParentLocator(b, 1000)
		if err != nil {
			asFormatError(t, err)
			return
		}
		if int(binary.LittleEndian.Uint16(b[18:])) != len(l.Entries) {
			t.Fatalf("%d entries, KeyValueCount %d", len(l.Entries), binary.LittleEndian.Uint16(b[18:]))
		}
		seen := map[string]bool{}
		total := 0
		for _, kv := range l.Entries {
			if kv.Key == "" || kv.Value == "" || seen[kv.Key] {
				t.Fatalf("entry %q=%q", kv.Key, kv.Value)
			}
			seen[kv.Key] = true
			total += len(kv.Key) + len(kv.Value)
		}
		// UTF-8 takes at most 3 bytes per UTF-16 unit.
		if total > 3*len(b)/2 {
			t.Fatalf("%d bytes of strings from a %d-byte item", total, len(b))
		}
		l.Linkages()
		l.Paths()
	})
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestOpenAllocationBounded: an image with the most region and metadata
// entries allowed and a 64 TiB virtual size (a 512 MiB BAT) opens and
// verifies its structures without allocating much.
func TestOpenAllocationBounded(t *testing.T) {
	im := &builder.Image{VirtualSize: 64 * builder.TiB, Blocks: map[uint64]builder.Block{5: fullBlock(fillIdx(1))}}
	for i := range maxRegionEntries - 2 {
		im.ExtraRegions = append(im.ExtraRegions, builder.Region{GUID: guidN(uint32(0x10000 + i))})
	}
	for i := range maxMetadataEntries - 5 {
		im.ExtraMetadata = append(im.ExtraMetadata, builder.MetadataItem{ID: guidN(uint32(0x20000 + i)), IsUser: i < maxUserEntries})
	}
	path, _ := writeImage(t, t.TempDir(), "max", im)
	f, size := rawFile(t, path)
	var img *Image
	var err error
	n := allocated(func() { img, err = Open(context.Background(), f, size, nil) })
	if err != nil {
		t.Fatal(err)
	}
	if len(img.regions.Entries) != maxRegionEntries || len(img.meta.Entries) != maxMetadataEntries {
		t.Fatalf("%d regions, %d metadata entries", len(img.regions.Entries), len(img.meta.Entries))
	}
	if n > 16*mB {
		t.Errorf("Open allocated %d bytes, want < 16 MiB", n)
	}
	n = allocated(func() {
		img.Info()
		img.structureChecks()
		img.ReadAt(make([]byte, 4096), 5*mB)
	})
	if n > 16*mB {
		t.Errorf("Info and a read allocated %d bytes", n)
	}
}

// TestVerifyAllocationBounded: a log that claims the file is 1 PiB long
// (LastFileOffset) must not size Verify's allocations.
func TestVerifyAllocationBounded(t *testing.T) {
	base := &builder.Image{VirtualSize: 4 * mB, LogLength: mB, Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(1))}}
	_, lay := imageBytes(t, base)
	im := &builder.Image{VirtualSize: 4 * mB, LogLength: mB, Blocks: base.Blocks, Log: &builder.Log{Entries: []builder.LogEntry{{
		Writes:         []builder.LogWrite{{FileOffset: uint64(lay.Metadata.Offset) + 512*kB, Data: []byte("x")}},
		LastFileOffset: 1 << 50,
	}}}}
	b, _ := imageBytes(t, im)
	img, err := openBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if img.log.ReplayedSize != 1<<50 {
		t.Fatalf("replayed size %d", img.log.ReplayedSize)
	}
	var rep *Report
	if n := allocated(func() { rep = img.Verify(context.Background(), nil) }); n > 16*mB {
		t.Errorf("Verify allocated %d bytes", n)
	}
	if rep.Errors != 0 {
		t.Errorf("Verify: %+v", rep.Checks)
	}
}

// TestParentLocatorAllocationBounded: locator entries that all point at
// the same long string must not multiply it.
func TestParentLocatorAllocationBounded(t *testing.T) {
	const count = 400
	hdr := 20 + 12*count
	keys := hdr
	vals := keys + 4*count
	b := make([]byte, vals+65534)
	builder.PutGUID(b, builder.VHDXParentLocatorType)
	binary.LittleEndian.PutUint16(b[18:], count)
	for i := range count {
		e := b[20+12*i:]
		binary.LittleEndian.PutUint32(e[0:], uint32(keys+4*i))
		binary.LittleEndian.PutUint32(e[4:], uint32(vals))
		binary.LittleEndian.PutUint16(e[8:], 4)
		binary.LittleEndian.PutUint16(e[10:], 65534)
		binary.LittleEndian.PutUint16(b[keys+4*i:], uint16(0x4E00+i>>8))
		binary.LittleEndian.PutUint16(b[keys+4*i+2:], uint16(0x4E00+i&0xFF))
	}
	for i := vals; i+1 < len(b); i += 2 {
		binary.LittleEndian.PutUint16(b[i:], 0x4E2D)
	}
	var err error
	n := allocated(func() { _, err = parseParentLocator(b, 0) })
	if n > 8*mB {
		t.Errorf("parsing a %d-byte locator allocated %d bytes", len(b), n)
	}
	if err == nil || !strings.Contains(err.Error(), "parent locator") {
		t.Errorf("parse: %v, want an error", err)
	}
	fmt.Fprint(io.Discard, err)
}
