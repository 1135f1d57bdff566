package core

// The log (MS-VHDX 2.3). A dirty log is replayed into an in-memory overlay
// over the file, never into the file: everything after the headers is then
// read through the overlay, so BAT and metadata updates that only live in
// the log take effect.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

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

// LogEntryHeader is the 64-byte header of a log entry (MS-VHDX 2.3.1.1).
type LogEntryHeader struct {
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

func decodeLogEntryHeader(b []byte) LogEntryHeader {
	return LogEntryHeader{
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

// LogDescriptor is a zero descriptor (MS-VHDX 2.3.1.2) or a data descriptor
// (2.3.1.3) with its data sector already reassembled.
type LogDescriptor struct {
	Zero       bool
	FileOffset uint64
	Length     uint64 // ZeroLength, or 4096 for data
	Data       []byte // 4096 bytes for data descriptors
}

// LogEntry is a valid, decoded log entry.
type LogEntry struct {
	LogOffset   int64 // offset within the log
	Header      LogEntryHeader
	Descriptors []LogDescriptor
}

// LogEntryInfo describes a log entry for reports.
type LogEntryInfo struct {
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

// LogProblem is an entry-shaped thing in the log that is not a valid entry.
type LogProblem struct {
	LogOffset  int64  `json:"log_offset"`
	FileOffset int64  `json:"file_offset"`
	Message    string `json:"message"`
}

// FileRange is a range of file offsets.
type FileRange struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// LogInfo is what Open learned about the log.
type LogInfo struct {
	Offset   int64     `json:"offset"`
	Length   int64     `json:"length"`
	GUID     uuid.UUID `json:"guid"`
	Present  bool      `json:"present"`  // LogGuid is not zero
	Replayed bool      `json:"replayed"` // an active sequence was replayed in memory
	// ValidEntries counts valid entries anywhere in the log (LogGuid match).
	ValidEntries int            `json:"valid_entries"`
	Active       []LogEntryInfo `json:"active,omitempty"` // the active sequence, tail first
	Damaged      []LogProblem   `json:"damaged,omitempty"`
	// What replay did.
	DataSectors  int         `json:"data_sectors"`
	ZeroRanges   int         `json:"zero_ranges"`
	ZeroBytes    int64       `json:"zero_bytes"`
	Ranges       []FileRange `json:"ranges,omitempty"` // file ranges written by replay, merged
	FileSize     int64       `json:"file_size"`        // the file's real size
	ReplayedSize int64       `json:"replayed_size"`    // the size after replay (LastFileOffset rule)
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

func (l *logRing) at(p int64, n int) []byte {
	size := int64(len(l.b))
	p %= size
	if p+int64(n) <= size {
		return l.b[p : p+int64(n)]
	}
	out := make([]byte, n)
	k := copy(out, l.b[p:])
	for k < n { // entries longer than the log were rejected, so this loops at most once
		k += copy(out[k:], l.b)
	}
	return out
}

var errNotEntry = errors.New("no log entry signature")

// entryAt decodes and fully validates the entry at log offset p. It returns
// errNotEntry when there is no "loge" signature (free space), or a
// description of what is wrong.
func (l *logRing) entryAt(p int64) (*LogEntry, error) {
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
		return nil, fmt.Errorf("LogGuid %s does not match the header's %s", h.LogGUID, l.guid)
	}
	if l.checksummed+int64(h.EntryLength) > l.checksumBudget() {
		l.overBudget = true
		return nil, errLogBudget
	}
	l.checksummed += int64(h.EntryLength)
	entry := l.at(p, int(h.EntryLength))
	if c := crcWithZeroedField(entry, 4); c != h.Checksum {
		return nil, fmt.Errorf("Checksum mismatch (%s)", checksumPair(h.Checksum, c))
	}
	count := int64(h.DescriptorCount)
	descSectors := int64(1)
	if count > 126 {
		descSectors += (count - 126 + 127) / 128
	}
	if descSectors*logSector > int64(h.EntryLength) {
		return nil, fmt.Errorf("%d descriptors do not fit in EntryLength %d", count, h.EntryLength)
	}
	e := &LogEntry{LogOffset: p % size, Header: h}
	dataIndex := int64(0)
	for k := int64(0); k < count; k++ {
		var d []byte
		if k < 126 {
			d = entry[logEntryHdrSize+k*descriptorSize:][:descriptorSize]
		} else {
			s := 1 + (k-126)/128
			d = entry[s*logSector+((k-126)%128)*descriptorSize:][:descriptorSize]
		}
		seq := binary.LittleEndian.Uint64(d[24:])
		fileOff := binary.LittleEndian.Uint64(d[16:])
		if seq != h.SequenceNumber {
			return nil, fmt.Errorf("descriptor %d: SequenceNumber %d differs from the entry's %d", k, seq, h.SequenceNumber)
		}
		if fileOff%logSector != 0 || fileOff > maxFileOffset {
			return nil, fmt.Errorf("descriptor %d: FileOffset 0x%x is not 4 KiB-aligned", k, fileOff)
		}
		switch string(d[0:4]) {
		case "zero":
			n := binary.LittleEndian.Uint64(d[8:])
			if n%logSector != 0 || n > maxFileOffset {
				return nil, fmt.Errorf("zero descriptor %d: ZeroLength %d is not a multiple of 4 KiB", k, n)
			}
			e.Descriptors = append(e.Descriptors, LogDescriptor{Zero: true, FileOffset: fileOff, Length: n})
		case "desc":
			s := descSectors + dataIndex
			dataIndex++
			if (s+1)*logSector > int64(h.EntryLength) {
				return nil, fmt.Errorf("data descriptor %d: its data sector lies past EntryLength", k)
			}
			ds := entry[s*logSector : (s+1)*logSector]
			if string(ds[0:4]) != "data" {
				return nil, fmt.Errorf("data sector %d: bad signature %s", s, quoteBytes(ds[0:4]))
			}
			hi, lo := binary.LittleEndian.Uint32(ds[4:]), binary.LittleEndian.Uint32(ds[4092:])
			if uint64(hi)<<32|uint64(lo) != h.SequenceNumber {
				return nil, fmt.Errorf("data sector %d: sequence number halves do not match the entry", s)
			}
			data := make([]byte, logSector)
			copy(data[0:8], d[8:16])       // LeadingBytes
			copy(data[8:4092], ds[8:4092]) // the update's bytes 8..4091
			copy(data[4092:], d[4:8])      // TrailingBytes
			e.Descriptors = append(e.Descriptors, LogDescriptor{FileOffset: fileOff, Length: logSector, Data: data})
		default:
			return nil, fmt.Errorf("descriptor %d: bad signature %s", k, quoteBytes(d[0:4]))
		}
	}
	return e, nil
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
func (l *logRing) activeSequence(info *LogInfo) ([]*LogEntry, int) {
	size := int64(len(l.b))
	cache := map[int64]*LogEntry{}
	bad := map[int64]bool{}
	load := func(p int64) *LogEntry {
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
				info.Damaged = append(info.Damaged, LogProblem{LogOffset: p, FileOffset: l.fileOff + p, Message: err.Error()})
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

	var candidate []*LogEntry
	var candidateSeq uint64
	curTail, oldTail := int64(0), int64(0)
	for {
		var seq []*LogEntry
		pos, used := curTail, int64(0)
		for used < size {
			e := load(pos)
			if e == nil || (len(seq) > 0 && e.Header.SequenceNumber != seq[len(seq)-1].Header.SequenceNumber+1) {
				break
			}
			if used+int64(e.Header.EntryLength) > size {
				break // a sequence cannot be longer than the log
			}
			seq = append(seq, e)
			used += int64(e.Header.EntryLength)
			pos = (pos + int64(e.Header.EntryLength)) % size
		}
		valid := false
		if len(seq) > 0 {
			head := seq[len(seq)-1]
			for i, e := range seq {
				if e.LogOffset == int64(head.Header.Tail) {
					valid = true
					if head.Header.SequenceNumber > candidateSeq {
						candidate, candidateSeq = seq[i:], head.Header.SequenceNumber
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
func openLog(f io.ReaderAt, fileSize int64, h *header) (*LogInfo, io.ReaderAt, int64, error) {
	info := &LogInfo{Offset: int64(h.LogOffset), Length: int64(h.LogLength), GUID: h.LogGUID, FileSize: fileSize, ReplayedSize: fileSize}
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
	head := active[len(active)-1].Header
	if head.FlushedFileOffset > uint64(fileSize) { // unsigned: 2^63 and up must not pass as negative
		return nil, nil, 0, formatErr("log", int64(h.LogOffset)+active[len(active)-1].LogOffset, "FlushedFileOffset",
			fmt.Sprintf("file is truncated: %d bytes, the log says at least %d", fileSize, head.FlushedFileOffset), head.FlushedFileOffset)
	}
	ov := newOverlay(f, fileSize)
	for _, e := range active {
		info.Active = append(info.Active, entryInfo(e, ring.fileOff))
		for _, d := range e.Descriptors {
			if d.Zero {
				ov.zero(int64(d.FileOffset), int64(d.Length))
				info.ZeroRanges++
				info.ZeroBytes += int64(d.Length)
			} else {
				ov.write(int64(d.FileOffset), d.Data)
				info.DataSectors++
			}
			info.Ranges = addRange(info.Ranges, int64(d.FileOffset), int64(d.Length))
		}
	}
	if int64(head.LastFileOffset) > ov.size && head.LastFileOffset <= maxFileOffset {
		ov.size = int64(head.LastFileOffset)
	}
	info.Replayed = true
	info.ReplayedSize = ov.size
	return info, ov, ov.size, nil
}

func entryInfo(e *LogEntry, fileOff int64) LogEntryInfo {
	li := LogEntryInfo{LogOffset: e.LogOffset, FileOffset: fileOff + e.LogOffset, Length: e.Header.EntryLength,
		Sequence: e.Header.SequenceNumber, Tail: e.Header.Tail,
		FlushedFileOffset: e.Header.FlushedFileOffset, LastFileOffset: e.Header.LastFileOffset}
	for _, d := range e.Descriptors {
		if d.Zero {
			li.ZeroDescriptors++
		} else {
			li.DataDescriptors++
		}
	}
	return li
}

// addRange adds [off, off+n) to a sorted list of disjoint ranges, merging.
func addRange(rs []FileRange, off, n int64) []FileRange {
	if n <= 0 {
		return rs
	}
	rs = append(rs, FileRange{off, n})
	sort.Slice(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.Offset <= last.Offset+last.Length {
			last.Length = max(last.Length, r.Offset+r.Length-last.Offset)
		} else {
			out = append(out, r)
		}
	}
	return out
}
