//go:build js && wasm

package bridge

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/hack-pad/go-indexeddb/idb"
)

// IndexedDB layout. Metadata and bytes live in two object stores keyed by
// the same fingerprint so that List and the LRU bookkeeping never load a
// Blob:
//
//	images: {v, key, name, size, lastModified, headerHash, summary, verify,
//	         userState, openedAt, lastUsed, storedBytes, pinned, hasBlob,
//	         handle?}                              (keyPath "key")
//	blobs:  the Blob/File itself                  (out-of-line key)
const (
	DefaultDBName        = "vhdxview"
	ImagesStore          = "images"
	BlobsStore           = "blobs"
	dbVersion            = 1
	schemaVersion        = 1
	DefaultPerImageLimit = 2 << 30 // largest image whose bytes are stored
	DefaultTotalCap      = 8 << 30 // total stored bytes before LRU eviction
)

var (
	// ErrQuota means the browser refused to store the bytes
	// (QuotaExceededError). The record is kept without bytes.
	ErrQuota = errors.New("bridge: storage quota exceeded")
	// ErrTooLarge means the image is over the per-image limit, or cannot fit
	// under the total cap even after evicting every unpinned image's bytes.
	// The record is kept without bytes.
	ErrTooLarge = errors.New("bridge: image too large to store")
	// ErrNotFound means no (valid) record has that key.
	ErrNotFound = errors.New("bridge: record not found")
	// ErrUnavailable means IndexedDB does not exist in this context.
	ErrUnavailable = errors.New("bridge: IndexedDB is not available")
)

// Record is one remembered image. Fields marked "store-managed" are ignored
// by Put and kept from the stored record.
type Record struct {
	Key          string // fingerprint chosen by the caller
	Name         string
	Size         int64
	LastModified int64  // File.lastModified (ms since the Unix epoch)
	HeaderHash   string // supplied by the caller
	Summary      string // JSON supplied by the caller
	Verify       string // verify report, JSON
	UserState    string // last position, bookmarks…, JSON
	OpenedAt     time.Time
	LastUsed     time.Time
	Pinned       bool // never evicted

	StoredBytes int64 // store-managed: bytes counted against the caps
	HasBlob     bool  // store-managed: bytes are stored in BlobsStore

	// Blob is the stored Blob/File; filled by Get only (undefined in List
	// results). On Put, a truthy Blob is stored with AttachBlob afterwards.
	Blob js.Value
	// Handle is an optional FileSystemFileHandle (structured-cloned).
	Handle js.Value
}

// Usage describes storage use.
type Usage struct {
	Estimated     bool  // navigator.storage.estimate() was available
	Usage, Quota  int64 // from estimate(), bytes for the whole origin
	StoredBytes   int64 // sum of StoredBytes over the records
	Records       int
	WithBytes     int // records whose bytes are stored
	TotalCap      int64
	PerImageLimit int64
}

type storeConfig struct {
	perImage int64
	totalCap int64
	now      func() time.Time
}

// StoreOption configures OpenStore.
type StoreOption func(*storeConfig)

// WithPerImageLimit sets the largest image whose bytes are stored.
func WithPerImageLimit(n int64) StoreOption { return func(c *storeConfig) { c.perImage = n } }

// WithTotalCap sets the total stored bytes allowed before LRU eviction.
func WithTotalCap(n int64) StoreOption { return func(c *storeConfig) { c.totalCap = n } }

// WithClock sets the time source for OpenedAt/LastUsed (tests).
func WithClock(now func() time.Time) StoreOption { return func(c *storeConfig) { c.now = now } }

// Store is the image store. Its methods block the calling goroutine and
// must not be called from inside a js.FuncOf callback.
//
// Transactions are kept short: between the requests of one transaction the
// code only does non-blocking Go work, because IndexedDB commits a
// transaction as soon as control returns to the event loop with no request
// pending.
type Store struct {
	db  *idb.Database
	cfg storeConfig

	// capLock serialises AttachBlob / EnforceCap accounting: a channel
	// with room for one, so that waiting for it (while another image's
	// bytes are copied) ends when the caller's context does.
	capLock chan struct{}

	persistMu    sync.Mutex
	persistAsked bool
	persisted    bool
}

// OpenStore opens (creating or upgrading) the database name
// (DefaultDBName if empty).
func OpenStore(ctx context.Context, name string, opts ...StoreOption) (_ *Store, err error) {
	defer recoverJS(&err)
	cfg := storeConfig{perImage: DefaultPerImageLimit, totalCap: DefaultTotalCap, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if name == "" {
		name = DefaultDBName
	}
	jsFactory := js.Global().Get("indexedDB")
	if !jsFactory.Truthy() || !hasGlobal("IDBRequest") {
		return nil, ErrUnavailable
	}
	factory, err := idb.WrapFactory(jsFactory)
	if err != nil {
		return nil, err
	}
	req, err := factory.Open(ctx, name, dbVersion, upgrade)
	if err != nil {
		return nil, mapErr(err)
	}
	db, err := req.Await(ctx)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // ended first: db is no database (see awaitRequest)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return &Store{db: db, cfg: cfg, capLock: make(chan struct{}, 1)}, nil
}

// upgrade runs inside the upgradeneeded event. go-indexeddb panics on an
// error returned here, so problems are left to surface on first use.
func upgrade(db *idb.Database, oldVersion, _ uint) error {
	if oldVersion < 1 {
		names, _ := db.ObjectStoreNames()
		have := strings.Join(names, "\x00") + "\x00"
		if !strings.Contains(have, ImagesStore+"\x00") {
			_, _ = db.CreateObjectStore(ImagesStore, idb.ObjectStoreOptions{KeyPath: js.ValueOf("key")})
		}
		if !strings.Contains(have, BlobsStore+"\x00") {
			_, _ = db.CreateObjectStore(BlobsStore, idb.ObjectStoreOptions{})
		}
	}
	return nil
}

// Close closes the database connection.
func (s *Store) Close() error { return s.db.Close() }

// Limits returns the per-image limit and the total cap.
func (s *Store) Limits() (perImage, totalCap int64) { return s.cfg.perImage, s.cfg.totalCap }

func mapErr(err error) error {
	if err == nil || errors.Is(err, ErrQuota) {
		return err
	}
	// A JS exception thrown by a call (safejs wraps it as a js.Error in its
	// chain) becomes a *JSError carrying the exception's name.
	var jsErr js.Error
	if errors.As(err, &jsErr) {
		err = jsErrorFrom(jsErr.Value)
	}
	var named *JSError
	if errors.Is(err, idb.NewDOMException("QuotaExceededError")) ||
		(errors.As(err, &named) && named.Name == "QuotaExceededError") {
		return fmt.Errorf("%w: %v", ErrQuota, err)
	}
	return err
}

// txn runs fn in a transaction over stores and waits for it to complete
// (readwrite) or for fn to return (readonly). On an fn error the transaction
// is aborted. fn must not block on anything but the requests it issues.
//
// When ctx ends first, the transaction is aborted at once (a Blob being
// copied into the store stops being copied, and nothing of the
// transaction is kept) and txn returns ctx.Err(); a readwrite transaction
// that completed all the same returns nil. go-indexeddb's Await returns
// no error when its context ends, so fn's requests may seem to have
// succeeded: the context is checked after fn for that reason too.
func (s *Store) txn(ctx context.Context, mode idb.TransactionMode, fn func(*idb.Transaction) error, stores ...string) (err error) {
	defer recoverJS(&err)
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.db.Transaction(mode, stores[0], stores[1:]...)
	if err != nil {
		return mapErr(err)
	}
	// Abort fails (InvalidStateError) once the transaction has finished;
	// that is fine.
	unwatch := context.AfterFunc(ctx, func() { _ = tx.Abort() })
	defer unwatch()
	defer func() {
		if ctx.Err() == nil {
			return
		}
		// Abort now rather than when the AfterFunc gets to run, so that
		// nothing of the transaction goes on once txn has returned.
		_ = tx.Abort()
		// A failure after the context ended is the abort's doing; a
		// readonly result then may be made of requests that never ran.
		if err != nil || mode != idb.TransactionReadWrite {
			err = ctx.Err()
		}
	}()
	if err := fn(tx); err != nil {
		// A request that failed because the transaction aborted reports
		// AbortError; the transaction's own error tells the real cause
		// (e.g. QuotaExceededError).
		if txErr := tx.Err(); txErr != nil && errors.Is(mapErr(txErr), ErrQuota) {
			err = txErr
		}
		_ = tx.Abort() // may already be aborting after a request error
		return mapErr(err)
	}
	if mode == idb.TransactionReadWrite {
		return mapErr(awaitTransaction(ctx, tx))
	}
	return nil
}

// awaitTransaction waits until tx completes or aborts. go-indexeddb's
// Transaction.Await(ctx) can hang when ctx has ended before it is called:
// its select then has two ready cases and may take the one that sends
// nothing (it hung a close that cancelled an image's store). So an ended
// ctx returns at once, and the wait itself is given no context: when ctx
// ends later, txn's AfterFunc aborts tx, and the abort event ends it.
func awaitTransaction(ctx context.Context, tx *idb.Transaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return tx.Await(context.Background())
}

// awaitRequest waits for req. go-indexeddb's Request.Await returns no
// error, and an undefined result, when ctx ends first; this returns
// ctx.Err() then, so that a request that never ran is not taken for one
// that found nothing or stored something.
func awaitRequest(ctx context.Context, req *idb.Request) (js.Value, error) {
	v, err := req.Await(ctx)
	if err == nil && ctx.Err() != nil {
		return js.Undefined(), ctx.Err()
	}
	return v, err
}

func objectStore(tx *idb.Transaction, name string) *idb.ObjectStore {
	st, err := tx.ObjectStore(name)
	if err != nil {
		panic(err) // stores are created by upgrade; recovered by txn
	}
	return st
}

func getValue(ctx context.Context, st *idb.ObjectStore, key string) (js.Value, error) {
	req, err := st.Get(js.ValueOf(key))
	if err != nil {
		return js.Undefined(), err
	}
	return awaitRequest(ctx, req)
}

func putValue(ctx context.Context, st *idb.ObjectStore, v js.Value) error {
	req, err := st.Put(v)
	if err != nil {
		return err
	}
	_, err = awaitRequest(ctx, req)
	return err
}

func deleteKey(ctx context.Context, st *idb.ObjectStore, key js.Value) error {
	req, err := st.Delete(key)
	if err != nil {
		return err
	}
	if err := req.Await(ctx); err != nil {
		return err
	}
	return ctx.Err() // ended first: see awaitRequest
}

// Put stores rec's metadata (and Handle), replacing the caller-controlled
// fields of any existing record while keeping StoredBytes/HasBlob and the
// stored bytes. A zero OpenedAt keeps the stored one (or now); a zero
// LastUsed becomes now. If rec.Blob is truthy it is then stored with
// AttachBlob, whose error (ErrQuota, ErrTooLarge) is returned; the metadata
// is saved either way.
func (s *Store) Put(ctx context.Context, rec Record) error {
	if rec.Key == "" {
		return errors.New("bridge: Put: empty key")
	}
	now := s.cfg.now()
	err := s.txn(ctx, idb.TransactionReadWrite, func(tx *idb.Transaction) error {
		images := objectStore(tx, ImagesStore)
		v, err := getValue(ctx, images, rec.Key)
		if err != nil {
			return err
		}
		rec.StoredBytes, rec.HasBlob = 0, false
		if prev, derr := decodeRecord(v); derr == nil && prev.Key == rec.Key {
			rec.StoredBytes, rec.HasBlob = prev.StoredBytes, prev.HasBlob
			if rec.OpenedAt.IsZero() {
				rec.OpenedAt = prev.OpenedAt
			}
		}
		if rec.OpenedAt.IsZero() {
			rec.OpenedAt = now
		}
		if rec.LastUsed.IsZero() {
			rec.LastUsed = now
		}
		return putValue(ctx, images, encodeRecord(rec))
	}, ImagesStore)
	if err != nil {
		return err
	}
	if rec.Blob.Truthy() {
		return s.AttachBlob(ctx, rec.Key, rec.Blob)
	}
	return nil
}

// Get returns the record with its Blob (if stored). A damaged record is
// deleted and reported as ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (Record, error) {
	var rec Record
	var damaged error
	err := s.txn(ctx, idb.TransactionReadOnly, func(tx *idb.Transaction) error {
		v, err := getValue(ctx, objectStore(tx, ImagesStore), key)
		if err != nil {
			return err
		}
		if v.IsUndefined() {
			return ErrNotFound
		}
		rec, damaged = decodeRecord(v)
		if damaged == nil && rec.Key != key {
			damaged = fmt.Errorf("key %q stored under %q", rec.Key, key)
		}
		if damaged != nil || !rec.HasBlob {
			return nil
		}
		b, err := getValue(ctx, objectStore(tx, BlobsStore), key)
		if err != nil {
			return err
		}
		if isBlob(b) {
			rec.Blob = b
		} else {
			rec.HasBlob, rec.StoredBytes = false, 0 // bytes lost: report none
		}
		return nil
	}, ImagesStore, BlobsStore)
	if err != nil {
		return Record{}, err
	}
	if damaged != nil {
		_ = s.deleteKeys(ctx, js.ValueOf(key))
		return Record{}, fmt.Errorf("%w: damaged record %q dropped: %v", ErrNotFound, key, damaged)
	}
	return rec, nil
}

// List returns every record's metadata (Blob left undefined), most recently
// used first. Damaged records are deleted and skipped.
func (s *Store) List(ctx context.Context) ([]Record, error) {
	var recs []Record
	var damaged []js.Value
	err := s.txn(ctx, idb.TransactionReadOnly, func(tx *idb.Transaction) error {
		req, err := objectStore(tx, ImagesStore).OpenCursor(idb.CursorNext)
		if err != nil {
			return err
		}
		return req.Iter(ctx, func(cur *idb.CursorWithValue) error {
			k, err := cur.Key()
			if err != nil {
				return err
			}
			v, err := cur.Value()
			if err != nil {
				return err
			}
			rec, derr := decodeRecord(v)
			if derr != nil || k.Type() != js.TypeString || rec.Key != k.String() {
				damaged = append(damaged, k)
				return nil
			}
			recs = append(recs, rec)
			return nil
		})
	}, ImagesStore)
	if err != nil {
		return nil, err
	}
	if len(damaged) > 0 {
		if err := s.deleteKeys(ctx, damaged...); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if !recs[i].LastUsed.Equal(recs[j].LastUsed) {
			return recs[i].LastUsed.After(recs[j].LastUsed)
		}
		return recs[i].Key < recs[j].Key
	})
	return recs, nil
}

// Update applies fn to the stored record in one readwrite transaction.
// fn must not block (no I/O, no channel waits): the transaction is open
// while it runs. Key, StoredBytes, HasBlob and Blob changes are ignored.
func (s *Store) Update(ctx context.Context, key string, fn func(*Record) error) error {
	var damaged error
	err := s.txn(ctx, idb.TransactionReadWrite, func(tx *idb.Transaction) error {
		images := objectStore(tx, ImagesStore)
		v, err := getValue(ctx, images, key)
		if err != nil {
			return err
		}
		if v.IsUndefined() {
			return ErrNotFound
		}
		rec, derr := decodeRecord(v)
		if derr == nil && rec.Key != key {
			derr = fmt.Errorf("key %q stored under %q", rec.Key, key)
		}
		if derr != nil {
			damaged = derr
			if err := deleteKey(ctx, images, js.ValueOf(key)); err != nil {
				return err
			}
			return deleteKey(ctx, objectStore(tx, BlobsStore), js.ValueOf(key))
		}
		keep := rec
		if err := fn(&rec); err != nil {
			return err
		}
		rec.Key, rec.StoredBytes, rec.HasBlob = keep.Key, keep.StoredBytes, keep.HasBlob
		return putValue(ctx, images, encodeRecord(rec))
	}, ImagesStore, BlobsStore)
	if err != nil {
		return err
	}
	if damaged != nil {
		return fmt.Errorf("%w: damaged record %q dropped: %v", ErrNotFound, key, damaged)
	}
	return nil
}

// Touch sets LastUsed to now.
func (s *Store) Touch(ctx context.Context, key string) error {
	now := s.cfg.now()
	return s.Update(ctx, key, func(r *Record) error {
		r.LastUsed = now
		return nil
	})
}

// SetPinned pins (never evicted) or unpins a record.
func (s *Store) SetPinned(ctx context.Context, key string, pinned bool) error {
	return s.Update(ctx, key, func(r *Record) error {
		r.Pinned = pinned
		return nil
	})
}

// Delete removes a record and its bytes. A missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.deleteKeys(ctx, js.ValueOf(key))
}

func (s *Store) deleteKeys(ctx context.Context, keys ...js.Value) error {
	return s.txn(ctx, idb.TransactionReadWrite, func(tx *idb.Transaction) error {
		images, blobs := objectStore(tx, ImagesStore), objectStore(tx, BlobsStore)
		for _, k := range keys {
			if err := deleteKey(ctx, images, k); err != nil {
				return err
			}
			if err := deleteKey(ctx, blobs, k); err != nil {
				return err
			}
		}
		return nil
	}, ImagesStore, BlobsStore)
}

// Clear removes every record.
func (s *Store) Clear(ctx context.Context) error {
	return s.txn(ctx, idb.TransactionReadWrite, func(tx *idb.Transaction) error {
		for _, name := range []string{ImagesStore, BlobsStore} {
			req, err := objectStore(tx, name).Clear()
			if err != nil {
				return err
			}
			if err := req.Await(ctx); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil { // ended first: see awaitRequest
				return err
			}
		}
		return nil
	}, ImagesStore, BlobsStore)
}

// AttachBlob stores blob (a Blob or File, structured-cloned by the browser)
// as the bytes of the existing record key, first evicting the bytes of least
// recently used unpinned records if the total cap would be exceeded. It
// returns ErrTooLarge (over the per-image limit and not pinned, or more
// than the total cap) or ErrQuota (errors.Is) leaving the record without
// bytes, and ErrNotFound if there is no record.
func (s *Store) AttachBlob(ctx context.Context, key string, blob js.Value) (err error) {
	defer recoverJS(&err)
	if !isBlob(blob) {
		return ErrNotBlob
	}
	size := int64(blob.Get("size").Float())
	// A pinned image is stored whatever its size (the user asked for it);
	// only the quota can refuse it then.
	pinned := false
	if rec, err := s.Get(ctx, key); err == nil {
		pinned = rec.Pinned
	}
	if err := s.lockCap(ctx); err != nil {
		return err
	}
	defer s.unlockCap()
	if size > s.cfg.perImage && !pinned {
		return fmt.Errorf("%w: %d bytes, limit %d per image", ErrTooLarge, size, s.cfg.perImage)
	}
	if _, err := s.makeRoom(ctx, key, size); err != nil {
		return err
	}
	return s.txn(ctx, idb.TransactionReadWrite, func(tx *idb.Transaction) error {
		images := objectStore(tx, ImagesStore)
		v, err := getValue(ctx, images, key)
		if err != nil {
			return err
		}
		if v.IsUndefined() {
			return ErrNotFound
		}
		rec, derr := decodeRecord(v)
		if derr != nil || rec.Key != key {
			return fmt.Errorf("%w: damaged record %q", ErrNotFound, key)
		}
		req, err := objectStore(tx, BlobsStore).PutKey(js.ValueOf(key), blob)
		if err != nil {
			return err
		}
		if _, err := awaitRequest(ctx, req); err != nil {
			return err
		}
		rec.StoredBytes, rec.HasBlob = size, true
		return putValue(ctx, images, encodeRecord(rec))
	}, ImagesStore, BlobsStore)
}

// EvictBlob drops a record's bytes, keeping its metadata.
func (s *Store) EvictBlob(ctx context.Context, key string) error {
	return s.txn(ctx, idb.TransactionReadWrite, func(tx *idb.Transaction) error {
		if err := deleteKey(ctx, objectStore(tx, BlobsStore), js.ValueOf(key)); err != nil {
			return err
		}
		images := objectStore(tx, ImagesStore)
		v, err := getValue(ctx, images, key)
		if err != nil {
			return err
		}
		rec, derr := decodeRecord(v)
		if v.IsUndefined() || derr != nil {
			return nil
		}
		rec.StoredBytes, rec.HasBlob = 0, false
		return putValue(ctx, images, encodeRecord(rec))
	}, ImagesStore, BlobsStore)
}

// EnforceCap evicts least recently used unpinned bytes until the total is
// within the cap, returning the evicted keys.
func (s *Store) EnforceCap(ctx context.Context) ([]string, error) {
	if err := s.lockCap(ctx); err != nil {
		return nil, err
	}
	defer s.unlockCap()
	return s.makeRoom(ctx, "", 0)
}

// lockCap takes capLock, or returns ctx.Err() if ctx ends first.
func (s *Store) lockCap(ctx context.Context) error {
	select {
	case s.capLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlockCap() { <-s.capLock }

// makeRoom evicts bytes of LRU unpinned records (other than exclude) until
// total+need fits under the cap.
func (s *Store) makeRoom(ctx context.Context, exclude string, need int64) ([]string, error) {
	recs, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var total int64
	var victims []Record
	for _, r := range recs {
		if r.Key == exclude {
			continue // its bytes are about to be replaced
		}
		total += r.StoredBytes
		if r.HasBlob && !r.Pinned {
			victims = append(victims, r)
		}
	}
	if total+need <= s.cfg.totalCap {
		return nil, nil
	}
	// recs is most recent first: evict from the end.
	var evicted []string
	for i := len(victims) - 1; i >= 0 && total+need > s.cfg.totalCap; i-- {
		if err := s.EvictBlob(ctx, victims[i].Key); err != nil {
			return evicted, err
		}
		evicted = append(evicted, victims[i].Key)
		total -= victims[i].StoredBytes
	}
	if total+need > s.cfg.totalCap {
		return evicted, fmt.Errorf("%w: %d bytes do not fit under the %d-byte cap (%d pinned or in use)",
			ErrTooLarge, need, s.cfg.totalCap, total)
	}
	return evicted, nil
}

// Usage reports navigator.storage.estimate() (when available) and the
// store's own totals.
func (s *Store) Usage(ctx context.Context) (u Usage, err error) {
	recs, err := s.List(ctx)
	if err != nil {
		return Usage{}, err
	}
	u.Records, u.TotalCap, u.PerImageLimit = len(recs), s.cfg.totalCap, s.cfg.perImage
	for _, r := range recs {
		u.StoredBytes += r.StoredBytes
		if r.HasBlob {
			u.WithBytes++
		}
	}
	defer recoverJS(&err)
	sm := storageManager()
	if !sm.Truthy() || sm.Get("estimate").Type() != js.TypeFunction {
		return u, nil
	}
	est, err := AwaitPromise(ctx, sm.Call("estimate"))
	if err != nil {
		return u, err
	}
	if est.Type() == js.TypeObject {
		u.Estimated = true
		if v := est.Get("usage"); v.Type() == js.TypeNumber {
			u.Usage = int64(v.Float())
		}
		if v := est.Get("quota"); v.Type() == js.TypeNumber {
			u.Quota = int64(v.Float())
		}
	}
	return u, nil
}

// Persist asks for persistent storage (navigator.storage.persist()) once
// per Store; later calls return the first answer. Without the API it
// returns false, nil.
func (s *Store) Persist(ctx context.Context) (granted bool, err error) {
	s.persistMu.Lock()
	defer s.persistMu.Unlock()
	if s.persistAsked {
		return s.persisted, nil
	}
	defer recoverJS(&err)
	sm := storageManager()
	if !sm.Truthy() || sm.Get("persist").Type() != js.TypeFunction {
		s.persistAsked = true
		return false, nil
	}
	v, err := AwaitPromise(ctx, sm.Call("persist"))
	if err != nil {
		return false, err
	}
	s.persistAsked = true
	s.persisted = v.Type() == js.TypeBoolean && v.Bool()
	return s.persisted, nil
}

func storageManager() js.Value {
	nav := js.Global().Get("navigator")
	if !nav.Truthy() {
		return js.Undefined()
	}
	return nav.Get("storage")
}

func isBlob(v js.Value) bool {
	if v.Type() != js.TypeObject {
		return false
	}
	if b := js.Global().Get("Blob"); b.Type() == js.TypeFunction {
		return v.InstanceOf(b)
	}
	return v.Get("size").Type() == js.TypeNumber && v.Get("slice").Type() == js.TypeFunction
}

// msOf encodes a time as ms since the Unix epoch, the zero time as 0.
func msOf(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli())
}

func encodeRecord(r Record) js.Value {
	o := js.Global().Get("Object").New()
	o.Set("v", schemaVersion)
	o.Set("key", r.Key)
	o.Set("name", r.Name)
	o.Set("size", float64(r.Size))
	o.Set("lastModified", float64(r.LastModified))
	o.Set("headerHash", r.HeaderHash)
	o.Set("summary", r.Summary)
	o.Set("verify", r.Verify)
	o.Set("userState", r.UserState)
	o.Set("openedAt", msOf(r.OpenedAt))
	o.Set("lastUsed", msOf(r.LastUsed))
	o.Set("storedBytes", float64(r.StoredBytes))
	o.Set("pinned", r.Pinned)
	o.Set("hasBlob", r.HasBlob)
	if r.Handle.Type() == js.TypeObject {
		o.Set("handle", r.Handle)
	}
	return o
}

type fieldReader struct {
	v   js.Value
	err error
}

func (f *fieldReader) get(name string, want js.Type, required bool) js.Value {
	if f.err != nil {
		return js.Undefined()
	}
	x := f.v.Get(name)
	if x.Type() == want {
		return x
	}
	if !required && (x.IsUndefined() || x.IsNull()) {
		return js.Undefined()
	}
	f.err = fmt.Errorf("field %q is %v, want %v", name, x.Type(), want)
	return js.Undefined()
}

func (f *fieldReader) str(name string, required bool) string {
	if x := f.get(name, js.TypeString, required); x.Type() == js.TypeString {
		return x.String()
	}
	return ""
}

func (f *fieldReader) num(name string, required bool) float64 {
	if x := f.get(name, js.TypeNumber, required); x.Type() == js.TypeNumber {
		return x.Float()
	}
	return 0
}

func (f *fieldReader) boolean(name string) bool {
	if x := f.get(name, js.TypeBoolean, false); x.Type() == js.TypeBoolean {
		return x.Bool()
	}
	return false
}

func (f *fieldReader) ms(name string) time.Time {
	n := f.num(name, true)
	if f.err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(n))
}

// decodeRecord validates a stored metadata value; any error means the record
// is damaged.
func decodeRecord(v js.Value) (rec Record, err error) {
	defer recoverJS(&err)
	if v.Type() != js.TypeObject {
		return Record{}, fmt.Errorf("record is %v, want object", v.Type())
	}
	f := &fieldReader{v: v}
	if ver := f.num("v", true); f.err == nil && ver < 1 {
		return Record{}, fmt.Errorf("bad schema version %v", ver)
	}
	rec = Record{
		Key:          f.str("key", true),
		Name:         f.str("name", true),
		Size:         int64(f.num("size", true)),
		LastModified: int64(f.num("lastModified", false)),
		HeaderHash:   f.str("headerHash", false),
		Summary:      f.str("summary", false),
		Verify:       f.str("verify", false),
		UserState:    f.str("userState", false),
		OpenedAt:     f.ms("openedAt"),
		LastUsed:     f.ms("lastUsed"),
		StoredBytes:  int64(f.num("storedBytes", false)),
		Pinned:       f.boolean("pinned"),
		HasBlob:      f.boolean("hasBlob"),
		Blob:         js.Undefined(),
		Handle:       f.get("handle", js.TypeObject, false),
	}
	if f.err != nil {
		return Record{}, f.err
	}
	if rec.Key == "" || rec.Size < 0 || rec.StoredBytes < 0 {
		return Record{}, errors.New("empty key or negative size")
	}
	return rec, nil
}
