package builder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
)

// Log describes the contents of the log region (MS-VHDX 2.3). Setting
// Image.Log makes the headers carry a non-zero LogGuid, which tells readers
// that the log must be replayed.
//
// Entries are written in order, explicit Entries first and then the
// entries generated for Deferred. Unless an entry says otherwise, each one
// starts where the previous one ended (the first at offset 0), its sequence
// number is one more than the previous one's (the first is 1), its Tail is
// the start of the run of entries it was written in sequence with, and its
// FlushedFileOffset and LastFileOffset are the file size.
//
// When Image.LogLength is zero the log grows to fit the entries, which moves
// every structure after it; a test that takes offsets from another image's
// Layout should set Image.LogLength on both.
type Log struct {
	// GUID is the header LogGuid and the default entry LogGuid. The zero
	// UUID means DefaultLogGUID.
	GUID uuid.UUID `json:"guid,omitzero"`
	// Entries are explicit log entries.
	Entries []LogEntry `json:"entries,omitempty"`

	// Deferred moves ranges of the finished image into the log: their
	// final bytes are written as log entries and the file gets stale bytes
	// at their location. A reader that replays the log sees the described
	// image; one that does not sees the stale bytes.
	Deferred []Deferred `json:"deferred,omitempty"`
	// Sequence is the sequence number of the first entry generated for
	// Deferred; zero means one more than the last explicit entry (or 1).
	Sequence uint64 `json:"sequence,omitempty"`
	// At is the log offset of the first generated entry (nil: right after
	// the last explicit entry, or 0).
	At *uint32 `json:"at,omitempty"`
	// MaxDescriptors splits the deferred pages into several entries of at
	// most this many descriptors each; zero puts them all in one entry.
	MaxDescriptors int `json:"maxDescriptors,omitempty"`
	// ZeroDescriptors writes deferred pages whose final bytes are all zero
	// as zero descriptors (runs of such pages are merged into one
	// descriptor) instead of data descriptors.
	ZeroDescriptors bool `json:"zeroDescriptors,omitempty"`
	// AllowEntryWrap lets an entry that does not fit before the end of the
	// log continue at the log's start. Without it such an entry is an
	// error. (MS-VHDX 2.3 calls the log a ring buffer but does not say
	// whether a single entry may wrap; see the package tests.)
	AllowEntryWrap bool `json:"allowEntryWrap,omitempty"`
}

// LogEntry is an explicit log entry (MS-VHDX 2.3.1).
type LogEntry struct {
	// Sequence is the SequenceNumber; zero means previous + 1 (1 for the
	// first entry).
	Sequence uint64 `json:"sequence,omitempty"`
	// At is the entry's offset within the log, a multiple of 4 KiB (nil:
	// right after the previous entry).
	At *uint32 `json:"at,omitempty"`
	// Tail is the Tail field (nil: computed, see Log).
	Tail *uint32 `json:"tail,omitempty"`
	// Writes are the entry's descriptors, in order.
	Writes []LogWrite `json:"writes,omitempty"`
	// Zeros are more zero descriptors, written after Writes in order.
	Zeros []ZeroSeries `json:"zeros,omitempty"`
	// FlushedFileOffset and LastFileOffset are written as given unless
	// zero, which means the file size.
	FlushedFileOffset uint64 `json:"flushedFileOffset,omitempty"`
	LastFileOffset    uint64 `json:"lastFileOffset,omitempty"`
	// LogGUID overrides the entry's LogGuid (e.g. a stale entry from an
	// earlier session).
	LogGUID *uuid.UUID `json:"logGuid,omitempty"`
	// CorruptChecksum stores a wrong checksum.
	CorruptChecksum bool `json:"corruptChecksum,omitempty"`
}

// LogWrite is one update in a log entry: either data (one data descriptor
// and data sector per 4 KiB of Data, MS-VHDX 2.3.1.3-2.3.1.4) or, if
// ZeroLength is non-zero, one zero descriptor (MS-VHDX 2.3.1.2).
type LogWrite struct {
	// FileOffset is where the update goes, a multiple of 4 KiB.
	FileOffset uint64 `json:"fileOffset"`
	// Data is zero-padded to a multiple of 4 KiB.
	Data []byte `json:"data,omitempty"`
	// ZeroLength is the length to zero, a multiple of 4 KiB.
	ZeroLength uint64 `json:"zeroLength,omitempty"`
}

// ZeroSeries is Count zero descriptors (MS-VHDX 2.3.1.2) with a fixed
// stride: the k-th zeroes Length bytes at FileOffset + k*Stride. It
// describes the log's worst cases (a 64 MiB log holds about two million
// descriptors) without a LogWrite each.
type ZeroSeries struct {
	FileOffset uint64 `json:"fileOffset"`
	Length     uint64 `json:"length"`
	Stride     uint64 `json:"stride"`
	Count      int    `json:"count"`
}

// Deferred names a range of the built image whose final bytes go into the
// log (see Log.Deferred).
type Deferred struct {
	// Target names the range:
	//
	//   ""               FileOffset/Length (4 KiB multiples), every page logged
	//   "bat"            the BAT region
	//   "bat-page"       the 4 KiB BAT page holding payload block Index's entry
	//   "metadata"       the metadata region
	//   "metadata-table" the 64 KiB metadata table
	//   "region-table"   the first region table copy (192 KiB)
	//   "region-table-2" the second region table copy (256 KiB)
	//   "sector-bitmap"  the sector bitmap block of chunk Index
	//
	// For named targets only pages whose final bytes differ from the stale
	// bytes are logged.
	Target string `json:"target,omitempty"`
	// Index selects the payload block or chunk for "bat-page" and
	// "sector-bitmap".
	Index uint64 `json:"index,omitempty"`
	// FileOffset and Length give the range when Target is "".
	FileOffset uint64 `json:"fileOffset,omitempty"`
	Length     uint64 `json:"length,omitempty"`
	// Stale is written at the range instead of the final bytes,
	// zero-padded to the range's length; nil leaves zeros.
	Stale []byte `json:"stale,omitempty"`
}

// Log entry layout constants (MS-VHDX 2.3.1).
const (
	logSector          = 4096
	logHeaderSize      = 64
	logDescriptorSize  = 32
	descsPerSector     = logSector / logDescriptorSize // 128
	descsInFirstSector = (logSector - logHeaderSize) / logDescriptorSize
)

// DescriptorSectors returns the number of descriptor sectors of an entry
// with n descriptors: the first sector holds the 64-byte header and up to
// 126 descriptors, every further one up to 128 (MS-VHDX 2.3.1). It is never
// zero.
func DescriptorSectors(n int) int {
	if n <= descsInFirstSector {
		return 1
	}
	return 1 + (n-descsInFirstSector+descsPerSector-1)/descsPerSector
}

// logDesc is one resolved descriptor.
type logDesc struct {
	zero    bool
	offset  uint64
	zeroLen uint64
	data    []byte // exactly 4 KiB for data descriptors
}

// entryFields are the header fields of an entry.
type entryFields struct {
	seq              uint64
	tail             uint32
	guid             uuid.UUID
	flushed, last    uint64
	corruptChecksum  bool
	descs            []logDesc
	at               uint32
	atGiven          bool
	generated        bool
	encodedLen       uint32
	descSectors      int
	dataSectorsCount int
}

// encodeEntry returns the contiguous bytes of a log entry: descriptor
// sectors (header + descriptors), then one data sector per data descriptor
// in descriptor order, with the checksum over the whole entry
// (MS-VHDX 2.3.1.1).
func encodeEntry(e *entryFields) []byte {
	ds := DescriptorSectors(len(e.descs))
	var nData int
	for _, d := range e.descs {
		if !d.zero {
			nData++
		}
	}
	b := make([]byte, (ds+nData)*logSector)
	copy(b[0:4], sigLogEntry)
	binary.LittleEndian.PutUint32(b[8:12], uint32(len(b)))
	binary.LittleEndian.PutUint32(b[12:16], e.tail)
	binary.LittleEndian.PutUint64(b[16:24], e.seq)
	binary.LittleEndian.PutUint32(b[24:28], uint32(len(e.descs)))
	PutGUID(b[32:48], e.guid)
	binary.LittleEndian.PutUint64(b[48:56], e.flushed)
	binary.LittleEndian.PutUint64(b[56:64], e.last)
	// Descriptors follow the header contiguously: 126 fill the rest of the
	// first sector, and descriptor 126 starts the second sector.
	dataSector := ds
	for i, d := range e.descs {
		p := b[logHeaderSize+logDescriptorSize*i:]
		if d.zero {
			copy(p[0:4], sigZero)
			binary.LittleEndian.PutUint64(p[8:16], d.zeroLen)
		} else {
			copy(p[0:4], sigDesc)
			copy(p[4:8], d.data[4092:4096]) // TrailingBytes
			copy(p[8:16], d.data[0:8])      // LeadingBytes
			s := b[dataSector*logSector : (dataSector+1)*logSector]
			copy(s[0:4], sigData)
			binary.LittleEndian.PutUint32(s[4:8], uint32(e.seq>>32)) // SequenceHigh
			copy(s[8:4092], d.data[8:4092])
			binary.LittleEndian.PutUint32(s[4092:4096], uint32(e.seq)) // SequenceLow
			dataSector++
		}
		binary.LittleEndian.PutUint64(p[16:24], d.offset)
		binary.LittleEndian.PutUint64(p[24:32], e.seq)
	}
	c := checksumAt(b)
	if e.corruptChecksum {
		binary.LittleEndian.PutUint32(b[4:8], ^c)
	}
	e.encodedLen = uint32(len(b))
	e.descSectors = ds
	e.dataSectorsCount = nData
	return b
}

// explicitDescs converts LogWrites to descriptors.
func explicitDescs(ws []LogWrite) ([]logDesc, error) {
	var ds []logDesc
	for i, w := range ws {
		if w.FileOffset%logSector != 0 {
			return nil, fmt.Errorf("write %d: file offset %#x is not a multiple of 4 KiB", i, w.FileOffset)
		}
		if w.ZeroLength != 0 {
			if len(w.Data) != 0 {
				return nil, fmt.Errorf("write %d: both Data and ZeroLength given", i)
			}
			if w.ZeroLength%logSector != 0 {
				return nil, fmt.Errorf("write %d: zero length %#x is not a multiple of 4 KiB", i, w.ZeroLength)
			}
			ds = append(ds, logDesc{zero: true, offset: w.FileOffset, zeroLen: w.ZeroLength})
			continue
		}
		if len(w.Data) == 0 {
			return nil, fmt.Errorf("write %d: neither Data nor ZeroLength given", i)
		}
		for o := 0; o < len(w.Data); o += logSector {
			d := make([]byte, logSector)
			copy(d, w.Data[o:])
			ds = append(ds, logDesc{offset: w.FileOffset + uint64(o), data: d})
		}
	}
	return ds, nil
}

// seriesDescs appends the descriptors of zero series to ds.
func seriesDescs(ds []logDesc, zs []ZeroSeries) ([]logDesc, error) {
	for i, z := range zs {
		if z.FileOffset%logSector != 0 || z.Length%logSector != 0 || z.Stride%logSector != 0 {
			return nil, fmt.Errorf("zero series %d: offset %#x, length %#x and stride %#x must be multiples of 4 KiB", i, z.FileOffset, z.Length, z.Stride)
		}
		// A 4 GiB entry holds fewer than 2^27 descriptors.
		if z.Count < 0 || z.Count > 1<<27 {
			return nil, fmt.Errorf("zero series %d: count %d out of range", i, z.Count)
		}
		if z.FileOffset > maxOffset || (z.Count > 0 && z.Stride != 0 && uint64(z.Count-1) > (maxOffset-z.FileOffset)/z.Stride) {
			return nil, fmt.Errorf("zero series %d: %d descriptors %#x apart from %#x pass the largest file offset", i, z.Count, z.Stride, z.FileOffset)
		}
		ds = slices.Grow(ds, z.Count)
		for k := range uint64(z.Count) {
			ds = append(ds, logDesc{zero: true, offset: z.FileOffset + k*z.Stride, zeroLen: z.Length})
		}
	}
	return ds, nil
}

// deferredPage is one page moved into the log.
type deferredPage struct {
	offset uint64
	final  []byte
}

// resolveDeferred returns the extent of a deferred target and whether it
// is a named target.
func (b *built) resolveDeferred(d Deferred) (Extent, error) {
	l := b.layout
	switch d.Target {
	case "":
		if d.FileOffset%logSector != 0 || d.Length%logSector != 0 || d.Length == 0 {
			return Extent{}, fmt.Errorf("range %#x+%#x must be non-empty and 4 KiB aligned", d.FileOffset, d.Length)
		}
		if err := checkOffset("range", d.FileOffset, int(min(d.Length, maxOffset))); err != nil {
			return Extent{}, err
		}
		return Extent{int64(d.FileOffset), int64(d.Length)}, nil
	case "bat":
		return l.BAT, nil
	case "bat-page":
		if d.Index >= l.PayloadBlocks {
			return Extent{}, fmt.Errorf("bat-page: block %d out of range", d.Index)
		}
		return Extent{l.PayloadEntryOffset(d.Index) &^ (logSector - 1), logSector}, nil
	case "metadata":
		return l.Metadata, nil
	case "metadata-table":
		return Extent{l.Metadata.Offset, metadataTableSize}, nil
	case "region-table":
		return Extent{regionTable1, RegionTableSize}, nil
	case "region-table-2":
		return Extent{regionTable2, RegionTableSize}, nil
	case "sector-bitmap":
		off, ok := l.SectorBitmaps[d.Index]
		if !ok {
			return Extent{}, fmt.Errorf("sector-bitmap: chunk %d has no sector bitmap block", d.Index)
		}
		return Extent{off, SectorBitmapBlockSize}, nil
	}
	return Extent{}, fmt.Errorf("unknown target %q", d.Target)
}

// deferPages resolves Log.Deferred: it reads the final bytes, writes the
// stale bytes in their place and returns the pages to log, in order.
func (b *built) deferPages(ds []Deferred) ([]deferredPage, error) {
	type item struct {
		ext   Extent
		named bool
		stale []byte
	}
	items := make([]item, len(ds))
	for i, d := range ds {
		ext, err := b.resolveDeferred(d)
		if err != nil {
			return nil, fmt.Errorf("deferred %d: %w", i, err)
		}
		if int64(len(d.Stale)) > ext.Length {
			return nil, fmt.Errorf("deferred %d: %d stale bytes for a %d-byte range", i, len(d.Stale), ext.Length)
		}
		items[i] = item{ext, d.Target != "", d.Stale}
	}
	// Read every final page before writing any stale bytes, so that
	// overlapping ranges still log final contents.
	var pages []deferredPage
	for _, it := range items {
		stale := make([]byte, logSector)
		for o := int64(0); o < it.ext.Length; o += logSector {
			off := it.ext.Offset + o
			final := b.store.read(off, logSector)
			clear(stale)
			if o < int64(len(it.stale)) {
				copy(stale, it.stale[o:])
			}
			if it.named && bytes.Equal(final, stale) {
				continue
			}
			pages = append(pages, deferredPage{uint64(off), final})
			b.layout.Deferred = append(b.layout.Deferred, Extent{off, logSector})
		}
	}
	for _, it := range items {
		buf := make([]byte, it.ext.Length)
		copy(buf, it.stale)
		b.store.put(buf, it.ext.Offset)
	}
	return pages, nil
}

// generatedDescs turns deferred pages into descriptors.
func generatedDescs(pages []deferredPage, zeroDescs bool) []logDesc {
	var ds []logDesc
	for _, p := range pages {
		if zeroDescs && allZero(p.final) {
			if n := len(ds); n > 0 && ds[n-1].zero && ds[n-1].offset+ds[n-1].zeroLen == p.offset {
				ds[n-1].zeroLen += logSector
				continue
			}
			ds = append(ds, logDesc{zero: true, offset: p.offset, zeroLen: logSector})
			continue
		}
		ds = append(ds, logDesc{offset: p.offset, data: p.final})
	}
	return ds
}

// errLogTooSmall reports that the log needs at least need bytes.
type errLogTooSmall struct{ need uint64 }

func (e *errLogTooSmall) Error() string {
	return fmt.Sprintf("log entries need %d bytes of log", e.need)
}

// writeLog resolves and writes the log entries. If autoSize is set and the
// entries do not fit in the log, it returns *errLogTooSmall.
func (b *built) writeLog(im *Image, autoSize bool) error {
	lg := im.Log
	if lg == nil {
		return nil
	}
	logGUID := orUUID(lg.GUID, DefaultLogGUID)
	fileSize := uint64(b.layout.FileSize)
	var entries []*entryFields
	for i := range lg.Entries {
		e := &lg.Entries[i]
		descs, err := explicitDescs(e.Writes)
		if err == nil {
			descs, err = seriesDescs(descs, e.Zeros)
		}
		if err != nil {
			return fmt.Errorf("log entry %d: %w", i, err)
		}
		ef := &entryFields{seq: e.Sequence, guid: logGUID, flushed: e.FlushedFileOffset,
			last: e.LastFileOffset, corruptChecksum: e.CorruptChecksum, descs: descs}
		if e.At != nil {
			ef.at, ef.atGiven = *e.At, true
		}
		if e.LogGUID != nil {
			ef.guid = *e.LogGUID
		}
		if e.Tail != nil {
			ef.tail = *e.Tail
		}
		entries = append(entries, ef)
	}
	nExplicit := len(entries)

	pages, err := b.deferPages(lg.Deferred)
	if err != nil {
		return err
	}
	if len(pages) > 0 {
		descs := generatedDescs(pages, lg.ZeroDescriptors)
		per := lg.MaxDescriptors
		if per <= 0 {
			per = len(descs)
		}
		for start := 0; start < len(descs); start += per {
			ef := &entryFields{guid: logGUID, generated: true, descs: descs[start:min(start+per, len(descs))]}
			if start == 0 {
				ef.seq = lg.Sequence
				if lg.At != nil {
					ef.at, ef.atGiven = *lg.At, true
				}
			}
			entries = append(entries, ef)
		}
	}

	// Sequence numbers, file sizes and lengths.
	for i, ef := range entries {
		if ef.seq == 0 {
			ef.seq = 1
			if i > 0 {
				ef.seq = entries[i-1].seq + 1
			}
		}
		if ef.flushed == 0 {
			ef.flushed = fileSize
		}
		if ef.last == 0 {
			ef.last = fileSize
		}
		nData := 0
		for _, d := range ef.descs {
			if !d.zero {
				nData++
			}
		}
		ef.encodedLen = uint32((DescriptorSectors(len(ef.descs)) + nData) * logSector)
	}

	// Placement.
	L := uint64(b.layout.Log.Length)
	var need uint64
	var next uint64 // unwrapped position after the previous entry
	for i, ef := range entries {
		pos := next
		if ef.atGiven {
			if ef.at%logSector != 0 {
				return fmt.Errorf("log entry %d: At %#x is not a multiple of 4 KiB", i, ef.at)
			}
			pos = uint64(ef.at)
		} else if !autoSize {
			pos %= L
		}
		need = max(need, pos+uint64(ef.encodedLen))
		ef.at = uint32(pos % max(L, 1))
		next = pos + uint64(ef.encodedLen)
	}
	if autoSize && need > L {
		return &errLogTooSmall{need}
	}

	// Tails: the start of the run of entries written in sequence with
	// this one (consecutive sequence numbers, same LogGuid, contiguous).
	for i, ef := range entries {
		if i < nExplicit && lg.Entries[i].Tail != nil {
			continue
		}
		j := i
		for j > 0 {
			p := entries[j-1]
			if p.seq+1 != entries[j].seq || p.guid != entries[j].guid ||
				(uint64(p.at)+uint64(p.encodedLen))%L != uint64(entries[j].at) {
				break
			}
			j--
		}
		ef.tail = entries[j].at
	}

	// Encode and write, refusing overlaps.
	used := make(map[uint64]int)
	for i, ef := range entries {
		raw := encodeEntry(ef)
		wraps := uint64(ef.at)+uint64(len(raw)) > L
		if wraps && !lg.AllowEntryWrap {
			return fmt.Errorf("log entry %d (%d bytes at %#x) does not fit before the end of the %d-byte log; set Log.AllowEntryWrap or move it", i, len(raw), ef.at, L)
		}
		if uint64(len(raw)) > L {
			return fmt.Errorf("log entry %d: %d bytes, the log has %d", i, len(raw), L)
		}
		for s := 0; s < len(raw)/logSector; s++ {
			pos := (uint64(ef.at) + uint64(s)*logSector) % L
			if j, ok := used[pos]; ok {
				return fmt.Errorf("log entry %d overlaps log entry %d at log offset %#x", i, j, pos)
			}
			used[pos] = i
			b.store.put(raw[s*logSector:(s+1)*logSector], b.layout.Log.Offset+int64(pos))
		}
		b.layout.LogEntries = append(b.layout.LogEntries, LogEntryLayout{
			At: ef.at, Offset: b.layout.Log.Offset + int64(ef.at), Length: uint32(len(raw)),
			Sequence: ef.seq, Tail: ef.tail, Descriptors: len(ef.descs),
			DescriptorSectors: ef.descSectors, DataSectors: ef.dataSectorsCount,
			Wraps: wraps, Generated: ef.generated,
		})
	}
	return nil
}

// ReadLogEntry returns the contiguous bytes of the entry at offset at
// within log (the log region's bytes), unwrapping it if it continues at
// the start of the log. It is meant for tests that damage an entry and
// then call FixLogEntryChecksum.
func ReadLogEntry(log []byte, at uint32) ([]byte, error) {
	if uint64(at)+logHeaderSize > uint64(len(log)) {
		return nil, errors.New("builder: entry header outside the log")
	}
	n := binary.LittleEndian.Uint32(log[at+8 : at+12])
	if n < logHeaderSize || uint64(n) > uint64(len(log)) {
		return nil, fmt.Errorf("builder: EntryLength %d invalid for a %d-byte log", n, len(log))
	}
	out := make([]byte, n)
	first := copy(out, log[at:])
	copy(out[first:], log)
	return out, nil
}
