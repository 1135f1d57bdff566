package vhd

// Plan: a virtual range as runs of {bytes in file k | zeros}, the same
// core.Run values the VHDX engine emits, so downloads and the browser's
// Blob slicing work unchanged. ReadAt is built on the same walk.
//
// VHD spec, "Mapping a Disk Sector to a Sector in the Block": block =
// sector / sectors per block; the data is at BAT[block]*512 + the bitmap's
// sectors + the sector within the block. A set bitmap bit means the sector
// is in this file; a clear one that it was never written (dynamic disk:
// zeros) or is in the parent (differencing disk). Dynamic disks must hold
// zeros behind clear bits; the bitmap is honoured anyway, as libvhdi does
// (qemu reads the block's bytes).

import (
	"context"
	"errors"
	"fmt"

	"github.com/vhdxview/vhdxview/core"
)

// Plan calls emit for consecutive runs covering [off, off+n) of the
// virtual disk (clipped to its size), merging neighbours. A plan of a huge
// sparse range walks every block's BAT entry, so it stops with ctx.Err()
// when ctx is done.
func (img *Image) Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error {
	if off < 0 || n < 0 {
		return fmt.Errorf("vhd: negative offset or length")
	}
	if off >= img.Size() {
		return nil
	}
	n = min(n, img.Size()-off)
	m := merger{emit: emit, ctx: ctx, zeroBad: img.zeroBad}
	if err := img.plan(off, n, 0, &m); err != nil {
		return err
	}
	return m.flush()
}

type merger struct {
	pending core.Run
	emit    func(core.Run) error
	ctx     context.Context
	blocks  int  // blocks walked, to look at ctx now and then
	zeroBad bool // a block with an unusable BAT entry plans as a Bad zero run
}

// ctxCheckBlocks is how many blocks a plan walks between looks at its
// context.
const ctxCheckBlocks = 1024

func (m *merger) add(r core.Run) error {
	p := &m.pending
	if p.Length > 0 && p.Kind == r.Kind && p.Offset+p.Length == r.Offset && p.Bad == nil && r.Bad == nil &&
		(r.Kind == core.RunZero || (p.Level == r.Level && p.FileOffset+p.Length == r.FileOffset)) {
		p.Length += r.Length
		return nil
	}
	if err := m.flush(); err != nil {
		return err
	}
	m.pending = r
	return nil
}

func (m *merger) flush() error {
	if m.pending.Length == 0 {
		return nil
	}
	r := m.pending
	m.pending = core.Run{}
	return m.emit(r)
}

func (m *merger) zero(off, n int64) error {
	return m.add(core.Run{Kind: core.RunZero, Offset: off, Length: n})
}

// plan walks [off, off+n) of this level's virtual disk.
func (img *Image) plan(off, n int64, level int, m *merger) error {
	if off >= img.Size() { // a parent smaller than its child reads as zeros past its end
		return m.zero(off, n)
	}
	if off+n > img.Size() {
		if err := img.plan(off, img.Size()-off, level, m); err != nil {
			return err
		}
		return m.zero(img.Size(), off+n-img.Size())
	}
	if img.hdr == nil { // fixed: the disk is the file's first bytes
		return m.add(core.Run{Kind: core.RunFile, Offset: off, Length: n, Level: level, FileOffset: off})
	}
	bs := img.blockSize
	for n > 0 {
		b := off / bs
		within := off % bs
		take := min(n, bs-within)
		if m.blocks++; m.blocks%ctxCheckBlocks == 0 {
			if err := m.ctx.Err(); err != nil {
				return err
			}
		}
		blk, err := img.block(b)
		var be *core.BlockError
		if err != nil && m.zeroBad && errors.As(err, &be) {
			if err := m.add(core.Run{Kind: core.RunZero, Offset: off, Length: take, Bad: be}); err != nil {
				return err
			}
			off += take
			n -= take
			continue
		}
		if err != nil {
			return err
		}
		if blk.State == BlockAllocated {
			err = img.planBlock(blk, off, within, take, level, m)
		} else {
			err = img.absent(off, take, level, m)
		}
		if err != nil {
			return err
		}
		off += take
		n -= take
	}
	return nil
}

// absent emits a range this file does not hold: zeros, or the parent's.
func (img *Image) absent(off, n int64, level int, m *merger) error {
	if !img.differencing() {
		return m.zero(off, n)
	}
	if img.parent == nil {
		return fmt.Errorf("%w: virtual range 0x%x+0x%x of %s lives in its parent", ErrNoParent, off, n, img.describe())
	}
	return img.parent.plan(off, n, level+1, m)
}

// planBlock walks [off, off+n) of an allocated block through its sector
// bitmap; within is off's position in the block.
func (img *Image) planBlock(blk Block, off, within, n int64, level int, m *merger) error {
	first := within / sectorSize
	last := (within+n-1)/sectorSize + 1
	bits := make([]byte, last/8-first/8+1) // ≤ 64 KiB: block size ≤ 256 MiB
	boff := blk.BitmapOffset + first/8
	nb := (last+7)/8 - first/8
	if err := readFull(img.file, bits[:nb], boff); err != nil {
		return &core.IOError{Structure: fmt.Sprintf("sector bitmap of block %d", blk.Index), Offset: boff, Level: img.level, Err: err}
	}
	// The first sector of the block is the most significant bit of the
	// bitmap's first byte.
	bit := func(s int64) bool {
		k := s - (first &^ 7)
		return bits[k/8]&(0x80>>(k%8)) != 0
	}
	// wholeByte reports whether the 8 sectors from s (a multiple of 8)
	// all have the bit present, so long runs are walked a byte at a time.
	wholeByte := func(s int64, present bool) bool {
		k := s - (first &^ 7)
		return (present && bits[k/8] == 0xff) || (!present && bits[k/8] == 0)
	}
	start := off - within // the block's virtual offset
	pos, end := off, off+n
	for pos < end {
		s := (pos - start) / sectorSize
		present := bit(s)
		e := start + (s+1)*sectorSize
		for e < end {
			t := (e - start) / sectorSize
			if t%8 == 0 && e+8*sectorSize <= end && wholeByte(t, present) {
				e += 8 * sectorSize
				continue
			}
			if bit(t) != present {
				break
			}
			e += sectorSize
		}
		e = min(e, end)
		var err error
		if present {
			err = m.add(core.Run{Kind: core.RunFile, Offset: pos, Length: e - pos, Level: level, FileOffset: blk.FileOffset + (pos - start)})
		} else {
			err = img.absent(pos, e-pos, level, m)
		}
		if err != nil {
			return err
		}
		pos = e
	}
	return nil
}
