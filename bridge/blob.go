//go:build js && wasm

package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall/js"
)

// Mode selects how a BlobReader reads bytes from JS.
type Mode int

const (
	// ModeAuto uses ModeSync when globalThis.FileReaderSync exists (a
	// dedicated worker), else ModeAsync.
	ModeAuto Mode = iota
	// ModeSync reads with FileReaderSync.readAsArrayBuffer(blob.slice(a, b)).
	ModeSync
	// ModeAsync reads with blob.slice(a, b).arrayBuffer() and waits for the
	// promise on a channel. ReadAt must then not be called from inside a
	// js.FuncOf callback (run it in a goroutine).
	ModeAsync
)

func (m Mode) String() string {
	switch m {
	case ModeSync:
		return "sync"
	case ModeAsync:
		return "async"
	}
	return "auto"
}

var (
	// ErrNotBlob is returned by NewBlobReader for a value without a numeric
	// size and a slice method.
	ErrNotBlob = errors.New("bridge: value is not a Blob")
	// ErrNoFileReaderSync is returned when ModeSync is forced but
	// FileReaderSync does not exist (main thread, Node).
	ErrNoFileReaderSync = errors.New("bridge: FileReaderSync is not available")
	// ErrShortRead means JS returned fewer bytes than asked for (the file
	// shrank or changed under us).
	ErrShortRead = errors.New("bridge: blob returned fewer bytes than requested")
)

type blobConfig struct {
	mode      Mode
	chunkSize int64
	cacheSize int64
	readAhead int
}

// Option configures NewBlobReader.
type Option func(*blobConfig)

// WithMode forces a read mode (default ModeAuto).
func WithMode(m Mode) Option { return func(c *blobConfig) { c.mode = m } }

// WithChunkSize sets the cache chunk size, clamped to [MinChunkSize,
// MaxChunkSize] (default DefaultChunkSize).
func WithChunkSize(n int64) Option { return func(c *blobConfig) { c.chunkSize = n } }

// WithCacheSize sets the cache capacity in bytes (default DefaultCacheSize);
// it is rounded down to whole chunks and is at least 2 chunks.
func WithCacheSize(n int64) Option { return func(c *blobConfig) { c.cacheSize = n } }

// WithReadAhead sets how many chunks are fetched ahead on sequential access
// (default 1); n <= 0 disables read-ahead.
func WithReadAhead(n int) Option {
	return func(c *blobConfig) {
		if n <= 0 {
			n = -1
		}
		c.readAhead = n
	}
}

// BlobReader is an io.ReaderAt over a JS Blob or File, with a bounded LRU
// chunk cache. It is safe for concurrent use.
type BlobReader struct {
	blob  js.Value
	mode  Mode
	frs   js.Value // FileReaderSync instance (ModeSync)
	cache *ChunkCache
	ahead readAhead // of ArrayBuffer reads (arraybuffer.go)
}

var _ io.ReaderAt = (*BlobReader)(nil)

// NewBlobReader wraps blob (a Blob, File or anything with size and slice).
func NewBlobReader(blob js.Value, opts ...Option) (_ *BlobReader, err error) {
	defer recoverJS(&err)
	cfg := blobConfig{chunkSize: DefaultChunkSize, cacheSize: DefaultCacheSize}
	for _, o := range opts {
		o(&cfg)
	}
	if blob.Type() != js.TypeObject || blob.Get("size").Type() != js.TypeNumber ||
		blob.Get("slice").Type() != js.TypeFunction {
		return nil, ErrNotBlob
	}
	size := int64(blob.Get("size").Float())
	if size < 0 {
		return nil, ErrNotBlob
	}
	cfg.chunkSize = min(max(cfg.chunkSize, MinChunkSize), MaxChunkSize)
	if cfg.cacheSize <= 0 {
		cfg.cacheSize = DefaultCacheSize
	}
	r := &BlobReader{blob: blob, mode: cfg.mode, ahead: readAhead{lastEnd: -1}}
	hasFRS := js.Global().Get("FileReaderSync").Type() == js.TypeFunction
	switch r.mode {
	case ModeAuto:
		r.mode = ModeAsync
		if hasFRS {
			r.mode = ModeSync
		}
	case ModeSync:
		if !hasFRS {
			return nil, ErrNoFileReaderSync
		}
	case ModeAsync:
	default:
		return nil, fmt.Errorf("bridge: unknown mode %d", cfg.mode)
	}
	fetch := r.fetchAsync
	if r.mode == ModeSync {
		r.frs = js.Global().Get("FileReaderSync").New()
		fetch = r.fetchSync
	}
	r.cache = NewChunkCache(size, fetch, CacheConfig{
		ChunkSize: cfg.chunkSize,
		Capacity:  cfg.cacheSize,
		ReadAhead: cfg.readAhead,
		// A synchronous read blocks the whole wasm thread, so a background
		// goroutine gains nothing; merge read-ahead into the demand fetch.
		BackgroundReadAhead: r.mode == ModeAsync,
	})
	return r, nil
}

// ReadAt implements io.ReaderAt.
func (r *BlobReader) ReadAt(p []byte, off int64) (int, error) { return r.cache.ReadAt(p, off) }

// Size returns the blob size in bytes.
func (r *BlobReader) Size() int64 { return r.cache.Size() }

// Mode returns the resolved read mode (ModeSync or ModeAsync).
func (r *BlobReader) Mode() Mode { return r.mode }

// Blob returns the wrapped JS value.
func (r *BlobReader) Blob() js.Value { return r.blob }

// Stats returns the cache and fetch counters (Fetches = reads issued to JS).
func (r *BlobReader) Stats() Stats { return r.cache.Stats() }

// ResetStats zeroes the counters.
func (r *BlobReader) ResetStats() { r.cache.ResetStats() }

// ChunkSize returns the effective chunk size.
func (r *BlobReader) ChunkSize() int64 { return r.cache.ChunkSize() }

// CacheSize returns the effective cache capacity in bytes.
func (r *BlobReader) CacheSize() int64 { return r.cache.Capacity() }

// Purge drops the cached chunks (e.g. under memory pressure).
func (r *BlobReader) Purge() { r.cache.Purge() }

// Close drops the cache (and a read ahead); later reads return ErrClosed.
func (r *BlobReader) Close() error {
	r.ahead.drop()
	return r.cache.Close()
}

func sumLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

func (r *BlobReader) fetchSync(off int64, bufs ...[]byte) (err error) {
	defer recoverJS(&err)
	n := sumLen(bufs)
	slice := r.blob.Call("slice", float64(off), float64(off+int64(n)))
	return copyArrayBuffer(r.frs.Call("readAsArrayBuffer", slice), bufs, n)
}

func (r *BlobReader) fetchAsync(off int64, bufs ...[]byte) (err error) {
	defer recoverJS(&err)
	n := sumLen(bufs)
	p := r.blob.Call("slice", float64(off), float64(off+int64(n))).Call("arrayBuffer")
	ab, err := AwaitPromise(context.Background(), p)
	if err != nil {
		return err
	}
	return copyArrayBuffer(ab, bufs, n)
}

// copyArrayBuffer copies an ArrayBuffer of exactly n bytes into bufs.
func copyArrayBuffer(ab js.Value, bufs [][]byte, n int) error {
	u8 := js.Global().Get("Uint8Array").New(ab)
	if got := u8.Get("length").Int(); got != n {
		return fmt.Errorf("%w: got %d of %d", ErrShortRead, got, n)
	}
	if len(bufs) == 1 {
		js.CopyBytesToGo(bufs[0], u8)
		return nil
	}
	pos := 0
	for _, b := range bufs {
		js.CopyBytesToGo(b, u8.Call("subarray", pos, pos+len(b)))
		pos += len(b)
	}
	return nil
}
