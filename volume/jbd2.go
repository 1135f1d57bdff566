package volume

// The jbd2 journal of ext3 and ext4 (kernel Documentation/filesystems/ext4/
// journal.rst), replayed in memory. A volume copied while mounted (a WSL or
// Docker ext4.vhdx taken from a running system) has needs_recovery set and
// its latest metadata only in the journal; the kernel replays it on mount.
// So does this reader, into an overlay, never into the volume: the
// journal's committed transactions are scanned the way the kernel's
// recovery does (fs/jbd2/recovery.c: PASS_SCAN finds the end of the log,
// then revoke records are gathered and the surviving block copies applied,
// the last copy of a block winning), and every later read of the volume
// sees the replayed blocks. All journal fields are big-endian.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// Journal block types and magic (journal.rst "Block Header").
const (
	jbdMagic      = 0xc03b3998
	jbdDescriptor = 1
	jbdCommit     = 2
	jbdSuperV1    = 3
	jbdSuperV2    = 4
	jbdRevoke     = 5
)

// Journal features (journal.rst "Super Block").
const (
	jbdCompatChecksum     = 0x1 // v1: crc32 of each transaction in its commit block
	jbdIncompatRevoke     = 0x1
	jbdIncompat64bit      = 0x2
	jbdIncompatAsync      = 0x4 // async commit: changes nothing in how the log is read
	jbdIncompatCsumV2     = 0x8
	jbdIncompatCsumV3     = 0x10
	jbdIncompatFastCommit = 0x20
	jbdKnownIncompat      = 0x3f
)

// Tag flags (journal.rst "Descriptor Block").
const (
	jbdFlagEscape   = 0x1 // the block began with the magic; the copy has it zeroed
	jbdFlagSameUUID = 0x2 // no 16-byte UUID follows the tag
	jbdFlagLastTag  = 0x8
)

// Limits on what journal fields may make us hold.
const (
	maxJournalRevoked = 1 << 22 // distinct revoked blocks
)

// JournalReplay says what opening an ext3/ext4 volume did about its journal
// (FS.Journal). It is reported only for a volume whose superblock says the
// journal needs recovery (it was not cleanly unmounted).
type JournalReplay struct {
	// Replayed: the journal was read and its committed transactions
	// overlaid in memory; the volume shows what the kernel would mount.
	// When false, Error says why, and the volume shows its stale state:
	// what was last checkpointed, without the journal's newer metadata.
	Replayed bool `json:"replayed"`
	// Transactions and Blocks: committed transactions replayed, and the
	// distinct file system blocks they overlay.
	Transactions int `json:"transactions"`
	Blocks       int `json:"blocks"`
	// Revoked: block copies skipped because a later revoke record
	// cancels them.
	Revoked int `json:"revoked,omitempty"`
	// Error: why the journal could not be replayed, naming the structure.
	Error string `json:"error,omitempty"`
	// Warning: the log ended early on damage (a transaction with a bad
	// checksum or a malformed block is dropped, with those after it), or a
	// part of the journal this reader does not replay (fast commits).
	Warning string `json:"warning,omitempty"`

	wrapped bool // the replayed log ran past the journal's end (tests)
}

// Note is the one-line account of the replay that vhdx and the viewer show.
func (j *JournalReplay) Note() string {
	if j == nil {
		return ""
	}
	if !j.Replayed {
		return "journal needs recovery but was not replayed (" + j.Error + "): the listing is stale, from before the journal's last transactions"
	}
	s := fmt.Sprintf("journal replayed in memory: %d transactions, %d blocks", j.Transactions, j.Blocks)
	if j.Warning != "" {
		s += " (" + j.Warning + ")"
	}
	return s
}

// journal is a parsed journal superblock over the journal's contents (the
// journal inode's file, read through the volume as it is on disk).
type journal struct {
	r         io.ReaderAt
	blockSize int64
	maxLen    uint32 // s_maxlen
	first     uint32 // s_first: first block of the log
	last      uint32 // one past the log's last block (before any fast-commit area)
	start     uint32 // s_start: where the log begins, 0 when it is empty
	sequence  uint32 // s_sequence: the first transaction expected
	version   int
	compat    uint32
	incompat  uint32
	seed      uint32 // crc32c of the UUID, for csum v2/v3
	tagBytes  int
	fcWarning string

	buf      []byte // read-ahead window of whole journal blocks
	bufFirst uint32 // journal block of buf[0]
	bufN     uint32 // blocks in buf
}

// journalError names the journal structure that is wrong.
func journalError(block uint32, format string, a ...any) error {
	return fmt.Errorf("%w: jbd2 journal block %d: %s", ErrDamaged, block, fmt.Sprintf(format, a...))
}

// castagnoli is the crc32c table of ext4 and jbd2 checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c continues the kernel's raw crc32c (no final inversion) from seed.
func crc32c(seed uint32, b []byte) uint32 { return ^crc32.Update(^seed, castagnoli, b) }

// openJournal parses the journal superblock of a journal of size bytes
// whose blocks are blockSize bytes (the file system's).
func openJournal(r io.ReaderAt, size, blockSize int64) (*journal, error) {
	if size < 1024 || blockSize < 1024 {
		return nil, fmt.Errorf("%w: jbd2 journal of %d bytes", ErrDamaged, size)
	}
	sb := make([]byte, 1024)
	if _, err := readFull(r, size, sb, 0); err != nil {
		return nil, fmt.Errorf("jbd2 journal superblock: %w", err)
	}
	be32 := func(o int) uint32 { return binary.BigEndian.Uint32(sb[o:]) }
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: jbd2 journal superblock: %s", ErrDamaged, fmt.Sprintf(format, a...))
	}
	if be32(0) != jbdMagic {
		return nil, bad("magic 0x%08x, want 0x%08x", be32(0), uint32(jbdMagic))
	}
	j := &journal{r: r, blockSize: blockSize}
	switch be32(4) {
	case jbdSuperV1:
		j.version = 1
	case jbdSuperV2:
		j.version = 2
		j.compat, j.incompat = be32(0x24), be32(0x28)
	default:
		return nil, bad("block type %d, want 3 or 4", be32(4))
	}
	if bs := be32(0xc); int64(bs) != blockSize {
		return nil, bad("block size %d, the file system's is %d", bs, blockSize)
	}
	j.maxLen, j.first, j.sequence, j.start = be32(0x10), be32(0x14), be32(0x18), be32(0x1c)
	if inFile := size / blockSize; int64(j.maxLen) > inFile {
		return nil, bad("%d blocks (s_maxlen) in a journal inode of %d", j.maxLen, inFile)
	}
	if u := j.incompat &^ jbdKnownIncompat; u != 0 {
		return nil, bad("unknown incompatible features 0x%x", u)
	}
	j.last = j.maxLen
	if j.incompat&jbdIncompatFastCommit != 0 {
		fc := be32(0x54) // s_num_fc_blks; 0 means the default 256
		if fc == 0 {
			fc = 256
		}
		if fc < j.maxLen {
			j.last = j.maxLen - fc
		}
		j.fcWarning = "fast commits are not replayed"
	}
	if j.first == 0 || j.first >= j.last {
		return nil, bad("log from block %d (s_first) to %d", j.first, j.last)
	}
	if j.start != 0 && (j.start < j.first || j.start >= j.last) {
		return nil, bad("log start %d (s_start) outside blocks %d-%d", j.start, j.first, j.last-1)
	}
	v2, v3 := j.incompat&jbdIncompatCsumV2 != 0, j.incompat&jbdIncompatCsumV3 != 0
	if v2 && v3 {
		return nil, bad("both checksum v2 and v3")
	}
	if v2 || v3 {
		if t := sb[0x50]; t != 4 {
			return nil, bad("checksum type %d, want 4 (crc32c)", t)
		}
		stored := be32(0xfc)
		clear(sb[0xfc:0x100])
		if c := crc32c(^uint32(0), sb); c != stored {
			return nil, bad("checksum 0x%08x, computed 0x%08x", stored, c)
		}
		j.seed = crc32c(^uint32(0), sb[0x30:0x40])
	}
	// journal.rst "Descriptor Block": the size of a block tag.
	switch {
	case v3:
		j.tagBytes = 16
	default:
		j.tagBytes = 8
		if v2 {
			j.tagBytes += 2
		}
		if j.incompat&jbdIncompat64bit != 0 {
			j.tagBytes += 4
		}
	}
	return j, nil
}

func (j *journal) csumV23() bool { return j.incompat&(jbdIncompatCsumV2|jbdIncompatCsumV3) != 0 }

// block returns journal block n (valid until the next call), read ahead
// in windows of up to 1 MiB.
func (j *journal) block(n uint32) ([]byte, error) {
	if n < j.bufFirst || n >= j.bufFirst+j.bufN {
		window := uint32(max(1, (1<<20)/j.blockSize))
		want := min(window, j.last-n) // the log wraps at j.last
		if j.buf == nil {
			j.buf = make([]byte, int64(window)*j.blockSize)
		}
		b := j.buf[:int64(want)*j.blockSize]
		if _, err := readFull(j.r, 1<<62, b, int64(n)*j.blockSize); err != nil {
			j.bufN = 0
			return nil, fmt.Errorf("jbd2 journal block %d: %w", n, err)
		}
		j.bufFirst, j.bufN = n, want
	}
	o := int64(n-j.bufFirst) * j.blockSize
	return j.buf[o : o+j.blockSize], nil
}

// next is the block after n in the circular log.
func (j *journal) next(n uint32) uint32 {
	if n++; n >= j.last {
		n = j.first + (n - j.last)
	}
	return n
}

// journalTag is one block copy in the log.
type journalTag struct {
	fsBlock uint64 // where it belongs on the volume
	jBlock  uint32 // where the copy is in the journal
	escaped bool
}

// transaction is a committed transaction found by scan.
type transaction struct {
	seq     uint32
	commit  uint32 // journal block of its commit block
	tags    []journalTag
	revokes []uint64
}

// scanResult is the valid log: its committed transactions in order, and
// why it ended early, if it did on damage.
type scanResult struct {
	txns    []transaction
	damage  error // set when the log ended on a bad transaction, which is dropped
	wrapped bool  // the log ran past its last block back to s_first
}

// tidAfter: sequence a is later than b (tid_gt, modulo 2^32).
func tidAfter(a, b uint32) bool { return int32(a-b) > 0 }

// scan walks the log from s_start as the kernel's PASS_SCAN does: blocks
// must carry the magic and the expected sequence; a transaction counts
// once its commit block is found with good checksums. The first block
// that breaks the pattern ends the log; a transaction whose checksums
// fail, or that is malformed, is dropped and ends the log too. fsBlocks
// bounds the block numbers a tag may name. The walk reads each block of
// the log at most once, so it is bounded by the journal's size.
func (j *journal) scan(fsBlocks uint64) (scanResult, error) {
	var res scanResult
	if j.start == 0 {
		return res, nil // an empty log: nothing to replay
	}
	seq, pos := j.sequence, j.start
	logLen := j.last - j.first
	var seen uint32 // blocks of the log read so far
	step := func() uint32 {
		p := pos
		if pos = j.next(pos); pos < p {
			res.wrapped = true
		}
		seen++
		return p
	}
	var cur transaction
	var crc uint32 = ^uint32(0) // checksum v1, over descriptor and data blocks
	v1 := j.compat&jbdCompatChecksum != 0
	tail := 0
	if j.csumV23() {
		tail = 4
	}
	revoked := 0
	drop := func(at uint32, format string, a ...any) (scanResult, error) {
		res.damage = journalError(at, "transaction %d dropped: %s", seq, fmt.Sprintf(format, a...))
		return res, nil
	}
	for seen < logLen {
		at := step()
		b, err := j.block(at)
		if err != nil {
			return res, err
		}
		if binary.BigEndian.Uint32(b) != jbdMagic || binary.BigEndian.Uint32(b[8:]) != seq {
			break // the end of the log
		}
		switch binary.BigEndian.Uint32(b[4:]) {
		case jbdDescriptor:
			if tail > 0 && !j.tailOK(b) {
				return drop(at, "descriptor block checksum mismatch")
			}
			if v1 {
				crc = crcBE(crc, b)
			}
			tags, err := j.tags(b[:len(b)-tail], at)
			if err != nil {
				return drop(at, "%v", err)
			}
			for _, t := range tags {
				if seen >= logLen {
					return drop(at, "its blocks run past the end of the log")
				}
				t.jBlock = step()
				d, err := j.block(t.jBlock)
				if err != nil {
					return res, err
				}
				if t.fsBlock >= fsBlocks {
					return drop(t.jBlock, "a copy of block %d, past the end of the volume (%d blocks)", t.fsBlock, fsBlocks)
				}
				if v1 {
					crc = crcBE(crc, d)
				}
				if j.csumV23() && !j.dataOK(d, seq, t) {
					return drop(t.jBlock, "checksum mismatch in the copy of block %d", t.fsBlock)
				}
				cur.tags = append(cur.tags, t.journalTag)
			}
		case jbdRevoke:
			if tail > 0 && !j.tailOK(b) {
				return drop(at, "revoke block checksum mismatch")
			}
			recs, err := j.revokes(b, tail, at)
			if err != nil {
				return drop(at, "%v", err)
			}
			if revoked += len(recs); revoked > maxJournalRevoked {
				return drop(at, "more than %d revoke records", maxJournalRevoked)
			}
			cur.revokes = append(cur.revokes, recs...)
		case jbdCommit:
			if v1 && !commitV1OK(b, crc) {
				return drop(at, "commit block crc32 mismatch")
			}
			if j.csumV23() {
				stored := binary.BigEndian.Uint32(b[0x10:])
				c := make([]byte, len(b))
				copy(c, b)
				clear(c[0x10:0x14])
				if crc32c(j.seed, c) != stored {
					return drop(at, "commit block checksum mismatch")
				}
			}
			cur.seq, cur.commit = seq, at
			res.txns = append(res.txns, cur)
			cur = transaction{}
			crc = ^uint32(0)
			seq++
		default:
			return res, nil // an unknown block type ends the log (the kernel's "done")
		}
	}
	return res, nil
}

// taggedBlock is a tag as decoded, before its journal block is known.
type taggedBlock struct {
	journalTag
	csum uint32
}

// tags decodes a descriptor block's tags (b without its checksum tail).
func (j *journal) tags(b []byte, at uint32) ([]taggedBlock, error) {
	var out []taggedBlock
	for off := 12; off+j.tagBytes <= len(b); {
		t := b[off:]
		var tb taggedBlock
		var flags uint32
		tb.fsBlock = uint64(binary.BigEndian.Uint32(t))
		if j.incompat&jbdIncompatCsumV3 != 0 {
			flags = binary.BigEndian.Uint32(t[4:])
			tb.csum = binary.BigEndian.Uint32(t[12:])
		} else {
			tb.csum = uint32(binary.BigEndian.Uint16(t[4:]))
			flags = uint32(binary.BigEndian.Uint16(t[6:]))
		}
		if j.incompat&jbdIncompat64bit != 0 {
			tb.fsBlock |= uint64(binary.BigEndian.Uint32(t[8:])) << 32
		}
		tb.escaped = flags&jbdFlagEscape != 0
		out = append(out, tb)
		off += j.tagBytes
		if flags&jbdFlagSameUUID == 0 {
			off += 16
		}
		if flags&jbdFlagLastTag != 0 {
			break
		}
	}
	return out, nil
}

// tailOK checks the crc32c in the last 4 bytes of a descriptor or revoke
// block (journal.rst "Descriptor Block", "Revocation Block").
func (j *journal) tailOK(b []byte) bool {
	n := len(b) - 4
	stored := binary.BigEndian.Uint32(b[n:])
	c := crc32c(j.seed, b[:n])
	return crc32c(c, []byte{0, 0, 0, 0}) == stored
}

// dataOK checks a block copy against its tag: crc32c of the sequence and
// the copy as stored (escaped), all 32 bits in v3, the low 16 in v2.
func (j *journal) dataOK(d []byte, seq uint32, t taggedBlock) bool {
	var s [4]byte
	binary.BigEndian.PutUint32(s[:], seq)
	c := crc32c(crc32c(j.seed, s[:]), d)
	if j.incompat&jbdIncompatCsumV3 != 0 {
		return c == t.csum
	}
	return c&0xffff == t.csum
}

// revokes decodes a revoke block's records (journal.rst "Revocation
// Block"): r_count bytes used, from offset 16, of 4 or 8 bytes each.
func (j *journal) revokes(b []byte, tail int, at uint32) ([]uint64, error) {
	count := int64(binary.BigEndian.Uint32(b[12:]))
	if count > int64(len(b)-tail) {
		return nil, fmt.Errorf("revoke block says %d bytes used of %d", count, len(b)-tail)
	}
	rec := 4
	if j.incompat&jbdIncompat64bit != 0 {
		rec = 8
	}
	var out []uint64
	for off := 16; int64(off+rec) <= count; off += rec {
		if rec == 4 {
			out = append(out, uint64(binary.BigEndian.Uint32(b[off:])))
		} else {
			out = append(out, binary.BigEndian.Uint64(b[off:]))
		}
	}
	return out, nil
}

// commitV1OK checks a commit block under checksum v1: a crc32 (big-endian
// bit order) of the transaction's descriptor and data blocks, or no
// checksum at all (type, size and value all zero).
func commitV1OK(b []byte, crc uint32) bool {
	typ, size, stored := b[0xc], b[0xd], binary.BigEndian.Uint32(b[0x10:])
	return typ == 1 && size == 4 && stored == crc || typ == 0 && size == 0 && stored == 0
}

// crcBETable is the table of the kernel's crc32_be (polynomial 0x04c11db7,
// most significant bit first, no inversions), which hash/crc32 lacks.
var crcBETable = func() *crc32.Table {
	var t crc32.Table
	for i := range t {
		c := uint32(i) << 24
		for k := 0; k < 8; k++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return &t
}()

func crcBE(crc uint32, b []byte) uint32 {
	for _, x := range b {
		crc = crc<<8 ^ crcBETable[byte(crc>>24)^x]
	}
	return crc
}

// overlayEntry is where a replayed block's bytes are in the journal.
type overlayEntry struct {
	jBlock  uint32
	escaped bool
}

// overlay is the replay: for each file system block the journal's last
// surviving copy of it, read lazily.
type journalOverlay struct {
	j      *journal
	blocks []uint64 // sorted keys of m
	m      map[uint64]overlayEntry
}

// replay applies the scanned transactions: a copy of a block is skipped
// when a revoke record for that block is in its transaction or a later
// one; otherwise the last copy wins. It returns the overlay and how many
// copies were revoked.
func (j *journal) replay(txns []transaction) (*journalOverlay, int) {
	revokedAt := map[uint64]uint32{} // block -> latest revoking sequence
	for _, t := range txns {
		for _, b := range t.revokes {
			if s, ok := revokedAt[b]; !ok || tidAfter(t.seq, s) {
				revokedAt[b] = t.seq
			}
		}
	}
	o := &journalOverlay{j: j, m: map[uint64]overlayEntry{}}
	revoked := 0
	for _, t := range txns {
		for _, tag := range t.tags {
			if s, ok := revokedAt[tag.fsBlock]; ok && !tidAfter(t.seq, s) {
				revoked++
				continue
			}
			o.m[tag.fsBlock] = overlayEntry{jBlock: tag.jBlock, escaped: tag.escaped}
		}
	}
	o.blocks = make([]uint64, 0, len(o.m))
	for b := range o.m {
		o.blocks = append(o.blocks, b)
	}
	slices.Sort(o.blocks)
	return o, revoked
}

// overlayReader reads a volume with the replayed blocks in place of
// theirs.
type overlayReader struct {
	base io.ReaderAt
	o    *journalOverlay
	bs   int64
}

func (r *overlayReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.base.ReadAt(p, off)
	if n == 0 || off < 0 {
		return n, err
	}
	end := off + int64(n)
	first, stop := uint64(off/r.bs), uint64((end+r.bs-1)/r.bs)
	i, _ := slices.BinarySearch(r.o.blocks, first)
	for ; i < len(r.o.blocks) && r.o.blocks[i] < stop; i++ {
		blk := r.o.blocks[i]
		e := r.o.m[blk]
		b := make([]byte, r.bs)
		if _, jerr := readFull(r.o.j.r, 1<<62, b, int64(e.jBlock)*r.bs); jerr != nil {
			return 0, fmt.Errorf("replayed block %d from jbd2 journal block %d: %w", blk, e.jBlock, jerr)
		}
		if e.escaped {
			binary.BigEndian.PutUint32(b, jbdMagic)
		}
		bStart := int64(blk) * r.bs
		lo, hi := max(bStart, off), min(bStart+r.bs, end)
		copy(p[lo-off:hi-off], b[lo-bStart:hi-bStart])
	}
	return n, err
}

// touches reports whether any of a file's extents lies on a replayed
// block (its bytes are then not all where the extents say).
func (o *journalOverlay) touches(ext []Extent, bs int64) bool {
	for _, e := range ext {
		if e.DiskOffset < 0 {
			continue
		}
		first := uint64(e.DiskOffset / bs)
		last := uint64((e.DiskOffset + e.Length - 1) / bs)
		i, _ := slices.BinarySearch(o.blocks, first)
		if i < len(o.blocks) && o.blocks[i] <= last {
			return true
		}
	}
	return false
}

// Journal says what opening the volume did about an ext3/ext4 journal
// that needed recovery: replayed in memory (how much), or not and why.
// It is nil for other file systems and for volumes that were cleanly
// unmounted.
func (f *FS) Journal() *JournalReplay {
	if x, ok := f.v.impl.(*extFS); ok && x.journal != nil {
		j := *x.journal
		return &j
	}
	return nil
}
