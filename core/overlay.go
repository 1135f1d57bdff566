package core

// overlay is the file as it would be after log replay, kept in memory: 4 KiB
// pages written by data descriptors, ranges zeroed by zero descriptors, and
// zeros past the end of the real file up to the replayed size. Its memory is
// bounded by the log (at most one page per data sector).

import (
	"io"
	"sort"
)

type overlay struct {
	base     io.ReaderAt
	baseSize int64
	size     int64
	pages    map[int64][]byte // 4 KiB-aligned file offset -> page
	zeros    []FileRange      // disjoint, sorted; pages override them
	lo, hi   int64            // bounding range of pages and zeros
}

func newOverlay(base io.ReaderAt, size int64) *overlay {
	return &overlay{base: base, baseSize: size, size: size, pages: map[int64][]byte{}, lo: 1<<63 - 1}
}

func (o *overlay) extend(off, n int64) {
	o.lo = min(o.lo, off)
	o.hi = max(o.hi, off+n)
	o.size = max(o.size, off+n)
}

func (o *overlay) write(off int64, page []byte) {
	o.pages[off] = page
	o.extend(off, int64(len(page)))
}

func (o *overlay) zero(off, n int64) {
	if n == 0 {
		return
	}
	for p := range o.pages { // bounded by the log's data sectors
		if p >= off && p < off+n {
			delete(o.pages, p)
		}
	}
	o.zeros = addRange(o.zeros, off, n)
	o.extend(off, n)
}

// segment is a piece of the overlay view: from the base file, from a page,
// or zeros.
type segment struct {
	off, n  int64
	kind    segKind
	page    []byte // for segPage: the bytes
	baseOff int64  // for segBase
}

type segKind uint8

const (
	segBase segKind = iota
	segPage
	segZero
)

// segments splits [off, off+n) (within o.size) into base, page and zero
// pieces, merging neighbours of the same kind.
func (o *overlay) segments(off, n int64, emit func(segment) error) error {
	end := off + n
	var pending segment
	flush := func() error {
		if pending.n == 0 {
			return nil
		}
		err := emit(pending)
		pending = segment{}
		return err
	}
	add := func(s segment) error {
		if pending.n > 0 && pending.kind == s.kind && pending.off+pending.n == s.off &&
			(s.kind == segZero || (s.kind == segBase && pending.baseOff+pending.n == s.baseOff)) {
			pending.n += s.n
			return nil
		}
		if err := flush(); err != nil {
			return err
		}
		pending = s
		return nil
	}
	baseOrZero := func(a, b int64) error { // [a, b) with no overlay content
		if a < o.baseSize {
			e := min(b, o.baseSize)
			if err := add(segment{off: a, n: e - a, kind: segBase, baseOff: a}); err != nil {
				return err
			}
			a = e
		}
		if a < b {
			return add(segment{off: a, n: b - a, kind: segZero})
		}
		return nil
	}
	pos := off
	// Outside the overlay's bounding range everything comes from the base.
	if pos < o.lo {
		e := min(end, o.lo)
		if err := baseOrZero(pos, e); err != nil {
			return err
		}
		pos = e
	}
	for pos < end && pos < o.hi {
		pageOff := pos &^ (logSector - 1)
		e := min(end, pageOff+logSector, o.hi)
		if p, ok := o.pages[pageOff]; ok {
			if err := add(segment{off: pos, n: e - pos, kind: segPage, page: p[pos-pageOff : e-pageOff]}); err != nil {
				return err
			}
		} else if o.inZero(pos) {
			if err := add(segment{off: pos, n: e - pos, kind: segZero}); err != nil {
				return err
			}
		} else if err := baseOrZero(pos, e); err != nil {
			return err
		}
		pos = e
	}
	if pos < end {
		if err := baseOrZero(pos, end); err != nil {
			return err
		}
	}
	return flush()
}

func (o *overlay) inZero(off int64) bool {
	i := sort.Search(len(o.zeros), func(i int) bool { return o.zeros[i].Offset+o.zeros[i].Length > off })
	return i < len(o.zeros) && o.zeros[i].Offset <= off
}

// ReadAt reads the replayed view of the file.
func (o *overlay) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if off >= o.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), o.size-off)
	err := o.segments(off, n, func(s segment) error {
		dst := p[s.off-off : s.off-off+s.n]
		switch s.kind {
		case segPage:
			copy(dst, s.page)
		case segZero:
			clear(dst)
		default:
			if _, err := o.base.ReadAt(dst, s.baseOff); err != nil && !(err == io.EOF) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}
