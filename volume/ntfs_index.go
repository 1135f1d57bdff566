package volume

// NTFS directory indexes ($I30). The root node of a directory's B+ tree
// is in its $INDEX_ROOT attribute; further nodes are INDX blocks in its
// $INDEX_ALLOCATION, whose in-use blocks its $BITMAP marks. The walk
// starts at the root and follows subnode pointers, reading each block
// through the run list of every piece of $INDEX_ALLOCATION (see
// ntfs_record.go), and reports what it cannot read (a missing piece, a
// block that is not INDX or fails its fixups, a pointer outside the
// allocation or into a block already read, an in-use block nothing points
// to) as problems: the listing is then incomplete, never silently short.
//
// Layouts (Linux-NTFS documentation, ntfs-3g's layout.h): INDEX_ROOT,
// INDEX_BLOCK ("INDX"), INDEX_HEADER, INDEX_ENTRY and FILE_NAME_ATTR.

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/vhdxview/vhdxview/internal/utf16le"
	"unicode"
	"unicode/utf16"
)

// FILE_NAME namespaces and attributes.
const (
	nameDOS          = 2          // the 8.3 alias of a Win32 name
	fileAttrDir      = 0x00000010 // FILE_ATTRIBUTE_DIRECTORY
	fileAttrIndex    = 0x10000000 // has an $I30 index: a directory
	entryHasSubnode  = 0x01
	entryLast        = 0x02
	fileNameKeyFixed = 0x42 // FILE_NAME_ATTR before the name
)

// fileName is a $FILE_NAME: the key of a directory index entry.
type fileName struct {
	ref                         uint64 // the file it names (from the index entry)
	parent                      uint64
	created, modified, accessed uint64 // FILETIMEs
	size                        int64
	attrs                       uint32
	space                       uint8 // 0 POSIX, 1 Win32, 2 DOS, 3 Win32 and DOS
	name                        string
}

func (fn *fileName) isDir() bool { return fn.attrs&(fileAttrDir|fileAttrIndex) != 0 }

func parseFileName(b []byte) (fileName, error) {
	if len(b) < fileNameKeyFixed {
		return fileName{}, fmt.Errorf("$FILE_NAME of %d bytes", len(b))
	}
	nl := int(b[0x40])
	if nl == 0 || fileNameKeyFixed+2*nl > len(b) {
		return fileName{}, fmt.Errorf("name of %d characters in a $FILE_NAME of %d bytes", nl, len(b))
	}
	fn := fileName{
		parent:   binary.LittleEndian.Uint64(b),
		created:  binary.LittleEndian.Uint64(b[0x08:]),
		modified: binary.LittleEndian.Uint64(b[0x10:]),
		accessed: binary.LittleEndian.Uint64(b[0x20:]),
		size:     int64(binary.LittleEndian.Uint64(b[0x30:])),
		attrs:    binary.LittleEndian.Uint32(b[0x38:]),
		space:    b[0x41],
		name:     utf16le.Decode(b[fileNameKeyFixed : fileNameKeyFixed+2*nl]),
	}
	if fn.space > 3 {
		return fileName{}, fmt.Errorf("namespace %d", fn.space)
	}
	return fn, nil
}

// indexEntry is an entry of an index node: a file name, the last entry
// (no name), or either with the VCN of the node holding smaller keys.
type indexEntry struct {
	fn    fileName
	last  bool
	child int64 // -1: none
}

// parseNode decodes the entries of the index node whose INDEX_HEADER is
// at b[hdr:]. It returns where the entries in use end and where the
// node's allocation ends (between the two is slack) and, for the first
// entry that does not decode, an error; the entries before it are kept.
func parseNode(b []byte, hdr int) (entries []indexEntry, used, alloc int, err error) {
	if hdr+16 > len(b) {
		return nil, 0, 0, fmt.Errorf("index header at 0x%x past the node's %d bytes", hdr, len(b))
	}
	first := int64(binary.LittleEndian.Uint32(b[hdr:]))
	inUse := int64(binary.LittleEndian.Uint32(b[hdr+4:]))
	allocated := int64(binary.LittleEndian.Uint32(b[hdr+8:]))
	if first < 16 || first > inUse || inUse > allocated || int64(hdr)+allocated > int64(len(b)) {
		return nil, 0, 0, fmt.Errorf("index header: entries at 0x%x, %d bytes in use, %d allocated, in a node of %d bytes", first, inUse, allocated, len(b)-hdr)
	}
	used, alloc = hdr+int(inUse), hdr+int(allocated)
	for o := hdr + int(first); ; {
		if o+16 > used {
			return entries, used, alloc, fmt.Errorf("no last entry before byte 0x%x", used)
		}
		length := int(binary.LittleEndian.Uint16(b[o+8:]))
		keyLen := int(binary.LittleEndian.Uint16(b[o+10:]))
		flags := binary.LittleEndian.Uint16(b[o+12:])
		e := indexEntry{last: flags&entryLast != 0, child: -1}
		tail := 0
		if flags&entryHasSubnode != 0 {
			tail = 8
		}
		if length < 16+tail || length%8 != 0 || o+length > used || (!e.last && 16+keyLen+tail > length) {
			return entries, used, alloc, fmt.Errorf("index entry at 0x%x: length %d, key %d bytes", o, length, keyLen)
		}
		if tail > 0 {
			e.child = int64(binary.LittleEndian.Uint64(b[o+length-8:]))
		}
		if !e.last {
			if e.fn, err = parseFileName(b[o+16 : o+16+keyLen]); err != nil {
				return entries, used, alloc, fmt.Errorf("index entry at 0x%x: %v", o, err)
			}
			e.fn.ref = binary.LittleEndian.Uint64(b[o:])
		}
		entries = append(entries, e)
		if e.last {
			return entries, used, alloc, nil
		}
		o += length
	}
}

// carveSlack returns the $FILE_NAME entries that decode cleanly at 8-byte
// steps (entries are 8-byte aligned) in b[from:to], an index node's
// slack: copies of entries moved to other nodes when the node split, and
// entries since deleted. Which of them are deleted files is for the caller
// to decide from the MFT.
func carveSlack(b []byte, hdr, from, to int) []fileName {
	var out []fileName
	for o := from + (hdr-from)&7; o+16+fileNameKeyFixed <= to; o += 8 {
		length := int(binary.LittleEndian.Uint16(b[o+8:]))
		keyLen := int(binary.LittleEndian.Uint16(b[o+10:]))
		flags := binary.LittleEndian.Uint16(b[o+12:])
		tail := 0
		if flags&entryHasSubnode != 0 {
			tail = 8
		}
		if flags&^(entryHasSubnode|entryLast) != 0 || flags&entryLast != 0 || keyLen < fileNameKeyFixed ||
			length%8 != 0 || length != (16+keyLen+7)&^7+tail || o+length > to {
			continue
		}
		fn, err := parseFileName(b[o+16 : o+16+keyLen])
		if err != nil || keyLen > fileNameKeyFixed+2*len16(fn.name)+7 {
			continue
		}
		fn.ref = binary.LittleEndian.Uint64(b[o:])
		out = append(out, fn)
	}
	return out
}

// len16 is the length of s in UTF-16 code units.
func len16(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// dirIndex is what readIndex found in a directory's index.
type dirIndex struct {
	names []fileName // the index's entries
	slack []fileName // carved from node slack (when asked for)
	// problems are the parts of the index that could not be read: the
	// names are then incomplete.
	problems  []string
	truncated bool // more than MaxEntries names
}

var errIndexRoot = errors.New("no $INDEX_ROOT $I30")

// indexTree is a directory's index, ready to read: its root node and,
// if it has subnodes, the geometry and runs of its blocks.
type indexTree struct {
	where   string // "MFT record N"
	root    []byte // the $INDEX_ROOT value (INDEX_HEADER at 0x10)
	bs      int64  // bytes per index block
	vcnSize int64  // bytes per subnode VCN: a cluster, or 512 when a block is smaller
	alloc   *ntfsStream
	// problems keep the blocks from being read (alloc is nil) or some
	// of them (alloc's runs do not cover it all).
	problems []string
}

// openIndex reads dir's $INDEX_ROOT and finds its $INDEX_ALLOCATION.
func (n *ntfsFS) openIndex(dir *mftFile) (*indexTree, error) {
	t := &indexTree{where: fmt.Sprintf("MFT record %d", dir.num)}
	root, ok := n.stream(dir, attrIndexRoot, "$I30")
	if !ok || root.ntfsAttr == nil || !root.resident {
		return nil, fmt.Errorf("%w: %s: %w", ErrDamaged, t.where, errIndexRoot)
	}
	t.root = root.value
	if len(t.root) < 0x20 || binary.LittleEndian.Uint32(t.root) != attrFileName {
		return nil, fmt.Errorf("%w: %s: $INDEX_ROOT of %d bytes that does not index file names", ErrDamaged, t.where, len(t.root))
	}
	t.bs = int64(binary.LittleEndian.Uint32(t.root[8:]))
	if t.bs < ntfsSector || t.bs > 64<<10 || t.bs&(t.bs-1) != 0 {
		t.problems = append(t.problems, fmt.Sprintf("%s: index blocks of %d bytes", t.where, t.bs))
		return t, nil
	}
	t.vcnSize = ntfsSector
	if t.bs >= n.clusterSize {
		t.vcnSize = n.clusterSize
	}
	s, ok := n.stream(dir, attrIndexAllocation, "$I30")
	if !ok {
		t.problems = append(t.problems, fmt.Sprintf("%s: no $INDEX_ALLOCATION", t.where))
		return t, nil
	}
	t.problems = append(t.problems, s.problems...)
	if s.ntfsAttr == nil {
		return t, nil
	}
	if s.alloc > maxIndexBytes {
		return nil, fmt.Errorf("%w: %s: index of %d bytes", ErrDamaged, t.where, s.alloc)
	}
	t.alloc = s
	return t, nil
}

// blocks is how many index blocks the allocation holds.
func (t *indexTree) blocks() int64 {
	if t.alloc == nil {
		return 0
	}
	return t.alloc.alloc / t.bs
}

// block returns the number of the block a subnode VCN names, or an error
// if it names none.
func (t *indexTree) block(vcn int64) (int64, error) {
	if t.alloc == nil {
		return 0, fmt.Errorf("VCN %d, but the index blocks cannot be read", vcn)
	}
	if vcn < 0 || vcn > t.alloc.alloc/t.vcnSize || vcn*t.vcnSize%t.bs != 0 || vcn*t.vcnSize/t.bs >= t.blocks() {
		return 0, fmt.Errorf("VCN %d, outside the index's %d blocks", vcn, t.blocks())
	}
	return vcn * t.vcnSize / t.bs, nil
}

// readBlock reads and checks the INDX block at vcn into buf (t.bs bytes)
// and decodes its entries, as parseNode does.
func (n *ntfsFS) readBlock(t *indexTree, buf []byte, vcn int64) (es []indexEntry, used, alloc int, err error) {
	if err := n.readStream(t.alloc, buf, vcn*t.vcnSize); err != nil {
		return nil, 0, 0, err
	}
	if string(buf[:4]) != "INDX" {
		return nil, 0, 0, fmt.Errorf("signature %q, want \"INDX\"", buf[:4])
	}
	if err := applyFixups(buf); err != nil {
		return nil, 0, 0, err
	}
	if got := int64(binary.LittleEndian.Uint64(buf[0x10:])); got != vcn {
		return nil, 0, 0, fmt.Errorf("the block says it is at VCN %d", got)
	}
	return parseNode(buf, 0x18)
}

// readIndex walks dir's whole $I30 index from its root.
func (n *ntfsFS) readIndex(ctx context.Context, dir *mftFile, withSlack bool) (*dirIndex, error) {
	t, err := n.openIndex(dir)
	if err != nil {
		return nil, err
	}
	d := &dirIndex{}
	var pending []int64 // subnodes of the node just read
	add := func(node string, b []byte, hdr int, es []indexEntry, used, alloc int, err error) {
		if err != nil {
			d.problems = append(d.problems, fmt.Sprintf("%s: %v", node, err))
		}
		for _, e := range es {
			if e.child >= 0 {
				pending = append(pending, e.child)
			}
			if !e.last {
				d.names = append(d.names, e.fn)
			}
		}
		if withSlack && err == nil {
			d.slack = append(d.slack, carveSlack(b, hdr, used, alloc)...)
		}
	}
	es, used, alloc, err := parseNode(t.root, 0x10)
	add(t.where+": index root", t.root, 0x10, es, used, alloc, err)
	if len(pending) == 0 {
		return d, nil // a small index: any blocks are unused
	}
	d.problems = append(d.problems, t.problems...)
	if t.alloc == nil {
		return d, nil
	}
	var bitmap []byte
	if a := dir.attr(attrBitmap, "$I30"); a == nil {
		d.problems = append(d.problems, fmt.Sprintf("%s: no $BITMAP for the index", t.where))
	} else if bitmap, err = n.smallValue(dir, a, t.blocks()/8+8); err != nil {
		d.problems = append(d.problems, fmt.Sprintf("%s: the index's $BITMAP: %v", t.where, err))
	}
	queued := make([]bool, t.blocks())
	queue := func(vcns []int64, from string) []int64 {
		var ok []int64
		for _, vcn := range vcns {
			i, err := t.block(vcn)
			switch {
			case err != nil:
				d.problems = append(d.problems, fmt.Sprintf("%s: %s points to %v", t.where, from, err))
			case queued[i]:
				d.problems = append(d.problems, fmt.Sprintf("%s: %s points to VCN %d, already reached (a loop)", t.where, from, vcn))
			default:
				queued[i] = true
				ok = append(ok, vcn)
			}
		}
		return ok
	}
	stack := queue(pending, "the index root")
	buf := make([]byte, t.bs)
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vcn := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		node := fmt.Sprintf("%s: index block at VCN %d", t.where, vcn)
		pending = pending[:0]
		es, used, alloc, err := n.readBlock(t, buf, vcn)
		add(node, buf, 0x18, es, used, alloc, err)
		stack = append(stack, queue(pending, node)...)
		if len(d.names) > MaxEntries {
			d.truncated = true
			return d, nil
		}
	}
	for i := range t.blocks() {
		if int(i/8) < len(bitmap) && bitmap[i/8]&(1<<(i%8)) != 0 && !queued[i] {
			d.problems = append(d.problems, fmt.Sprintf("%s: index block at VCN %d is in use but no node points to it", t.where, i*t.bs/t.vcnSize))
		}
	}
	return d, nil
}

// findName looks name up by descending dir's B+ tree: entries are in
// collation order, upper-cased names compared by UTF-16 code unit, and
// the subnode of an entry holds the names before it. Upper-casing here
// uses Unicode's simple mapping, not the volume's $UpCase table, so the
// descent can miss a name the table orders differently: ok false means
// "not found this way" (also on any damage, or a match only in another
// case), and the caller walks the whole index instead.
func (n *ntfsFS) findName(ctx context.Context, dir *mftFile, name string) (fileName, bool) {
	t, err := n.openIndex(dir)
	if err != nil {
		return fileName{}, false
	}
	key := upcase16(name)
	es, _, _, err := parseNode(t.root, 0x10)
	var buf []byte
	for depth := 0; err == nil && depth < 64 && ctx.Err() == nil; depth++ {
		child := int64(-1)
		for _, e := range es {
			if !e.last {
				c := compare16(key, upcase16(e.fn.name))
				if c == 0 && e.fn.space != nameDOS {
					return e.fn, e.fn.name == name
				}
				if c > 0 {
					continue
				}
			}
			child = e.child
			break
		}
		if child < 0 || t.alloc == nil {
			return fileName{}, false
		}
		if _, err := t.block(child); err != nil {
			return fileName{}, false
		}
		if buf == nil {
			buf = make([]byte, t.bs)
		}
		es, _, _, err = n.readBlock(t, buf, child)
	}
	return fileName{}, false
}

// upcase16 is s in UTF-16 with each code unit upper-cased on its own, as
// NTFS compares names.
func upcase16(s string) []uint16 {
	u := utf16.Encode([]rune(s))
	for i, c := range u {
		if c < 0xd800 || c > 0xdfff {
			if r := unicode.ToUpper(rune(c)); r < 0x10000 {
				u[i] = uint16(r)
			}
		}
	}
	return u
}

func compare16(a, b []uint16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return cmp.Compare(a[i], b[i])
		}
	}
	return cmp.Compare(len(a), len(b))
}
