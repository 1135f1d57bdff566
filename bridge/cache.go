package bridge

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Chunk-cache sizing. The blob reader clamps its chunk size to
// [MinChunkSize, MaxChunkSize]; ChunkCache itself accepts any positive size
// so that it can be tested with tiny chunks.
const (
	MinChunkSize     = 1 << 20
	MaxChunkSize     = 8 << 20
	DefaultChunkSize = 1 << 20
	DefaultCacheSize = 32 << 20
	// DefaultMaxPiece is the largest single fetch issued for a read that
	// bypasses the cache.
	DefaultMaxPiece = 8 << 20
)

var (
	// ErrNegativeOffset is returned by ReadAt for off < 0.
	ErrNegativeOffset = errors.New("bridge: negative offset")
	// ErrClosed is returned by ReadAt after Close.
	ErrClosed = errors.New("bridge: reader is closed")
)

// FetchFunc fills bufs, in order, with the source bytes starting at off:
// bufs[0] gets [off, off+len(bufs[0])), bufs[1] the bytes right after, and so
// on. The cache only asks for ranges inside [0, size). A short source must be
// reported as an error. FetchFunc may block; it is called without any lock
// held and possibly from several goroutines at once.
type FetchFunc func(off int64, bufs ...[]byte) error

// CacheConfig configures a ChunkCache. The zero value gives the defaults.
type CacheConfig struct {
	// ChunkSize is the aligned unit of caching (default DefaultChunkSize).
	ChunkSize int64
	// Capacity bounds the cached bytes (default DefaultCacheSize). It is
	// raised to at least 2 chunks.
	Capacity int64
	// ReadAhead is the number of chunks fetched ahead when access is
	// sequential: 0 means 1, a negative value disables read-ahead.
	ReadAhead int
	// BackgroundReadAhead fetches read-ahead chunks from a new goroutine
	// so that they load while the caller works (good for an asynchronous
	// source). When false, read-ahead chunks are only fetched together with
	// a demand miss, in the same fetch call (good for a synchronous source,
	// where it halves the number of calls).
	BackgroundReadAhead bool
	// MaxPiece bounds one fetch of a read that bypasses the cache
	// (default DefaultMaxPiece).
	MaxPiece int64
}

// Stats are cumulative counters of a ChunkCache (or BlobReader).
type Stats struct {
	Reads        int64 // ReadAt calls
	Fetches      int64 // calls to the FetchFunc (reads issued to JS)
	FetchedBytes int64 // bytes returned by successful fetches
	Hits         int64 // chunk look-ups found cached or already in flight
	Misses       int64 // chunk look-ups that had to be fetched on demand
	ReadAheads   int64 // chunks requested speculatively
	Bypassed     int64 // ReadAt calls too large for the cache, read directly
	Evictions    int64 // chunks dropped to respect the capacity
	CachedChunks int   // chunks currently held (including in-flight ones)
}

type chunk struct {
	idx   int64
	data  []byte
	err   error
	ready chan struct{} // closed once data or err is set
	elem  *list.Element
}

func (c *chunk) loaded() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// ChunkCache is an io.ReaderAt over a FetchFunc with a bounded LRU cache of
// aligned chunks, sequential read-ahead and de-duplication of concurrent
// fetches of the same chunk. It is safe for concurrent use.
type ChunkCache struct {
	size      int64
	fetch     FetchFunc
	cs        int64
	maxChunks int
	readAhead int
	bgAhead   bool
	maxPiece  int64

	mu        sync.Mutex
	chunks    map[int64]*chunk
	lru       list.List // front = most recently used
	lastChunk int64     // last chunk touched by the previous ReadAt
	lastEnd   int64     // end offset of the previous ReadAt
	stats     Stats
	closed    bool
}

// NewChunkCache returns a cache over a source of size bytes.
func NewChunkCache(size int64, fetch FetchFunc, cfg CacheConfig) *ChunkCache {
	if size < 0 {
		size = 0
	}
	cs := cfg.ChunkSize
	if cs <= 0 {
		cs = DefaultChunkSize
	}
	capacity := cfg.Capacity
	if capacity <= 0 {
		capacity = DefaultCacheSize
	}
	maxChunks := capacity / cs
	if maxChunks < 2 {
		maxChunks = 2
	}
	ra := cfg.ReadAhead
	if ra == 0 {
		ra = 1
	} else if ra < 0 {
		ra = 0
	}
	if int64(ra) > maxChunks/2 {
		ra = int(maxChunks / 2)
	}
	mp := cfg.MaxPiece
	if mp <= 0 {
		mp = DefaultMaxPiece
	}
	return &ChunkCache{
		size:      size,
		fetch:     fetch,
		cs:        cs,
		maxChunks: int(maxChunks),
		readAhead: ra,
		bgAhead:   cfg.BackgroundReadAhead,
		maxPiece:  mp,
		chunks:    make(map[int64]*chunk),
		lastChunk: -1,
		lastEnd:   -1,
	}
}

// Size returns the size of the source in bytes.
func (c *ChunkCache) Size() int64 { return c.size }

// ChunkSize returns the chunk size in bytes.
func (c *ChunkCache) ChunkSize() int64 { return c.cs }

// Capacity returns the cache capacity in bytes (a whole number of chunks).
func (c *ChunkCache) Capacity() int64 { return int64(c.maxChunks) * c.cs }

// Stats returns a snapshot of the counters.
func (c *ChunkCache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.CachedChunks = len(c.chunks)
	return s
}

// ResetStats zeroes the counters (the cached data is kept).
func (c *ChunkCache) ResetStats() {
	c.mu.Lock()
	c.stats = Stats{}
	c.mu.Unlock()
}

// Purge drops every cached chunk. Fetches in flight complete normally but
// their data is not kept.
func (c *ChunkCache) Purge() {
	c.mu.Lock()
	c.purgeLocked()
	c.mu.Unlock()
}

func (c *ChunkCache) purgeLocked() {
	c.chunks = make(map[int64]*chunk)
	c.lru.Init()
	c.lastChunk, c.lastEnd = -1, -1
}

// Close drops the cache; later reads return ErrClosed.
func (c *ChunkCache) Close() error {
	c.mu.Lock()
	c.closed = true
	c.purgeLocked()
	c.mu.Unlock()
	return nil
}

func (c *ChunkCache) chunkLen(idx int64) int64 {
	start := idx * c.cs
	if start+c.cs > c.size {
		return c.size - start
	}
	return c.cs
}

func (c *ChunkCache) numChunks() int64 {
	return (c.size + c.cs - 1) / c.cs
}

// ReadAt implements io.ReaderAt. A read that reaches past the end returns
// the available bytes and io.EOF.
func (c *ChunkCache) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, ErrNegativeOffset
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= c.size {
		return 0, io.EOF
	}
	var eof error
	if rem := c.size - off; int64(len(p)) > rem {
		p = p[:rem]
		eof = io.EOF
	}
	n := int64(len(p))
	first := off / c.cs
	last := (off + n - 1) / c.cs
	if span := last - first + 1; span > int64(c.maxChunks/2) && span > 1 {
		return c.readDirect(p, off, first, last, eof)
	}

	c.mu.Lock()
	c.stats.Reads++
	needed := make([]*chunk, 0, last-first+1)
	var demand []*chunk
	for idx := first; idx <= last; idx++ {
		ch, ok := c.chunks[idx]
		if ok {
			c.stats.Hits++
			c.lru.MoveToFront(ch.elem)
		} else {
			ch = c.addLocked(idx)
			c.stats.Misses++
			demand = append(demand, ch)
		}
		needed = append(needed, ch)
	}
	var ahead []*chunk
	sequential := first == c.lastChunk+1 || off == c.lastEnd
	lastMissed := len(demand) > 0 && demand[len(demand)-1].idx == last
	if sequential && c.readAhead > 0 && (c.bgAhead || lastMissed) {
		for i := int64(1); i <= int64(c.readAhead); i++ {
			idx := last + i
			if idx >= c.numChunks() {
				break
			}
			if _, ok := c.chunks[idx]; ok {
				if !c.bgAhead {
					break // keep the merged fetch contiguous
				}
				continue
			}
			ch := c.addLocked(idx)
			c.stats.ReadAheads++
			if c.bgAhead {
				ahead = append(ahead, ch)
			} else {
				demand = append(demand, ch)
			}
		}
	}
	c.lastChunk = last
	c.lastEnd = off + n
	c.evictLocked()
	c.mu.Unlock()

	// Every chunk created above must be resolved by a load, even when an
	// earlier load failed, or its waiters would hang.
	for _, run := range contiguousRuns(demand) {
		c.load(run)
	}
	for _, run := range contiguousRuns(ahead) {
		go c.load(run)
	}

	copied := 0
	for _, ch := range needed {
		<-ch.ready
		if ch.err != nil {
			return copied, ch.err
		}
		start := off + int64(copied) - ch.idx*c.cs
		copied += copy(p[copied:], ch.data[start:])
	}
	return copied, eof
}

// readDirect serves a read that is too large for the cache straight from the
// source, in pieces of at most maxPiece bytes, without touching the cache.
func (c *ChunkCache) readDirect(p []byte, off, first, last int64, eof error) (int, error) {
	c.mu.Lock()
	c.stats.Reads++
	c.stats.Bypassed++
	c.lastChunk = last
	c.lastEnd = off + int64(len(p))
	c.mu.Unlock()
	done := 0
	for done < len(p) {
		piece := len(p) - done
		if int64(piece) > c.maxPiece {
			piece = int(c.maxPiece)
		}
		err := c.safeFetch(off+int64(done), p[done:done+piece])
		c.mu.Lock()
		c.stats.Fetches++
		if err == nil {
			c.stats.FetchedBytes += int64(piece)
		}
		c.mu.Unlock()
		if err != nil {
			return done, err
		}
		done += piece
	}
	return done, eof
}

// addLocked registers a new, not yet loaded chunk at the LRU front.
func (c *ChunkCache) addLocked(idx int64) *chunk {
	ch := &chunk{idx: idx, ready: make(chan struct{})}
	ch.elem = c.lru.PushFront(ch)
	c.chunks[idx] = ch
	return ch
}

func (c *ChunkCache) removeLocked(ch *chunk) {
	if cur, ok := c.chunks[ch.idx]; ok && cur == ch {
		delete(c.chunks, ch.idx)
		c.lru.Remove(ch.elem)
	}
}

// evictLocked drops least recently used loaded chunks until the cache fits.
// Chunks still loading are never evicted (they are about to be used).
func (c *ChunkCache) evictLocked() {
	e := c.lru.Back()
	for c.lru.Len() > c.maxChunks && e != nil {
		prev := e.Prev()
		ch := e.Value.(*chunk)
		if ch.loaded() {
			c.removeLocked(ch)
			c.stats.Evictions++
		}
		e = prev
	}
}

func (c *ChunkCache) safeFetch(off int64, bufs ...[]byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bridge: fetch panicked: %v", r)
		}
	}()
	return c.fetch(off, bufs...)
}

// load fetches a run of consecutive chunks with one fetch call and resolves
// them.
func (c *ChunkCache) load(run []*chunk) {
	bufs := make([][]byte, len(run))
	var total int64
	for i, ch := range run {
		bufs[i] = make([]byte, c.chunkLen(ch.idx))
		total += int64(len(bufs[i]))
	}
	start := run[0].idx * c.cs
	err := c.safeFetch(start, bufs...)
	if err != nil {
		err = fmt.Errorf("bridge: read [%d,%d): %w", start, start+total, err)
	}
	c.mu.Lock()
	c.stats.Fetches++
	if err == nil {
		c.stats.FetchedBytes += total
	}
	for i, ch := range run {
		if err != nil {
			ch.err = err
			c.removeLocked(ch) // let a later read retry
		} else {
			ch.data = bufs[i]
		}
		close(ch.ready)
	}
	c.evictLocked()
	c.mu.Unlock()
}

// contiguousRuns splits chunks (in ascending index order) into runs of
// consecutive indexes.
func contiguousRuns(chs []*chunk) [][]*chunk {
	var runs [][]*chunk
	for i := 0; i < len(chs); {
		j := i + 1
		for j < len(chs) && chs[j].idx == chs[j-1].idx+1 {
			j++
		}
		runs = append(runs, chs[i:j])
		i = j
	}
	return runs
}
