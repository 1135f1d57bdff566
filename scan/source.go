package scan

// The walk shared by Hash and Search: a range of a Source as pieces of
// bytes read in chunks of a caller's buffer, or as zero runs that are
// never read.

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/vhdxview/vhdxview/core"
)

// Source is a virtual disk (or a file) that can say where its bytes are.
// *core.Image and *vhd.Image are Sources. Plan's runs must cover the range
// asked for in order; Hash and Search read RunFile runs with ReadAt at the
// run's Offset (so a Source may use RunFile for any bytes it reads itself),
// take RunBytes runs from Data and read nothing for RunZero runs.
type Source interface {
	io.ReaderAt
	Size() int64
	Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error
}

// ChunkSize is how many bytes Hash and Search read at a time: their memory
// whatever the size of the range.
const ChunkSize = 1 << 20

// ErrRange is an offset or length outside the source.
var ErrRange = errors.New("scan: range outside the source")

// Progress, when not nil, is told how many bytes of the range are done,
// at least once per chunk and once at the end.
type Progress func(done, total int64)

// span checks [off, off+n) against size; n < 0 means to the end.
func span(off, n, size int64) (int64, error) {
	if off < 0 || off > size {
		return 0, fmt.Errorf("%w: offset %d of a %d-byte source", ErrRange, off, size)
	}
	if n < 0 || n > size-off {
		if n >= 0 {
			return 0, fmt.Errorf("%w: %d bytes at offset %d of a %d-byte source", ErrRange, n, off, size)
		}
		n = size - off
	}
	return n, nil
}

// piece is what walk hands its visitor: data bytes at off, or, when data
// is nil, zeros bytes of zeros at off that were not read.
type piece struct {
	off   int64
	data  []byte
	zeros int64
}

// walk visits [off, off+n) of src in order, reading data runs into buf
// (at most len(buf) bytes a visit). A zero run is one visit whatever its
// length. ctx is checked before every visit.
func walk(ctx context.Context, src Source, off, n int64, buf []byte, visit func(piece) error) error {
	pos := off
	err := src.Plan(ctx, off, n, func(r core.Run) error {
		if r.Offset != pos || r.Length < 0 || r.Offset+r.Length > off+n {
			return fmt.Errorf("scan: plan run %s 0x%x+0x%x out of order (expected 0x%x)", r.Kind, r.Offset, r.Length, pos)
		}
		pos += r.Length
		if err := ctx.Err(); err != nil {
			return err
		}
		switch r.Kind {
		case core.RunZero:
			return visit(piece{off: r.Offset, zeros: r.Length})
		case core.RunBytes:
			if int64(len(r.Data)) != r.Length {
				return fmt.Errorf("scan: plan run of 0x%x bytes at 0x%x holds %d", r.Length, r.Offset, len(r.Data))
			}
			for k := int64(0); k < r.Length; k += int64(len(buf)) {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := visit(piece{off: r.Offset + k, data: r.Data[k:min(r.Length, k+int64(len(buf)))]}); err != nil {
					return err
				}
			}
			return nil
		}
		for k := int64(0); k < r.Length; {
			if err := ctx.Err(); err != nil {
				return err
			}
			d := buf[:min(int64(len(buf)), r.Length-k)]
			m, err := src.ReadAt(d, r.Offset+k)
			if m < len(d) {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("scan: reading 0x%x bytes at 0x%x: %w", len(d), r.Offset+k, err)
			}
			if err := visit(piece{off: r.Offset + k, data: d}); err != nil {
				return err
			}
			k += int64(len(d))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if pos != off+n {
		return fmt.Errorf("scan: plan of 0x%x+0x%x stopped at 0x%x", off, n, pos)
	}
	return nil
}
