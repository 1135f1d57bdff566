//go:build js && wasm

package main

// What a request leaves behind: storing an image's bytes ends with the
// image, pin waits for the bytes it stores, a cancel reaches a request
// that never blocks, and a bug comes back with a stack trace.

import (
	"context"
	"encoding/json"
	"github.com/vhdxview/vhdxview/internal/idbtest"
	"math"
	"regexp"
	"strings"
	"syscall/js"
	"testing"
	"time"
)

// until waits for cond, letting the JS event loop run. The deadline only
// ends a test that would otherwise hang; nothing is measured.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// stallBlobPuts: see internal/idbtest.
func stallBlobPuts(t *testing.T) js.Value { return idbtest.StallBlobPuts(t) }

// storeEvents lists the states of the store events of image img so far.
func (c *client) storeEvents(img int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, ev := range c.events {
		if ev.Get("event").String() == "store" && ev.Get("image").Int() == img {
			out = append(out, ev.Get("state").String())
		}
	}
	return out
}

func recordOf(c *client, key string) js.Value {
	recs := c.ok("recent", nil).Get("records")
	for i := 0; i < recs.Length(); i++ {
		if r := recs.Index(i); r.Get("key").String() == key {
			return r
		}
	}
	c.t.Fatalf("recent lacks %s", key)
	return js.Undefined()
}

// Closing an image whose bytes are being stored stops the store: the copy
// is cancelled before the close reply, and nothing of it goes on after.
func TestCloseStopsStoring(t *testing.T) {
	needIDB(t)
	c := newClient(t)
	stall := stallBlobPuts(t)
	img, res := c.open(dynamicImage(t).jsFile(t))
	key := res.Get("key").String()
	until(t, "the store of the image's bytes", func() bool { return stall.Call("held").Int() == 1 })
	c.ok("close", map[string]any{"image": img})
	// The store's last news came before the close reply.
	got := c.storeEvents(img)
	if len(got) == 0 || got[len(got)-1] != "cancelled" {
		t.Fatalf("store events before the close reply: %v, want …, cancelled", got)
	}
	until(t, "the abort of the transaction copying the bytes", func() bool { return stall.Call("aborted").Int() == 1 })
	// Nothing runs for the image any more.
	c.closeStore()
	if after := c.storeEvents(img); len(after) != len(got) {
		t.Fatalf("store events after close: %v", after[len(got):])
	}
	if r := recordOf(c, key); r.Get("has_bytes").Bool() {
		t.Fatalf("the bytes of a closed image were stored: %s", jsonString(r))
	}
	// The record is there; a later open stores the bytes.
	stall.Call("restore")
	_, res = c.open(dynamicImage(t).jsFile(t))
	if ev := c.storeEvent(res.Get("key").String()); ev.Get("state").String() != "stored" {
		t.Fatalf("store event: %s", jsonString(ev))
	}
}

// pin of an open image replies once its bytes are stored, and says so;
// cancelling the pin stops the copy.
func TestPinWaitsForBytes(t *testing.T) {
	needIDB(t)
	c := newClient(t)
	c.ok("config", map[string]any{"per_image_limit": 1024}) // the open does not store them
	ti := dynamicImage(t)
	img, res := c.open(ti.jsFile(t))
	key := res.Get("key").String()
	if ev := c.storeEvent(key); ev.Get("error").Get("name").String() != "TooLargeError" {
		t.Fatalf("store event: %s", jsonString(ev))
	}

	// Cancelled while the bytes are copied: the pin stays, the bytes do not.
	stall := stallBlobPuts(t)
	id := c.send("pin", map[string]any{"key": key})
	until(t, "the store of the pinned image's bytes", func() bool { return stall.Call("held").Int() == 1 })
	c.ok("cancel", map[string]any{"target": id})
	if _, e := c.wait(id, nil); e.IsUndefined() || e.Get("name").String() != "CancelledError" {
		t.Fatalf("cancelled pin: %s", jsonString(e))
	}
	until(t, "the abort of the copy", func() bool { return stall.Call("aborted").Int() == 1 })
	if r := recordOf(c, key); !r.Get("pinned").Bool() || r.Get("has_bytes").Bool() {
		t.Fatalf("after a cancelled pin: %s", jsonString(r))
	}
	stall.Call("restore")

	// Waited for: no reply while the copy is held back.
	stall = stallBlobPuts(t)
	id = c.send("pin", map[string]any{"key": key})
	until(t, "the store of the pinned image's bytes", func() bool { return stall.Call("held").Int() == 1 })
	c.mu.Lock()
	for _, m := range c.msgs {
		if m.Get("id").Int() == id {
			c.mu.Unlock()
			t.Fatalf("pin replied before its bytes were stored: %s", jsonString(m))
		}
	}
	c.mu.Unlock()
	stall.Call("release")
	r, e := c.wait(id, nil)
	if !e.IsUndefined() || !r.Get("stored").Bool() || r.Get("store_error").Truthy() {
		t.Fatalf("pin: %s %s", jsonString(r), jsonString(e))
	}
	if r := recordOf(c, key); !r.Get("pinned").Bool() || !r.Get("has_bytes").Bool() {
		t.Fatalf("after pin: %s", jsonString(r))
	}
	c.ok("close", map[string]any{"image": img})
	// Pinning a record whose image is not open stores nothing and waits
	// for nothing; unpinning keeps the bytes.
	if r := c.ok("pin", map[string]any{"key": key, "pinned": false}); !r.Get("stored").Bool() {
		t.Fatalf("unpin: %s", jsonString(r))
	}
}

// A request that never blocks but checks its context sees a cancel that
// only the JS event loop can deliver.
func TestRequestContextYields(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx := newRequestContext(parent)
	var f js.Func
	f = js.FuncOf(func(js.Value, []js.Value) any {
		f.Release()
		cancel()
		return nil
	})
	js.Global().Call("setTimeout", f, 10)
	deadline := time.Now().Add(30 * time.Second)
	checks := 0
	for ctx.Err() == nil {
		checks++
		if time.Now().After(deadline) {
			t.Fatalf("the cancel from JS was not seen in %d checks", checks)
		}
	}
	// Done too: a select with a default case.
	parent, cancel = context.WithCancel(context.Background())
	ctx = newRequestContext(parent)
	f = js.FuncOf(func(js.Value, []js.Value) any {
		f.Release()
		cancel()
		return nil
	})
	js.Global().Call("setTimeout", f, 10)
	deadline = time.Now().Add(30 * time.Second)
	for {
		select {
		case <-ctx.Done():
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the cancel from JS was not seen by Done")
		}
	}
}

var goFrame = regexp.MustCompile(`(?m)^\s*\S+\.go:\d+`)

// A bug comes back as an InternalError with a Go stack trace that shows
// where it happened; the engine goes on serving.
func TestInternalErrorHasStack(t *testing.T) {
	c := newClient(t)
	for _, tc := range []struct{ kind, frame string }{
		{"panic", ".(*request).fault("}, // "main." in the engine, the import path in tests
		{"error", ".faultError\n"},
	} {
		e := c.fail("fault", map[string]any{"kind": tc.kind}, "InternalError")
		st := e.Get("stack")
		if st.Type() != js.TypeString || !strings.Contains(st.String(), tc.frame) || !goFrame.MatchString(st.String()) {
			t.Fatalf("fault %s: stack %v, want one with %s", tc.kind, st, tc.frame)
		}
	}
	c.fail("fault", map[string]any{"kind": "other"}, "ArgumentError")
	// Other errors carry none.
	if e := c.fail("info", map[string]any{"image": 99}, "NotOpenError"); !e.Get("stack").IsUndefined() {
		t.Fatalf("NotOpenError with a stack: %s", jsonString(e))
	}
	// An error of no known kind gets one where it is first seen.
	if err := unexpected(context.DeadlineExceeded); stackOf(err) == "" || !strings.Contains(stackOf(err), "TestInternalErrorHasStack") {
		t.Fatalf("unexpected: stack %q", stackOf(err))
	}
	if name, f := classify(unexpected(context.DeadlineExceeded)); name != "InternalError" || f["stack"] == nil {
		t.Fatalf("classify: %s %v", name, f)
	}
	if unexpected(context.Canceled) != context.Canceled || unexpected(nil) != nil {
		t.Fatal("unexpected wrapped an expected error")
	}
	c.ok("config", nil) // still serving
}

func TestQuoteBigInts(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1,"b":-2,"c":1.5e300}`, `{"a":1,"b":-2,"c":1.5e300}`},
		{`[9007199254740991,-9007199254740991]`, `[9007199254740991,-9007199254740991]`},
		{`[9007199254740992,-9007199254740992]`, `["9007199254740992","-9007199254740992"]`},
		{`{"seq":18446744073709551615,"s":"12345678901234567890"}`, `{"seq":"18446744073709551615","s":"12345678901234567890"}`},
		{`{"x\"18446744073709551615":[1,123456789012345678901234567890]}`, `{"x\"18446744073709551615":[1,"123456789012345678901234567890"]}`},
		{`{"f":1234567890123456.5,"g":12345678901234567e3}`, `{"f":1234567890123456.5,"g":12345678901234567e3}`},
	} {
		if got := string(quoteBigInts([]byte(tc.in))); got != tc.want {
			t.Errorf("quoteBigInts(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// Through jsonValue: the page gets the exact digits.
	v, err := jsonValue(struct {
		Seq    uint64 `json:"seq"`
		Tagged uint64 `json:"tagged,string"`
		Small  int64  `json:"small"`
	}{math.MaxUint64, 1<<63 + 1, 42})
	if err != nil {
		t.Fatal(err)
	}
	if v.Get("seq").String() != "18446744073709551615" || v.Get("tagged").String() != "9223372036854775809" || v.Get("small").Int() != 42 {
		t.Fatalf("jsonValue: %s", jsonString(v))
	}
	var back struct {
		Seq uint64 `json:"seq,string"`
	}
	if err := json.Unmarshal([]byte(jsonString(v)), &back); err != nil || back.Seq != math.MaxUint64 {
		t.Fatalf("round trip: %v %d", err, back.Seq)
	}
}
