package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"sync"
	"testing"
	"time"
)

// fakeSource is an in-memory FetchFunc that records every call.
type fakeSource struct {
	data []byte

	mu      sync.Mutex
	calls   [][2]int64 // off, length
	failN   int        // fail this many upcoming fetches
	failErr error
	started chan struct{} // if set, receives once per fetch before gate
	gate    chan struct{} // if set, each fetch waits for it to be closed
}

func newFakeSource(size int, seed int64) *fakeSource {
	data := make([]byte, size)
	rand.New(rand.NewSource(seed)).Read(data)
	return &fakeSource{data: data}
}

func (f *fakeSource) fetch(off int64, bufs ...[]byte) error {
	var n int64
	for _, b := range bufs {
		n += int64(len(b))
	}
	f.mu.Lock()
	f.calls = append(f.calls, [2]int64{off, n})
	fail := f.failN > 0
	if fail {
		f.failN--
	}
	started, gate := f.started, f.gate
	f.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if gate != nil {
		<-gate
	}
	if fail {
		return f.failErr
	}
	if off < 0 || off+n > int64(len(f.data)) {
		return fmt.Errorf("fake: fetch [%d,%d) outside [0,%d)", off, off+n, len(f.data))
	}
	for _, b := range bufs {
		off += int64(copy(b, f.data[off:]))
	}
	return nil
}

func (f *fakeSource) callList() [][2]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][2]int64(nil), f.calls...)
}

// refRead is what an io.ReaderAt over data must return.
func refRead(data []byte, off int64, n int) ([]byte, error) {
	if off >= int64(len(data)) {
		if n == 0 {
			return nil, nil
		}
		return nil, io.EOF
	}
	end := off + int64(n)
	if end > int64(len(data)) {
		return data[off:], io.EOF
	}
	return data[off:end], nil
}

func checkRead(t *testing.T, r io.ReaderAt, data []byte, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	got, err := r.ReadAt(p, off)
	want, wantErr := refRead(data, off, n)
	if got != len(want) || err != wantErr {
		t.Fatalf("ReadAt(len %d, off %d) = %d, %v; want %d, %v", n, off, got, err, len(want), wantErr)
	}
	if !bytes.Equal(p[:got], want) {
		t.Fatalf("ReadAt(len %d, off %d): wrong bytes", n, off)
	}
}

func TestCacheRandomReadsMatchSource(t *testing.T) {
	const cs = 64
	src := newFakeSource(10*cs+37, 1)
	c := NewChunkCache(int64(len(src.data)), src.fetch, CacheConfig{ChunkSize: cs, Capacity: 4 * cs})
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 3000; i++ {
		off := rng.Int63n(int64(len(src.data)) + 50)
		n := rng.Intn(3 * cs)
		checkRead(t, c, src.data, off, n)
	}
	st := c.Stats()
	if st.CachedChunks > 4 {
		t.Errorf("cache holds %d chunks, capacity is 4", st.CachedChunks)
	}
	if st.Hits == 0 || st.Misses == 0 || st.Evictions == 0 {
		t.Errorf("expected hits, misses and evictions, got %+v", st)
	}
	// Chunk fetches are aligned; only bypass reads may start elsewhere.
	unaligned := int64(0)
	for _, call := range src.callList() {
		if call[0]%cs != 0 {
			unaligned++
		}
	}
	if st.Bypassed == 0 || unaligned > st.Bypassed {
		t.Errorf("%d unaligned fetches for %d bypass reads", unaligned, st.Bypassed)
	}
}

func TestCacheEOFSemantics(t *testing.T) {
	src := newFakeSource(1000, 3)
	c := NewChunkCache(1000, src.fetch, CacheConfig{ChunkSize: 128, Capacity: 1024})
	p := make([]byte, 100)
	if n, err := c.ReadAt(p, 1000); n != 0 || err != io.EOF {
		t.Errorf("read at EOF = %d, %v; want 0, EOF", n, err)
	}
	if n, err := c.ReadAt(p, 5000); n != 0 || err != io.EOF {
		t.Errorf("read past EOF = %d, %v; want 0, EOF", n, err)
	}
	n, err := c.ReadAt(p, 950)
	if n != 50 || err != io.EOF || !bytes.Equal(p[:50], src.data[950:]) {
		t.Errorf("partial read = %d, %v; want 50, EOF and the tail bytes", n, err)
	}
	if n, err := c.ReadAt(p, 900); n != 100 || err != nil || !bytes.Equal(p, src.data[900:]) {
		t.Errorf("read ending exactly at EOF = %d, %v; want 100, nil", n, err)
	}
	if n, err := c.ReadAt(nil, 10); n != 0 || err != nil {
		t.Errorf("empty read = %d, %v; want 0, nil", n, err)
	}
}

func TestCacheNegativeOffset(t *testing.T) {
	src := newFakeSource(100, 4)
	c := NewChunkCache(100, src.fetch, CacheConfig{ChunkSize: 16})
	n, err := c.ReadAt(make([]byte, 4), -1)
	if n != 0 || !errors.Is(err, ErrNegativeOffset) {
		t.Fatalf("ReadAt(-1) = %d, %v; want 0, ErrNegativeOffset", n, err)
	}
	if len(src.callList()) != 0 {
		t.Fatal("a negative read reached the source")
	}
}

func TestCacheReadLargerThanCacheBypasses(t *testing.T) {
	const cs = 32
	src := newFakeSource(40*cs+5, 5)
	c := NewChunkCache(int64(len(src.data)), src.fetch, CacheConfig{ChunkSize: cs, Capacity: 4 * cs, MaxPiece: 10 * cs, ReadAhead: -1})
	checkRead(t, c, src.data, 3, 10) // caches chunk 0
	before := c.Stats()
	checkRead(t, c, src.data, 1, len(src.data)) // more than the cache, past EOF
	st := c.Stats()
	if st.Bypassed != 1 {
		t.Errorf("Bypassed = %d, want 1", st.Bypassed)
	}
	// 40*cs+4 bytes in pieces of at most 10*cs: 5 fetches.
	if got := st.Fetches - before.Fetches; got != 5 {
		t.Errorf("bypass used %d fetches, want 5", got)
	}
	if st.CachedChunks != before.CachedChunks || st.Evictions != before.Evictions {
		t.Errorf("bypass read changed the cache: before %+v after %+v", before, st)
	}
	checkRead(t, c, src.data, 0, 8)
	if c.Stats().Hits != before.Hits+1 {
		t.Error("chunk 0 should still be cached after the large read")
	}
}

func TestCacheLRUEvictionOrder(t *testing.T) {
	const cs = 16
	src := newFakeSource(10*cs, 6)
	c := NewChunkCache(int64(len(src.data)), src.fetch, CacheConfig{ChunkSize: cs, Capacity: 3 * cs, ReadAhead: -1})
	read := func(chunk int64) {
		t.Helper()
		checkRead(t, c, src.data, chunk*cs+1, 4)
	}
	read(0)
	read(1)
	read(2)
	read(0) // LRU order now (old→new): 1, 2, 0
	read(3) // evicts 1
	st := c.Stats()
	if st.Misses != 4 || st.Hits != 1 || st.Evictions != 1 || st.CachedChunks != 3 {
		t.Fatalf("after 5 reads: %+v", st)
	}
	read(0)
	read(2)
	read(3)
	if got := c.Stats(); got.Misses != 4 || got.Hits != 4 {
		t.Fatalf("0, 2, 3 should all be cached: %+v", got)
	}
	read(1) // was evicted
	if got := c.Stats(); got.Misses != 5 || got.Evictions != 2 {
		t.Fatalf("1 should have been evicted: %+v", got)
	}
}

func TestCacheMissingRunsFetchedSeparately(t *testing.T) {
	const cs = 16
	src := newFakeSource(8*cs, 7)
	c := NewChunkCache(int64(len(src.data)), src.fetch, CacheConfig{ChunkSize: cs, Capacity: 8 * cs, ReadAhead: -1})
	checkRead(t, c, src.data, cs+2, 3)    // chunk 1
	checkRead(t, c, src.data, 5, 2*cs+10) // chunks 0..2, 1 cached
	calls := src.callList()
	want := [][2]int64{{cs, cs}, {0, cs}, {2 * cs, cs}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("fetches %v, want %v", calls, want)
	}
}

func TestCacheSequentialReadAheadMerged(t *testing.T) {
	const cs = 16
	src := newFakeSource(8*cs, 8)
	c := NewChunkCache(int64(len(src.data)), src.fetch, CacheConfig{ChunkSize: cs, Capacity: 8 * cs})
	for off := int64(0); off < int64(len(src.data)); off += 4 {
		checkRead(t, c, src.data, off, 4)
	}
	st := c.Stats()
	// Chunks are fetched in pairs: a demand miss plus the next chunk.
	if st.Fetches != 4 || st.ReadAheads != 4 || st.FetchedBytes != int64(len(src.data)) {
		t.Fatalf("sequential scan: %+v", st)
	}
	for _, call := range src.callList() {
		if call[1] != 2*cs {
			t.Fatalf("fetch %v is not a merged pair", call)
		}
	}

	// Random access does not read ahead.
	src2 := newFakeSource(8*cs, 9)
	c2 := NewChunkCache(int64(len(src2.data)), src2.fetch, CacheConfig{ChunkSize: cs, Capacity: 8 * cs})
	for _, chunk := range []int64{5, 2, 7, 0 + 4} {
		checkRead(t, c2, src2.data, chunk*cs+3, 5)
	}
	if st := c2.Stats(); st.ReadAheads != 0 || st.Fetches != 4 {
		t.Fatalf("random access: %+v", st)
	}
}

func TestCacheSequentialReadAheadBackground(t *testing.T) {
	const cs = 16
	const chunks = 10
	src := newFakeSource(chunks*cs, 10)
	c := NewChunkCache(int64(len(src.data)), src.fetch, CacheConfig{ChunkSize: cs, Capacity: 4 * cs, BackgroundReadAhead: true})
	for off := int64(0); off < int64(len(src.data)); off += cs {
		checkRead(t, c, src.data, off, cs)
	}
	st := c.Stats()
	if st.Misses != 1 || st.Hits != chunks-1 || st.ReadAheads != chunks-1 || st.Fetches != chunks {
		t.Fatalf("background read-ahead: %+v", st)
	}
	if st.CachedChunks > 4 {
		t.Fatalf("cache over capacity: %+v", st)
	}
}

func TestCacheConcurrentReads(t *testing.T) {
	const cs = 64
	src := newFakeSource(50*cs+11, 11)
	for _, bg := range []bool{false, true} {
		c := NewChunkCache(int64(len(src.data)), src.fetch, CacheConfig{ChunkSize: cs, Capacity: 6 * cs, BackgroundReadAhead: bg})
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(seed int64) {
				defer wg.Done()
				rng := rand.New(rand.NewSource(seed))
				for i := 0; i < 400; i++ {
					var off int64
					if seed%2 == 0 { // half the goroutines scan sequentially
						off = int64(i*37) % int64(len(src.data))
					} else {
						off = rng.Int63n(int64(len(src.data)))
					}
					n := 1 + rng.Intn(2*cs)
					p := make([]byte, n)
					got, err := c.ReadAt(p, off)
					want, wantErr := refRead(src.data, off, n)
					if got != len(want) || err != wantErr || !bytes.Equal(p[:got], want) {
						errs <- fmt.Errorf("goroutine %d: ReadAt(%d, %d) = %d, %v", seed, n, off, got, err)
						return
					}
					if i%16 == 0 {
						runtime.Gosched()
					}
				}
			}(int64(g))
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if st := c.Stats(); st.CachedChunks > 6 {
			t.Errorf("bg=%v: cache over capacity: %+v", bg, st)
		}
	}
}

func TestCacheConcurrentMissFetchesOnce(t *testing.T) {
	const cs = 32
	src := newFakeSource(4*cs, 12)
	src.started = make(chan struct{}, 4)
	src.gate = make(chan struct{})
	c := NewChunkCache(int64(len(src.data)), src.fetch, CacheConfig{ChunkSize: cs, ReadAhead: -1})
	results := make(chan error, 2)
	reader := func() {
		p := make([]byte, 8)
		n, err := c.ReadAt(p, cs+4)
		if err == nil && (n != 8 || !bytes.Equal(p, src.data[cs+4:cs+12])) {
			err = errors.New("wrong data")
		}
		results <- err
	}
	go reader()
	<-src.started // the first reader is inside fetch
	go reader()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Hits == 0 { // the second reader joined the in-flight chunk
		if time.Now().After(deadline) {
			t.Fatal("second reader never joined the in-flight fetch")
		}
		runtime.Gosched()
	}
	close(src.gate)
	for i := 0; i < 2; i++ {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if got := len(src.callList()); got != 1 {
		t.Fatalf("%d fetches for one chunk, want 1", got)
	}
}

func TestCacheFetchErrorIsNotCached(t *testing.T) {
	src := newFakeSource(256, 13)
	boom := errors.New("boom")
	src.failN, src.failErr = 1, boom
	c := NewChunkCache(256, src.fetch, CacheConfig{ChunkSize: 32, ReadAhead: -1})
	p := make([]byte, 10)
	n, err := c.ReadAt(p, 40)
	if n != 0 || !errors.Is(err, boom) {
		t.Fatalf("failing read = %d, %v; want 0 and the fetch error", n, err)
	}
	if st := c.Stats(); st.CachedChunks != 0 {
		t.Fatalf("failed chunk stayed cached: %+v", st)
	}
	checkRead(t, c, src.data, 40, 10)
	if got := len(src.callList()); got != 2 {
		t.Fatalf("%d fetches, want 2 (failure, retry)", got)
	}
}

func TestCacheFetchPanicBecomesError(t *testing.T) {
	c := NewChunkCache(100, func(int64, ...[]byte) error { panic("js exploded") }, CacheConfig{ChunkSize: 16})
	if _, err := c.ReadAt(make([]byte, 4), 0); err == nil {
		t.Fatal("expected an error from a panicking fetch")
	}
}

func TestCacheClose(t *testing.T) {
	src := newFakeSource(64, 14)
	c := NewChunkCache(64, src.fetch, CacheConfig{ChunkSize: 16})
	checkRead(t, c, src.data, 0, 4)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadAt(make([]byte, 4), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after Close: %v, want ErrClosed", err)
	}
	if st := c.Stats(); st.CachedChunks != 0 {
		t.Fatalf("Close kept %d chunks", st.CachedChunks)
	}
}

func TestCacheConfigDefaults(t *testing.T) {
	c := NewChunkCache(10, func(int64, ...[]byte) error { return nil }, CacheConfig{})
	if c.ChunkSize() != DefaultChunkSize || c.Capacity() != DefaultCacheSize || c.Size() != 10 {
		t.Fatalf("defaults: chunk %d capacity %d size %d", c.ChunkSize(), c.Capacity(), c.Size())
	}
	c = NewChunkCache(10, func(int64, ...[]byte) error { return nil }, CacheConfig{ChunkSize: 100, Capacity: 50})
	if c.Capacity() != 200 {
		t.Fatalf("capacity below 2 chunks not raised: %d", c.Capacity())
	}
}
