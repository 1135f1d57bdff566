//go:build js && wasm

package main

// The image store (IndexedDB, package bridge): every opened file gets a
// record keyed by its fingerprint, holding its summary and the last verify
// report; after the open reply is sent, the file's bytes are stored too
// (up to the per-image limit), so that `reopen` works after a reload.
// Nothing here may make an open fail: store problems are reported next to
// the result (store_error) or in a "store" event.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"syscall/js"
	"time"

	"github.com/vhdxview/vhdxview/bridge"
	"github.com/vhdxview/vhdxview/disk"
)

// headerHashSize is how much of a file its fingerprint hashes: the VHDX
// header section (file identifier, both headers, both region tables).
const headerHashSize = 1 << 20

// storeTimeout bounds each store step so a stuck IndexedDB (e.g. blocked
// by another tab's upgrade) cannot hold a request forever.
const storeTimeout = 10 * time.Second

type storeConfig struct {
	enabled  bool
	dbName   string
	perImage int64
	totalCap int64
}

func defaultStoreConfig() storeConfig {
	return storeConfig{enabled: true, dbName: bridge.DefaultDBName,
		perImage: bridge.DefaultPerImageLimit, totalCap: bridge.DefaultTotalCap}
}

type storeState struct {
	mu    sync.Mutex
	cfg   storeConfig
	store *bridge.Store
}

func (s *Server) storeEnabled() bool {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.cfg.enabled
}

// openStore returns the store, opening it on first use.
func (s *Server) openStore(ctx context.Context) (*bridge.Store, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if !s.st.cfg.enabled {
		return nil, &protoError{name: "StoreOffError", msg: "the image store is turned off (config store: false)"}
	}
	if s.st.store != nil {
		return s.st.store, nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	st, err := bridge.OpenStore(ctx, s.st.cfg.dbName,
		bridge.WithPerImageLimit(s.st.cfg.perImage), bridge.WithTotalCap(s.st.cfg.totalCap))
	if err != nil {
		return nil, &storeError{err}
	}
	s.st.store = st
	return st, nil
}

// fingerprint sets f.hash (sha256 of the header section) and f.key (from
// name, size, lastModified and that hash).
func (f *file) fingerprint() error {
	if f.key != "" {
		return nil
	}
	n := min(f.size, headerHashSize)
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && int64(len(b)) == n) {
		return err
	}
	h := sha256.Sum256(b)
	f.hash = hex.EncodeToString(h[:])
	k := sha256.Sum256([]byte(f.name + "\x00" + strconv.FormatInt(f.size, 10) + "\x00" +
		strconv.FormatInt(f.mod, 10) + "\x00" + f.hash))
	f.key = hex.EncodeToString(k[:16])
	return nil
}

// remember writes (or refreshes) the record of every file of the chain,
// keeping an existing record's verify report and user state.
func (s *Server) remember(ctx context.Context, sess *session) error {
	st, err := s.openStore(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	for k, f := range sess.files {
		b, err := json.Marshal(sess.summary(k))
		if err != nil {
			return err
		}
		sum := string(b)
		err = st.Update(ctx, f.key, func(rec *bridge.Record) error {
			rec.Name, rec.Size, rec.LastModified, rec.HeaderHash, rec.Summary = f.name, f.size, f.mod, f.hash, sum
			rec.LastUsed = time.Now()
			return nil
		})
		if errors.Is(err, bridge.ErrNotFound) {
			err = st.Put(ctx, bridge.Record{Key: f.key, Name: f.name, Size: f.size, LastModified: f.mod,
				HeaderHash: f.hash, Summary: sum})
		}
		if err != nil {
			return &storeError{err}
		}
	}
	return nil
}

// imageWork is the background work of one open image.
type imageWork struct {
	ctx    context.Context // ends when the image is closed
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startWork registers a piece of background work of sess. It returns the
// context that ends when sess is closed and the function to call when the
// work is done; ok is false when sess is closed already (then there is
// nothing to do).
func (s *Server) startWork(sess *session) (ctx context.Context, done func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.images[sess.id] != sess {
		return nil, nil, false
	}
	w := s.work[sess.id]
	if w == nil {
		w = &imageWork{}
		w.ctx, w.cancel = context.WithCancel(context.Background())
		s.work[sess.id] = w
	}
	w.wg.Add(1)
	return w.ctx, w.wg.Done, true
}

// stopWork cancels the background work of image id and waits for it to
// end. The image must be gone from s.images already, so that no new work
// can start.
func (s *Server) stopWork(id int) {
	s.mu.Lock()
	w := s.work[id]
	delete(s.work, id)
	s.mu.Unlock()
	if w != nil {
		w.cancel()
		w.wg.Wait()
	}
}

// closeImage is the close op: close (ops.go), then the end of the
// image's background work. A store of its bytes still running is
// cancelled (its transaction aborted, a "cancelled" store event sent), and
// the reply comes after that, so that nothing of a closed image goes on.
func (r *request) closeImage() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	rep, err := r.close()
	if err == nil {
		r.s.stopWork(sess.id)
	}
	return rep, err
}

// storeBytes stores the bytes of sess's files, as background work of sess
// (it runs after the open reply): until they are stored or sess is
// closed.
func (s *Server) storeBytes(sess *session) {
	ctx, done, ok := s.startWork(sess)
	if !ok {
		return
	}
	defer done()
	_ = s.storeFiles(ctx, sess) // reported by store events
}

// storeFiles stores the bytes of each file of the chain that the store
// does not hold yet, reporting each as "store" events:
//
//	{event: "store", key, name, image, state: "storing"|"stored"|"failed"|"cancelled",
//	 done, total, error?}
//
// It stops when ctx ends: the file being stored is then not stored
// ("cancelled"), and later files are not tried. It returns the first
// failure, or ctx.Err().
func (s *Server) storeFiles(ctx context.Context, sess *session) error {
	st, err := s.openStore(ctx)
	if err != nil {
		return err
	}
	var first error
	for _, f := range sess.files {
		ev := func(state string, done int64, err error) {
			fields := map[string]any{"key": f.key, "name": f.name, "state": state,
				"done": float64(done), "total": float64(f.size), "image": sess.id}
			if err != nil {
				fields["error"] = errorValue(err)
			}
			s.Event("store", fields)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.fromIDB {
			ev("stored", f.size, nil)
			continue
		}
		c, cancel := context.WithTimeout(ctx, storeTimeout)
		has, err := hasBytes(c, st, f)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			err = &storeError{err}
			ev("failed", 0, err)
			if first == nil {
				first = err
			}
			continue
		}
		if has {
			ev("stored", f.size, nil)
			continue
		}
		ev("storing", 0, nil)
		// No timeout here: the browser copies the whole file.
		if err := st.AttachBlob(ctx, f.key, f.blob); err != nil {
			if ctx.Err() != nil {
				ev("cancelled", 0, nil)
				return ctx.Err()
			}
			if !errors.Is(err, bridge.ErrQuota) && !errors.Is(err, bridge.ErrTooLarge) {
				err = &storeError{err}
			}
			ev("failed", 0, err)
			if first == nil {
				first = err
			}
			continue
		}
		ev("stored", f.size, nil)
	}
	return first
}

// hasBytes says whether the store holds f's bytes already.
func hasBytes(ctx context.Context, st *bridge.Store, f *file) (bool, error) {
	rec, err := st.Get(ctx, f.key)
	if err != nil {
		return false, err
	}
	return rec.HasBlob && rec.Blob.Truthy() && int64(rec.Blob.Get("size").Float()) == f.size, nil
}

func (s *Server) saveVerify(ctx context.Context, key, report string) error {
	st, err := s.openStore(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	err = st.Update(ctx, key, func(rec *bridge.Record) error {
		rec.Verify = report
		return nil
	})
	if err != nil {
		return &storeError{err}
	}
	return nil
}

// recentRecord is one record as `recent` lists it.
type recentRecord struct {
	Key          string          `json:"key"`
	Name         string          `json:"name"`
	Size         int64           `json:"size"`
	LastModified int64           `json:"last_modified"`
	HeaderHash   string          `json:"header_hash"`
	Summary      json.RawMessage `json:"summary"`
	Verify       *verifyBrief    `json:"verify"`
	UserState    json.RawMessage `json:"user_state"`
	OpenedAt     int64           `json:"opened_at"` // ms since the Unix epoch
	LastUsed     int64           `json:"last_used"`
	StoredBytes  int64           `json:"stored_bytes"`
	HasBytes     bool            `json:"has_bytes"`
	Pinned       bool            `json:"pinned"`
}

type verifyBrief struct {
	Verdict  string `json:"verdict"`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
}

type recentUsage struct {
	Estimated     bool  `json:"estimated"`
	Usage         int64 `json:"usage"`
	Quota         int64 `json:"quota"`
	StoredBytes   int64 `json:"stored_bytes"`
	Records       int   `json:"records"`
	WithBytes     int   `json:"with_bytes"`
	TotalCap      int64 `json:"total_cap"`
	PerImageLimit int64 `json:"per_image_limit"`
}

// rawJSON returns s if it is valid JSON, else null.
func rawJSON(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// store opens the image store and gives a context that bounds one op's
// IndexedDB work by storeTimeout.
func (r *request) store() (*bridge.Store, context.Context, context.CancelFunc, error) {
	st, err := r.s.openStore(r.ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(r.ctx, storeTimeout)
	return st, ctx, cancel, nil
}

// recent: {} → {records: [...], usage}; most recently used first.
func (r *request) recent() (reply, error) {
	st, ctx, cancel, err := r.store()
	if err != nil {
		return reply{}, err
	}
	defer cancel()
	recs, err := st.List(ctx)
	if err != nil {
		return reply{}, &storeError{err}
	}
	out := struct {
		Records []recentRecord `json:"records"`
		Usage   recentUsage    `json:"usage"`
	}{Records: []recentRecord{}}
	for _, rec := range recs {
		rr := recentRecord{Key: rec.Key, Name: rec.Name, Size: rec.Size, LastModified: rec.LastModified,
			HeaderHash: rec.HeaderHash, Summary: rawJSON(rec.Summary), UserState: rawJSON(rec.UserState),
			OpenedAt: ms(rec.OpenedAt), LastUsed: ms(rec.LastUsed), StoredBytes: rec.StoredBytes,
			HasBytes: rec.HasBlob, Pinned: rec.Pinned}
		var vb verifyBrief
		if rec.Verify != "" && json.Unmarshal([]byte(rec.Verify), &vb) == nil {
			rr.Verify = &vb
		}
		out.Records = append(out.Records, rr)
	}
	u, err := st.Usage(ctx)
	if err != nil {
		return reply{}, &storeError{err}
	}
	out.Usage = recentUsage{Estimated: u.Estimated, Usage: u.Usage, Quota: u.Quota, StoredBytes: u.StoredBytes,
		Records: u.Records, WithBytes: u.WithBytes, TotalCap: u.TotalCap, PerImageLimit: u.PerImageLimit}
	v, err := jsonValue(out)
	return reply{v: v}, err
}

// reopen: {key, partial?} → as open. The record's stored bytes (and those
// of the parents its summary lists) are opened.
func (r *request) reopen() (reply, error) {
	a := args{r.args}
	key, err := a.string("key")
	if err != nil || key == "" {
		return reply{}, argErrorf("reopen: key (a string from recent) is required")
	}
	partial, err := a.bool("partial", false)
	if err != nil {
		return reply{}, err
	}
	st, ctx, cancel, err := r.store()
	if err != nil {
		return reply{}, err
	}
	defer cancel()
	rec, err := st.Get(ctx, key)
	if err != nil {
		if errors.Is(err, bridge.ErrNotFound) {
			return reply{}, &protoError{name: "NotFoundError", msg: "no remembered image has key " + strconv.Quote(key)}
		}
		return reply{}, &storeError{err}
	}
	recs := []bridge.Record{rec}
	var sum Summary
	if json.Unmarshal([]byte(rec.Summary), &sum) == nil {
		for _, lvl := range sum.Chain {
			if lvl.Level == 0 || lvl.Key == "" {
				continue
			}
			p, err := st.Get(ctx, lvl.Key)
			if err != nil {
				if errors.Is(err, bridge.ErrNotFound) {
					continue // let the chain error name the missing parent
				}
				return reply{}, &storeError{err}
			}
			recs = append(recs, p)
		}
	}
	var files []*file
	for i, rc := range recs {
		if !rc.HasBlob || !rc.Blob.Truthy() {
			if i == 0 {
				return reply{}, &protoError{name: "NotStoredError",
					msg: fmt.Sprintf("the bytes of %s were not stored (over the size limit, or the storage quota was full); open the file again", rc.Name)}
			}
			continue // a parent without bytes: the chain error names it
		}
		f, err := r.s.newFile(rc.Blob, i, true)
		if err != nil {
			return reply{}, err
		}
		// A stored Blob may have lost its File name: use the record's.
		f.name, f.mod = rc.Name, rc.LastModified
		files = append(files, f)
	}
	// A disk opened as raw on request reopens as raw.
	// Its bytes are in the store already (storing them only reports so).
	return r.openFiles(files, openOpts{partial: partial, raw: sum.Format == disk.FormatRaw}, storeChoice{record: true, bytes: true})
}

// forget: {key} or {all: true} → {}. Removes records and their bytes.
func (r *request) forget() (reply, error) {
	a := args{r.args}
	key, err := a.string("key")
	if err != nil {
		return reply{}, err
	}
	all, err := a.bool("all", false)
	if err != nil {
		return reply{}, err
	}
	if key == "" && !all {
		return reply{}, argErrorf("forget: give key, or all: true")
	}
	st, ctx, cancel, err := r.store()
	if err != nil {
		return reply{}, err
	}
	defer cancel()
	if all {
		err = st.Clear(ctx)
	} else {
		err = st.Delete(ctx, key)
	}
	if err != nil {
		return reply{}, &storeError{err}
	}
	return reply{}, nil
}

// config: {store?, db_name?, per_image_limit?, total_cap?} → the
// configuration now in force. Changing it closes the store connection;
// the next store use opens it with the new settings.
func (r *request) config() (reply, error) {
	a := args{r.args}
	s := &r.s.st
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	var err error
	if cfg.enabled, err = a.bool("store", cfg.enabled); err != nil {
		return reply{}, err
	}
	if name, err := a.string("db_name"); err != nil {
		return reply{}, err
	} else if name != "" {
		cfg.dbName = name
	}
	if cfg.perImage, err = a.int("per_image_limit", cfg.perImage); err != nil {
		return reply{}, err
	}
	if cfg.totalCap, err = a.int("total_cap", cfg.totalCap); err != nil {
		return reply{}, err
	}
	s.mu.Lock()
	if cfg != s.cfg && s.store != nil {
		s.store.Close()
		s.store = nil
	}
	s.cfg = cfg
	s.mu.Unlock()
	return objectReply(map[string]any{"store": cfg.enabled, "db_name": cfg.dbName,
		"per_image_limit": float64(cfg.perImage), "total_cap": float64(cfg.totalCap)}), nil
}

// pin: {key, pinned?} → {stored, store_error?}. A pinned record's bytes
// are never evicted to make room for others (pinned defaults to true).
//
// Pinning an image that is open stores its bytes whatever their size (the
// per-image limit applies only to unpinned images), and the reply waits
// for that: stored says whether the record's bytes are in the store when
// the reply is sent, and store_error why not, if storing them failed.
// Cancelling the pin (or closing the image) stops the copy; the pin
// itself stays.
func (r *request) pin() (reply, error) {
	a := args{r.args}
	key, err := a.string("key")
	if err != nil || key == "" {
		return reply{}, argErrorf("pin: key is required")
	}
	pinned, err := a.bool("pinned", true)
	if err != nil {
		return reply{}, err
	}
	st, ctx, cancel, err := r.store()
	if err != nil {
		return reply{}, err
	}
	defer cancel()
	if err := st.SetPinned(ctx, key, pinned); err != nil {
		if errors.Is(err, bridge.ErrNotFound) {
			return reply{}, &protoError{name: "NotFoundError", msg: "no remembered image has key " + strconv.Quote(key)}
		}
		return reply{}, &storeError{err}
	}
	var storeErr error
	if pinned {
		r.s.mu.Lock()
		var open []*session
		for _, sess := range r.s.images {
			if sess.key() == key {
				open = append(open, sess)
			}
		}
		r.s.mu.Unlock()
		for _, sess := range open {
			if err := r.storeOpen(sess); err != nil {
				if r.ctx.Err() != nil {
					return reply{}, r.ctx.Err()
				}
				if storeErr == nil {
					storeErr = err
				}
			}
		}
	}
	c, cancel2 := context.WithTimeout(r.ctx, storeTimeout)
	defer cancel2()
	rec, err := st.Get(c, key)
	if err != nil {
		return reply{}, &storeError{err}
	}
	res := objectReply(map[string]any{"stored": rec.HasBlob})
	if storeErr != nil {
		res.v.Set("store_error", errorValue(storeErr))
	}
	return res, nil
}

// storeOpen stores the bytes of the open image sess for this request: it
// stops when the request is cancelled or sess is closed.
func (r *request) storeOpen(sess *session) error {
	wctx, done, ok := r.s.startWork(sess)
	if !ok {
		return nil // closed meanwhile
	}
	defer done()
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	defer context.AfterFunc(wctx, cancel)()
	return r.s.storeFiles(ctx, sess)
}

// keep: {image} → {}. Stores the bytes of the open image's files in the
// background, as open does without keep_bytes: false (store events tell
// how it goes). A page sends it when its user agrees to keep copies
// after the image was opened without them.
func (r *request) keep() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	if !r.s.storeEnabled() {
		return reply{}, &protoError{name: "StoreOffError", msg: "the image store is turned off (config store: false)"}
	}
	if err := r.s.remember(r.ctx, sess); err != nil {
		return reply{}, err
	}
	return reply{v: newObject(), after: func() { r.s.storeBytes(sess) }}, nil
}

// maxUserState bounds the user state kept per record.
const maxUserState = 1 << 20

// setState: {key, state} → {}. Keeps state (any JSON value: last position,
// bookmarks, …) in the record; recent returns it as user_state.
func (r *request) setState() (reply, error) {
	a := args{r.args}
	key, err := a.string("key")
	if err != nil || key == "" {
		return reply{}, argErrorf("set_state: key is required")
	}
	v := a.value("state")
	s := "null"
	if !v.IsUndefined() {
		j := js.Global().Get("JSON").Call("stringify", v)
		if j.Type() != js.TypeString {
			return reply{}, argErrorf("set_state: state must be a JSON value")
		}
		s = j.String()
	}
	if len(s) > maxUserState {
		return reply{}, argErrorf("set_state: state is %d bytes of JSON, over the %d limit", len(s), maxUserState)
	}
	st, ctx, cancel, err := r.store()
	if err != nil {
		return reply{}, err
	}
	defer cancel()
	err = st.Update(ctx, key, func(rec *bridge.Record) error {
		rec.UserState = s
		return nil
	})
	if errors.Is(err, bridge.ErrNotFound) {
		return reply{}, &protoError{name: "NotFoundError", msg: "no remembered image has key " + strconv.Quote(key)}
	}
	if err != nil {
		return reply{}, &storeError{err}
	}
	return reply{}, nil
}
