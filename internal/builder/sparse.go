package builder

import (
	"fmt"
	"io"
	"slices"
)

// maxOffset bounds file offsets taken from a description (64 PiB), so
// that offset arithmetic cannot overflow.
const maxOffset = 1 << 56

// checkOffset reports whether the range [off, off+n) is addressable.
func checkOffset(what string, off uint64, n int) error {
	if off > maxOffset || uint64(n) > maxOffset-off {
		return fmt.Errorf("%s: offset %#x + %d is beyond the 64 PiB limit", what, off, n)
	}
	return nil
}

// pageSize is the granularity of the in-memory image and of log updates
// (MS-VHDX 2.3.1: log entries describe 4 KiB sector updates).
const pageSize = 4096

// pageStore is a sparse, zero-initialised byte space made of 4 KiB pages.
// Pages that were never written with a non-zero byte are not stored, so a
// 64 TiB image whose BAT is almost all zero costs only the pages that hold
// data.
type pageStore struct {
	pages map[int64]*[pageSize]byte
}

func newPageStore() *pageStore { return &pageStore{pages: make(map[int64]*[pageSize]byte)} }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// put stores p at off, which must be non-negative (offsets that come from
// the description are checked by checkOffset first). Writing zeros over a
// missing page is a no-op.
func (s *pageStore) put(p []byte, off int64) {
	if off < 0 {
		panic(fmt.Sprintf("builder: internal error: negative offset %d", off))
	}
	for len(p) > 0 {
		idx, in := off/pageSize, off%pageSize
		k := min(int64(len(p)), pageSize-in)
		chunk := p[:k]
		pg := s.pages[idx]
		if pg == nil && !allZero(chunk) {
			pg = new([pageSize]byte)
			s.pages[idx] = pg
		}
		if pg != nil {
			copy(pg[in:], chunk)
		}
		p, off = p[k:], off+k
	}
}

// get fills p with the bytes at off; missing pages read as zeros.
func (s *pageStore) get(p []byte, off int64) {
	for len(p) > 0 {
		idx, in := off/pageSize, off%pageSize
		k := min(int64(len(p)), pageSize-in)
		if pg := s.pages[idx]; pg != nil {
			copy(p[:k], pg[in:])
		} else {
			clear(p[:k])
		}
		p, off = p[k:], off+k
	}
}

// read returns a copy of n bytes at off.
func (s *pageStore) read(off, n int64) []byte {
	b := make([]byte, n)
	s.get(b, off)
	return b
}

// flush writes every stored page to w, coalescing runs of adjacent pages,
// and clipping at limit.
func (s *pageStore) flush(w io.WriterAt, limit int64) error {
	keys := make([]int64, 0, len(s.pages))
	for k := range s.pages {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	const maxRun = 256 // pages per WriteAt call (1 MiB)
	buf := make([]byte, 0, maxRun*pageSize)
	var start int64 = -1
	emit := func() error {
		if len(buf) == 0 {
			return nil
		}
		off := start * pageSize
		b := buf
		if off+int64(len(b)) > limit {
			b = b[:max(0, limit-off)]
		}
		if len(b) > 0 {
			if _, err := w.WriteAt(b, off); err != nil {
				return fmt.Errorf("builder: writing %d bytes at %#x: %w", len(b), off, err)
			}
		}
		buf = buf[:0]
		return nil
	}
	for _, k := range keys {
		if len(buf) > 0 && (k != start+int64(len(buf)/pageSize) || len(buf) == cap(buf)) {
			if err := emit(); err != nil {
				return err
			}
		}
		if len(buf) == 0 {
			start = k
		}
		buf = append(buf, s.pages[k][:]...)
	}
	return emit()
}
