package scan

import (
	"bytes"
	"context"
	"io"

	"github.com/vhdxview/vhdxview/core"
)

// memSource is a disk in memory whose plan calls each all-zero block of bs
// bytes a zero run (sparse) and gives the others as file runs, every
// third one as a bytes run instead.
type memSource struct {
	data []byte
	bs   int64
}

func (m *memSource) Size() int64 { return int64(len(m.data)) }

func (m *memSource) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memSource) Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error {
	n = min(n, m.Size()-off)
	for pos := off; pos < off+n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := pos / m.bs
		end := min((b+1)*m.bs, off+n)
		blk := m.data[b*m.bs : min((b+1)*m.bs, m.Size())]
		r := core.Run{Kind: core.RunFile, Offset: pos, Length: end - pos}
		switch {
		case bytes.Count(blk, []byte{0}) == len(blk):
			r.Kind = core.RunZero
		case b%3 == 2:
			r.Kind, r.Data = core.RunBytes, m.data[pos:end]
		}
		if err := emit(r); err != nil {
			return err
		}
		pos = end
	}
	return nil
}

// naive lists every offset where pattern starts in data[off:off+n].
func naive(data, pattern []byte, off, n int64) []int64 {
	hits := []int64{}
	hay := data[off : off+n]
	for i := 0; i+len(pattern) <= len(hay); i++ {
		if bytes.Equal(hay[i:i+len(pattern)], pattern) {
			hits = append(hits, off+int64(i))
		}
	}
	return hits
}
