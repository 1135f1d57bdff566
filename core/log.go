package core

// The log (MS-VHDX 2.3). A dirty log is replayed into an in-memory overlay
// over the file, never into the file: everything after the headers is then
// read through the overlay, so BAT and metadata updates that only live in
// the log take effect.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/google/uuid"
)

const (
	logSector       = 4 * kib
	logEntryHdrSize = 64
	descriptorSize  = 32
	// maxLogSize caps the memory a log may take: the log is read whole while
	// it is scanned, and the overlay holds at most the log's data sectors.
	// Logs are 1 MiB in practice.
	maxLogSize = 64 * mib
	// maxDamagedReports bounds how many damaged entries are listed.
	maxDamagedReports = 32
)

// logEntryHeader is the 64-byte header of a log entry (MS-VHDX 2.3.1.1).
type logEntryHeader struct {
	Signature         uint32
	Checksum          uint32
	EntryLength       uint32
	Tail              uint32
	SequenceNumber    uint64
	DescriptorCount   uint32
	Reserved          uint32
	LogGUID           uuid.UUID
	FlushedFileOffset uint64
	LastFileOffset    uint64
}

func decodeLogEntryHeader(b []byte) logEntryHeader {
	return logEntryHeader{
		Signature:         binary.LittleEndian.Uint32(b[0:]),
		Checksum:          binary.LittleEndian.Uint32(b[4:]),
		EntryLength:       binary.LittleEndian.Uint32(b[8:]),
		Tail:              binary.LittleEndian.Uint32(b[12:]),
		SequenceNumber:    binary.LittleEndian.Uint64(b[16:]),
		DescriptorCount:   binary.LittleEndian.Uint32(b[24:]),
		Reserved:          binary.LittleEndian.Uint32(b[28:]),
		LogGUID:           guidAt(b[32:]),
		FlushedFileOffset: binary.LittleEndian.Uint64(b[48:]),
		LastFileOffset:    binary.LittleEndian.Uint64(b[56:]),
	}
}

// logEntry is a valid log entry: where it starts, its header and how many
// descriptors of each kind it has. The descriptors themselves are decoded
// again when the entry is replayed, so the scan, which may find an entry
// at every sector, keeps a few words per entry however large it is.
type logEntry struct {
	logOffset            int64 // offset within the log
	header               logEntryHeader
	dataDescs, zeroDescs int
}

// logDescriptor is a zero descriptor (MS-VHDX 2.3.1.2) or a data
// descriptor (2.3.1.3). A data descriptor's page is not copied out of the
// log: desc and sector say where its pieces are (see logRing.page).
type logDescriptor struct {
	zero       bool
	fileOffset uint64
	length     uint64 // ZeroLength, or 4096 for data
	desc       int64  // data: log offset of the descriptor
	sector     int64  // data: log offset of its data sector (2.3.1.4)
}

// logEntryInfo describes a log entry for reports.
type logEntryInfo struct {
	LogOffset         int64  `json:"log_offset"`
	FileOffset        int64  `json:"file_offset"`
	Length            uint32 `json:"length"`
	Sequence          uint64 `json:"sequence"`
	Tail              uint32 `json:"tail"`
	DataDescriptors   int    `json:"data_descriptors"`
	ZeroDescriptors   int    `json:"zero_descriptors"`
	FlushedFileOffset uint64 `json:"flushed_file_offset"`
	LastFileOffset    uint64 `json:"last_file_offset"`
}

// logProblem is an entry-shaped thing in the log that is not a valid entry.
type logProblem struct {
	LogOffset  int64  `json:"log_offset"`
	FileOffset int64  `json:"file_offset"`
	Message    string `json:"message"`
	// Stale: a whole entry of an earlier session (its LogGuid is not the
	// header's). Hyper-V leaves these behind; they are not damage.
	Stale bool `json:"stale,omitempty"`
}

// staleEntry is the error of an entry whose LogGuid is not the header's.
type staleEntry struct{ entry, header uuid.UUID }

func (e *staleEntry) Error() string {
	return fmt.Sprintf("LogGuid %s does not match the header's %s (an entry of an earlier session)", e.entry, e.header)
}

// fileRange is a range of file offsets.
type fileRange struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// maxReportedRanges bounds LogInfo.Ranges: a 64 MiB log can write about
// two million separate ranges, so the report counts them and lists the
// first few.
const maxReportedRanges = 16

// logInfo is what Open learned about the log.
type logInfo struct {
	Offset   int64     `json:"offset"`
	Length   int64     `json:"length"`
	GUID     uuid.UUID `json:"guid"`
	Present  bool      `json:"present"`  // LogGuid is not zero
	Replayed bool      `json:"replayed"` // an active sequence was replayed in memory
	// ValidEntries counts valid entries anywhere in the log (LogGuid match).
	ValidEntries int `json:"valid_entries"`
	// Active is the active sequence, tail first: at most one entry per
	// 4 KiB of log.
	Active  []logEntryInfo `json:"active,omitempty"`
	Damaged []logProblem   `json:"damaged,omitempty"` // at most maxDamagedReports
	// What replay did, as counts: lists would grow with the log.
	Entries     int   `json:"entries"`      // entries replayed (len(Active))
	Descriptors int   `json:"descriptors"`  // descriptors replayed, both kinds
	DataSectors int   `json:"data_sectors"` // data descriptors replayed
	ZeroRanges  int   `json:"zero_ranges"`  // zero descriptors replayed
	ZeroBytes   int64 `json:"zero_bytes"`   // the sum of their ZeroLength (stops at 2^63-1)
	// RangeCount and RangeBytes measure the file ranges replay wrote,
	// merged where they overlap or touch; Ranges lists the first
	// maxReportedRanges (16) of them, in file order.
	RangeCount   int         `json:"range_count"`
	RangeBytes   int64       `json:"range_bytes"`
	Ranges       []fileRange `json:"ranges,omitempty"`
	FileSize     int64       `json:"file_size"`     // the file's real size
	ReplayedSize int64       `json:"replayed_size"` // the size after replay (LastFileOffset rule)
}

// logRing is the log region read whole, addressed modulo its length.
type logRing struct {
	b       []byte
	fileOff int64
	guid    uuid.UUID
	// checksummed counts the bytes entryAt has run CRC-32C over. Every
	// 4 KiB sector may start a candidate entry as long as the log, so a
	// hostile log costs (size/4 KiB) * size without a limit; valid entries
	// do not overlap, so a real log needs about its size.
	checksummed int64
	overBudget  bool
}

// errLogBudget stops the scan of a log whose candidate entries would take
// more than checksumBudget bytes of CRC-32C.
var errLogBudget = errors.New("log scan budget exceeded")

func (l *logRing) checksumBudget() int64 { return 32*int64(len(l.b)) + 16*mib }

// at returns the n bytes at log offset p (taken modulo the log's size).
// The log's size is a multiple of 4 KiB and callers never ask for bytes
// that cross a 4 KiB boundary (a sector, a descriptor, a field in one), so
// this never needs to wrap and never copies.
func (l *logRing) at(p int64, n int) []byte {
	p %= int64(len(l.b))
	return l.b[p : p+int64(n)]
}

// checksum returns the CRC-32C of the n bytes at log offset p (an entry,
// wrapping at the end of the log if it must) with the Checksum field, bytes
// 4..7, taken as zero (MS-VHDX 2.3.1.1). It reads the ring in place.
func (l *logRing) checksum(p, n int64) uint32 {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, l.at(p, 4))
	c = crc32.Update(c, castagnoli, zero[:])
	size := int64(len(l.b))
	for pos, end := p+8, p+n; pos < end; {
		q := pos % size
		k := min(end-pos, size-q)
		c = crc32.Update(c, castagnoli, l.b[q:q+k])
		pos += k
	}
	return c
}

var errNotEntry = errors.New("no log entry signature")

// entryAt decodes and fully validates the entry at log offset p (a
// multiple of 4 KiB). It returns errNotEntry when there is no "loge"
// signature (free space), or a description of what is wrong.
func (l *logRing) entryAt(p int64) (*logEntry, error) {
	size := int64(len(l.b))
	hb := l.at(p, logEntryHdrSize)
	if string(hb[0:4]) != "loge" {
		return nil, errNotEntry
	}
	h := decodeLogEntryHeader(hb)
	switch {
	case h.EntryLength == 0 || h.EntryLength%logSector != 0:
		return nil, fmt.Errorf("EntryLength %d is not a non-zero multiple of 4 KiB", h.EntryLength)
	case int64(h.EntryLength) > size:
		return nil, fmt.Errorf("EntryLength %d is larger than the log", h.EntryLength)
	case h.Tail%logSector != 0 || int64(h.Tail) >= size:
		return nil, fmt.Errorf("Tail %d is not a 4 KiB-aligned offset inside the log", h.Tail)
	case h.SequenceNumber == 0:
		return nil, fmt.Errorf("SequenceNumber is zero")
	case h.LogGUID != l.guid:
		return nil, &staleEntry{h.LogGUID, l.guid}
	}
	if l.checksummed+int64(h.EntryLength) > l.checksumBudget() {
		l.overBudget = true
		return nil, errLogBudget
	}
	l.checksummed += int64(h.EntryLength)
	if c := l.checksum(p, int64(h.EntryLength)); c != h.Checksum {
		return nil, fmt.Errorf("Checksum mismatch (%s)", checksumPair(h.Checksum, c))
	}
	e := &logEntry{logOffset: p % size, header: h}
	err := l.descriptors(e.logOffset, &h, func(d logDescriptor) {
		if d.zero {
			e.zeroDescs++
		} else {
			e.dataDescs++
		}
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// descriptors checks the descriptors of the entry at log offset p, whose
// header h has been checked, and calls fn with each in order. It stops at
// the first bad one: descriptor sectors hold the header and 126
// descriptors, then 128 per sector; data sectors follow in the order of
// the data descriptors (MS-VHDX 2.3.1).
func (l *logRing) descriptors(p int64, h *logEntryHeader, fn func(logDescriptor)) error {
	count := int64(h.DescriptorCount)
	descSectors := int64(1)
	if count > 126 {
		descSectors += (count - 126 + 127) / 128
	}
	if descSectors*logSector > int64(h.EntryLength) {
		return fmt.Errorf("%d descriptors do not fit in EntryLength %d", count, h.EntryLength)
	}
	dataIndex := int64(0)
	for k := int64(0); k < count; k++ {
		at := p + logEntryHdrSize + k*descriptorSize
		if k >= 126 {
			at = p + (1+(k-126)/128)*logSector + ((k-126)%128)*descriptorSize
		}
		d := l.at(at, descriptorSize)
		seq := binary.LittleEndian.Uint64(d[24:])
		fileOff := binary.LittleEndian.Uint64(d[16:])
		if seq != h.SequenceNumber {
			return fmt.Errorf("descriptor %d: SequenceNumber %d differs from the entry's %d", k, seq, h.SequenceNumber)
		}
		if fileOff%logSector != 0 || fileOff > maxFileOffset {
			return fmt.Errorf("descriptor %d: FileOffset 0x%x is not 4 KiB-aligned", k, fileOff)
		}
		switch string(d[0:4]) {
		case "zero":
			n := binary.LittleEndian.Uint64(d[8:])
			if n%logSector != 0 || n > maxFileOffset {
				return fmt.Errorf("zero descriptor %d: ZeroLength %d is not a multiple of 4 KiB", k, n)
			}
			fn(logDescriptor{zero: true, fileOffset: fileOff, length: n})
		case "desc":
			s := descSectors + dataIndex
			dataIndex++
			if (s+1)*logSector > int64(h.EntryLength) {
				return fmt.Errorf("data descriptor %d: its data sector lies past EntryLength", k)
			}
			ds := l.at(p+s*logSector, logSector)
			if string(ds[0:4]) != "data" {
				return fmt.Errorf("data sector %d: bad signature %s", s, quoteBytes(ds[0:4]))
			}
			hi, lo := binary.LittleEndian.Uint32(ds[4:]), binary.LittleEndian.Uint32(ds[4092:])
			if uint64(hi)<<32|uint64(lo) != h.SequenceNumber {
				return fmt.Errorf("data sector %d: sequence number halves do not match the entry", s)
			}
			fn(logDescriptor{fileOffset: fileOff, length: logSector, desc: at, sector: p + s*logSector})
		default:
			return fmt.Errorf("descriptor %d: bad signature %s", k, quoteBytes(d[0:4]))
		}
	}
	return nil
}

// page writes the 4 KiB that the data descriptor at log offset desc and
// its data sector at log offset sector put in the file: LeadingBytes, the
// sector's bytes 8..4091, TrailingBytes (MS-VHDX 2.3.1.3, 2.3.1.4).
func (l *logRing) page(dst []byte, desc, sector int64) {
	d := l.at(desc, descriptorSize)
	copy(dst[0:8], d[8:16])
	copy(dst[8:4092], l.at(sector+8, 4084))
	copy(dst[4092:4096], d[4:8])
}

// isOurs reports whether the sector at log offset p starts something
// shaped like one of this log's entries: the "loge" signature and the
// header's LogGuid, whether or not the rest of the entry is valid.
func (l *logRing) isOurs(p int64) bool {
	hb := l.at(p, logEntryHdrSize)
	return string(hb[0:4]) == "loge" && guidAt(hb[32:]) == l.guid
}

// activeSequence finds the active sequence following MS-VHDX 2.3.3 step by
// step. It returns the entries tail first, or nil if there is none, and
// how many sectors start an entry-shaped header with this log's LogGuid.
func (l *logRing) activeSequence(info *logInfo) ([]*logEntry, int) {
	size := int64(len(l.b))
	cache := map[int64]*logEntry{}
	bad := map[int64]bool{}
	load := func(p int64) *logEntry {
		if e, ok := cache[p]; ok {
			return e
		}
		if bad[p] {
			return nil
		}
		e, err := l.entryAt(p)
		if err != nil {
			bad[p] = true
			if err != errNotEntry && err != errLogBudget && len(info.Damaged) < maxDamagedReports {
				_, stale := err.(*staleEntry)
				info.Damaged = append(info.Damaged, logProblem{LogOffset: p, FileOffset: l.fileOff + p, Message: err.Error(), Stale: stale})
			}
			return nil
		}
		cache[p] = e
		return e
	}
	// Count valid entries anywhere (for the report).
	ours := 0
	for p := int64(0); p < size; p += logSector {
		if load(p) != nil {
			info.ValidEntries++
		}
		if l.isOurs(p) {
			ours++
		}
	}

	var candidate []*logEntry
	var candidateSeq uint64
	curTail, oldTail := int64(0), int64(0)
	for {
		var seq []*logEntry
		pos, used := curTail, int64(0)
		for used < size {
			e := load(pos)
			if e == nil || (len(seq) > 0 && e.header.SequenceNumber != seq[len(seq)-1].header.SequenceNumber+1) {
				break
			}
			if used+int64(e.header.EntryLength) > size {
				break // a sequence cannot be longer than the log
			}
			seq = append(seq, e)
			used += int64(e.header.EntryLength)
			pos = (pos + int64(e.header.EntryLength)) % size
		}
		valid := false
		if len(seq) > 0 {
			head := seq[len(seq)-1]
			for i, e := range seq {
				if e.logOffset == int64(head.header.Tail) {
					valid = true
					if head.header.SequenceNumber > candidateSeq {
						candidate, candidateSeq = seq[i:], head.header.SequenceNumber
					}
					break
				}
			}
		}
		if !valid {
			curTail += logSector
			if curTail >= size {
				curTail = 0
			}
		} else {
			curTail = pos
		}
		if curTail <= oldTail {
			break
		}
		oldTail = curTail
	}
	return candidate, ours
}

// openLog examines the log named by the current header and, when it holds
// an active sequence, returns an overlay with it replayed.
func openLog(ctx context.Context, f io.ReaderAt, fileSize int64, h *header) (*logInfo, io.ReaderAt, int64, error) {
	info := &logInfo{Offset: int64(h.LogOffset), Length: int64(h.LogLength), GUID: h.LogGUID, FileSize: fileSize, ReplayedSize: fileSize}
	info.Present = h.LogGUID != uuid.Nil
	if !info.Present {
		return info, f, fileSize, nil
	}
	if h.LogLength == 0 {
		return nil, nil, 0, formatErr("log", int64(h.LogOffset), "LogLength", "LogGuid is set but the log is empty", nil)
	}
	if h.LogLength > maxLogSize {
		return nil, nil, 0, unsupportedErr("log", int64(h.LogOffset), "LogLength", fmt.Sprintf("log larger than %d MiB cannot be replayed in memory", maxLogSize/mib), h.LogLength)
	}
	b, err := readStruct(f, fileSize, int64(h.LogOffset), int(h.LogLength), "log")
	if err != nil {
		return nil, nil, 0, err
	}
	ring := &logRing{b: b, fileOff: int64(h.LogOffset), guid: h.LogGUID}
	active, ours := ring.activeSequence(info)
	if err := ctx.Err(); err != nil { // the scan is the long part; replay is one sweep
		return nil, nil, 0, err
	}
	if ring.overBudget {
		return nil, nil, 0, formatErr("log", int64(h.LogOffset), "", fmt.Sprintf(
			"too many overlapping entry headers: checking them would checksum more than %d MiB", ring.checksumBudget()/mib), nil)
	}
	if active == nil && ours > 0 {
		// MS-VHDX 2.3.3: no valid sequence means a corrupt file. Entries
		// with this LogGuid were written, so something was meant to be
		// replayed and cannot be.
		var first any
		for _, d := range info.Damaged {
			if ring.isOurs(d.LogOffset) {
				first = fmt.Sprintf("entry at 0x%x: %s", d.FileOffset, d.Message)
				break
			}
		}
		return nil, nil, 0, formatErr("log", int64(h.LogOffset), "", fmt.Sprintf(
			"%d log entries carry LogGuid %s but none forms a valid sequence to replay (MS-VHDX 2.3.3)", ours, h.LogGUID), first)
	}
	if active == nil {
		// Windows leaves files with a LogGuid and nothing to replay: the
		// log was flushed. Nothing to do.
		return info, f, fileSize, nil
	}
	head := active[len(active)-1].header
	if head.FlushedFileOffset > uint64(fileSize) { // unsigned: 2^63 and up must not pass as negative
		return nil, nil, 0, formatErr("log", int64(h.LogOffset)+active[len(active)-1].logOffset, "FlushedFileOffset",
			fmt.Sprintf("file is truncated: %d bytes, the log says at least %d", fileSize, head.FlushedFileOffset), head.FlushedFileOffset)
	}
	// Collect every descriptor of the active sequence, in replay order,
	// and replay them all at once (see newOverlay). The sequence is no
	// longer than the log, so there are at most one per 32 bytes of log.
	total := 0
	for _, e := range active {
		total += e.dataDescs + e.zeroDescs
	}
	ups := make([]update, 0, total)
	for _, e := range active {
		info.Active = append(info.Active, entryInfo(e, ring.fileOff))
		err := ring.descriptors(e.logOffset, &e.header, func(d logDescriptor) {
			u := update{off: int64(d.fileOffset), end: int64(d.fileOffset + d.length), desc: int32(d.desc), sector: int32(d.sector)}
			if d.zero {
				u.desc = -1
				info.ZeroRanges++
				info.ZeroBytes = satAdd(info.ZeroBytes, int64(d.length))
			} else {
				info.DataSectors++
			}
			ups = append(ups, u)
		})
		if err != nil { // entryAt checked these very bytes
			return nil, nil, 0, formatErr("log", ring.fileOff+e.logOffset, "", err.Error(), nil)
		}
	}
	info.Entries = len(active)
	info.Descriptors = len(ups)
	ov := newOverlay(f, fileSize, ups, info.DataSectors, ring.page)
	ov.coverage(func(r fileRange) {
		if len(info.Ranges) < maxReportedRanges {
			info.Ranges = append(info.Ranges, r)
		}
		info.RangeCount++
		info.RangeBytes += r.Length
	})
	if int64(head.LastFileOffset) > ov.size && head.LastFileOffset <= maxFileOffset {
		ov.size = int64(head.LastFileOffset)
	}
	info.Replayed = true
	info.ReplayedSize = ov.size
	return info, ov, ov.size, nil
}

// satAdd is a+b for non-negative a and b, stopping at the largest int64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func entryInfo(e *logEntry, fileOff int64) logEntryInfo {
	return logEntryInfo{LogOffset: e.logOffset, FileOffset: fileOff + e.logOffset, Length: e.header.EntryLength,
		Sequence: e.header.SequenceNumber, Tail: e.header.Tail,
		DataDescriptors: e.dataDescs, ZeroDescriptors: e.zeroDescs,
		FlushedFileOffset: e.header.FlushedFileOffset, LastFileOffset: e.header.LastFileOffset}
}
