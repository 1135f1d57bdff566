//go:build js && wasm

package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"sync"
	"syscall/js"
	"testing"
)

const mib = 1 << 20

// jsFn compiles a JS function: jsFn("a", "b", "return a+b").
func jsFn(paramsAndBody ...string) js.Value {
	args := make([]any, len(paramsAndBody))
	for i, s := range paramsAndBody {
		args[i] = s
	}
	return js.Global().Get("Function").New(args...)
}

func toUint8Array(data []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u8, data)
	return u8
}

// newNodeBlob returns a real Blob (Node 20 has a global Blob) of data.
func newNodeBlob(t *testing.T, data []byte) js.Value {
	t.Helper()
	if js.Global().Get("Blob").Type() != js.TypeFunction {
		t.Fatal("no global Blob: Node 20+ is required")
	}
	return js.Global().Get("Blob").New([]any{toUint8Array(data)})
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func TestBlobReaderAsyncReads(t *testing.T) {
	data := randomBytes(5*mib+123, 21)
	r, err := NewBlobReader(newNodeBlob(t, data), WithChunkSize(mib), WithCacheSize(4*mib))
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode() != ModeAsync {
		t.Fatalf("auto mode without FileReaderSync resolved to %v", r.Mode())
	}
	if r.Size() != int64(len(data)) {
		t.Fatalf("Size() = %d, want %d", r.Size(), len(data))
	}
	cases := []struct {
		off int64
		n   int
	}{
		{0, 512},             // header-like read
		{7, 13},              // unaligned
		{mib - 10, 20},       // across a chunk boundary
		{3*mib - 1, mib + 2}, // across two boundaries (3 chunks → bypass)
		{2*mib + 5, mib},     // spans 2 chunks
		{int64(len(data)) - 3, 3},
		{int64(len(data)) - 50, 100}, // partly past EOF
		{int64(len(data)), 10},       // at EOF
		{int64(len(data)) + 99, 10},  // past EOF
	}
	for _, tc := range cases {
		checkRead(t, r, data, tc.off, tc.n)
	}
	if n, err := r.ReadAt(make([]byte, 8), -5); n != 0 || !errors.Is(err, ErrNegativeOffset) {
		t.Fatalf("negative offset: %d, %v", n, err)
	}
	st := r.Stats()
	if st.Fetches == 0 || st.FetchedBytes == 0 || st.CachedChunks > 4 {
		t.Fatalf("stats after reads: %+v", st)
	}
}

func TestBlobReaderReadLargerThanCache(t *testing.T) {
	data := randomBytes(6*mib+77, 22)
	r, err := NewBlobReader(newNodeBlob(t, data), WithCacheSize(2*mib))
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, r, data, 100, 10)
	before := r.Stats()
	checkRead(t, r, data, 1, len(data)+10) // whole blob, more than the cache, past EOF
	st := r.Stats()
	if st.Bypassed != before.Bypassed+1 || st.CachedChunks > 2 || st.Evictions != before.Evictions {
		t.Fatalf("large read: before %+v after %+v", before, st)
	}
	checkRead(t, r, data, 100, 10)
	if r.Stats().Hits <= st.Hits {
		t.Fatal("chunk 0 was evicted by a bypass read")
	}
}

func TestBlobReaderConcurrent(t *testing.T) {
	data := randomBytes(4*mib+999, 23)
	r, err := NewBlobReader(newNodeBlob(t, data), WithCacheSize(2*mib))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < 40; i++ {
				off := rng.Int63n(int64(len(data)))
				n := 1 + rng.Intn(300*1024)
				p := make([]byte, n)
				got, err := r.ReadAt(p, off)
				want, wantErr := refRead(data, off, n)
				if got != len(want) || err != wantErr || !bytes.Equal(p[:got], want) {
					errs <- fmt.Errorf("goroutine %d: ReadAt(%d, %d) = %d, %v", seed, n, off, got, err)
					return
				}
			}
		}(int64(g))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := r.Stats(); st.Reads != 240 || st.CachedChunks > 2 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestBlobReaderSequentialReadAhead(t *testing.T) {
	const chunks = 6
	data := randomBytes(chunks*mib, 24)
	r, err := NewBlobReader(newNodeBlob(t, data), WithCacheSize(4*mib))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 256*1024)
	var got []byte
	for off := int64(0); off < int64(len(data)); off += int64(len(p)) {
		n, err := r.ReadAt(p, off)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		got = append(got, p[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("sequential scan returned wrong bytes")
	}
	st := r.Stats()
	if st.ReadAheads != chunks-1 || st.Misses != 1 || st.Fetches != chunks || st.FetchedBytes != int64(len(data)) {
		t.Fatalf("read-ahead not observed: %+v", st)
	}

	// Scattered reads do not trigger read-ahead.
	r2, err := NewBlobReader(newNodeBlob(t, data), WithCacheSize(4*mib))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []int64{4, 1, 5, 3} {
		checkRead(t, r2, data, c*mib+17, 100)
	}
	if st := r2.Stats(); st.ReadAheads != 0 || st.Fetches != 4 {
		t.Fatalf("scattered reads: %+v", st)
	}

	// Read-ahead can be disabled.
	r3, err := NewBlobReader(newNodeBlob(t, data), WithReadAhead(0))
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, r3, data, 0, 10)
	checkRead(t, r3, data, 10, 10)
	if st := r3.Stats(); st.ReadAheads != 0 || st.Fetches != 1 {
		t.Fatalf("disabled read-ahead: %+v", st)
	}
}

// installFakeFileReaderSync defines globalThis.FileReaderSync for FakeBlob
// objects (Node has no synchronous Blob read), returning the FakeBlob class
// and an uninstall function.
func installFakeFileReaderSync(t *testing.T) (fakeBlobClass js.Value, calls func() int) {
	t.Helper()
	cls := jsFn(`
		class FakeBlob {
			constructor(u8) { this.u8 = u8; this.size = u8.length; }
			slice(a, b) { return new FakeBlob(this.u8.slice(a, b)); }
		}
		globalThis.__frsCalls = 0;
		globalThis.FileReaderSync = class {
			readAsArrayBuffer(b) {
				if (!(b instanceof FakeBlob)) throw new TypeError("not a FakeBlob");
				globalThis.__frsCalls++;
				return b.u8.slice().buffer;
			}
		};
		return FakeBlob;`).Invoke()
	t.Cleanup(func() {
		js.Global().Delete("FileReaderSync")
		js.Global().Delete("__frsCalls")
	})
	return cls, func() int { return js.Global().Get("__frsCalls").Int() }
}

func TestBlobReaderSyncMode(t *testing.T) {
	fakeBlob, calls := installFakeFileReaderSync(t)
	const chunks = 4
	data := randomBytes(chunks*mib+5, 25)
	r, err := NewBlobReader(fakeBlob.New(toUint8Array(data)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode() != ModeSync {
		t.Fatalf("auto mode with FileReaderSync resolved to %v", r.Mode())
	}
	// Sequential scan: each demand miss is merged with the next chunk.
	p := make([]byte, 100*1024)
	for off := int64(0); off < int64(len(data)); off += int64(len(p)) {
		n, err := r.ReadAt(p, off)
		want, wantErr := refRead(data, off, len(p))
		if n != len(want) || err != wantErr || !bytes.Equal(p[:n], want) {
			t.Fatalf("ReadAt(off %d) = %d, %v", off, n, err)
		}
	}
	st := r.Stats()
	// 5 chunks (the last is 5 bytes): fetched as [0,1] [2,3] [4].
	if st.Fetches != 3 || calls() != 3 || st.FetchedBytes != int64(len(data)) {
		t.Fatalf("sync sequential scan: %+v, %d JS reads", st, calls())
	}
	checkRead(t, r, data, mib-3, 7)
	checkRead(t, r, data, int64(len(data))-2, 10)
	if n, err := r.ReadAt(make([]byte, 3), -1); n != 0 || !errors.Is(err, ErrNegativeOffset) {
		t.Fatalf("negative offset: %d, %v", n, err)
	}
	// A real Blob cannot be read by the fake FileReaderSync: the JS
	// exception must come back as an error, not a panic.
	r2, err := NewBlobReader(newNodeBlob(t, data[:100]), WithMode(ModeSync))
	if err != nil {
		t.Fatal(err)
	}
	var jsErr *JSError
	if _, err := r2.ReadAt(make([]byte, 10), 0); !errors.As(err, &jsErr) || jsErr.Name != "TypeError" {
		t.Fatalf("thrown TypeError: got %v", err)
	}
}

func TestBlobReaderForcedModes(t *testing.T) {
	blob := newNodeBlob(t, []byte("hello"))
	if _, err := NewBlobReader(blob, WithMode(ModeSync)); !errors.Is(err, ErrNoFileReaderSync) {
		t.Fatalf("forced sync without FileReaderSync: %v", err)
	}
	installFakeFileReaderSync(t)
	r, err := NewBlobReader(blob, WithMode(ModeAsync))
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode() != ModeAsync {
		t.Fatalf("forced async resolved to %v", r.Mode())
	}
	p := make([]byte, 5)
	if n, err := r.ReadAt(p, 0); n != 5 || err != nil || string(p) != "hello" {
		t.Fatalf("forced async read: %d, %v, %q", n, err, p)
	}
	if r.ChunkSize() != DefaultChunkSize || r.CacheSize() != DefaultCacheSize {
		t.Fatalf("defaults: chunk %d cache %d", r.ChunkSize(), r.CacheSize())
	}
	r2, err := NewBlobReader(blob, WithChunkSize(1), WithCacheSize(1))
	if err != nil {
		t.Fatal(err)
	}
	if r2.ChunkSize() != MinChunkSize || r2.CacheSize() != 2*MinChunkSize {
		t.Fatalf("clamping: chunk %d cache %d", r2.ChunkSize(), r2.CacheSize())
	}
	r3, err := NewBlobReader(blob, WithChunkSize(100*mib))
	if err != nil {
		t.Fatal(err)
	}
	if r3.ChunkSize() != MaxChunkSize {
		t.Fatalf("chunk size not clamped to max: %d", r3.ChunkSize())
	}
}

func TestBlobReaderRejectsNonBlob(t *testing.T) {
	for _, v := range []js.Value{js.Undefined(), js.Null(), js.ValueOf("str"), js.ValueOf(map[string]any{"size": 3})} {
		if _, err := NewBlobReader(v); !errors.Is(err, ErrNotBlob) {
			t.Errorf("NewBlobReader(%v) = %v, want ErrNotBlob", v, err)
		}
	}
}

func TestBlobReaderJSErrors(t *testing.T) {
	rejecting := jsFn(`return { size: 100, slice(a, b) { return { arrayBuffer() {
		return Promise.reject(new DOMException("file changed", "NotReadableError")); } }; } };`).Invoke()
	r, err := NewBlobReader(rejecting)
	if err != nil {
		t.Fatal(err)
	}
	var jsErr *JSError
	n, err := r.ReadAt(make([]byte, 10), 0)
	if n != 0 || !errors.As(err, &jsErr) || jsErr.Name != "NotReadableError" {
		t.Fatalf("rejected promise: %d, %v", n, err)
	}
	short := jsFn(`return { size: 100, slice(a, b) { return {
		arrayBuffer: async () => new ArrayBuffer(Math.max(0, b - a - 1)) }; } };`).Invoke()
	r2, err := NewBlobReader(short)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrShortRead) {
		t.Fatalf("short read: %v", err)
	}
}

// ArrayBuffer reads the blob's own bytes, in both modes, without the
// cache, and refuses a range past the end or a short answer.
func TestBlobReaderArrayBuffer(t *testing.T) {
	data := randomBytes(3*mib+77, 31)
	bytesOf := func(ab js.Value) []byte {
		b := make([]byte, ab.Get("byteLength").Int())
		js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(ab))
		return b
	}
	check := func(r *BlobReader) {
		t.Helper()
		for _, c := range [][2]int64{{0, 4096}, {mib - 5, 2*mib + 10}, {int64(len(data)) - 77, 77}, {100, 0}} {
			ab, err := r.ArrayBuffer(c[0], c[1])
			if err != nil || !bytes.Equal(bytesOf(ab), data[c[0]:c[0]+c[1]]) {
				t.Fatalf("%v ArrayBuffer(%d, %d): %v", r.Mode(), c[0], c[1], err)
			}
		}
		if _, err := r.ArrayBuffer(int64(len(data))-10, 11); !errors.Is(err, ErrShortRead) {
			t.Fatalf("%v: a range past the end: %v", r.Mode(), err)
		}
		if st := r.Stats(); st.Fetches != 0 || st.CachedChunks != 0 {
			t.Fatalf("%v: ArrayBuffer went through the cache: %+v", r.Mode(), st)
		}
	}
	r, err := NewBlobReader(newNodeBlob(t, data))
	if err != nil {
		t.Fatal(err)
	}
	check(r)
	short := jsFn(`return { size: 100, slice(a, b) { return {
		arrayBuffer: async () => new ArrayBuffer(Math.max(0, b - a - 1)) }; } };`).Invoke()
	r2, err := NewBlobReader(short)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.ArrayBuffer(0, 10); !errors.Is(err, ErrShortRead) {
		t.Fatalf("short answer: %v", err)
	}
	fakeBlob, calls := installFakeFileReaderSync(t)
	rs, err := NewBlobReader(fakeBlob.New(toUint8Array(data)))
	if err != nil {
		t.Fatal(err)
	}
	check(rs)
	if calls() != 4 {
		t.Fatalf("sync mode: %d FileReaderSync reads, want 4", calls())
	}
}

// countingBlob wraps blob so that every slice(a, b) is recorded; it
// returns the wrapper and a function giving the ranges sliced since the
// last call.
func countingBlob(blob js.Value) (js.Value, func() [][2]int64) {
	w := jsFn("blob", `const w = { size: blob.size, calls: [] };
		w.slice = (a, b) => {
			w.calls.push([a, b]);
			if (w.failAt === a) { w.failAt = -1; return { arrayBuffer: () => Promise.reject(new Error('the file changed')) }; }
			return blob.slice(a, b);
		};
		return w;`).Invoke(blob)
	return w, func() [][2]int64 {
		calls := w.Get("calls")
		out := make([][2]int64, calls.Length())
		for i := range out {
			out[i] = [2]int64{int64(calls.Index(i).Index(0).Float()), int64(calls.Index(i).Index(1).Float())}
		}
		w.Set("calls", js.Global().Get("Array").New())
		return out
	}
}

// ArrayBuffer reads that continue each other (of at least a MiB) read the
// next range ahead, and the next read takes it instead of slicing again;
// a read elsewhere drops it, small reads and the disk's end never read
// ahead, and every read returns the blob's bytes.
func TestBlobReaderArrayBufferReadsAhead(t *testing.T) {
	data := randomBytes(8*mib+100, 5)
	blob, sliced := countingBlob(newNodeBlob(t, data))
	r, err := NewBlobReader(blob)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2 * mib
	steps := []struct {
		off, n int64
		want   [][2]int64 // the slices this read made
	}{
		{0, n, [][2]int64{{0, n}}},                                       // the first read: nothing before it
		{n, n, [][2]int64{{n, 2 * n}, {2 * n, 3 * n}}},                   // continues it: reads the next ahead
		{2 * n, n, [][2]int64{{3 * n, 4 * n}}},                           // takes it, reads the next ahead
		{mib, mib, [][2]int64{{mib, 2 * mib}}},                           // elsewhere: the one ahead is dropped
		{3 * n, n, [][2]int64{{3 * n, 4 * n}}},                           // so it is read again; the end is near
		{4 * n, 100, [][2]int64{{4 * n, 4*n + 100}}},                     // small: never ahead
		{0, 4096, [][2]int64{{0, 4096}}},                                 // small
		{4096, 4096, [][2]int64{{4096, 8192}}},                           // small, in order
		{4*n + 100 - mib, mib, [][2]int64{{4*n + 100 - mib, 4*n + 100}}}, // ends at the end
	}
	for i, s := range steps {
		ab, err := r.ArrayBuffer(s.off, s.n)
		if err != nil {
			t.Fatalf("step %d: ArrayBuffer(%d, %d): %v", i, s.off, s.n, err)
		}
		got := make([]byte, s.n)
		js.CopyBytesToGo(got, js.Global().Get("Uint8Array").New(ab))
		if !bytes.Equal(got, data[s.off:s.off+s.n]) {
			t.Fatalf("step %d: ArrayBuffer(%d, %d) returned other bytes", i, s.off, s.n)
		}
		if calls := sliced(); fmt.Sprint(calls) != fmt.Sprint(s.want) {
			t.Fatalf("step %d: ArrayBuffer(%d, %d) sliced %v, want %v", i, s.off, s.n, calls, s.want)
		}
	}
	// A read ahead that fails (the file was changed) is read again by the
	// read that takes it.
	sliced()
	if _, err := r.ArrayBuffer(0, n); err != nil {
		t.Fatal(err)
	}
	// The next slice from 2n fails.
	blob.Set("failAt", 2*n)
	if _, err := r.ArrayBuffer(n, n); err != nil { // reads [2n, 3n) ahead, which fails
		t.Fatal(err)
	}
	ab, err := r.ArrayBuffer(2*n, n)
	if err != nil {
		t.Fatalf("the read after a failed read ahead: %v", err)
	}
	got := make([]byte, n)
	js.CopyBytesToGo(got, js.Global().Get("Uint8Array").New(ab))
	if !bytes.Equal(got, data[2*n:3*n]) {
		t.Fatal("the read after a failed read ahead returned other bytes")
	}
	if calls := sliced(); fmt.Sprint(calls) != fmt.Sprint([][2]int64{{0, n}, {n, 2 * n}, {2 * n, 3 * n}, {2 * n, 3 * n}, {3 * n, 4 * n}}) {
		t.Fatalf("slices around a failed read ahead: %v", calls)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
