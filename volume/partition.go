package volume

// Partition tables: GPT (UEFI 2.10 section 5.3) and MBR with extended and
// logical partitions (the EBR chain), decoded field by field from their
// fixed offsets for a viewer of untrusted disks:
//
//   - both GPT headers are checked (signature, header size, CRC-32 of the
//     header and of its entry array, MyLBA) and each one's state is
//     reported; a damaged primary falls back to the backup, found through
//     the primary's AlternateLBA or at the last LBA;
//   - the entry array's count and size are capped before anything is read;
//   - MBR entries are interpreted in the disk's logical sector size (not
//     always 512), and extended partitions are followed along their EBR
//     chain, with a loop guard;
//   - type names for GPT type GUIDs and MBR type bytes;
//   - a disk whose sector 0 is a file system boot sector (no partition
//     table) is recognised as such.
//
// Long walks (thousands of GPT entries or EBRs, each probed for a file
// system) stop when the context is cancelled.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/vhdxview/vhdxview/internal/utf16le"
)

// Limits on what a partition table may make us read.
const (
	// maxGPTArray caps a GPT entry array (count * entry size). Every tool
	// writes 128 entries of 128 bytes (16 KiB); 4 MiB leaves room for odd
	// but honest tables.
	maxGPTArray = 4 << 20
	// maxLogical caps the EBR chain of an extended partition.
	maxLogical = 1024
)

// Table is a disk's partition table.
type Table struct {
	// Scheme is "gpt", "mbr" or "none" (no partition table: the whole disk
	// is one volume, and Partitions holds one entry, Index 0, covering it).
	Scheme     string `json:"scheme"`
	SectorSize int    `json:"sector_size"`
	DiskSize   int64  `json:"disk_size"`
	// DiskGUID is the GPT disk GUID, or the MBR disk signature as 8 hex
	// digits.
	DiskGUID string `json:"disk_guid,omitempty"`
	// GPTHeaders describes the primary (LBA 1) and backup (last LBA) GPT
	// headers when Scheme is "gpt".
	GPTHeaders []GPTHeader `json:"gpt_headers,omitempty"`
	// ProtectiveMBR tells whether a GPT disk has its protective MBR.
	ProtectiveMBR bool        `json:"protective_mbr,omitempty"`
	Partitions    []Partition `json:"partitions"`
	// Problems are damage and oddities found on the way, worded for people,
	// e.g. "primary GPT header: CRC-32 mismatch ...; using the backup".
	Problems []string `json:"problems,omitempty"`

	resized bool // SectorSize was changed to read a GPT
}

// GPTHeader is the state of one GPT header copy.
type GPTHeader struct {
	Which string `json:"which"` // "primary" or "backup"
	LBA   uint64 `json:"lba"`
	Valid bool   `json:"valid"`
	Used  bool   `json:"used"` // the table was read from this copy
	Error string `json:"error,omitempty"`
}

// Partition is one entry of a partition table.
type Partition struct {
	// Index is the entry's number as Linux names it: the GPT slot (from 1),
	// MBR primary slots 1-4 and logical partitions 5 on; 0 for the whole
	// disk when there is no partition table.
	Index    int    `json:"index"`
	Scheme   string `json:"scheme"`
	TypeName string `json:"type_name"`
	TypeGUID string `json:"type_guid,omitempty"` // GPT
	MBRType  uint8  `json:"mbr_type,omitempty"`  // MBR
	GUID     string `json:"guid,omitempty"`      // GPT unique partition GUID
	Name     string `json:"name,omitempty"`      // GPT partition name
	// Attributes are the GPT attribute bits.
	Attributes uint64 `json:"attributes,omitempty"`
	FirstLBA   uint64 `json:"first_lba"`
	LastLBA    uint64 `json:"last_lba"`
	Offset     int64  `json:"offset"` // bytes from the start of the disk
	Size       int64  `json:"size"`   // bytes
	Bootable   bool   `json:"bootable,omitempty"`
	Logical    bool   `json:"logical,omitempty"`  // inside an extended partition
	Extended   bool   `json:"extended,omitempty"` // an extended partition (a container of logical ones)
	// FileSystem is what the first sectors look like (see Detect): "ntfs",
	// "fat32", "ext4", "exfat", ... or "" when nothing is recognised.
	FileSystem string `json:"file_system,omitempty"`
	// FileSystemName is FileSystem for people (FSName): "NTFS", "HFS+".
	FileSystemName string `json:"file_system_name,omitempty"`
	// Problem says what is wrong with this entry (e.g. it runs past the end
	// of the disk; Size is then clipped).
	Problem string `json:"problem,omitempty"`
}

// String names the partition as messages do: "partition N", or "whole
// disk" for Index 0.
func (p Partition) String() string {
	if p.Index == 0 {
		return "whole disk"
	}
	return fmt.Sprintf("partition %d", p.Index)
}

// Partitions reads the partition table of a disk of size bytes with the
// given logical sector size (512 or 4096). Damage is reported in
// Table.Problems where the table can still be read; an error is returned
// only when the disk cannot be read at all, or ctx is cancelled (the error
// then wraps ctx.Err()).
func Partitions(ctx context.Context, r io.ReaderAt, size int64, sectorSize int) (t *Table, err error) {
	if sectorSize != 512 && sectorSize != 4096 {
		return nil, fmt.Errorf("volume: sector size %d: want 512 or 4096", sectorSize)
	}
	// Once ctx ends, reads fail and the table is not returned: a probe of
	// a partition refused its read would look like a blank partition.
	r = &ctxReader{r: r, ctx: ctx}
	defer func() {
		if cerr := ctx.Err(); cerr != nil {
			t, err = nil, fmt.Errorf("volume: partition table: %w", cerr)
		}
	}()
	defer recoverTo(&err, "partition table")
	t = &Table{SectorSize: sectorSize, DiskSize: size, Partitions: []Partition{}}
	if size < int64(sectorSize)*2 {
		t.Scheme = "none"
		t.whole(r, size)
		return t, nil
	}
	s0 := make([]byte, sectorSize)
	if _, err := readFull(r, size, s0, 0); err != nil {
		return nil, fmt.Errorf("volume: reading sector 0: %w", err)
	}
	hasMBRSig := s0[510] == 0x55 && s0[511] == 0xaa
	protective := false
	if hasMBRSig {
		for i := 0; i < 4; i++ {
			if s0[446+16*i+4] == 0xee {
				protective = true
			}
		}
	}
	// GPT: look at both headers whenever there is a protective entry or a
	// GPT signature at LBA 1.
	s1 := make([]byte, sectorSize)
	if _, err := readFull(r, size, s1, int64(sectorSize)); err != nil {
		return nil, fmt.Errorf("volume: reading sector 1: %w", err)
	}
	if protective || string(s1[:8]) == "EFI PART" {
		if ok, err := t.readGPT(ctx, r, size, s0, protective); ok || err != nil {
			return t, err // err: ctx's, replaced above
		}
	}
	if fs := detectBoot(s0); fs != "" || !hasMBRSig {
		// A volume boot record at sector 0, or no MBR signature at all.
		// No table is normal for a disk that is one file system (WSL's
		// ext4.vhdx, a volume image); it is a problem only when sector 0
		// holds something else that is not a table either.
		t.Scheme = "none"
		t.whole(r, size)
		if !hasMBRSig && !allZero(s0) && fs == "" && t.Partitions[0].FileSystem == "" {
			t.Problems = append(t.Problems, "no partition table (sector 0 has no MBR signature)")
		}
		return t, nil
	}
	return t, t.readMBR(ctx, r, size, s0)
}

// whole makes the partitionless table's one entry.
func (t *Table) whole(r io.ReaderAt, size int64) {
	ss := int64(t.SectorSize)
	p := Partition{Index: 0, Scheme: "none", TypeName: "whole disk", Offset: 0, Size: size}
	if size >= ss {
		p.LastLBA = uint64(size/ss) - 1
	}
	p.FileSystem = Detect(r, 0, size)
	p.FileSystemName = FSName(p.FileSystem)
	t.Partitions = append(t.Partitions, p)
}

// readGPT fills t from the GPT if either header is valid, and reports
// false if neither is (so that an MBR may be tried).
func (t *Table) readGPT(ctx context.Context, r io.ReaderAt, size int64, s0 []byte, protective bool) (bool, error) {
	ss := int64(t.SectorSize)
	last := uint64(size/ss) - 1
	prim := GPTHeader{Which: "primary", LBA: 1}
	back := GPTHeader{Which: "backup", LBA: last}
	ph, perr := readGPTHeader(r, size, 1, ss)
	if perr == nil {
		prim.Valid = true
		back.LBA = ph.altLBA
		if ph.altLBA != last {
			t.Problems = append(t.Problems, fmt.Sprintf("primary GPT header: backup header expected at LBA %d, but the disk's last LBA is %d", ph.altLBA, last))
		}
	} else {
		prim.Error = perr.Error()
	}
	bh, berr := readGPTHeader(r, size, back.LBA, ss)
	if berr != nil && back.LBA != last {
		// An alternate LBA pointing elsewhere: the backup belongs at the end.
		back.LBA = last
		bh, berr = readGPTHeader(r, size, last, ss)
	}
	if berr == nil {
		back.Valid = true
	} else {
		back.Error = berr.Error()
	}
	if perr != nil && berr != nil {
		// A GPT written for the other sector size (a disk image copied
		// between 512e and 4Kn devices): read it as written, and say so.
		other := 512
		if t.SectorSize == 512 {
			other = 4096
		}
		if !t.resized && size >= int64(other)*3 {
			if _, err := readGPTHeader(r, size, 1, int64(other)); err == nil {
				t.Problems = append(t.Problems, fmt.Sprintf("the GPT is laid out for %d-byte sectors but the disk has %d-byte sectors; read as %d", other, t.SectorSize, other))
				t.resized, t.SectorSize = true, other
				return t.readGPT(ctx, r, size, s0, protective)
			}
		}
		if protective {
			t.Scheme = "gpt"
			t.ProtectiveMBR = true
			t.GPTHeaders = []GPTHeader{prim, back}
			t.Problems = append(t.Problems, "protective MBR present but both GPT headers are damaged: "+perr.Error()+"; "+berr.Error())
			return true, nil
		}
		return false, nil
	}
	t.Scheme = "gpt"
	use := ph
	if perr != nil {
		use = bh
		back.Used = true
		t.Problems = append(t.Problems, "primary GPT header: "+perr.Error()+"; using the backup")
	} else {
		prim.Used = true
		if berr != nil {
			t.Problems = append(t.Problems, "backup GPT header: "+berr.Error())
		} else if !bytes.Equal(ph.entries, bh.entries) || ph.firstUsable != bh.firstUsable || ph.lastUsable != bh.lastUsable || ph.diskGUID != bh.diskGUID {
			t.Problems = append(t.Problems, "the primary and backup GPT differ; using the primary")
		}
	}
	t.GPTHeaders = []GPTHeader{prim, back}
	t.ProtectiveMBR = protective
	if p := checkPMBR(s0, last); p != "" {
		t.Problems = append(t.Problems, p)
	}

	return true, t.gptEntries(ctx, use, r, size)
}

// checkPMBR checks a GPT disk's protective MBR (UEFI 2.10 5.2.3): one
// entry of type 0xEE starting at LBA 1 and covering the disk (or
// 0xFFFFFFFF sectors when the disk is larger), the others empty.
func checkPMBR(s0 []byte, last uint64) string {
	if s0[510] != 0x55 || s0[511] != 0xaa {
		return "no protective MBR in sector 0"
	}
	var pm []byte
	others := 0
	for i := 0; i < 4; i++ {
		e := s0[446+16*i:][:16]
		switch {
		case e[4] == 0xee && pm == nil:
			pm = e
		case e[4] != 0:
			others++
		}
	}
	want := uint32(min(last, 0xffffffff))
	switch {
	case pm == nil:
		return "no protective MBR entry (type 0xEE) in sector 0"
	case others > 0:
		return fmt.Sprintf("hybrid MBR: %d MBR partition(s) besides the protective entry", others)
	case binary.LittleEndian.Uint32(pm[8:]) != 1:
		return fmt.Sprintf("protective MBR entry starts at LBA %d, not 1", binary.LittleEndian.Uint32(pm[8:]))
	case binary.LittleEndian.Uint32(pm[12:]) != want:
		return fmt.Sprintf("protective MBR entry covers %d sectors, the disk has %d after LBA 0", binary.LittleEndian.Uint32(pm[12:]), want)
	}
	return ""
}

// gptEntries decodes the entry array already read and checked by
// readGPTHeader (UEFI 2.10 table 5-6: type GUID at 0, unique GUID at 16,
// first LBA at 32, last LBA at 40, attributes at 48, a 36-unit UTF-16LE
// name at 56; an all-zero type GUID marks an unused entry). Entries larger
// than 128 bytes have their first 128 bytes decoded, as the spec allows.
func (t *Table) gptEntries(ctx context.Context, h *gptHeader, r io.ReaderAt, size int64) error {
	t.DiskGUID = h.diskGUID
	for i := 0; i < int(h.count); i++ {
		e := h.entries[i*int(h.entrySize):][:128]
		if allZero(e[:16]) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err // every used entry is probed for a file system
		}
		name := utf16le.DecodeZ(e[56:128])
		t.addGPT(r, size, h, i+1, mixedGUID(e[0:16]), mixedGUID(e[16:32]), name,
			binary.LittleEndian.Uint64(e[32:]), binary.LittleEndian.Uint64(e[40:]), binary.LittleEndian.Uint64(e[48:]))
	}
	return nil
}

func (t *Table) addGPT(r io.ReaderAt, size int64, h *gptHeader, index int, typ, guid, name string, first, last, attrs uint64) {
	typ = strings.ToUpper(typ)
	p := Partition{
		Index: index, Scheme: "gpt", TypeGUID: typ, TypeName: gptTypeName(typ),
		GUID: strings.ToUpper(guid), Name: name, FirstLBA: first, LastLBA: last, Attributes: attrs,
		Bootable: attrs&4 != 0, // legacy BIOS bootable
	}
	t.place(r, size, &p)
	if p.Problem == "" && (first < h.firstUsable || last > h.lastUsable) {
		p.Problem = fmt.Sprintf("lies outside the usable LBAs %d-%d", h.firstUsable, h.lastUsable)
	}
	t.Partitions = append(t.Partitions, p)
}

// place computes Offset and Size from the LBAs, clipped to the disk, and
// detects the file system.
func (t *Table) place(r io.ReaderAt, size int64, p *Partition) {
	ss := uint64(t.SectorSize)
	disk := uint64(size) / ss
	switch {
	case p.LastLBA < p.FirstLBA:
		p.Problem = fmt.Sprintf("last LBA %d is before first LBA %d", p.LastLBA, p.FirstLBA)
		return
	case p.FirstLBA >= disk:
		p.Problem = fmt.Sprintf("starts at LBA %d, past the end of the disk (%d sectors)", p.FirstLBA, disk)
		return
	}
	end := p.LastLBA + 1
	if end > disk {
		p.Problem = fmt.Sprintf("ends at LBA %d, past the end of the disk (%d sectors); clipped", p.LastLBA, disk)
		end = disk
	}
	p.Offset = int64(p.FirstLBA * ss)
	p.Size = int64((end - p.FirstLBA) * ss)
	if p.Problem != "" {
		t.Problems = append(t.Problems, p.String()+": "+p.Problem)
	}
	if !p.Extended {
		p.FileSystem = Detect(r, p.Offset, p.Size)
		p.FileSystemName = FSName(p.FileSystem)
	}
}

// gptHeader is a checked GPT header with its entry array.
type gptHeader struct {
	myLBA, altLBA           uint64
	firstUsable, lastUsable uint64
	entriesLBA              uint64
	count, entrySize        uint32
	headerSize              uint32
	diskGUID                string
	entries                 []byte
}

// readGPTHeader reads and checks the GPT header at lba and its entry array
// (UEFI 2.10 5.3.2: signature, HeaderSize, HeaderCRC32, MyLBA,
// PartitionEntryArrayCRC32).
func readGPTHeader(r io.ReaderAt, size int64, lba uint64, ss int64) (*gptHeader, error) {
	disk := uint64(size / ss)
	if lba == 0 || lba >= disk {
		return nil, fmt.Errorf("header LBA %d outside the disk", lba)
	}
	b := make([]byte, ss)
	if _, err := readFull(r, size, b, int64(lba)*ss); err != nil {
		return nil, fmt.Errorf("at LBA %d: %w", lba, err)
	}
	if string(b[:8]) != "EFI PART" {
		return nil, fmt.Errorf("at LBA %d: no \"EFI PART\" signature", lba)
	}
	hsize := binary.LittleEndian.Uint32(b[12:])
	if hsize < 92 || int64(hsize) > ss {
		return nil, fmt.Errorf("at LBA %d: header size %d outside 92-%d", lba, hsize, ss)
	}
	stored := binary.LittleEndian.Uint32(b[16:])
	hb := append([]byte(nil), b[:hsize]...)
	copy(hb[16:20], []byte{0, 0, 0, 0})
	if c := crc32.ChecksumIEEE(hb); c != stored {
		return nil, fmt.Errorf("at LBA %d: header CRC-32 mismatch (stored 0x%08x, computed 0x%08x)", lba, stored, c)
	}
	h := &gptHeader{
		myLBA:       binary.LittleEndian.Uint64(b[24:]),
		altLBA:      binary.LittleEndian.Uint64(b[32:]),
		firstUsable: binary.LittleEndian.Uint64(b[40:]),
		lastUsable:  binary.LittleEndian.Uint64(b[48:]),
		diskGUID:    mixedGUID(b[56:72]),
		entriesLBA:  binary.LittleEndian.Uint64(b[72:]),
		count:       binary.LittleEndian.Uint32(b[80:]),
		entrySize:   binary.LittleEndian.Uint32(b[84:]),
		headerSize:  hsize,
	}
	if h.myLBA != lba {
		return nil, fmt.Errorf("at LBA %d: MyLBA says %d", lba, h.myLBA)
	}
	if h.entrySize < 128 || h.entrySize&(h.entrySize-1) != 0 {
		return nil, fmt.Errorf("at LBA %d: partition entry size %d is not 128 times a power of two", lba, h.entrySize)
	}
	arr := uint64(h.count) * uint64(h.entrySize)
	if arr > maxGPTArray {
		return nil, fmt.Errorf("at LBA %d: partition entry array of %d x %d bytes exceeds %d bytes", lba, h.count, h.entrySize, maxGPTArray)
	}
	if h.entriesLBA == 0 || h.entriesLBA >= disk || arr > (disk-h.entriesLBA)*uint64(ss) {
		return nil, fmt.Errorf("at LBA %d: partition entry array at LBA %d (%d bytes) outside the disk", lba, h.entriesLBA, arr)
	}
	if h.firstUsable > h.lastUsable || h.lastUsable >= disk {
		return nil, fmt.Errorf("at LBA %d: usable LBAs %d-%d outside the disk (%d sectors)", lba, h.firstUsable, h.lastUsable, disk)
	}
	h.entries = make([]byte, arr)
	if _, err := readFull(r, size, h.entries, int64(h.entriesLBA)*ss); err != nil {
		return nil, fmt.Errorf("at LBA %d: reading the partition entry array: %w", lba, err)
	}
	if c, want := crc32.ChecksumIEEE(h.entries), binary.LittleEndian.Uint32(b[88:]); c != want {
		return nil, fmt.Errorf("at LBA %d: partition entry array CRC-32 mismatch (stored 0x%08x, computed 0x%08x)", lba, want, c)
	}
	return h, nil
}

// mbrEntry is one 16-byte partition entry of an MBR or EBR: boot
// indicator at 0, type at 4, first LBA at 8, sector count at 12. The CHS
// addresses at 1 and 5 are not read: LBA has superseded them, and tools
// fill them with placeholders on large disks.
type mbrEntry struct {
	boot    byte
	typ     uint8
	start   uint32
	sectors uint32
}

// mbrEntries decodes the four entries of a 512-byte MBR or EBR (at 446)
// after checking its 0x55AA signature and the boot indicators, which are
// 0x00 or 0x80 in any partition table (Linux's msdos reader refuses a
// sector with other values too).
func mbrEntries(b []byte) ([4]mbrEntry, error) {
	var es [4]mbrEntry
	if len(b) < 512 || b[510] != 0x55 || b[511] != 0xaa {
		return es, errors.New("no 0x55AA signature")
	}
	for i := range es {
		e := b[446+16*i:][:16]
		if e[0] != 0 && e[0] != 0x80 {
			return es, fmt.Errorf("entry %d: boot indicator 0x%02x is neither 0x00 nor 0x80", i+1, e[0])
		}
		es[i] = mbrEntry{boot: e[0], typ: e[4], start: binary.LittleEndian.Uint32(e[8:]), sectors: binary.LittleEndian.Uint32(e[12:])}
	}
	return es, nil
}

// readMBR fills t from an MBR and follows extended partitions.
func (t *Table) readMBR(ctx context.Context, r io.ReaderAt, size int64, s0 []byte) error {
	t.Scheme = "mbr"
	t.DiskGUID = fmt.Sprintf("%08x", binary.LittleEndian.Uint32(s0[440:]))
	es, err := mbrEntries(s0[:512])
	if err != nil {
		t.Problems = append(t.Problems, "MBR: "+err.Error())
		return nil
	}
	for i, me := range es {
		if me.typ == 0 || me.sectors == 0 {
			continue
		}
		p := Partition{
			Index: i + 1, Scheme: "mbr", MBRType: me.typ, TypeName: mbrTypeName(me.typ),
			Bootable: me.boot == 0x80, FirstLBA: uint64(me.start), LastLBA: uint64(me.start) + uint64(me.sectors) - 1,
			Extended: isExtended(me.typ),
		}
		t.place(r, size, &p)
		t.Partitions = append(t.Partitions, p)
		if p.Extended && p.Problem == "" {
			if err := t.readEBRs(ctx, r, size, p.FirstLBA, p.LastLBA); err != nil {
				return err
			}
		}
	}
	return nil
}

func isExtended(typ uint8) bool { return typ == 0x05 || typ == 0x0f || typ == 0x85 }

// readEBRs walks the chain of extended boot records of the extended
// partition at [extFirst, extLast]: each EBR's first entry is a logical
// partition relative to the EBR, its second the next EBR relative to the
// extended partition.
func (t *Table) readEBRs(ctx context.Context, r io.ReaderAt, size int64, extFirst, extLast uint64) error {
	ss := int64(t.SectorSize)
	seen := map[uint64]bool{}
	ebr := extFirst
	index := 5 // logical partitions are numbered from 5, in chain order
	b := make([]byte, 512)
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if n >= maxLogical {
			t.Problems = append(t.Problems, fmt.Sprintf("extended partition: more than %d logical partitions; stopped", maxLogical))
			return nil
		}
		if seen[ebr] {
			t.Problems = append(t.Problems, fmt.Sprintf("extended partition: EBR chain loops back to LBA %d", ebr))
			return nil
		}
		seen[ebr] = true
		if _, err := readFull(r, size, b, int64(ebr)*ss); err != nil {
			t.Problems = append(t.Problems, fmt.Sprintf("EBR at LBA %d: %v", ebr, err))
			return nil
		}
		es, err := mbrEntries(b)
		if err != nil {
			t.Problems = append(t.Problems, fmt.Sprintf("EBR at LBA %d: %v", ebr, err))
			return nil
		}
		lp, next := es[0], es[1]
		if lp.typ != 0 && lp.sectors != 0 {
			p := Partition{
				Index: index, Scheme: "mbr", MBRType: lp.typ, TypeName: mbrTypeName(lp.typ),
				Bootable: lp.boot == 0x80, Logical: true,
				FirstLBA: ebr + uint64(lp.start), LastLBA: ebr + uint64(lp.start) + uint64(lp.sectors) - 1,
			}
			if p.LastLBA > extLast {
				p.Problem = fmt.Sprintf("runs past the end of its extended partition (LBA %d)", extLast)
			}
			t.place(r, size, &p)
			t.Partitions = append(t.Partitions, p)
			index++
		}
		if !isExtended(next.typ) || next.start == 0 {
			return nil
		}
		ebr = extFirst + uint64(next.start)
		if ebr > extLast {
			t.Problems = append(t.Problems, fmt.Sprintf("EBR link to LBA %d leaves the extended partition", ebr))
			return nil
		}
	}
}

// readFull reads len(b) bytes at off of a device of the given size.
func readFull(r io.ReaderAt, size int64, b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > size {
		return 0, fmt.Errorf("read of %d bytes at 0x%x runs past the end of the disk (0x%x)", len(b), off, size)
	}
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return n, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// mixedGUID formats a GUID stored with its first three fields little-endian.
func mixedGUID(b []byte) string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint16(b[4:]),
		binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16])
}

// errPanic marks an error made from a panic inside a library.
var errPanic = errors.New("internal error")

// recoverTo turns a panic into an error naming what was being read.
func recoverTo(err *error, what string) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("volume: %s: %w (the data is damaged or unsupported): %v", what, errPanic, v)
	}
}
