//go:build js && wasm

package bridge

import (
	"context"
	"fmt"
	"sync"
	"syscall/js"
)

// readAheadMin is the smallest ArrayBuffer read that reads ahead: a read
// of at least this many bytes that starts where the one before ended
// starts reading the next range of its length, so that a page reading a
// disk in order (read() in a loop) finds its next bytes read while it was
// busy with the last. The hex view's small reads never read ahead.
const readAheadMin = 1 << 20

// readAhead is a BlobReader's one range read ahead for ArrayBuffer: at
// most one, of the length of the read before, so at most 16 MiB (the
// engine's largest read) held for nothing when the next read goes
// elsewhere.
type readAhead struct {
	mu      sync.Mutex
	lastEnd int64    // where the last ArrayBuffer read ended; -1 before any
	off, n  int64    // the range being read ahead; n == 0 when none
	p       js.Value // its Promise<ArrayBuffer>
}

// take returns the promise of the range read ahead if it is [off, off+n),
// and forgets it either way.
func (a *readAhead) take(off, n int64) (js.Value, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, hit := a.p, a.n != 0 && a.off == off && a.n == n
	a.off, a.n, a.p = 0, 0, js.Value{}
	return p, hit
}

func (a *readAhead) drop() { a.take(-1, 0) }

// ArrayBuffer reads the blob's bytes [off, off+n) into a new ArrayBuffer,
// not through the cache and never through Go memory: for bytes that go
// back to JS (a read the page asked for), where a copy into Go and out
// again would cost two passes over them. A range past the end, or a blob
// that returns fewer bytes (it changed), is ErrShortRead. A read may wait
// for the range read ahead (a promise), so, in either mode, it must not be
// called from a js.FuncOf callback (see AwaitPromise).
func (r *BlobReader) ArrayBuffer(off, n int64) (ab js.Value, err error) {
	defer recoverJS(&err)
	size := r.Size()
	if off < 0 || n < 0 || off+n > size {
		return js.Value{}, fmt.Errorf("%w: [%d, %d) of %d bytes", ErrShortRead, off, off+n, size)
	}
	if p, hit := r.ahead.take(off, n); hit {
		// A failed read ahead is read again below, and fails there if the
		// file is gone.
		if v, err := AwaitPromise(context.Background(), p); err == nil {
			ab = v
		}
	}
	if ab.IsUndefined() {
		slice := r.blob.Call("slice", float64(off), float64(off+n))
		if r.mode == ModeSync {
			ab = r.frs.Call("readAsArrayBuffer", slice)
		} else if ab, err = AwaitPromise(context.Background(), slice.Call("arrayBuffer")); err != nil {
			return js.Value{}, err
		}
	}
	if got := int64(ab.Get("byteLength").Int()); got != n {
		return js.Value{}, fmt.Errorf("%w: got %d of %d", ErrShortRead, got, n)
	}
	r.readNext(off, n, size)
	return ab, nil
}

// readNext starts reading [off+n, off+2n) when [off, off+n) continued the
// read before it and is large enough.
func (r *BlobReader) readNext(off, n, size int64) {
	a := &r.ahead
	a.mu.Lock()
	defer a.mu.Unlock()
	sequential := off == a.lastEnd
	a.lastEnd = off + n
	if !sequential || n < readAheadMin || off+2*n > size || a.n != 0 {
		return
	}
	p := r.blob.Call("slice", float64(off+n), float64(off+2*n)).Call("arrayBuffer")
	// A failure is met again by the read that takes it, so the rejection is
	// handled with a built-in that does nothing of note: a js.FuncOf would
	// have to be released while the promise may still call it, and making
	// a function from source is eval, which the page's CSP forbids.
	p.Call("catch", js.Global().Get("Boolean"))
	a.off, a.n, a.p = off+n, n, p
}
