package core

import (
	"context"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
)

// batReader counts reads of the BAT region and calls onRead at the first.
type batReader struct {
	r              io.ReaderAt
	batOff, batEnd int64
	reads          atomic.Int64
	onRead         func()
}

func (b *batReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.batOff && off < b.batEnd && b.reads.Add(1) == 1 && b.onRead != nil {
		b.onRead()
	}
	return b.r.ReadAt(p, off)
}

// TestPlanCancelled: the plan of a whole 2 TiB sparse disk with 1 MiB blocks
// walks 2 Mi BAT entries (256 BAT pages); cancelled while it walks, it stops
// with context.Canceled long before the last page instead of running to the
// end. It asserts where the walk stopped, not how long it took (the
// benchmark BenchmarkPlanCancel measures that).
func TestPlanCancelled(t *testing.T) {
	img, br := sparse2TiB(t)
	ctx, cancel := context.WithCancel(context.Background())
	br.onRead = cancel // cancel as soon as the walk reads its first BAT page
	err := img.Plan(ctx, 0, img.Size(), func(Run) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Plan: %v, want context.Canceled", err)
	}
	pages := (img.geom.BATEntries + batPageEntries - 1) / batPageEntries
	if n := br.reads.Load(); n >= pages/2 {
		t.Errorf("the cancelled plan read %d of %d BAT pages", n, pages)
	}
	// The same plan, not cancelled, covers the disk with one zero run.
	var runs []Run
	if err := img.Plan(context.Background(), 0, img.Size(), func(r Run) error { runs = append(runs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Kind != RunZero || runs[0].Length != img.Size() {
		t.Errorf("plan of the sparse disk: %+v", runs)
	}
}

func sparse2TiB(t testing.TB) (*Image, *batReader) {
	t.Helper()
	path, lay := writeImage(t, t.TempDir(), "sparse2t", &builder.Image{VirtualSize: 2 * builder.TiB, BlockSize: mB})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	br := &batReader{r: f, batOff: lay.BAT.Offset, batEnd: lay.BAT.Offset + lay.BAT.Length}
	img, err := Open(context.Background(), br, st.Size(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return img, br
}

// BenchmarkPlanCancel: how long a whole-disk plan of a 2 TiB sparse disk
// with 1 MiB blocks takes to return once its context is cancelled
// (ns/cancel), the latency a Cancel button sees natively.
func BenchmarkPlanCancel(b *testing.B) {
	img, br := sparse2TiB(b)
	var total int64
	for b.Loop() {
		if img.bat.pages != nil {
			img.bat.pages.Clear() // every run walks the BAT from the file
		}
		br.reads.Store(0)
		ctx, cancel := context.WithCancel(context.Background())
		var at atomic.Int64
		br.onRead = func() { at.Store(nowNanos()); cancel() }
		err := img.Plan(ctx, 0, img.Size(), func(Run) error { return nil })
		if !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
		total += nowNanos() - at.Load()
	}
	b.ReportMetric(float64(total)/float64(b.N), "ns/cancel")
}
