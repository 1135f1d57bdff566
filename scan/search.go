package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// MaxPattern is the longest pattern Search takes.
const MaxPattern = 64 << 10

// MaxHits bounds the hits of one Search (and is its limit when none is
// given): an all-zero pattern matches at every offset of a sparse disk.
const MaxHits = 1 << 20

// ErrPattern is an empty pattern or one longer than MaxPattern.
var ErrPattern = errors.New("scan: pattern must be 1 to 65536 bytes")

// Result is what one Search found.
type Result struct {
	// Hits are the offsets where the pattern starts, ascending. Matches
	// may overlap ("aa" is found twice in "aaa") and may straddle chunk
	// and run boundaries; each lies wholly inside the range searched.
	Hits []int64 `json:"hits"`
	// Next is where to go on when the search stopped at its limit (the
	// offset after the last hit), or -1 when the range is done.
	Next int64 `json:"next"`
}

// Search finds pattern in [off, off+n) of src (n < 0: to the end),
// stopping after limit hits (limit < 1 or over MaxHits: MaxHits). Data is searched chunk
// by chunk with the last len(pattern)-1 bytes of each carried into the
// next. A long zero run is not read: only its edges are searched as bytes,
// and its inside gives a hit at every offset when the pattern is all
// zeros, none otherwise.
func Search(ctx context.Context, src Source, pattern []byte, off, n int64, limit int, progress Progress) (Result, error) {
	return search(ctx, src, pattern, off, n, limit, progress, ChunkSize)
}

// search is Search reading chunk bytes at a time (tests use small chunks).
func search(ctx context.Context, src Source, pattern []byte, off, n int64, limit int, progress Progress, chunk int64) (Result, error) {
	res := Result{Hits: []int64{}, Next: -1}
	if len(pattern) == 0 || len(pattern) > MaxPattern {
		return res, fmt.Errorf("%w, not %d", ErrPattern, len(pattern))
	}
	n, err := span(off, n, src.Size())
	if err != nil {
		return res, err
	}
	if limit < 1 || limit > MaxHits {
		limit = MaxHits
	}
	m := len(pattern)
	allZero := bytes.Count(pattern, []byte{0}) == m
	s := &searcher{pattern: pattern, limit: limit, res: &res, chunk: chunk,
		buf: make([]byte, int64(m-1)+chunk)}
	end := off + n
	err = walk(ctx, src, off, n, s.buf[m-1:], func(p piece) error {
		if p.data != nil {
			if err := s.feed(p.off, p.data); err != nil {
				return err
			}
		} else if err := s.zeros(ctx, p.off, p.zeros, allZero); err != nil {
			return err
		}
		if progress != nil {
			progress(p.off+int64(len(p.data))+p.zeros-off, n)
		}
		return nil
	})
	if err == errLimit {
		res.Next = res.Hits[len(res.Hits)-1] + 1
		if res.Next >= end {
			res.Next = -1
		}
		return res, nil
	}
	if err != nil {
		return res, err
	}
	if progress != nil {
		progress(n, n)
	}
	return res, nil
}

var errLimit = errors.New("scan: limit reached")

// searcher holds the tail of what it has seen: buf[:tail] are the bytes
// before tailEnd, at most len(pattern)-1 of them.
type searcher struct {
	pattern []byte
	limit   int
	chunk   int64
	res     *Result
	buf     []byte
	tail    int
	tailEnd int64
}

func (s *searcher) hit(at int64) error {
	s.res.Hits = append(s.res.Hits, at)
	if len(s.res.Hits) >= s.limit {
		return errLimit
	}
	return nil
}

// feed searches data at off (contiguous with what came before) together
// with the tail, then keeps the new tail.
func (s *searcher) feed(off int64, data []byte) error {
	m := len(s.pattern)
	// The walk reads into buf[m-1:]; RunBytes data and zeros come from
	// elsewhere and are copied after the tail.
	if len(data) > 0 && &data[0] != &s.buf[m-1] {
		copy(s.buf[m-1:], data)
	}
	// The tail sits right before buf[m-1].
	copy(s.buf[m-1-s.tail:], s.buf[:s.tail])
	hay := s.buf[m-1-s.tail : m-1+len(data)]
	base := off - int64(s.tail)
	for i := 0; ; {
		k := bytes.Index(hay[i:], s.pattern)
		if k < 0 {
			break
		}
		if err := s.hit(base + int64(i+k)); err != nil {
			return err
		}
		i += k + 1
	}
	t := min(m-1, len(hay))
	copy(s.buf[:t], hay[len(hay)-t:])
	s.tail = t
	s.tailEnd = off + int64(len(data))
	return nil
}

// zeros searches n zeros at off. Short runs are fed as bytes. A long one
// is fed as its first len(pattern)-1 zeros (matches reaching into it from
// before), then gives its inside arithmetically, then leaves its last
// len(pattern)-1 zeros as the tail (matches reaching out of it).
func (s *searcher) zeros(ctx context.Context, off, n int64, allZero bool) error {
	m := int64(len(s.pattern))
	if n <= 2*m+s.chunk {
		return s.feedZeros(off, n)
	}
	if err := s.feedZeros(off, m-1); err != nil {
		return err
	}
	if allZero {
		// Matches wholly inside: [off, off+n-m]. Those that start before
		// off were found by the feed above.
		for at := off; at <= off+n-m; at++ {
			if (at-off)%s.chunk == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := s.hit(at); err != nil {
				return err
			}
		}
	}
	s.tail = int(m - 1)
	clear(s.buf[:s.tail])
	s.tailEnd = off + n
	return nil
}

// feedZeros feeds n zeros at off, a chunk at a time.
func (s *searcher) feedZeros(off, n int64) error {
	m := int64(len(s.pattern))
	for k := int64(0); k < n; k += s.chunk {
		c := min(s.chunk, n-k)
		clear(s.buf[m-1 : m-1+c])
		if err := s.feed(off+k, s.buf[m-1:m-1+c]); err != nil {
			return err
		}
	}
	return nil
}
