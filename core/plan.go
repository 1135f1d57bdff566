package core

// Plan: a virtual range as runs of {bytes in file k | zeros | bytes held in
// memory}. The browser builds downloads from plans without copying payload
// through wasm, and ReadAt is built on the same walk so both always agree.

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// RunKind says where a run's bytes come from.
type RunKind uint8

const (
	RunZero  RunKind = iota // the run reads as zeros
	RunFile                 // bytes at FileOffset in chain level Level
	RunBytes                // bytes held in memory (Data): log-replayed pages
)

func (k RunKind) String() string {
	switch k {
	case RunZero:
		return "zero"
	case RunFile:
		return "file"
	}
	return "bytes"
}

// MarshalText makes runs readable in JSON.
func (k RunKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Run is a piece of the virtual disk.
type Run struct {
	Kind       RunKind `json:"kind"`
	Offset     int64   `json:"offset"` // virtual offset
	Length     int64   `json:"length"`
	Level      int     `json:"level"`                 // RunFile: 0 = this file, k = k-th parent
	FileOffset int64   `json:"file_offset,omitempty"` // RunFile
	Data       []byte  `json:"-"`                     // RunBytes
	// Bad, on a RunZero of an image made by ZeroBad, is why the block the
	// run stands in for cannot be read: the zeros are a fill, not the
	// disk's bytes. Such a run covers one block and is never merged.
	Bad *BlockError `json:"-"`
}

// Plan calls emit for consecutive runs covering [off, off+n) of the virtual
// disk (clipped to its size), merging neighbours where possible. A plan of a
// huge sparse range walks every block's BAT entry, so it stops with
// ctx.Err() when ctx is done.
func (img *Image) Plan(ctx context.Context, off, n int64, emit func(Run) error) error {
	if off < 0 || n < 0 {
		return fmt.Errorf("vhdx: negative offset or length")
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

// planRuns is Plan collecting at most limit runs; more is an error.
func (img *Image) planRuns(off, n int64, limit int) ([]Run, error) {
	var runs []Run
	err := img.Plan(context.Background(), off, n, func(r Run) error {
		if len(runs) >= limit {
			return fmt.Errorf("vhdx: plan of 0x%x+0x%x needs more than %d runs", off, n, limit)
		}
		runs = append(runs, r)
		return nil
	})
	return runs, err
}

type merger struct {
	pending Run
	emit    func(Run) error
	ctx     context.Context
	blocks  int  // blocks walked, to check ctx now and then
	zeroBad bool // a block with an unusable BAT entry plans as a Bad zero run
}

// ctxCheckBlocks is how many blocks a plan walks between looks at its
// context: a few microseconds of work natively.
const ctxCheckBlocks = 1024

func (m *merger) add(r Run) error {
	p := &m.pending
	if p.Length > 0 && p.Kind == r.Kind && p.Offset+p.Length == r.Offset && p.Bad == nil && r.Bad == nil &&
		(r.Kind == RunZero || (r.Kind == RunFile && p.Level == r.Level && p.FileOffset+p.Length == r.FileOffset)) {
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
	m.pending = Run{}
	return m.emit(r)
}

// plan walks [off, off+n) of this level's virtual disk.
func (img *Image) plan(off, n int64, level int, m *merger) error {
	if off >= img.Size() { // a parent smaller than its child reads as zeros past its end
		return m.add(Run{Kind: RunZero, Offset: off, Length: n})
	}
	if off+n > img.Size() {
		if err := img.plan(off, img.Size()-off, level, m); err != nil {
			return err
		}
		return m.add(Run{Kind: RunZero, Offset: img.Size(), Length: off + n - img.Size()})
	}
	bs := img.geom.BlockSize
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
		var be *BlockError
		if err != nil && m.zeroBad && errors.As(err, &be) {
			if err := m.add(Run{Kind: RunZero, Offset: off, Length: take, Bad: be}); err != nil {
				return err
			}
			off += take
			n -= take
			continue
		}
		if err != nil {
			return err
		}
		switch blk.State {
		case PayloadFullyPresent:
			if err := img.fileRun(off, take, level, blk.FileOffset+within, m); err != nil {
				return err
			}
		case PayloadPartiallyPresent:
			if err := img.planPartial(blk, off, within, take, level, m); err != nil {
				return err
			}
		case PayloadZero:
			// Zeros, also in a differencing disk (the spec says so;
			// libvhdi reads the parent here).
			if err := m.add(Run{Kind: RunZero, Offset: off, Length: take}); err != nil {
				return err
			}
		default: // NOT_PRESENT, UNDEFINED, UNMAPPED
			if img.meta.FileParameters.HasParent {
				if err := img.fromParent(off, take, level, m); err != nil {
					return err
				}
			} else if err := m.add(Run{Kind: RunZero, Offset: off, Length: take}); err != nil {
				return err
			}
		}
		off += take
		n -= take
	}
	return nil
}

func (img *Image) fromParent(off, n int64, level int, m *merger) error {
	if img.parent == nil {
		return fmt.Errorf("%w: virtual range 0x%x+0x%x of %s lives in its parent", ErrNoParent, off, n, img.describe())
	}
	return img.parent.plan(off, n, level+1, m)
}

func (img *Image) describe() string {
	if img.name != "" {
		return img.name
	}
	return "the differencing disk"
}

// fileRun emits a range of this level's file, split where log replay put
// bytes in memory or zeros.
func (img *Image) fileRun(off, n int64, level int, fileOff int64, m *merger) error {
	ov, ok := img.view.(*overlay)
	if !ok {
		return m.add(Run{Kind: RunFile, Offset: off, Length: n, Level: level, FileOffset: fileOff})
	}
	return ov.segments(fileOff, n, func(s segment) error {
		v := off + (s.off - fileOff)
		switch s.kind {
		case segPage:
			return m.add(Run{Kind: RunBytes, Offset: v, Length: s.n, Data: s.page})
		case segZero:
			return m.add(Run{Kind: RunZero, Offset: v, Length: s.n})
		}
		return m.add(Run{Kind: RunFile, Offset: v, Length: s.n, Level: level, FileOffset: s.baseOff})
	})
}

// planPartial walks a PARTIALLY_PRESENT block through its sector bitmap:
// set bits are in this file, clear bits in the parent (MS-VHDX 2.4).
func (img *Image) planPartial(blk Block, off, within, n int64, level int, m *merger) error {
	ss := img.geom.LogicalSectorSize
	// Sector index of off within its chunk.
	chunkBytes := img.geom.ChunkRatio * img.geom.BlockSize
	first := (off % chunkBytes) / ss
	last := ((off%chunkBytes)+n-1)/ss + 1
	bits := make([]byte, (last-first+7)/8+1) // ≤ block size / sector / 8 + 1 (≤ 64 KiB)
	boff := blk.BitmapOffset + first/8
	nb := (last+7)/8 - first/8
	if _, err := img.view.ReadAt(bits[:nb], boff); err != nil && err != io.EOF {
		return &IOError{Structure: fmt.Sprintf("sector bitmap of chunk %d", blk.Index/img.geom.ChunkRatio), Offset: boff, Level: img.level, Err: err}
	}
	bit := func(s int64) bool { // s: sector index in chunk
		k := s - (first &^ 7)
		return bits[k/8]&(1<<(k%8)) != 0
	}
	pos, end := off, off+n
	for pos < end {
		s := (pos % chunkBytes) / ss
		present := bit(s)
		// Extend while the bit stays the same.
		e := (pos/ss + 1) * ss
		for e < end && bit((e%chunkBytes)/ss) == present {
			e += ss
		}
		e = min(e, end)
		var err error
		if present {
			err = img.fileRun(pos, e-pos, level, blk.FileOffset+(pos-(off-within)), m)
		} else {
			err = img.fromParent(pos, e-pos, level, m)
		}
		if err != nil {
			return err
		}
		pos = e
	}
	return nil
}
