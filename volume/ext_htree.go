package volume

// Lookups in ext3/ext4 hashed directories (kernel
// Documentation/filesystems/ext4 "Hash Tree Directories"): the name's hash
// chooses a path from the dx_root in block 0, through at most two levels
// of dx_node blocks, to the one leaf block that can hold it, so opening a
// file in a directory of 50,000 entries reads three or four of its blocks
// rather than all 2 MB.
//
// A lookup that misses does not take the index's word for it alone: every
// name of the leaf it read must hash into the range the index gives that
// leaf (what e2fsck checks). A leaf that disagrees, an index block that
// does not parse, or a hash this reader does not compute (siphash, of
// casefolded and encrypted directories) sends the lookup to a scan of the
// whole directory, so a damaged index never hides a file a scan finds.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// Superblock and inode flags the index depends on.
const (
	extCompatDirIndex    = 0x20
	extIncompatLargeDir  = 0x4000 // three levels of index, not two
	extFlagsUnsignedHash = 0x2    // s_flags: hash names as unsigned char
	extFlagCasefold      = 0x40000000
)

// errIndexUnusable: the lookup cannot trust the hash index; the caller
// scans the directory instead.
var errIndexUnusable = errors.New("hash index unusable")

// dxEntry is one entry of an index block: names hashing from hash on (up
// to the next entry's) are under logical block blk of the directory.
type dxEntry struct {
	hash uint32 // low bit: a collision run continues here from the previous block
	blk  uint32
}

// htreeIndexed reports whether the lookups in dir may use its index, and
// if not, why (for a directory flagged indexed).
func (f *extFS) htreeIndexed(dir *inode) (bool, string) {
	switch {
	case dir.flags&extFlagIndex == 0 || dir.flags&extFlagInlineData != 0:
		return false, ""
	case f.compat&extCompatDirIndex == 0:
		return false, "the volume lacks dir_index"
	case dir.flags&extFlagCasefold != 0:
		return false, "a casefolded directory hashes folded names"
	}
	return true, ""
}

// htreeFind looks name up in dir through its hash index. It returns the
// entry's inode number, an error wrapping ErrNotFound when the index says
// no such entry exists (and the leaf it read agrees), or one wrapping
// errIndexUnusable when the caller must scan instead.
func (f *extFS) htreeFind(ctx context.Context, dir *inode, name string) (uint64, error) {
	unusable := func(format string, a ...any) (uint64, error) {
		return 0, fmt.Errorf("%w: directory inode %d: "+format, append([]any{errIndexUnusable, dir.num}, a...)...)
	}
	file, err := f.contents(ctx, dir)
	if err != nil {
		return unusable("%v", err)
	}
	bs := f.blockSize
	nblocks := dir.size / bs
	read := func(blk uint32) ([]byte, error) {
		if int64(blk) >= nblocks {
			return nil, fmt.Errorf("block %d of a directory of %d", blk, nblocks)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := make([]byte, bs)
		if _, err := file.ReadAt(b, int64(blk)*bs); err != nil {
			return nil, err
		}
		return b, nil
	}
	root, err := read(0)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return unusable("dx_root: %v", err)
	}
	// dx_root: "." (12 bytes), ".." spanning the rest of the block, then
	// dx_root_info and the entries.
	if extRecLen(root[4:], bs) != 12 || root[6] != 1 || root[8] != '.' ||
		extRecLen(root[16:], bs) != bs-12 || root[18] != 2 || string(root[20:22]) != ".." {
		return unusable("block 0 is no dx_root (its . and .. entries are wrong)")
	}
	version, infoLen, levels := int(root[0x1c]), int(root[0x1d]), int(root[0x1e])
	maxLevels := 2
	if f.incompat&extIncompatLargeDir != 0 {
		maxLevels = 3
	}
	switch {
	case infoLen != 8:
		return unusable("dx_root_info of %d bytes", infoLen)
	case levels >= maxLevels:
		return unusable("%d levels of index", levels+1)
	case version > dxHashTeaUnsigned:
		return unusable("hash version %d (siphash or unknown) is not computed here", version)
	}
	if version <= dxHashTea && f.sbFlags&extFlagsUnsignedHash != 0 {
		version += 3
	}
	h := extNameHash([]byte(name), version, f.hashSeed)
	ents, err := dxEntries(root[0x18+infoLen:], bs)
	if err != nil {
		return unusable("dx_root: %v", err)
	}
	// With one level every block after the root is a leaf the root lists
	// (directories never shrink): a count cut short would leave the last
	// leaf's range open upwards, and the names past it unfindable, with
	// nothing in that leaf to disagree.
	if levels == 0 && int64(len(ents)) != nblocks-1 {
		return unusable("dx_root lists %d leaves, the directory has %d blocks after it", len(ents), nblocks-1)
	}
	l := &htreeLookup{f: f, read: read, name: name, hash: h, version: version, levels: levels}
	ino, _, err := l.search(ents, 0, 1<<32, 0)
	switch {
	case err != nil && ctx.Err() != nil:
		return 0, ctx.Err()
	case err != nil:
		return unusable("%v", err)
	case ino != 0:
		return ino, nil
	}
	return 0, ErrNotFound
}

// htreeLookup is one descent of an index.
type htreeLookup struct {
	f       *extFS
	read    func(blk uint32) ([]byte, error)
	name    string
	hash    uint32
	version int
	levels  int // index levels below the root
	visited int // blocks read, bounded by the directory's
}

// search looks under ents, an index block covering hashes [lo, hi), at
// depth depth (0 = the root). It returns the inode found, or 0 and whether
// the collision run may go on past hi (the caller then tries the next
// entry of its own block).
func (l *htreeLookup) search(ents []dxEntry, lo, hi uint64, depth int) (uint64, bool, error) {
	// The last entry whose hash is at most the name's; the first entry's
	// hash is implicitly lo. A continued run's first half sits left of
	// the entry marked with the low bit, which compares greater.
	i := 0
	for j := 1; j < len(ents); j++ {
		if ents[j].hash < ents[j-1].hash && j > 1 {
			return 0, false, fmt.Errorf("index entries out of hash order at %d", j)
		}
		if ents[j].hash <= l.hash {
			i = j
		}
	}
	for ; i < len(ents); i++ {
		start, end := lo, hi
		if i > 0 {
			start = uint64(ents[i].hash)
		}
		if i+1 < len(ents) {
			end = uint64(ents[i+1].hash)
		}
		if start > end || start < lo || end > hi {
			return 0, false, fmt.Errorf("index entry %d covers hashes 0x%x-0x%x outside its parent's 0x%x-0x%x", i, start, end, lo, hi)
		}
		l.visited++
		if uint64(l.visited) > l.f.blocks {
			return 0, false, errors.New("the index visits more blocks than the volume has")
		}
		b, err := l.read(ents[i].blk)
		if err != nil {
			return 0, false, err
		}
		var ino uint64
		more := false
		if depth == l.levels {
			ino, err = l.leaf(b, start, end)
			if err == nil && ino == 0 {
				ino, err = l.neighbours(ents, i, lo, hi)
			}
			more = true
		} else {
			var child []dxEntry
			if extRecLen(b[4:], l.f.blockSize) != l.f.blockSize || binary.LittleEndian.Uint32(b) != 0 || b[6] != 0 {
				return 0, false, fmt.Errorf("block %d is no dx_node", ents[i].blk)
			}
			if child, err = dxEntries(b[8:], l.f.blockSize); err != nil {
				return 0, false, fmt.Errorf("dx_node block %d: %v", ents[i].blk, err)
			}
			ino, more, err = l.search(child, start, end, depth+1)
		}
		if err != nil || ino != 0 || !more {
			return ino, false, err
		}
		// Not in that subtree: go on only into a run of names of the
		// same hash continued in the next block.
		if end == hi {
			return 0, true, nil
		}
		if uint32(end)&^1 != l.hash {
			return 0, false, nil
		}
	}
	return 0, true, nil
}

// neighbours checks, after a miss in leaf i of ents (covering [lo, hi)),
// the leaves either side of it in the same index block: a boundary hash
// moved into a neighbour's range (lowered for leaf i, raised for leaf
// i+1) sends names of that neighbour to leaf i, whose own names still
// fit; the neighbour's do not. A name found there is found.
func (l *htreeLookup) neighbours(ents []dxEntry, i int, lo, hi uint64) (uint64, error) {
	bound := func(k int) uint64 { // the start of entry k's range, hi past the last
		switch {
		case k == 0:
			return lo
		case k >= len(ents):
			return hi
		}
		return uint64(ents[k].hash)
	}
	for _, k := range []int{i - 1, i + 1} {
		if k < 0 || k >= len(ents) {
			continue
		}
		if l.visited++; uint64(l.visited) > l.f.blocks {
			return 0, errors.New("the index visits more blocks than the volume has")
		}
		b, err := l.read(ents[k].blk)
		if err != nil {
			return 0, err
		}
		if ino, err := l.leaf(b, bound(k), bound(k+1)); err != nil || ino != 0 {
			return ino, err
		}
	}
	return 0, nil
}

// leaf scans leaf block b, which the index gives hashes [start, end), for
// the name. Missing it, it checks that every name there does hash into
// that range: else the index does not describe the leaves, and saying
// "not found" could hide a file.
func (l *htreeLookup) leaf(b []byte, start, end uint64) (uint64, error) {
	var found uint64
	var names []string
	err := l.f.leafEntries(b, func(ino uint64, name []byte) bool {
		if string(name) == l.name {
			found = ino
			return false
		}
		names = append(names, string(name))
		return true
	})
	if found != 0 {
		return found, nil
	}
	if err != nil {
		return 0, err
	}
	lo := start &^ 1
	for _, n := range names {
		x := uint64(extNameHash([]byte(n), l.version, l.f.hashSeed))
		// A name may hash to end's value when end continues its run.
		if x < lo || x > end&^1 || x == end&^1 && end&1 == 0 && end != 1<<32 {
			return 0, fmt.Errorf("leaf holds %q, hash 0x%x, outside its index range 0x%x-0x%x", n, x, start, end)
		}
	}
	return 0, nil
}

// dxEntries decodes an index block's count/limit header and entries; the
// first entry's hash field holds the count and limit instead.
func dxEntries(b []byte, bs int64) ([]dxEntry, error) {
	if len(b) < 8 {
		return nil, errors.New("no room for its entries")
	}
	limit := int(binary.LittleEndian.Uint16(b))
	count := int(binary.LittleEndian.Uint16(b[2:]))
	if count == 0 || count > limit || limit*8 > len(b) {
		return nil, fmt.Errorf("%d entries of a limit of %d in %d bytes", count, limit, len(b))
	}
	ents := make([]dxEntry, count)
	for i := range ents {
		e := b[i*8:]
		if i > 0 {
			ents[i].hash = binary.LittleEndian.Uint32(e)
		}
		// The top four bits of the block are reserved (the kernel masks them).
		ents[i].blk = binary.LittleEndian.Uint32(e[4:]) & 0x0fffffff
	}
	return ents, nil
}

// extRecLen decodes a directory entry's rec_len (at b[0:2]): 64 KiB blocks
// store 65536 as 0 or 65535, and larger lengths keep their low bits in the
// two low bits of the field.
func extRecLen(b []byte, bs int64) int64 {
	v := int64(binary.LittleEndian.Uint16(b))
	if bs >= 65536 && (v == 65535 || v == 0) {
		return bs
	}
	return v&65532 | (v&3)<<16
}

// leafEntries calls fn with each live entry of directory block b until fn
// returns false. It stops with an error at a record that does not fit.
func (f *extFS) leafEntries(b []byte, fn func(ino uint64, name []byte) bool) error {
	hasType := f.incompat&extIncompatFiletype != 0
	for off := 0; off+8 <= len(b); {
		ino := uint64(binary.LittleEndian.Uint32(b[off:]))
		rec := int(extRecLen(b[off+4:], f.blockSize))
		nl := int(b[off+6])
		if !hasType {
			nl = int(binary.LittleEndian.Uint16(b[off+6:]))
		}
		if rec < 8 || rec%4 != 0 || off+rec > len(b) || 8+nl > rec {
			return fmt.Errorf("directory entry at byte %d of its block: record of %d bytes, name of %d", off, rec, nl)
		}
		if ino != 0 && nl > 0 && !fn(ino, b[off+8:off+8+nl]) {
			return nil
		}
		off += rec
	}
	return nil
}
