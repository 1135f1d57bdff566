//go:build js && wasm

package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/vhdxview/vhdxview/internal/idbtest"
	"os"
	"sort"
	"sync"
	"syscall/js"
	"testing"
	"time"
)

var dbCounter int

// openTestStore opens a fresh database. Without a global indexedDB (Node
// without fake-indexeddb) the test is skipped, or fails when
// BRIDGE_REQUIRE_IDB is set (bridge/test.sh sets it).
func openTestStore(t *testing.T, opts ...StoreOption) (*Store, string) {
	t.Helper()
	if !js.Global().Get("indexedDB").Truthy() {
		if os.Getenv("BRIDGE_REQUIRE_IDB") != "" {
			t.Fatal("no global indexedDB: fake-indexeddb was not loaded (see bridge/test.sh)")
		}
		t.Skip("no global indexedDB; run bridge/test.sh to load fake-indexeddb")
	}
	dbCounter++
	name := fmt.Sprintf("vhdxview-test-%d-%s", dbCounter, t.Name())
	s, err := OpenStore(context.Background(), name, opts...)
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, name
}

// fakeClock advances one second per call.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func keysOf(recs []Record) []string {
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	return keys
}

func mustList(t *testing.T, s *Store) []Record {
	t.Helper()
	recs, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return recs
}

func mustGet(t *testing.T, s *Store, key string) Record {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return r
}

func blobBytes(t *testing.T, blob js.Value) []byte {
	t.Helper()
	r, err := NewBlobReader(blob, WithMode(ModeAsync))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, r.Size())
	if n, err := r.ReadAt(p, 0); err != nil || n != len(p) {
		t.Fatalf("reading stored blob: %d, %v", n, err)
	}
	return p
}

// rawIDB runs a JS function (dbName) => Promise against a second connection.
func rawIDB(t *testing.T, dbName, body string) js.Value {
	t.Helper()
	fn := jsFn("dbName", `return new Promise((resolve, reject) => {
		const r = indexedDB.open(dbName);
		r.onerror = () => reject(r.error);
		r.onsuccess = () => {
			const db = r.result;
			const done = (v) => { db.close(); resolve(v); };
			const fail = (e) => { db.close(); reject(e); };
			try { (function(db, done, fail) { `+body+` })(db, done, fail); } catch (e) { fail(e); }
		};
	});`)
	v, err := AwaitPromise(context.Background(), fn.Invoke(dbName))
	if err != nil {
		t.Fatalf("raw IndexedDB access: %v", err)
	}
	return v
}

func rawCount(t *testing.T, dbName, store string) int {
	t.Helper()
	return rawIDB(t, dbName, `const tx = db.transaction("`+store+`");
		const q = tx.objectStore("`+store+`").count();
		q.onsuccess = () => done(q.result); q.onerror = () => fail(q.error);`).Int()
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	s, name := openTestStore(t, WithClock(clock.now))
	a := Record{
		Key: "fp-a", Name: "a.vhdx", Size: 1 << 30, LastModified: 1_690_000_000_123,
		HeaderHash: "sha256:aaaa", Summary: `{"disk":"dynamic"}`, Verify: `{"ok":true}`,
		UserState: `{"pos":5}`,
	}
	if err := s.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, "fp-a")
	if got.Name != a.Name || got.Size != a.Size || got.LastModified != a.LastModified ||
		got.HeaderHash != a.HeaderHash || got.Summary != a.Summary || got.Verify != a.Verify ||
		got.UserState != a.UserState || got.Pinned || got.HasBlob || got.StoredBytes != 0 ||
		got.Blob.Truthy() || got.Handle.Truthy() {
		t.Fatalf("round trip mismatch: %+v", got)
	}
	if got.OpenedAt.IsZero() || !got.OpenedAt.Equal(got.LastUsed) {
		t.Fatalf("timestamps not set: opened %v used %v", got.OpenedAt, got.LastUsed)
	}
	openedA := got.OpenedAt

	if err := s.Put(ctx, Record{Key: "fp-b", Name: "b.vhdx", Size: 10}); err != nil {
		t.Fatal(err)
	}
	if keys := fmt.Sprint(keysOf(mustList(t, s))); keys != "[fp-b fp-a]" {
		t.Fatalf("List order %s, want most recently used first", keys)
	}
	if err := s.Touch(ctx, "fp-a"); err != nil {
		t.Fatal(err)
	}
	if keys := fmt.Sprint(keysOf(mustList(t, s))); keys != "[fp-a fp-b]" {
		t.Fatalf("List order after Touch %s", keys)
	}
	if err := s.Update(ctx, "fp-a", func(r *Record) error {
		r.UserState = `{"pos":9,"bookmarks":[1]}`
		r.StoredBytes = 999 // store-managed: ignored
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Re-Put with zero OpenedAt keeps the original one.
	a.Verify = `{"ok":false}`
	if err := s.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	got = mustGet(t, s, "fp-a")
	if got.UserState != `{"pos":5}` || got.Verify != `{"ok":false}` || got.StoredBytes != 0 || !got.OpenedAt.Equal(openedA) {
		t.Fatalf("after Update+Put: %+v", got)
	}
	if err := s.Update(ctx, "fp-a", func(r *Record) error { r.UserState = "x"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "fp-a"); got.UserState != "x" {
		t.Fatalf("Update lost: %q", got.UserState)
	}
	wantErr := errors.New("stop")
	if err := s.Update(ctx, "fp-a", func(r *Record) error { r.UserState = "y"; return wantErr }); !errors.Is(err, wantErr) {
		t.Fatalf("Update fn error: %v", err)
	}
	if got := mustGet(t, s, "fp-a"); got.UserState != "x" {
		t.Fatalf("failed Update was committed: %q", got.UserState)
	}
	if err := s.Update(ctx, "nope", func(*Record) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update missing: %v", err)
	}
	if err := s.Put(ctx, Record{}); err == nil {
		t.Fatal("Put with empty key succeeded")
	}

	// Records survive reopening the database.
	s.Close()
	s2, err := OpenStore(ctx, name, WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if keys := fmt.Sprint(keysOf(mustList(t, s2))); keys != "[fp-a fp-b]" {
		t.Fatalf("after reopen: %s", keys)
	}
	if err := s2.Delete(ctx, "fp-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get(ctx, "fp-b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get deleted: %v", err)
	}
	if err := s2.Delete(ctx, "fp-b"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if keys := fmt.Sprint(keysOf(mustList(t, s2))); keys != "[fp-a]" {
		t.Fatalf("after Delete: %s", keys)
	}
	if err := s2.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(mustList(t, s2)); n != 0 {
		t.Fatalf("%d records after Clear", n)
	}
}

func TestStoreBlobRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, name := openTestStore(t, WithClock(newFakeClock().now))
	data := randomBytes(3000, 31)
	if err := s.Put(ctx, Record{Key: "k", Name: "k.vhdx", Size: 3000}); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachBlob(ctx, "k", newNodeBlob(t, data)); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, "k")
	if !got.HasBlob || got.StoredBytes != 3000 || !got.Blob.Truthy() {
		t.Fatalf("after AttachBlob: %+v", got)
	}
	if !bytes.Equal(blobBytes(t, got.Blob), data) {
		t.Fatal("stored blob has different bytes")
	}
	listed := mustList(t, s)
	if len(listed) != 1 || !listed[0].HasBlob || listed[0].Blob.Truthy() {
		t.Fatalf("List must report HasBlob without loading the Blob: %+v", listed)
	}
	// Re-putting metadata keeps the bytes.
	if err := s.Put(ctx, Record{Key: "k", Name: "renamed.vhdx", Size: 3000}); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "k"); got.Name != "renamed.vhdx" || !got.HasBlob || got.StoredBytes != 3000 {
		t.Fatalf("Put dropped the bytes: %+v", got)
	}
	if err := s.EvictBlob(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "k"); got.HasBlob || got.StoredBytes != 0 || got.Blob.Truthy() || got.Name != "renamed.vhdx" {
		t.Fatalf("after EvictBlob: %+v", got)
	}
	if n := rawCount(t, name, BlobsStore); n != 0 {
		t.Fatalf("%d blobs left after EvictBlob", n)
	}
	// Put with a Blob attaches it.
	if err := s.Put(ctx, Record{Key: "p", Name: "p", Size: 3, Blob: newNodeBlob(t, []byte("xyz"))}); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "p"); !got.HasBlob || string(blobBytes(t, got.Blob)) != "xyz" {
		t.Fatalf("Put with Blob: %+v", got)
	}
	if err := s.AttachBlob(ctx, "missing", newNodeBlob(t, data)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AttachBlob to a missing record: %v", err)
	}
	if err := s.AttachBlob(ctx, "p", js.ValueOf("not a blob")); !errors.Is(err, ErrNotBlob) {
		t.Fatalf("AttachBlob non-blob: %v", err)
	}
	if err := s.Delete(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if n := rawCount(t, name, BlobsStore); n != 0 {
		t.Fatalf("Delete left %d blobs", n)
	}
}

func TestStoreLRUEviction(t *testing.T) {
	ctx := context.Background()
	s, name := openTestStore(t, WithClock(newFakeClock().now), WithTotalCap(100), WithPerImageLimit(60))
	blob40 := func() js.Value { return newNodeBlob(t, randomBytes(40, 32)) }
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if err := s.Put(ctx, Record{Key: k, Name: k + ".vhdx", Size: 40}); err != nil {
			t.Fatal(err)
		}
	}
	attach := func(k string, blob js.Value) error { return s.AttachBlob(ctx, k, blob) }
	if err := attach("a", blob40()); err != nil {
		t.Fatal(err)
	}
	if err := attach("b", blob40()); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, "a"); err != nil { // b is now the least recently used
		t.Fatal(err)
	}
	if err := attach("c", blob40()); err != nil {
		t.Fatal(err)
	}
	withBytes := func() string {
		var ks []string
		for _, r := range mustList(t, s) {
			if r.HasBlob {
				ks = append(ks, r.Key)
			}
		}
		sort.Strings(ks)
		return fmt.Sprint(ks)
	}
	if got := withBytes(); got != "[a c]" {
		t.Fatalf("after attaching c: records with bytes %s, want [a c] (b evicted)", got)
	}
	if b := mustGet(t, s, "b"); b.Name != "b.vhdx" || b.HasBlob || b.StoredBytes != 0 {
		t.Fatalf("evicted record must keep its metadata only: %+v", b)
	}

	// A pinned record is skipped even if it is the least recently used.
	if err := s.SetPinned(ctx, "a", true); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := attach("d", blob40()); err != nil {
		t.Fatal(err)
	}
	if got := withBytes(); got != "[a d]" {
		t.Fatalf("after attaching d: %s, want [a d] (c evicted, a pinned)", got)
	}

	// Over the per-image limit: metadata only.
	if err := attach("e", newNodeBlob(t, make([]byte, 70))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("70-byte image over a 60-byte limit: %v", err)
	}
	if e := mustGet(t, s, "e"); e.HasBlob || e.StoredBytes != 0 {
		t.Fatalf("too-large image stored: %+v", e)
	}

	// Nothing evictable: refused, nothing lost.
	if err := s.SetPinned(ctx, "d", true); err != nil {
		t.Fatal(err)
	}
	if err := attach("b", blob40()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("attach with everything pinned: %v", err)
	}
	if got := withBytes(); got != "[a d]" {
		t.Fatalf("after refused attach: %s", got)
	}
	u, err := s.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.StoredBytes != 80 || u.Records != 5 || u.WithBytes != 2 || u.TotalCap != 100 || u.PerImageLimit != 60 {
		t.Fatalf("Usage: %+v", u)
	}

	// A lower cap, enforced on demand.
	if err := s.SetPinned(ctx, "d", false); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenStore(ctx, name, WithTotalCap(50))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	evicted, err := s2.EnforceCap(ctx)
	if err != nil || fmt.Sprint(evicted) != "[d]" {
		t.Fatalf("EnforceCap = %v, %v; want [d]", evicted, err)
	}
	if got := withBytes(); got != "[a]" {
		t.Fatalf("after EnforceCap: %s", got)
	}
	if n := rawCount(t, name, BlobsStore); n != 1 {
		t.Fatalf("%d blobs stored, want 1", n)
	}
}

func TestStoreDamagedRecordDropped(t *testing.T) {
	ctx := context.Background()
	s, name := openTestStore(t, WithClock(newFakeClock().now))
	if err := s.Put(ctx, Record{Key: "good", Name: "g", Size: 1}); err != nil {
		t.Fatal(err)
	}
	inject := func() {
		rawIDB(t, name, `const tx = db.transaction(["images", "blobs"], "readwrite");
			const st = tx.objectStore("images");
			st.put({key: "junk", v: "not a number"});
			st.put({key: 42, v: 1, name: "numeric key"});
			st.put({key: "bad-size", v: 1, name: "x", size: "big", openedAt: 1, lastUsed: 1});
			tx.objectStore("blobs").put(new Blob(["abc"]), "junk");
			tx.oncomplete = () => done(); tx.onerror = () => fail(tx.error);`)
	}
	inject()
	if n := rawCount(t, name, ImagesStore); n != 4 {
		t.Fatalf("injection failed: %d records", n)
	}
	recs := mustList(t, s)
	if keys := fmt.Sprint(keysOf(recs)); keys != "[good]" {
		t.Fatalf("List with damaged records: %s", keys)
	}
	if n := rawCount(t, name, ImagesStore); n != 1 {
		t.Fatalf("damaged records not deleted: %d left", n)
	}
	if n := rawCount(t, name, BlobsStore); n != 0 {
		t.Fatalf("damaged record's blob not deleted: %d left", n)
	}
	inject()
	if _, err := s.Get(ctx, "bad-size"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get damaged: %v", err)
	}
	if err := s.Touch(ctx, "junk"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Touch damaged: %v", err)
	}
	if n := rawCount(t, name, ImagesStore); n != 2 { // good + numeric key
		t.Fatalf("Get/Touch did not drop damaged records: %d left", n)
	}
	if got := mustGet(t, s, "good"); got.Name != "g" {
		t.Fatalf("good record damaged: %+v", got)
	}
}

// patchPut replaces IDBObjectStore.prototype.put for the "blobs" store with
// behaviour (JS statements using orig, this, value, key) until cleanup.
func patchPut(t *testing.T, behaviour string) {
	t.Helper()
	restore := jsFn(`const proto = IDBObjectStore.prototype; const orig = proto.put;
		proto.put = function(value, key) {
			if (this.name !== "blobs") return orig.call(this, value, key);
			` + behaviour + `
		};
		return () => { proto.put = orig; };`).Invoke()
	t.Cleanup(func() { restore.Invoke() })
}

func TestStoreQuotaErrorThrown(t *testing.T) {
	ctx := context.Background()
	s, name := openTestStore(t, WithClock(newFakeClock().now))
	if err := s.Put(ctx, Record{Key: "q", Name: "q", Size: 5}); err != nil {
		t.Fatal(err)
	}
	patchPut(t, `throw new DOMException("simulated", "QuotaExceededError");`)
	err := s.AttachBlob(ctx, "q", newNodeBlob(t, []byte("hello")))
	if !errors.Is(err, ErrQuota) {
		t.Fatalf("thrown QuotaExceededError: %v, want ErrQuota", err)
	}
	if got := mustGet(t, s, "q"); got.HasBlob || got.StoredBytes != 0 || got.Name != "q" {
		t.Fatalf("after quota error: %+v", got)
	}
	if n := rawCount(t, name, BlobsStore); n != 0 {
		t.Fatalf("%d blobs stored despite the quota error", n)
	}
}

func TestStoreQuotaErrorAbortsTransaction(t *testing.T) {
	ctx := context.Background()
	s, name := openTestStore(t, WithClock(newFakeClock().now))
	if err := s.Put(ctx, Record{Key: "q", Name: "q", Size: 5}); err != nil {
		t.Fatal(err)
	}
	if js.Global().Get("IDBTransaction").Get("prototype").Get("_abort").Type() != js.TypeFunction {
		t.Fatal("fake-indexeddb has no FDBTransaction._abort; update this test")
	}
	// What a browser does when the quota is hit: the request fails with
	// AbortError and the transaction aborts with QuotaExceededError.
	patchPut(t, `const req = orig.call(this, value, key);
		this.transaction._abort("QuotaExceededError");
		return req;`)
	err := s.AttachBlob(ctx, "q", newNodeBlob(t, []byte("hello")))
	if !errors.Is(err, ErrQuota) {
		t.Fatalf("aborted transaction: %v, want ErrQuota", err)
	}
	if got := mustGet(t, s, "q"); got.HasBlob || got.StoredBytes != 0 {
		t.Fatalf("after quota abort: %+v", got)
	}
	if n := rawCount(t, name, BlobsStore); n != 0 {
		t.Fatalf("%d blobs stored despite the abort", n)
	}
}

func TestStoreUsageAndPersist(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t, WithClock(newFakeClock().now))
	if err := s.Put(ctx, Record{Key: "u", Name: "u", Size: 4, Blob: newNodeBlob(t, []byte("1234"))}); err != nil {
		t.Fatal(err)
	}
	u, err := s.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Estimated || u.StoredBytes != 4 || u.Records != 1 || u.WithBytes != 1 ||
		u.TotalCap != DefaultTotalCap || u.PerImageLimit != DefaultPerImageLimit {
		t.Fatalf("Usage without navigator.storage: %+v", u)
	}
	if ok, err := s.Persist(ctx); ok || err != nil {
		t.Fatalf("Persist without navigator.storage: %v, %v", ok, err)
	}

	hadNavigator := js.Global().Get("navigator")
	jsFn(`globalThis.__persistCalls = 0;
		globalThis.navigator = { storage: {
			estimate: async () => ({ usage: 1234, quota: 99999 }),
			persist: async () => { globalThis.__persistCalls++; return true; },
		} };`).Invoke()
	t.Cleanup(func() {
		if hadNavigator.IsUndefined() {
			js.Global().Delete("navigator")
		} else {
			js.Global().Set("navigator", hadNavigator)
		}
		js.Global().Delete("__persistCalls")
	})
	u, err = s.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Estimated || u.Usage != 1234 || u.Quota != 99999 || u.StoredBytes != 4 {
		t.Fatalf("Usage with navigator.storage: %+v", u)
	}
	s2, _ := openTestStore(t)
	for i := 0; i < 2; i++ {
		if ok, err := s2.Persist(ctx); !ok || err != nil {
			t.Fatalf("Persist #%d: %v, %v", i, ok, err)
		}
	}
	if n := js.Global().Get("__persistCalls").Int(); n != 1 {
		t.Fatalf("navigator.storage.persist() called %d times, want once", n)
	}
}

func TestStoreUnavailable(t *testing.T) {
	saved := js.Global().Get("indexedDB")
	js.Global().Set("indexedDB", js.Undefined())
	defer js.Global().Set("indexedDB", saved)
	if _, err := OpenStore(context.Background(), "x"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("OpenStore without indexedDB: %v", err)
	}
}

func TestStoreConcurrentOperations(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for g := 0; g < 5; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			key := fmt.Sprintf("k%d", g)
			if err := s.Put(ctx, Record{Key: key, Name: key, Size: int64(g)}); err != nil {
				errs <- err
				return
			}
			for i := 0; i < 10; i++ {
				state := fmt.Sprintf(`{"pos":%d}`, i)
				if err := s.Update(ctx, key, func(r *Record) error { r.UserState = state; return nil }); err != nil {
					errs <- fmt.Errorf("%s: Update: %w", key, err)
					return
				}
				if r, err := s.Get(ctx, key); err != nil || r.UserState != state {
					errs <- fmt.Errorf("%s: Get = %q, %v; want %q", key, r.UserState, err, state)
					return
				}
				if _, err := s.List(ctx); err != nil {
					errs <- fmt.Errorf("%s: List: %w", key, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	recs := mustList(t, s)
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	for _, r := range recs {
		if r.UserState != `{"pos":9}` {
			t.Errorf("%s: final state %q", r.Key, r.UserState)
		}
	}
}

// An image over the per-image limit is refused unless the user pinned it.
func TestStorePinnedIgnoresPerImageLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTestStore(t, WithClock(newFakeClock().now), WithTotalCap(1000), WithPerImageLimit(50))
	for _, k := range []string{"big", "pinned"} {
		if err := s.Put(ctx, Record{Key: k, Name: k + ".vhdx", Size: 80}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AttachBlob(ctx, "big", newNodeBlob(t, randomBytes(80, 7))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("unpinned 80 bytes over a 50-byte limit: err %v, want ErrTooLarge", err)
	}
	if err := s.SetPinned(ctx, "pinned", true); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachBlob(ctx, "pinned", newNodeBlob(t, randomBytes(80, 7))); err != nil {
		t.Fatalf("pinned image refused: %v", err)
	}
	if r := mustGet(t, s, "pinned"); !r.HasBlob || r.StoredBytes != 80 {
		t.Fatalf("pinned image not stored: %+v", r)
	}
	if r := mustGet(t, s, "big"); r.HasBlob {
		t.Fatal("unpinned image was stored")
	}
}

// stallBlobPuts: see internal/idbtest.
func stallBlobPuts(t *testing.T) js.Value { return idbtest.StallBlobPuts(t) }

// A store of bytes that is cancelled stops: the transaction copying the
// Blob is aborted, nothing of it is kept, and AttachBlob says why. Many
// times over: go-indexeddb's waits miss an ended context now and then
// (see awaitTransaction), which once hung the wasm close test one run in
// dozens.
func TestStoreAttachBlobCancelled(t *testing.T) {
	s, name := openTestStore(t)
	if err := s.Put(context.Background(), Record{Key: "k", Name: "k.vhdx", Size: 3000}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	for i := 0; i < 40; i++ {
		stall := stallBlobPuts(t)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { done <- s.AttachBlob(ctx, "k", newNodeBlob(t, randomBytes(3000, 7))) }()
		settled(t, "the blob put", func() bool { return stall.Call("held").Int() == 1 })
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("try %d: AttachBlob: %v, want context.Canceled", i, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("try %d: AttachBlob did not return after its context was cancelled", i)
		}
		settled(t, "the transaction's abort", func() bool { return stall.Call("aborted").Int() == 1 })
		stall.Call("restore")
		if got := mustGet(t, s, "k"); got.HasBlob || got.StoredBytes != 0 {
			t.Fatalf("try %d: a cancelled store kept bytes: %+v", i, got)
		}
		if n := rawCount(t, name, BlobsStore); n != 0 {
			t.Fatalf("try %d: %d blobs kept by a cancelled store", i, n)
		}
	}

	// The same, released: the bytes are stored.
	stall := stallBlobPuts(t)
	go func() { done <- s.AttachBlob(context.Background(), "k", newNodeBlob(t, randomBytes(3000, 7))) }()
	settled(t, "the blob put", func() bool { return stall.Call("held").Int() == 1 })
	stall.Call("release")
	if err := <-done; err != nil {
		t.Fatalf("AttachBlob: %v", err)
	}
	if got := mustGet(t, s, "k"); !got.HasBlob || got.StoredBytes != 3000 {
		t.Fatalf("after a slow store: %+v", got)
	}
}
