package disk

// Salvage of a disk with damaged block table entries: ZeroBad reads such
// blocks as zeros, and BadRanges says which ranges those are, so that a
// copy of the whole disk can go on past them and report what it filled.

import (
	"context"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/sniff"
	"github.com/vhdxview/vhdxview/vhd"
)

// ZeroBad returns the disk as one whose blocks with unusable table entries
// (core.BlockError) read and plan as zeros, marked with core.Run.Bad
// (core.Image.ZeroBad, vhd.Image.ZeroBad). A raw disk has no table and is
// returned as it is. d is unchanged.
func (d *Disk) ZeroBad() *Disk {
	c := *d
	switch img := d.Image.(type) {
	case *core.Image:
		c.Image = img.ZeroBad()
	case *vhd.Image:
		c.Image = img.ZeroBad()
	}
	return &c
}

// BadRange is a range of the virtual disk whose blocks cannot be read:
// consecutive blocks of one chain level with unusable table entries.
type BadRange struct {
	Offset int64 `json:"offset"` // virtual offset
	Length int64 `json:"length"`
	Level  int   `json:"level"`  // the chain level whose table is damaged
	Block  int64 `json:"block"`  // its first block
	Blocks int64 `json:"blocks"` // how many blocks it covers
	// Message says why its first block cannot be read.
	Message string `json:"message"`
}

// BadRanges walks the plan of [off, off+n) and returns the ranges that
// cannot be read, in order, at most limit of them, and how many blocks
// cannot be read in all (also those past the limit). A walk of a large
// range reads its whole block table; it stops with ctx.Err() when ctx is
// done.
func (d *Disk) BadRanges(ctx context.Context, off, n int64, limit int) ([]BadRange, int64, error) {
	var out []BadRange
	var blocks int64
	var cur *BadRange
	type blockKey struct {
		level int
		block int64
	}
	last := blockKey{-1, -1}
	flush := func() {
		if cur != nil && len(out) < limit {
			out = append(out, *cur)
		}
		cur = nil
	}
	err := d.ZeroBad().Plan(ctx, off, n, func(r core.Run) error {
		if r.Bad == nil {
			flush()
			return nil
		}
		// A parent's block may come in pieces, between a child's own
		// sectors: a block is counted once.
		key := blockKey{r.Bad.Level, r.Bad.Block}
		isNew := key != last
		if isNew {
			blocks++
			last = key
		}
		if cur != nil && cur.Offset+cur.Length == r.Offset && cur.Level == r.Bad.Level &&
			(r.Bad.Block == cur.Block+cur.Blocks-1 || r.Bad.Block == cur.Block+cur.Blocks) {
			cur.Length += r.Length
			if r.Bad.Block == cur.Block+cur.Blocks {
				cur.Blocks++
			}
			return nil
		}
		flush()
		cur = &BadRange{Offset: r.Offset, Length: r.Length, Level: r.Bad.Level, Block: r.Bad.Block, Blocks: 1, Message: reason(r.Bad)}
		return nil
	})
	flush()
	return out, blocks, err
}

// Inspect lists what can be read of a VHDX file, also one that does not
// open (core.Inspect): the structures read before the damage, a check of
// each, and the error that stopped the open (nil when it opens). It is nil
// for a file that is no VHDX file by its signature.
func Inspect(ctx context.Context, f core.File) (*core.Inspection, error) {
	if sniff.Identify(f.R, f.Size).ID != "vhdx" {
		return nil, nil
	}
	return core.Inspect(ctx, f.R, f.Size, f.Name)
}
