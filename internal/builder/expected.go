package builder

import (
	"fmt"
	"io"
)

// VirtualDisk is an io.ReaderAt over the virtual disk contents a correct
// reader must produce for an Image (after replaying its log). It follows
// Image.Blocks only: RawBAT, Patches, explicit log entries and metadata
// replacements are not reflected.
//
// Reads follow MS-VHDX 2.5.1.1: FULLY_PRESENT blocks return their data;
// PARTIALLY_PRESENT blocks return their data for sectors whose bitmap bit is
// set and the parent's otherwise; NOT_PRESENT blocks return the parent's
// data in a differencing image and zeros otherwise; ZERO blocks return
// zeros. UNDEFINED and UNMAPPED blocks also read as zeros here: the spec
// allows zeros for both (and arbitrary or earlier data), and zeros is what
// qemu and libvhdi return.
type VirtualDisk struct {
	p      *params
	blocks map[uint64]*blockPlan
	parent io.ReaderAt
}

// Expected returns the expected virtual disk. parent supplies the parent
// disk's contents for a differencing image; nil reads as zeros.
func (im *Image) Expected(parent io.ReaderAt) (*VirtualDisk, error) {
	p, err := im.resolve()
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	blocks, err := im.resolveBlocks(p)
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	if !p.differencing {
		parent = nil
	}
	return &VirtualDisk{p: p, blocks: blocks, parent: parent}, nil
}

// Size returns the virtual disk size.
func (v *VirtualDisk) Size() int64 { return int64(v.p.virtualSize) }

// ReadAt implements io.ReaderAt.
func (v *VirtualDisk) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("builder: negative offset %d", off)
	}
	size := v.Size()
	if off >= size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(b)) > size-off {
		b, eof = b[:size-off], io.EOF
	}
	n := len(b)
	bs := int64(v.p.blockSize)
	ls := int64(v.p.logical)
	for len(b) > 0 {
		i := uint64(off / bs)
		in := off % bs
		k := min(int64(len(b)), bs-in)
		dst := b[:k]
		bp := v.blocks[i]
		state := PayloadNotPresent
		if bp != nil {
			state = bp.state
		} else if v.p.fixed {
			state = PayloadFullyPresent
		}
		switch state {
		case PayloadFullyPresent:
			v.copyData(dst, bp, in)
		case PayloadPartiallyPresent:
			// Sector by sector: present sectors from this file, the rest
			// from the parent.
			for o := int64(0); o < k; {
				s := (in + o) / ls
				e := min(k, (s+1)*ls-in)
				if bp.sectorPresent(uint64(s)) {
					v.copyData(dst[o:e], bp, in+o)
				} else if err := v.readParent(dst[o:e], off+o); err != nil {
					return 0, err
				}
				o = e
			}
		case PayloadNotPresent:
			if err := v.readParent(dst, off); err != nil {
				return 0, err
			}
		default:
			clear(dst)
		}
		b, off = b[k:], off+k
	}
	return n, eof
}

func (v *VirtualDisk) copyData(dst []byte, bp *blockPlan, in int64) {
	clear(dst)
	if bp != nil && in < int64(len(bp.contents)) {
		copy(dst, bp.contents[in:])
	}
}

func (v *VirtualDisk) readParent(dst []byte, off int64) error {
	if v.parent == nil {
		clear(dst)
		return nil
	}
	n, err := v.parent.ReadAt(dst, off)
	if n == len(dst) {
		return nil
	}
	if err == io.EOF {
		clear(dst[n:])
		return nil
	}
	return fmt.Errorf("builder: reading parent at %d: %w", off, err)
}
