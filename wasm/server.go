//go:build js && wasm

package main

// The request loop: {id, op, args} in, {id, ok, result | error} out, with
// {id, progress} on the way and {event, ...} for news nobody asked for.
// Every request runs in its own goroutine, so Dispatch (called from a
// js.FuncOf callback) never blocks.

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/vhdxview/vhdxview/bridge"
)

// ProtocolVersion is sent in the ready event; it changes when a message
// changes incompatibly.
const ProtocolVersion = 1

// Limits of one request.
const (
	MaxRead      = 16 << 20 // read: bytes per request
	MaxMapBlocks = 1 << 20  // map: blocks per request
	DefaultRuns  = 4096     // plan: runs per page unless limit says otherwise
	MaxRuns      = 65536    // plan: largest limit
	MaxFiles     = 256      // open: files per request (core.MaxChainDepth)
)

// progressInterval is the least time between two progress messages of one
// request (the first and the last are always sent).
const progressInterval = 100 * time.Millisecond

// yieldInterval is how long a request may run before it lets the
// worker's event loop run, the next time it checks its context (see
// requestContext). Blob reads in a worker are synchronous
// (FileReaderSync) and a walk over a BAT in memory reads nothing, so
// without this a long verify or plan would hold back every message
// behind it, cancel included.
const yieldInterval = 50 * time.Millisecond

// Server answers protocol requests. post sends one message to the page;
// it is called from request goroutines and must not block for long.
type Server struct {
	post func(msg js.Value, transfer []any)

	mu      sync.Mutex
	images  map[int]*session
	nextImg int
	running map[string]context.CancelFunc // request id → cancel
	// work is the background work (storing bytes, store.go) of each open
	// image, by image id: closing the image cancels it and waits for it.
	work map[int]*imageWork

	st storeState
	// bg counts work started after a reply (storing bytes).
	bg sync.WaitGroup

	// readerOpts are passed to every bridge.NewBlobReader (tests).
	readerOpts []bridge.Option
}

// NewServer returns a server that sends its messages with post.
func NewServer(post func(msg js.Value, transfer []any)) *Server {
	return &Server{
		post:    post,
		images:  map[int]*session{},
		running: map[string]context.CancelFunc{},
		work:    map[int]*imageWork{},
		st:      storeState{cfg: defaultStoreConfig()},
	}
}

// request is one request being served.
type request struct {
	// ctx is a *requestContext: checking it lets the event loop run.
	ctx  context.Context
	id   js.Value
	op   string
	args js.Value
	s    *Server

	lastProgress time.Time
}

// requestContext is the context of one request. Its Err and Done let the
// worker's event loop run (yieldToJS) when the request has run for
// yieldInterval since it last did, so that a walk that checks its context
// now and then (core's Open, Verify and Plan, the file systems' walks)
// lets the cancel message in: in a single-threaded wasm the cancel is
// only taken when Go returns to the event loop, and a walk over data in
// memory or read with FileReaderSync never would on its own.
//
// Reading the clock costs about as much as a short check, so the clock is
// read every stride checks, with stride adapted to how often the context
// is checked: about every 0.1 ms to 1 ms of work.
//
// Err and Done must not be called from inside a js.FuncOf callback (the
// yield would wait for a timer that cannot fire until the callback
// returns); request goroutines are never inside one.
type requestContext struct {
	context.Context

	mu      sync.Mutex
	start   time.Time     // the clock's origin
	yielded time.Duration // since start: the end of the last yield
	read    time.Duration // since start: the last clock read
	n       int           // checks since the last clock read
	stride  int           // checks between clock reads
}

// maxStride bounds the checks between two clock reads.
const maxStride = 1 << 12

func newRequestContext(parent context.Context) *requestContext {
	return &requestContext{Context: parent, start: time.Now(), stride: 1}
}

// Err is the parent's Err, after a yield to the event loop if one is due.
func (c *requestContext) Err() error {
	c.maybeYield()
	return c.Context.Err()
}

// Done is the parent's Done, after a yield to the event loop if one is
// due (a select on Done with a default case is a check too).
func (c *requestContext) Done() <-chan struct{} {
	c.maybeYield()
	return c.Context.Done()
}

func (c *requestContext) maybeYield() {
	c.mu.Lock()
	if c.n++; c.n < c.stride {
		c.mu.Unlock()
		return
	}
	c.n = 0
	now := time.Since(c.start)
	switch d := now - c.read; {
	case d < 100*time.Microsecond && c.stride < maxStride:
		c.stride *= 2
	case d > time.Millisecond && c.stride > 1:
		c.stride /= 2
	}
	c.read = now
	if now-c.yielded < yieldInterval {
		c.mu.Unlock()
		return
	}
	// Set before yielding, so that the request's other goroutines do
	// not yield too meanwhile.
	c.yielded = now
	c.mu.Unlock()
	yieldToJS()
	c.mu.Lock()
	c.yielded = time.Since(c.start)
	c.read = c.yielded
	c.mu.Unlock()
}

// reply is what a handler returns: the result value, the ArrayBuffers to
// transfer with it, and work to start after the reply is posted.
type reply struct {
	v        js.Value
	transfer []any
	after    func()
}

type handler func(r *request) (reply, error)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"open":       (*request).open,
		"reopen":     (*request).reopen,
		"info":       (*request).info,
		"verify":     (*request).verify,
		"read":       (*request).read,
		"map":        (*request).mapStates,
		"plan":       (*request).plan,
		"bad_ranges": (*request).badRanges,  // salvage.go
		"close":      (*request).closeImage, // store.go: close, then its stores end
		"recent":     (*request).recent,
		"forget":     (*request).forget,
		"pin":        (*request).pin,
		"keep":       (*request).keep, // store.go
		"set_state":  (*request).setState,
		"config":     (*request).config,
		"cancel":     (*request).cancel,
		"fault":      (*request).fault, // errors.go: for tests of error reports
	}
	for _, op := range fsOps {
		handlers[op] = fsHandler(op)
	}
}

// fsOps are the ops that need the file-system code (packages volume,
// scan, listing and preview): the inside-the-disk ops, and hash and search,
// which can name a file. The full engine serves them (fsops.go); the core
// engine, built with -tags nofs for a first open that does not wait for
// that code, answers them with an UnsupportedOpError (nofs.go).
var fsOps = []string{
	"parts", "ls", "stat", "ntfs_info", "file_read", "file_plan", // volume.go
	"listing", "file_extents", "file_preview", // fileflows.go
	"hash", "search", // scan.go
}

// Dispatch takes one message from the page. It reads the message's fields,
// starts the request in a goroutine and returns at once.
func (s *Server) Dispatch(msg js.Value) {
	if msg.Type() != js.TypeObject {
		s.Event("protocol-error", map[string]any{"error": errorValue(argErrorf("a request must be an object {id, op, args}"))})
		return
	}
	id := msg.Get("id")
	if t := id.Type(); t != js.TypeNumber && t != js.TypeString {
		s.Event("protocol-error", map[string]any{"error": errorValue(argErrorf("request id must be a number or a string"))})
		return
	}
	op := ""
	if v := msg.Get("op"); v.Type() == js.TypeString {
		op = v.String()
	}
	args := msg.Get("args")
	if args.IsUndefined() || args.IsNull() {
		args = js.Global().Get("Object").New()
	}
	key := idKey(id)
	parent, cancel := context.WithCancel(context.Background())
	ctx := newRequestContext(parent)
	s.mu.Lock()
	_, dup := s.running[key]
	if !dup {
		s.running[key] = cancel
	}
	s.mu.Unlock()
	r := &request{ctx: ctx, id: id, op: op, args: args, s: s}
	if dup {
		cancel()
		go r.finish(reply{}, argErrorf("request id %s is already in use", key))
		return
	}
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.running, key)
			s.mu.Unlock()
			cancel()
		}()
		r.run()
	}()
}

func idKey(id js.Value) string {
	if id.Type() == js.TypeString {
		return "s:" + id.String()
	}
	return fmt.Sprintf("n:%v", id.Float())
}

// run calls the op's handler, turning a panic into an InternalError reply
// so that one bad request never stops the engine. An error of no kind the
// protocol names (an engine bug, not a damaged file or a bad argument)
// leaves with a stack trace (unexpected).
func (r *request) run() {
	var rep reply
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = &internalError{msg: fmt.Sprint(p), stack: string(debug.Stack())}
			}
		}()
		h, ok := handlers[r.op]
		if !ok {
			err = &protoError{name: "UnknownOpError", msg: fmt.Sprintf("unknown op %q", r.op)}
			return
		}
		rep, err = h(r)
	}()
	if err == nil && r.ctx.Err() != nil && r.op != "cancel" {
		err = r.ctx.Err()
	}
	r.finish(rep, unexpected(err))
}

// finish posts the reply, then starts rep.after.
func (r *request) finish(rep reply, err error) {
	msg := newObject()
	msg.Set("id", r.id)
	if err != nil {
		msg.Set("ok", false)
		msg.Set("error", errorValue(err))
		r.s.send(msg, nil)
		return
	}
	msg.Set("ok", true)
	v := rep.v
	if v.IsUndefined() {
		v = newObject()
	}
	msg.Set("result", v)
	r.s.send(msg, rep.transfer)
	if rep.after != nil {
		r.s.bg.Add(1)
		go func() {
			defer r.s.bg.Done()
			rep.after()
		}()
	}
}

// progress sends {id, progress: {done, total}}, at most every
// progressInterval except for the first and the last. Its check of the
// context lets the event loop run (requestContext).
func (r *request) progress(done, total int64) {
	if r.ctx.Err() != nil {
		return // cancelled: the reply says so, not a last "done"
	}
	now := time.Now()
	if done < total && !r.lastProgress.IsZero() && now.Sub(r.lastProgress) < progressInterval {
		return
	}
	r.lastProgress = now
	p := newObject()
	p.Set("done", float64(done))
	p.Set("total", float64(total))
	msg := newObject()
	msg.Set("id", r.id)
	msg.Set("progress", p)
	r.s.send(msg, nil)
}

// Event sends {event: name, ...fields}. Field values go through
// js.ValueOf (js.Value, numbers, strings, maps, slices).
func (s *Server) Event(name string, fields map[string]any) {
	msg := newObject()
	msg.Set("event", name)
	for k, v := range fields {
		msg.Set(k, v)
	}
	s.send(msg, nil)
}

func (s *Server) send(msg js.Value, transfer []any) {
	defer func() {
		// A message that cannot be cloned must not stop the engine; say
		// so on the console (the page then sees no reply).
		if p := recover(); p != nil {
			js.Global().Get("console").Call("error", "vhdxview: cannot post message:", fmt.Sprint(p))
		}
	}()
	s.post(msg, transfer)
}

// cancel: {target} → {cancelled}. The target request ends with a
// CancelledError reply.
func (r *request) cancel() (reply, error) {
	a := args{v: r.args}
	t := a.value("target")
	if t.Type() != js.TypeNumber && t.Type() != js.TypeString {
		return reply{}, argErrorf("cancel: target must be the id of a request")
	}
	key := idKey(t)
	r.s.mu.Lock()
	c, ok := r.s.running[key]
	r.s.mu.Unlock()
	if ok && key != idKey(r.id) {
		c()
	}
	return objectReply(map[string]any{"cancelled": ok}), nil
}

func newObject() js.Value { return js.Global().Get("Object").New() }

func newArray() js.Value { return js.Global().Get("Array").New() }

func objectReply(fields map[string]any) reply {
	o := newObject()
	for k, v := range fields {
		o.Set(k, v)
	}
	return reply{v: o}
}

// jsonValue marshals v and parses it as a JS value, for results built
// from JSON-tagged Go structs (core.Info, core.Report, ...).
//
// A JS number holds integers exactly only up to 2^53, and JSON.parse
// rounds larger ones silently. Fields that can be larger (sequence
// numbers, GPT attribute bits) are marshalled as decimal strings by their
// types (`json:",string"`); quoteBigInts makes sure of it for any other
// integer too, so the page never gets a rounded number.
func jsonValue(v any) (js.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return js.Undefined(), unexpected(err)
	}
	return parseJSON(string(quoteBigInts(b))), nil
}

// quoteBigInts returns the JSON text b with every integer outside
// ±(2^53−1) written as a string of its decimal digits. b must be valid
// JSON (json.Marshal's output); it is returned as it is when it holds no
// such integer.
func quoteBigInts(b []byte) []byte {
	var out []byte // nil until an integer needs quoting
	done := 0      // b[:done] is in out
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			// Skip the string: up to the next unescaped quote.
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			i++
		case c == '-' || ('0' <= c && c <= '9'):
			j := i + 1
			for j < len(b) && strings.IndexByte("0123456789.eE+-", b[j]) >= 0 {
				j++
			}
			if num := b[i:j]; bigInt(num) {
				out = append(out, b[done:i]...)
				out = append(out, '"')
				out = append(out, num...)
				out = append(out, '"')
				done = j
			}
			i = j
		default:
			i++
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[done:]...)
}

// bigInt says whether the JSON number num is an integer that a float64
// does not hold exactly for certain (more than 2^53−1 in magnitude).
func bigInt(num []byte) bool {
	digits := num
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) < 16 || strings.ContainsAny(string(digits), ".eE") {
		return false // 2^53−1 has 16 digits; fractions and exponents are floats
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	return err != nil || n > maxSafeInt
}

func parseJSON(s string) js.Value {
	return js.Global().Get("JSON").Call("parse", s)
}

// uint8Array copies b into a new Uint8Array.
func uint8Array(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

// yieldToJS blocks the calling goroutine until a zero-delay timer fires.
// With every goroutine waiting, the Go runtime returns to the JS event
// loop, which delivers the messages that arrived meanwhile.
func yieldToJS() {
	done := make(chan struct{})
	var f js.Func
	f = js.FuncOf(func(js.Value, []js.Value) any {
		f.Release()
		close(done)
		return nil
	})
	js.Global().Call("setTimeout", f, 0)
	<-done
}
