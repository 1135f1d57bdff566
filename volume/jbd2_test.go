package volume

// The jbd2 reader on journals built here, byte by byte from journal.rst:
// every checksum format, 32- and 64-bit tags, escaped blocks, revoke
// records, a log that wraps, damage; the fuzz target and the benchmark use
// the same builder. jbd2_kernel_test.go checks the replay against the
// kernel's.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jOpts shapes a built journal.
type jOpts struct {
	bs     int
	maxLen uint32 // blocks; the log is blocks 1..maxLen-1
	csum   int    // 0 none, 1 compat crc32, 2 csum v2, 3 csum v3
	bit64  bool
	start  uint32 // where the log begins (0: block 1)
	seq    uint32 // the first transaction's sequence
}

type jWrite struct {
	block uint64
	data  []byte
}

type jTxn struct {
	writes  []jWrite
	revokes []uint64
}

// jBuilder lays out a journal's blocks.
type jBuilder struct {
	o    jOpts
	img  []byte
	pos  uint32
	seed uint32
}

func (b *jBuilder) block(n uint32) []byte { return b.img[int(n)*b.o.bs:][:b.o.bs] }

// take returns the next log block, zeroed, wrapping at maxLen.
func (b *jBuilder) take() (uint32, []byte) {
	n := b.pos
	if b.pos++; b.pos >= b.o.maxLen {
		b.pos = 1
	}
	blk := b.block(n)
	clear(blk)
	return n, blk
}

func (b *jBuilder) header(blk []byte, typ, seq uint32) {
	binary.BigEndian.PutUint32(blk, jbdMagic)
	binary.BigEndian.PutUint32(blk[4:], typ)
	binary.BigEndian.PutUint32(blk[8:], seq)
}

// tail sets the checksum tail of a descriptor or revoke block.
func (b *jBuilder) tail(blk []byte) {
	if b.o.csum >= 2 {
		binary.BigEndian.PutUint32(blk[len(blk)-4:], crc32c(b.seed, blk))
	}
}

func (b *jBuilder) tagBytes() int {
	if b.o.csum == 3 {
		return 16
	}
	n := 8
	if b.o.csum == 2 {
		n += 2
	}
	if b.o.bit64 {
		n += 4
	}
	return n
}

// buildJournal writes a journal superblock and the transactions.
func buildJournal(o jOpts, txns []jTxn) []byte {
	if o.start == 0 {
		o.start = 1
	}
	b := &jBuilder{o: o, img: make([]byte, int(o.maxLen)*o.bs), pos: o.start}
	sb := b.block(0)
	b.header(sb, jbdSuperV2, 0)
	be := binary.BigEndian
	be.PutUint32(sb[0xc:], uint32(o.bs))
	be.PutUint32(sb[0x10:], o.maxLen)
	be.PutUint32(sb[0x14:], 1)
	be.PutUint32(sb[0x18:], o.seq)
	be.PutUint32(sb[0x1c:], o.start)
	incompat := uint32(jbdIncompatRevoke)
	if o.bit64 {
		incompat |= jbdIncompat64bit
	}
	switch o.csum {
	case 1:
		be.PutUint32(sb[0x24:], jbdCompatChecksum)
	case 2:
		incompat |= jbdIncompatCsumV2
	case 3:
		incompat |= jbdIncompatCsumV3
	}
	be.PutUint32(sb[0x28:], incompat)
	copy(sb[0x30:0x40], "0123456789abcdef")
	if o.csum >= 2 {
		sb[0x50] = 4
		be.PutUint32(sb[0xfc:], crc32c(^uint32(0), sb[:1024]))
		b.seed = crc32c(^uint32(0), sb[0x30:0x40])
	}
	seq := o.seq
	for _, t := range txns {
		crc := ^uint32(0)
		if len(t.revokes) > 0 {
			_, rb := b.take()
			b.header(rb, jbdRevoke, seq)
			off := 16
			for _, r := range t.revokes {
				if o.bit64 {
					be.PutUint64(rb[off:], r)
					off += 8
				} else {
					be.PutUint32(rb[off:], uint32(r))
					off += 4
				}
			}
			be.PutUint32(rb[12:], uint32(off))
			b.tail(rb)
		}
		ws := t.writes
		for len(ws) > 0 {
			_, db := b.take()
			b.header(db, jbdDescriptor, seq)
			room := o.bs - 12
			if o.csum >= 2 {
				room -= 4
			}
			var batch []jWrite
			var tagOffs []int
			off := 12
			for len(ws) > 0 {
				need := b.tagBytes()
				if off == 12 {
					need += 16 // the first tag carries the UUID
				}
				if off+need > 12+room {
					break
				}
				tagOffs = append(tagOffs, off)
				batch = append(batch, ws[0])
				ws = ws[1:]
				off += need
			}
			var datas [][]byte
			for i, w := range batch {
				flags := uint32(0)
				if i > 0 {
					flags |= jbdFlagSameUUID
				}
				if i == len(batch)-1 {
					flags |= jbdFlagLastTag
				}
				_, blk := b.take()
				copy(blk, w.data)
				if be.Uint32(blk) == jbdMagic {
					clear(blk[:4])
					flags |= jbdFlagEscape
				}
				datas = append(datas, blk)
				tag := db[tagOffs[i]:]
				be.PutUint32(tag, uint32(w.block))
				var s [4]byte
				be.PutUint32(s[:], seq)
				c := crc32c(crc32c(b.seed, s[:]), blk)
				if o.csum == 3 {
					be.PutUint32(tag[4:], flags)
					be.PutUint32(tag[8:], uint32(w.block>>32))
					be.PutUint32(tag[12:], c)
				} else {
					if o.csum == 2 {
						be.PutUint16(tag[4:], uint16(c))
					}
					be.PutUint16(tag[6:], uint16(flags))
					if o.bit64 {
						be.PutUint32(tag[8:], uint32(w.block>>32))
					}
				}
				if flags&jbdFlagSameUUID == 0 {
					copy(tag[b.tagBytes():], "0123456789abcdef")
				}
			}
			b.tail(db)
			if o.csum == 1 {
				crc = crcBE(crc, db)
				for _, d := range datas {
					crc = crcBE(crc, d)
				}
			}
		}
		_, cb := b.take()
		b.header(cb, jbdCommit, seq)
		switch o.csum {
		case 1:
			cb[0xc], cb[0xd] = 1, 4
			be.PutUint32(cb[0x10:], crc)
		case 2, 3:
			be.PutUint32(cb[0x10:], crc32c(b.seed, cb))
		}
		seq++
	}
	return b.img
}

// replayBuilt replays a built journal over a zeroed volume of fsBlocks
// blocks and returns the volume as read through the overlay.
func replayBuilt(t testing.TB, j []byte, bs int, fsBlocks int) ([]byte, scanResult, int) {
	t.Helper()
	jr, err := openJournal(bytes.NewReader(j), int64(len(j)), int64(bs))
	if err != nil {
		t.Fatal(err)
	}
	res, err := jr.scan(uint64(fsBlocks))
	if err != nil {
		t.Fatal(err)
	}
	o, revoked := jr.replay(res.txns)
	vol := make([]byte, fsBlocks*bs)
	r := &overlayReader{base: bytes.NewReader(make([]byte, fsBlocks*bs)), o: o, bs: int64(bs)}
	if _, err := r.ReadAt(vol, 0); err != nil {
		t.Fatal(err)
	}
	return vol, res, revoked
}

func fill(bs int, s string) []byte { return bytes.Repeat([]byte(s), bs/len(s)) }

// escaped is a block that starts with the journal magic.
func escaped(bs int) []byte {
	b := fill(bs, "esc!")
	binary.BigEndian.PutUint32(b, jbdMagic)
	return b
}

// sampleTxns: block 5 written twice (the last copy wins), block 6 (which
// starts with the magic) revoked by a later transaction, block 7 written
// and revoked in the same transaction, block 8 revoked before it is
// written again.
func sampleTxns(bs int) []jTxn {
	return []jTxn{
		{writes: []jWrite{{5, fill(bs, "A")}, {6, escaped(bs)}, {8, fill(bs, "old8")}}},
		{writes: []jWrite{{5, fill(bs, "C")}}, revokes: []uint64{6, 8}},
		{writes: []jWrite{{7, fill(bs, "D")}, {8, fill(bs, "new8")}, {9, escaped(bs)}}, revokes: []uint64{7}},
	}
}

func checkSample(t *testing.T, vol []byte, bs int) {
	t.Helper()
	want := map[int][]byte{5: fill(bs, "C"), 6: make([]byte, bs), 7: make([]byte, bs), 8: fill(bs, "new8"), 9: escaped(bs)}
	for blk, w := range want {
		if got := vol[blk*bs:][:bs]; !bytes.Equal(got, w) {
			t.Errorf("block %d: %q..., want %q...", blk, got[:8], w[:8])
		}
	}
}

func TestJournalFormats(t *testing.T) {
	for _, csum := range []int{0, 1, 2, 3} {
		for _, bit64 := range []bool{false, true} {
			t.Run(fmt.Sprintf("csum%d 64bit=%v", csum, bit64), func(t *testing.T) {
				const bs = 1024
				o := jOpts{bs: bs, maxLen: 64, csum: csum, bit64: bit64, seq: 7}
				vol, res, revoked := replayBuilt(t, buildJournal(o, sampleTxns(bs)), bs, 16)
				if len(res.txns) != 3 || res.damage != nil || revoked != 3 {
					t.Fatalf("%d transactions, %d revoked, damage %v", len(res.txns), revoked, res.damage)
				}
				checkSample(t, vol, bs)
			})
		}
	}
}

// TestJournalWrap starts the log near the journal's end.
func TestJournalWrap(t *testing.T) {
	const bs = 1024
	for _, start := range []uint32{55, 60, 62, 63} {
		o := jOpts{bs: bs, maxLen: 64, csum: 3, bit64: true, start: start, seq: 0xfffffffe} // the sequence wraps too
		vol, res, _ := replayBuilt(t, buildJournal(o, sampleTxns(bs)), bs, 16)
		if len(res.txns) != 3 || !res.wrapped {
			t.Fatalf("start %d: %d transactions, wrapped %v, damage %v", start, len(res.txns), res.wrapped, res.damage)
		}
		checkSample(t, vol, bs)
	}
}

// TestJournal64bitBlocks: a tag's high 32 bits name the block.
func TestJournal64bitBlocks(t *testing.T) {
	const bs = 1024
	o := jOpts{bs: bs, maxLen: 32, csum: 3, bit64: true}
	j := buildJournal(o, []jTxn{{writes: []jWrite{{1<<33 + 3, fill(bs, "hi")}}}})
	jr, err := openJournal(bytes.NewReader(j), int64(len(j)), bs)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := jr.scan(1 << 34)
	ov, _ := jr.replay(res.txns)
	if _, ok := ov.m[1<<33+3]; !ok || len(ov.blocks) != 1 {
		t.Fatalf("replayed blocks %v", ov.blocks)
	}
	// A volume smaller than that: the transaction is damage, dropped.
	res, _ = jr.scan(1 << 20)
	if len(res.txns) != 0 || res.damage == nil || !strings.Contains(res.damage.Error(), "past the end of the volume") {
		t.Fatalf("%d transactions, damage %v", len(res.txns), res.damage)
	}
}

// TestJournalDamage: each kind of damage in the last transaction drops it
// and ends the log there; the earlier ones are replayed.
func TestJournalDamage(t *testing.T) {
	const bs = 1024
	o := jOpts{bs: bs, maxLen: 64, csum: 3}
	txns := append(sampleTxns(bs), jTxn{writes: []jWrite{{5, fill(bs, "Z")}}, revokes: []uint64{9}})
	good := buildJournal(o, txns)
	// The last transaction's blocks: revoke 16, descriptor 17, data 18,
	// commit 19 (the first three take blocks 1-15).
	for _, c := range []struct {
		block, off int
		want       string
	}{
		{16, 20, "revoke block checksum"},
		{17, 40, "descriptor block checksum"},
		{18, 99, "checksum mismatch in the copy of block 5"},
		{19, 0x30, "commit block checksum"},
	} {
		j := bytes.Clone(good)
		j[c.block*bs+c.off] ^= 1
		vol, res, _ := replayBuilt(t, j, bs, 16)
		if len(res.txns) != 3 || res.damage == nil || !strings.Contains(res.damage.Error(), c.want) {
			t.Errorf("block %d: %d transactions, damage %v, want %q", c.block, len(res.txns), res.damage, c.want)
			continue
		}
		checkSample(t, vol, bs)
	}
	// A commit block missing: the log ends cleanly, nothing to warn of.
	j := bytes.Clone(good)
	clear(j[19*bs:][:4])
	vol, res, _ := replayBuilt(t, j, bs, 16)
	if len(res.txns) != 3 || res.damage != nil {
		t.Fatalf("no last commit: %d transactions, damage %v", len(res.txns), res.damage)
	}
	checkSample(t, vol, bs)
	// A sequence out of order ends the log too.
	j = bytes.Clone(good)
	binary.BigEndian.PutUint32(j[16*bs+8:], 99)
	if _, res, _ := replayBuilt(t, j, bs, 16); len(res.txns) != 3 || res.damage != nil {
		t.Fatalf("bad sequence: %d transactions, damage %v", len(res.txns), res.damage)
	}
}

// TestJournalSuperblockErrors: a journal superblock that cannot be used
// says which field is wrong.
func TestJournalSuperblockErrors(t *testing.T) {
	const bs = 1024
	good := buildJournal(jOpts{bs: bs, maxLen: 32, csum: 3}, sampleTxns(bs))
	for _, c := range []struct {
		off  int
		val  uint32
		want string
	}{
		{0, 1, "magic"},
		{4, 9, "block type 9"},
		{0xc, 4096, "block size 4096"},
		{0x10, 1000, "s_maxlen"},
		{0x14, 40, "s_first"},
		{0x1c, 40, "s_start"},
		{0x28, 0x100, "unknown incompatible features 0x100"},
		{0x40, 1, "checksum"},
	} {
		j := bytes.Clone(good)
		binary.BigEndian.PutUint32(j[c.off:], c.val)
		_, err := openJournal(bytes.NewReader(j), int64(len(j)), bs)
		if err == nil || !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "jbd2 journal superblock") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("field at 0x%x = %d: %v, want %q", c.off, c.val, err, c.want)
		}
	}
}

// needsRecovery makes an ext4 image (mkfs -d, no root needed) whose
// superblock says needs_recovery, with change applied to it by debugfs.
func needsRecovery(t *testing.T, debugfsCmds ...string) string {
	requireTool(t, "debugfs")
	img := mkExt(t, "ext4", tree{"a.txt": []byte("a\n")}, 16)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	sb := make([]byte, 1024)
	f.ReadAt(sb, 1024)
	f.Close()
	incompat := binary.LittleEndian.Uint32(sb[0x60:]) | extIncompatRecover
	cmds := append([]string{fmt.Sprintf("ssv feature_incompat %d", incompat)}, debugfsCmds...)
	for _, c := range cmds {
		run(t, "", "debugfs", "-w", "-R", c, img)
	}
	return img
}

func openImageFile(t *testing.T, img string) *FS {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	fsys, err := OpenFS(f, 0, st.Size(), 512)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// TestJournalNotReplayed: a journal that cannot be read leaves the volume
// open in its stale state, saying why; an empty log replays nothing.
func TestJournalNotReplayed(t *testing.T) {
	requireTool(t, "dumpe2fs")
	empty := openImageFile(t, needsRecovery(t))
	if j := empty.Journal(); j == nil || !j.Replayed || j.Transactions != 0 || j.Error != "" {
		t.Fatalf("an empty log: %+v", j)
	}
	if j := openImageFile(t, mkExt(t, "ext4", tree{"a": nil}, 16)).Journal(); j != nil {
		t.Fatalf("a clean volume: %+v", j)
	}

	external := openImageFile(t, needsRecovery(t, "ssv journal_inum 0"))
	if j := external.Journal(); j == nil || j.Replayed || !strings.Contains(j.Error, "external device") {
		t.Fatalf("an external journal: %+v", j)
	}

	// The journal superblock's magic is wrong: find the journal's first
	// block with debugfs and break it.
	img := needsRecovery(t)
	bmap := strings.TrimSpace(run(t, "", "debugfs", "-R", "bmap <8> 0", img))
	var blk int64
	if _, err := fmt.Sscan(bmap[strings.LastIndexByte(bmap, '\n')+1:], &blk); err != nil {
		t.Fatalf("debugfs bmap: %q", bmap)
	}
	bs := openImageFile(t, img).v.impl.(*extFS).blockSize
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0, 0, 0, 0}, blk*bs)
	f.Close()
	fsys := openImageFile(t, img)
	j := fsys.Journal()
	if j == nil || j.Replayed || !strings.Contains(j.Error, "jbd2 journal superblock: magic") {
		t.Fatalf("a bad journal superblock: %+v", j)
	}
	if !strings.Contains(j.Note(), "stale") {
		t.Errorf("note %q does not say the listing is stale", j.Note())
	}
	if es, err := fsys.List("/"); err != nil || len(es) < 2 {
		t.Fatalf("the stale volume does not list: %v %v", es, err)
	}
}

// FuzzJournal feeds the journal parser, scan and replay arbitrary
// journals (1 KiB blocks) over a 64-block volume.
func FuzzJournal(f *testing.F) {
	const bs = 1024
	for _, csum := range []int{0, 1, 2, 3} {
		f.Add(buildJournal(jOpts{bs: bs, maxLen: 20, csum: csum, bit64: csum%2 == 1, start: 15}, sampleTxns(bs)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		j, err := openJournal(bytes.NewReader(data), int64(len(data)), bs)
		if err != nil {
			return
		}
		res, err := j.scan(64)
		if err != nil {
			return
		}
		o, _ := j.replay(res.txns)
		vol := make([]byte, 64*bs)
		r := &overlayReader{base: bytes.NewReader(make([]byte, 64*bs)), o: o, bs: bs}
		r.ReadAt(vol, 0)
		r.ReadAt(vol[:100], 5*bs+1000)
	})
}

// BenchmarkJournalReplay scans and replays a full 128 MiB journal (4 KiB
// blocks, csum v3, 64-bit) of transactions of 256 blocks each, from its
// superblock to the overlay.
func BenchmarkJournalReplay(b *testing.B) {
	const bs = 4096
	const maxLen = 128 << 20 / bs
	var txns []jTxn
	used := 1
	for t := 0; used+300 < maxLen; t++ {
		var tx jTxn
		for i := 0; i < 256; i++ {
			tx.writes = append(tx.writes, jWrite{uint64(1000 + (t*97+i)%20000), fill(bs, fmt.Sprintf("t%di%d", t, i))})
		}
		tx.revokes = []uint64{uint64(1000 + t)}
		txns = append(txns, tx)
		used += 256 + 4
	}
	// What replay must give: a block is replayed when its last write comes
	// in a later transaction than its last revoke (a revoke in transaction
	// T cancels the block's writes in transactions up to T).
	lastWrite, lastRevoke := map[uint64]int{}, map[uint64]int{}
	for t, tx := range txns {
		for _, w := range tx.writes {
			lastWrite[w.block] = t
		}
		for _, r := range tx.revokes {
			lastRevoke[r] = t
		}
	}
	want := 0
	for blk, t := range lastWrite {
		if r, ok := lastRevoke[blk]; !ok || t > r {
			want++
		}
	}
	j := buildJournal(jOpts{bs: bs, maxLen: maxLen, csum: 3, bit64: true}, txns)
	path := filepath.Join(b.TempDir(), "journal")
	if err := os.WriteFile(path, j, 0o644); err != nil {
		b.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	b.SetBytes(int64(len(j)))
	b.ResetTimer()
	for b.Loop() {
		jr, err := openJournal(fh, int64(len(j)), bs)
		if err != nil {
			b.Fatal(err)
		}
		res, err := jr.scan(1 << 20)
		if err != nil || len(res.txns) != len(txns) || res.damage != nil {
			b.Fatalf("%d of %d transactions: %v %v", len(res.txns), len(txns), err, res.damage)
		}
		if o, _ := jr.replay(res.txns); len(o.blocks) != want {
			b.Fatalf("%d blocks replayed, want %d", len(o.blocks), want)
		}
	}
}
