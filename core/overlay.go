package core

// overlay is the file as it would be after log replay (MS-VHDX 2.3.3),
// kept in memory: sorted, disjoint spans that read as zeros or as bytes
// held in memory, the base file between them, and zeros past the end of
// the real file up to the replayed size.
//
// Replay must not cost more than the log: a 64 MiB log holds about two
// million descriptors, and a zero descriptor may name up to 2^60 bytes.
// So newOverlay sorts the updates once and sweeps them (O(n log n) for n
// descriptors), zeros stay ranges and are never split into pages, and
// lookups are binary searches. Memory is a few words per descriptor plus
// at most one 4 KiB page per data descriptor, all bounded by the log.

import (
	"cmp"
	"io"
	"slices"
	"sort"
)

// update is one descriptor of the active sequence as replay applies it:
// the file range [off, end) and, for a data descriptor, where its pieces
// are in the log (desc < 0 for a zero descriptor). Its index in the list
// handed to newOverlay is its place in the replay order.
type update struct {
	off, end     int64
	desc, sector int32 // the log is at most maxLogSize (64 MiB) long
}

// span is a piece of the replayed file that does not come from the base
// file: [off, end) reads as zeros (data < 0) or as o.data[data:].
type span struct {
	off, end int64
	data     int64
}

type overlay struct {
	base     io.ReaderAt
	baseSize int64
	size     int64
	spans    []span // sorted, disjoint
	data     []byte // the bytes of the data spans, in file order
}

// newOverlay replays ups over base. Where updates overlap the later one
// wins, as replaying each descriptor in order does (MS-VHDX 2.3.3). The
// updates are sorted by offset once and swept left to right with a heap
// of those covering the sweep's position, latest on top: the top decides
// each piece up to the next place an update starts or the top ends, so
// every update is pushed and popped once. dataCount is the number of data
// updates (the size of the page buffer to reserve) and page writes the 4
// KiB page of a data update into dst.
func newOverlay(base io.ReaderAt, baseSize int64, ups []update, dataCount int, page func(dst []byte, desc, sector int64)) *overlay {
	// Zero spans are the union of the zero updates (at most one piece
	// each) cut by the pages data updates win (each cut adds at most one
	// piece), and there is at most one data span per data update: so
	// reserving this many spans allocates them once.
	o := &overlay{base: base, baseSize: baseSize, size: baseSize, spans: make([]span, 0, len(ups)+dataCount)}
	order := make([]int32, len(ups)) // ≤ 2^21 for a 64 MiB log
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(ups[a].off, ups[b].off) })
	o.data = make([]byte, 0, dataCount*logSector)
	live := make(latestHeap, 0, len(order)) // all of them when they all overlap
	var buf [logSector]byte
	bufFor := int32(-1) // the update whose page is in buf
	next := 0
	pos := int64(0)
	for next < len(order) || len(live) > 0 {
		if len(live) == 0 {
			pos = ups[order[next]].off // skip the gap no update covers
		}
		for next < len(order) && ups[order[next]].off <= pos {
			live.push(order[next])
			next++
		}
		for len(live) > 0 && ups[live[0]].end <= pos {
			live.pop()
		}
		if len(live) == 0 {
			continue
		}
		top := live[0]
		u := &ups[top]
		end := u.end
		if next < len(order) {
			end = min(end, ups[order[next]].off)
		}
		o.size = max(o.size, end)
		if u.desc < 0 {
			o.add(pos, end, nil)
		} else {
			if bufFor != top {
				page(buf[:], int64(u.desc), int64(u.sector))
				bufFor = top
			}
			o.add(pos, end, buf[pos-u.off:end-u.off])
		}
		pos = end
	}
	return o
}

// add appends [off, end) reading as b (nil: zeros) after the last span,
// merging it into the last span when they touch and are of one kind.
func (o *overlay) add(off, end int64, b []byte) {
	if n := len(o.spans); n > 0 {
		last := &o.spans[n-1]
		if last.end == off && (b == nil) == (last.data < 0) {
			last.end = end
			o.data = append(o.data, b...)
			return
		}
	}
	s := span{off: off, end: end, data: -1}
	if b != nil {
		s.data = int64(len(o.data))
		o.data = append(o.data, b...)
	}
	o.spans = append(o.spans, s)
}

// coverage calls fn with each file range replay wrote, in file order,
// merged where they touch.
func (o *overlay) coverage(fn func(fileRange)) {
	for i := 0; i < len(o.spans); {
		r := fileRange{Offset: o.spans[i].off}
		end := o.spans[i].end
		for i++; i < len(o.spans) && o.spans[i].off == end; i++ {
			end = o.spans[i].end
		}
		r.Length = end - r.Offset
		fn(r)
	}
}

// latestHeap is a binary max-heap of update indices: the top is the
// latest update, the one replay applies last.
type latestHeap []int32

func (h *latestHeap) push(i int32) {
	*h = append(*h, i)
	s := *h
	for c := len(s) - 1; c > 0; {
		p := (c - 1) / 2
		if s[p] >= s[c] {
			break
		}
		s[p], s[c] = s[c], s[p]
		c = p
	}
}

func (h *latestHeap) pop() {
	s := *h
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for p := 0; ; {
		c := 2*p + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1] > s[c] {
			c++
		}
		if s[p] >= s[c] {
			break
		}
		s[p], s[c] = s[c], s[p]
		p = c
	}
	*h = s
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
	// The first span that ends after off.
	i := sort.Search(len(o.spans), func(i int) bool { return o.spans[i].end > off })
	for pos := off; pos < end; {
		if i < len(o.spans) && o.spans[i].off <= pos {
			s := o.spans[i]
			e := min(end, s.end)
			var err error
			if s.data < 0 {
				err = add(segment{off: pos, n: e - pos, kind: segZero})
			} else {
				err = add(segment{off: pos, n: e - pos, kind: segPage, page: o.data[s.data+pos-s.off : s.data+e-s.off]})
			}
			if err != nil {
				return err
			}
			pos = e
			i++
			continue
		}
		e := end
		if i < len(o.spans) {
			e = min(e, o.spans[i].off)
		}
		if err := baseOrZero(pos, e); err != nil {
			return err
		}
		pos = e
	}
	return flush()
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
