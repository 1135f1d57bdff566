package volume

// NTFS MFT records and their attributes, decoded here rather than by
// go-ntfs so that an attribute spread over several records (through an
// $ATTRIBUTE_LIST) is put together in VCN order with every gap, overlap
// and missing piece reported. go-ntfs reads each piece on its own (a
// directory index lost all but its first piece), stops joining pieces
// after 21 and skips attribute-list entries it cannot resolve, all
// silently.
//
// Layouts (field names as in the Linux-NTFS documentation and ntfs-3g's
// layout.h): the FILE record header with its update sequence array, the
// attribute record header (resident and non-resident forms), mapping
// pairs (run lists) and ATTR_LIST_ENTRY. A file reference is a 48-bit
// record number and a 16-bit sequence number that changes whenever the
// record is freed, so a stale reference can be told from a live one.

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/vhdxview/vhdxview/internal/utf16le"
	"slices"
	"strings"
)

// Attribute types.
const (
	attrStandardInfo    = 0x10
	attrAttributeList   = 0x20
	attrFileName        = 0x30
	attrVolumeName      = 0x60
	attrData            = 0x80
	attrIndexRoot       = 0x90
	attrIndexAllocation = 0xa0
	attrBitmap          = 0xb0
	attrEnd             = 0xffffffff
)

// MFT record flags.
const (
	recordInUse = 0x0001
	recordIsDir = 0x0002
	// recordViewIndex: the record's index is a view index ($Quota's $O
	// and $Q, $ObjId's $O, $Reparse's $R, $Secure's $SII and $SDH),
	// which indexes something other than file names.
	recordViewIndex = 0x0008
)

// Attribute flags (the attribute header's Flags field).
const (
	attrCompressedMask = 0x00ff
	attrEncrypted      = 0x4000
	attrSparse         = 0x8000
)

const (
	// maxAttrList caps an $ATTRIBUTE_LIST value; NTFS limits it to 256 KiB.
	maxAttrList = 256 << 10
	// ntfsSector is the stride of update sequence (fixup) entries, 512
	// bytes whatever the disk's sector size.
	ntfsSector = 512
)

func refNum(ref uint64) uint64 { return ref & (1<<48 - 1) }
func refSeq(ref uint64) uint16 { return uint16(ref >> 48) }

// mftRecord is one fixed-up FILE record.
type mftRecord struct {
	num   uint64
	seq   uint16
	flags uint16
	links uint16 // hard link count: the names in directories
	base  uint64 // reference of the base record; 0 in a base record
	attrs []*ntfsAttr
}

// ntfsAttr is one attribute record: a whole attribute, or for a
// non-resident attribute split over several records one piece of its
// run list (lowVCN..highVCN).
type ntfsAttr struct {
	typ      uint32
	name     string
	id       uint16 // the attribute's instance number in its record
	flags    uint16
	record   uint64 // the MFT record holding this piece
	resident bool
	value    []byte // resident value
	// valueAt is where a resident value starts in its record (the
	// attribute's offset plus its value offset), as written on disk: the
	// last two bytes of each sector there hold the update sequence number.
	valueAt int64

	// Non-resident. The sizes are only meaningful in the piece at VCN 0.
	lowVCN, highVCN   int64
	compUnit          uint8 // log2 of the compression unit in clusters
	alloc, size, init int64
	runs              []ntfsRun
}

// ntfsRun maps n clusters from VCN vcn to LCN lcn (lcn < 0: sparse).
type ntfsRun struct{ vcn, lcn, n int64 }

var errRecordFree = errors.New("not in use")

// applyFixups checks and undoes the update sequence array of a
// multi-sector structure (FILE record or INDX block): the last two bytes of
// each 512-byte stride hold the update sequence number, and the real bytes
// are kept in the array.
func applyFixups(b []byte) error {
	if len(b) < 8 || len(b)%ntfsSector != 0 {
		return fmt.Errorf("size %d is not a multiple of %d", len(b), ntfsSector)
	}
	off, count := int(binary.LittleEndian.Uint16(b[4:])), int(binary.LittleEndian.Uint16(b[6:]))
	if count != len(b)/ntfsSector+1 {
		return fmt.Errorf("update sequence array of %d entries, want %d", count, len(b)/ntfsSector+1)
	}
	if off < 8 || off%2 != 0 || off+2*count > ntfsSector-2 {
		return fmt.Errorf("update sequence array at offset 0x%x", off)
	}
	for i := 1; i < count; i++ {
		end := i*ntfsSector - 2
		if b[end] != b[off] || b[end+1] != b[off+1] {
			return fmt.Errorf("update sequence mismatch in stride %d (torn write)", i-1)
		}
		b[end], b[end+1] = b[off+2*i], b[off+2*i+1]
	}
	return nil
}

// parseRecord decodes a FILE record (b is modified by the fixups).
func parseRecord(b []byte, num uint64) (*mftRecord, error) {
	if len(b) < 0x30 {
		return nil, fmt.Errorf("record of %d bytes", len(b))
	}
	switch string(b[:4]) {
	case "FILE":
	case "BAAD":
		return nil, errors.New("marked bad (BAAD) by chkdsk")
	default:
		if allZero(b) {
			return nil, errors.New("never written (all zero)")
		}
		return nil, fmt.Errorf("signature %q, want \"FILE\"", b[:4])
	}
	if err := applyFixups(b); err != nil {
		return nil, err
	}
	// NTFS 3.1 records (update sequence array at 0x30) carry their own
	// number: a mismatch means $MFT was mapped wrongly.
	if usa := binary.LittleEndian.Uint16(b[4:]); usa >= 0x30 && binary.LittleEndian.Uint32(b[0x2c:]) != uint32(num) {
		return nil, fmt.Errorf("the record says it is number %d", binary.LittleEndian.Uint32(b[0x2c:]))
	}
	r := &mftRecord{num: num, seq: binary.LittleEndian.Uint16(b[0x10:]),
		links: binary.LittleEndian.Uint16(b[0x12:]), flags: binary.LittleEndian.Uint16(b[0x16:]), base: binary.LittleEndian.Uint64(b[0x20:])}
	first, used := int(binary.LittleEndian.Uint16(b[0x14:])), int64(binary.LittleEndian.Uint32(b[0x18:]))
	if used > int64(len(b)) || first < 0x30 || first+8 > int(used) {
		return nil, fmt.Errorf("attributes at 0x%x, %d bytes in use of %d", first, used, len(b))
	}
	b = b[:used]
	for off := first; ; {
		if off+4 > len(b) {
			return nil, fmt.Errorf("no end marker after the attribute at 0x%x", off)
		}
		typ := binary.LittleEndian.Uint32(b[off:])
		if typ == attrEnd {
			break
		}
		if off+16 > len(b) {
			return nil, fmt.Errorf("attribute header at 0x%x runs past the %d bytes in use", off, len(b))
		}
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 0x18 || n%8 != 0 || n > len(b)-off {
			return nil, fmt.Errorf("attribute 0x%x at 0x%x: length %d", typ, off, n)
		}
		a, err := parseAttr(b[off:off+n], num)
		if err != nil {
			return nil, fmt.Errorf("attribute 0x%x at 0x%x: %v", typ, off, err)
		}
		if a.resident {
			a.valueAt += int64(off)
		}
		r.attrs = append(r.attrs, a)
		off += n
	}
	return r, nil
}

// parseAttr decodes one attribute record.
func parseAttr(a []byte, rec uint64) (*ntfsAttr, error) {
	at := &ntfsAttr{typ: binary.LittleEndian.Uint32(a), flags: binary.LittleEndian.Uint16(a[0xc:]),
		id: binary.LittleEndian.Uint16(a[0xe:]), record: rec, resident: a[8] == 0}
	if nl, no := int(a[9]), int(binary.LittleEndian.Uint16(a[0xa:])); nl > 0 {
		if no+2*nl > len(a) {
			return nil, fmt.Errorf("name of %d characters at 0x%x", nl, no)
		}
		at.name = utf16le.Decode(a[no : no+2*nl])
	}
	if at.resident {
		vl, vo := int64(binary.LittleEndian.Uint32(a[0x10:])), int64(binary.LittleEndian.Uint16(a[0x14:]))
		if vo+vl > int64(len(a)) {
			return nil, fmt.Errorf("resident value of %d bytes at 0x%x", vl, vo)
		}
		at.value = a[vo : vo+vl]
		at.valueAt = vo
		return at, nil
	}
	if len(a) < 0x40 {
		return nil, fmt.Errorf("non-resident header of %d bytes", len(a))
	}
	at.lowVCN, at.highVCN = int64(binary.LittleEndian.Uint64(a[0x10:])), int64(binary.LittleEndian.Uint64(a[0x18:]))
	at.compUnit = a[0x22]
	at.alloc = int64(binary.LittleEndian.Uint64(a[0x28:]))
	at.size = int64(binary.LittleEndian.Uint64(a[0x30:]))
	at.init = int64(binary.LittleEndian.Uint64(a[0x38:]))
	if at.lowVCN < 0 || at.highVCN < at.lowVCN-1 || at.highVCN >= 1<<48 {
		return nil, fmt.Errorf("VCNs %d to %d", at.lowVCN, at.highVCN)
	}
	if at.lowVCN == 0 && (at.alloc < 0 || at.size < 0 || at.init < 0 || at.size > at.alloc) {
		return nil, fmt.Errorf("sizes: allocated %d, data %d, initialized %d", at.alloc, at.size, at.init)
	}
	mp := int(binary.LittleEndian.Uint16(a[0x20:]))
	if mp < 0x40 || mp > len(a) {
		return nil, fmt.Errorf("mapping pairs at 0x%x", mp)
	}
	runs, err := decodeRuns(a[mp:], at.lowVCN)
	if err != nil {
		return nil, err
	}
	if got := runsEnd(runs, at.lowVCN); got != at.highVCN+1 {
		return nil, fmt.Errorf("run list covers VCNs %d to %d, the header says %d to %d", at.lowVCN, got-1, at.lowVCN, at.highVCN)
	}
	at.runs = runs
	return at, nil
}

// decodeRuns decodes mapping pairs: a header byte whose low nibble is the
// size of the run length and high nibble the size of the LCN delta (0 for
// a sparse run), then the two little-endian signed values; a zero byte
// ends the list.
func decodeRuns(b []byte, vcn int64) ([]ntfsRun, error) {
	var runs []ntfsRun
	var lcn int64
	for i := 0; i < len(b); {
		h := b[i]
		if h == 0 {
			return runs, nil
		}
		ls, os := int(h&0xf), int(h>>4)
		if ls == 0 || ls > 8 || os > 8 || i+1+ls+os > len(b) {
			return nil, fmt.Errorf("mapping pair header 0x%02x at byte %d", h, i)
		}
		n := leSigned(b[i+1 : i+1+ls])
		if n <= 0 || n > 1<<48 {
			return nil, fmt.Errorf("run of %d clusters at byte %d", n, i)
		}
		r := ntfsRun{vcn: vcn, lcn: -1, n: n}
		if os > 0 {
			lcn += leSigned(b[i+1+ls : i+1+ls+os])
			if lcn < 0 || lcn >= 1<<48 {
				return nil, fmt.Errorf("run at LCN %d at byte %d", lcn, i)
			}
			r.lcn = lcn
		}
		runs = append(runs, r)
		vcn += n
		if vcn >= 1<<48 {
			return nil, fmt.Errorf("runs reach VCN %d", vcn)
		}
		i += 1 + ls + os
	}
	return nil, errors.New("mapping pairs without an end")
}

// leSigned reads a little-endian two's-complement integer of 1 to 8 bytes.
func leSigned(b []byte) int64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if s := uint(64 - 8*len(b)); s > 0 {
		return int64(v<<s) >> s
	}
	return int64(v)
}

func runsEnd(runs []ntfsRun, low int64) int64 {
	if len(runs) == 0 {
		return low
	}
	r := runs[len(runs)-1]
	return r.vcn + r.n
}

// record reads MFT record num.
func (n *ntfsFS) record(num uint64) (*mftRecord, error) {
	if num >= n.records {
		return nil, fmt.Errorf("%w: MFT record %d: past the end of $MFT (%d records)", ErrDamaged, num, n.records)
	}
	b := make([]byte, n.recSize)
	if k, err := n.ctx.MFTReader.ReadAt(b, int64(num)*n.recSize); k < len(b) {
		return nil, fmt.Errorf("%w: MFT record %d: short read: %v", ErrDamaged, num, err)
	}
	r, err := parseRecord(b, num)
	if err != nil {
		return nil, fmt.Errorf("%w: MFT record %d: %v", ErrDamaged, num, err)
	}
	return r, nil
}

// mftFile is a file's base record with the attributes of its extension
// records, as its attribute list names them.
type mftFile struct {
	*mftRecord
	all []*ntfsAttr
	// problems are attribute-list entries that could not be followed;
	// typ 0 means the list itself is unreadable, so anything may be missing.
	problems []attrProblem
}

type attrProblem struct {
	typ  uint32
	name string
	msg  string
}

// file reads the file whose base record is ref's; ref's sequence number,
// when not 0, must match the record's.
func (n *ntfsFS) file(ctx context.Context, ref uint64) (*mftFile, error) {
	num := refNum(ref)
	r, err := n.record(num)
	if err != nil {
		return nil, err
	}
	if r.flags&recordInUse == 0 {
		return nil, fmt.Errorf("%w: MFT record %d: %w", ErrDamaged, num, errRecordFree)
	}
	if s := refSeq(ref); s != 0 && s != r.seq {
		return nil, fmt.Errorf("%w: MFT record %d: sequence number %d, the reference wants %d (the record was reused)", ErrDamaged, num, r.seq, s)
	}
	if r.base != 0 {
		return nil, fmt.Errorf("%w: MFT record %d: an extension of record %d, not a base record", ErrDamaged, num, refNum(r.base))
	}
	f := &mftFile{mftRecord: r, all: slices.Clone(r.attrs)}
	for _, a := range r.attrs {
		if a.typ == attrAttributeList {
			n.followList(ctx, f, a)
			break
		}
	}
	return f, nil
}

// followList adds the attributes an $ATTRIBUTE_LIST places in other
// records. Entries naming the base record are skipped: its attributes are
// already there.
func (n *ntfsFS) followList(ctx context.Context, f *mftFile, list *ntfsAttr) {
	b, err := n.smallValue(f, list, maxAttrList)
	if err != nil {
		f.problems = append(f.problems, attrProblem{msg: fmt.Sprintf("$ATTRIBUTE_LIST: %v", err)})
		return
	}
	exts := map[uint64]*mftRecord{}
	type key struct {
		rec uint64
		id  uint16
	}
	seen := map[key]bool{}
	for off := 0; off < len(b); {
		if off+0x1a > len(b) {
			f.problems = append(f.problems, attrProblem{msg: fmt.Sprintf("$ATTRIBUTE_LIST: %d stray bytes at its end", len(b)-off)})
			return
		}
		typ, length := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint16(b[off+4:]))
		nl, no := int(b[off+6]), int(b[off+7])
		low, ref := int64(binary.LittleEndian.Uint64(b[off+8:])), binary.LittleEndian.Uint64(b[off+0x10:])
		id := binary.LittleEndian.Uint16(b[off+0x18:])
		if length < 0x1a || length > len(b)-off || no+2*nl > length {
			f.problems = append(f.problems, attrProblem{msg: fmt.Sprintf("$ATTRIBUTE_LIST: entry at byte %d of length %d", off, length)})
			return
		}
		name := utf16le.Decode(b[off+no : off+no+2*nl])
		off += length
		num := refNum(ref)
		if num == f.num || seen[key{num, id}] {
			continue
		}
		seen[key{num, id}] = true
		if ctx.Err() != nil {
			f.problems = append(f.problems, attrProblem{msg: ctx.Err().Error()})
			return
		}
		fail := func(format string, a ...any) {
			f.problems = append(f.problems, attrProblem{typ, name, fmt.Sprintf("attribute 0x%x %q from VCN %d in MFT record %d: ", typ, name, low, num) + fmt.Sprintf(format, a...)})
		}
		r, ok := exts[num]
		if !ok {
			if r, err = n.record(num); err != nil {
				fail("%v", err)
				continue
			}
			exts[num] = r
		}
		switch {
		case r.flags&recordInUse == 0:
			fail("the record is not in use")
			continue
		case r.seq != refSeq(ref):
			fail("the record has sequence number %d, the list wants %d", r.seq, refSeq(ref))
			continue
		case refNum(r.base) != f.num:
			fail("the record belongs to record %d", refNum(r.base))
			continue
		}
		var found *ntfsAttr
		for _, a := range r.attrs {
			if a.typ == typ && a.id == id {
				found = a
				break
			}
		}
		switch {
		case found == nil:
			fail("no attribute with instance %d there", id)
		case found.name != name:
			fail("the attribute there is named %q", found.name)
		case !found.resident && found.lowVCN != low:
			fail("the attribute there starts at VCN %d", found.lowVCN)
		default:
			f.all = append(f.all, found)
		}
	}
}

// problemsFor returns the attribute-list problems that may hide pieces of
// attribute (typ, name).
func (f *mftFile) problemsFor(typ uint32, name string) []string {
	var out []string
	for _, p := range f.problems {
		if p.typ == 0 || p.typ == typ && p.name == name {
			out = append(out, p.msg)
		}
	}
	return out
}

// attr returns the first attribute of the type and name (resident, or the
// piece at VCN 0).
func (f *mftFile) attr(typ uint32, name string) *ntfsAttr {
	for _, a := range f.all {
		if a.typ == typ && a.name == name && (a.resident || a.lowVCN == 0) {
			return a
		}
	}
	return nil
}

// isDir: a directory is a file with a $I30 index of file names, or one
// flagged a directory that has no index at all (damaged: listing it says
// so). A view index is a file whatever its flags say: read as a $I30
// directory, a $Quota flagged a directory listed as damaged.
func (f *mftFile) isDir() bool {
	if f.attr(attrIndexRoot, "$I30") != nil {
		return true
	}
	if f.flags&recordIsDir == 0 || f.flags&recordViewIndex != 0 {
		return false
	}
	for _, a := range f.all {
		if a.typ == attrIndexRoot {
			return false
		}
	}
	return true
}

// ntfsStream is an attribute's value: resident bytes, or the runs of all
// its pieces joined in VCN order.
type ntfsStream struct {
	*ntfsAttr           // the resident attribute or the piece at VCN 0
	runs      []ntfsRun // non-resident: in VCN order, no overlaps
	// problems say why the runs may not cover the stream: pieces
	// missing, overlapping, or pointing outside the volume.
	problems []string
}

// stream gathers attribute (typ, name). ok is false when the file has no
// such attribute.
func (n *ntfsFS) stream(f *mftFile, typ uint32, name string) (s *ntfsStream, ok bool) {
	var pieces []*ntfsAttr
	for _, a := range f.all {
		if a.typ == typ && a.name == name {
			pieces = append(pieces, a)
		}
	}
	probs := f.problemsFor(typ, name)
	if len(pieces) == 0 {
		if len(probs) > 0 {
			return &ntfsStream{problems: probs}, true
		}
		return nil, false
	}
	where := fmt.Sprintf("MFT record %d: attribute 0x%x %q", f.num, typ, name)
	if pieces[0].resident {
		s := &ntfsStream{ntfsAttr: pieces[0], problems: probs}
		if len(pieces) > 1 {
			s.problems = append(s.problems, fmt.Sprintf("%s: resident, and %d more pieces", where, len(pieces)-1))
		}
		return s, true
	}
	slices.SortStableFunc(pieces, func(a, b *ntfsAttr) int { return cmp.Compare(a.lowVCN, b.lowVCN) })
	s = &ntfsStream{problems: probs}
	if pieces[0].lowVCN != 0 {
		s.problems = append(s.problems, fmt.Sprintf("%s: no piece starts at VCN 0 (the first starts at %d)", where, pieces[0].lowVCN))
		return s, true
	}
	s.ntfsAttr = pieces[0]
	cs := n.clusterSize
	want := s.alloc / cs // clusters the allocation needs
	if s.alloc%cs != 0 {
		s.problems = append(s.problems, fmt.Sprintf("%s: allocated size %d is not a whole number of %d-byte clusters", where, s.alloc, cs))
	}
	var next int64 // the next VCN to map
	for _, p := range pieces {
		switch {
		case p.resident:
			s.problems = append(s.problems, fmt.Sprintf("%s: a resident piece among non-resident ones", where))
			continue
		case p.lowVCN > next:
			s.problems = append(s.problems, fmt.Sprintf("%s: VCNs %d to %d are in no piece", where, next, p.lowVCN-1))
		case p.lowVCN < next && p.highVCN >= p.lowVCN:
			s.problems = append(s.problems, fmt.Sprintf("%s: the piece in MFT record %d maps VCNs %d to %d again", where, p.record, p.lowVCN, min(p.highVCN, next-1)))
		}
		for _, r := range p.runs {
			if r.vcn+r.n <= next {
				continue
			}
			if r.vcn < next { // the overlapping part was reported above
				k := next - r.vcn
				r.vcn, r.n = next, r.n-k
				if r.lcn >= 0 {
					r.lcn += k
				}
			}
			if r.lcn >= 0 && r.lcn+r.n > n.clusters {
				s.problems = append(s.problems, fmt.Sprintf("%s: VCNs %d to %d at LCN %d, past the volume's %d clusters", where, r.vcn, r.vcn+r.n-1, r.lcn, n.clusters))
				r.lcn = -2 // not readable
			}
			s.runs = append(s.runs, r)
			next = r.vcn + r.n
		}
	}
	if next < want {
		s.problems = append(s.problems, fmt.Sprintf("%s: VCNs %d to %d (of %d) are in no piece", where, next, want-1, want))
	}
	return s, true
}

// damage returns the stream's problems as one error, nil if none.
func (s *ntfsStream) damage() error {
	if len(s.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrDamaged, summarize(s.problems))
}

// summarize joins problems, at most three of them.
func summarize(ps []string) string {
	const show = 3
	if len(ps) <= show {
		return strings.Join(ps, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(ps[:show], "; "), len(ps)-show)
}

// readStream reads len(p) bytes of a non-resident stream from byte off,
// all of which must be allocated (index blocks, attribute lists, bitmaps).
func (n *ntfsFS) readStream(s *ntfsStream, p []byte, off int64) error {
	cs := n.clusterSize
	for len(p) > 0 {
		vcn := off / cs
		i, _ := slices.BinarySearchFunc(s.runs, vcn, func(r ntfsRun, v int64) int {
			if r.vcn+r.n <= v {
				return -1
			}
			if r.vcn > v {
				return 1
			}
			return 0
		})
		if i == len(s.runs) || s.runs[i].vcn > vcn {
			return fmt.Errorf("VCN %d is not mapped", vcn)
		}
		r := s.runs[i]
		if r.lcn < 0 {
			return fmt.Errorf("VCN %d is not allocated (sparse or outside the volume)", vcn)
		}
		k := min(int64(len(p)), (r.vcn+r.n)*cs-off)
		disk := r.lcn*cs + off - r.vcn*cs
		if _, err := readFull(n.disk, n.size, p[:k], disk); err != nil {
			return err
		}
		p, off = p[k:], off+k
	}
	return nil
}

// smallValue reads a whole attribute of at most limit bytes (attribute
// lists, bitmaps, volume names), resident or not. An attribute list's own
// runs are always in the base record, so a is read by itself.
func (n *ntfsFS) smallValue(f *mftFile, a *ntfsAttr, limit int64) ([]byte, error) {
	if a.resident {
		if int64(len(a.value)) > limit {
			return nil, fmt.Errorf("%d bytes, more than %d", len(a.value), limit)
		}
		return a.value, nil
	}
	if a.lowVCN != 0 {
		return nil, fmt.Errorf("the piece in record %d starts at VCN %d", a.record, a.lowVCN)
	}
	if a.size > limit || a.size > a.alloc {
		return nil, fmt.Errorf("%d bytes (%d allocated), more than %d", a.size, a.alloc, limit)
	}
	var s *ntfsStream
	if a.typ == attrAttributeList {
		s = &ntfsStream{ntfsAttr: a, runs: a.runs}
		if runsEnd(a.runs, 0)*n.clusterSize < a.alloc {
			return nil, fmt.Errorf("its runs do not cover its %d allocated bytes", a.alloc)
		}
	} else {
		s, _ = n.stream(f, a.typ, a.name)
		if err := s.damage(); err != nil {
			return nil, err
		}
	}
	b := make([]byte, a.size)
	valid := min(a.init, a.size) // bytes past the initialized size read as zeros
	if err := n.readStream(s, b[:valid], 0); err != nil {
		return nil, err
	}
	return b, nil
}
