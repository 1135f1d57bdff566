//go:build js && wasm

package main

// Protocol round trips on Node (GOOS=js GOARCH=wasm go test -exec
// go_js_wasm_exec), with fake-indexeddb preloaded for the store:
//
//	NODE_OPTIONS="--require $PWD/node_modules/fake-indexeddb/auto/index.js" \
//	  GOOS=js GOARCH=wasm go test -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/
//
// Images are made in memory with internal/builder; requests go through
// Server.Dispatch as JS objects, exactly as worker.js passes them, and the
// replies are read back as JS values. Blob reads are asynchronous here
// (Node has no FileReaderSync), so this also checks that no request
// blocks the JS event loop.

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/builder"
)

const mib = 1 << 20

// client sends requests to a Server and collects its messages.
type client struct {
	t      *testing.T
	s      *Server
	mu     sync.Mutex
	msgs   []js.Value // replies and progress not yet taken
	events []js.Value
	wake   chan struct{}
	nextID int
}

func newClient(t *testing.T) *client {
	t.Helper()
	c := newBareClient(t)
	if hasIDB() {
		// One database per test, so tests do not see each other's records.
		db := "vhdxview-test-" + strings.ReplaceAll(t.Name(), "/", "-")
		c.ok("config", map[string]any{"db_name": db})
		t.Cleanup(func() { c.closeStore(); js.Global().Get("indexedDB").Call("deleteDatabase", db) })
	} else {
		c.ok("config", map[string]any{"store": false})
	}
	return c
}

// newBareClient is a client of a new Server with the default config.
func newBareClient(t *testing.T) *client {
	c := &client{t: t, wake: make(chan struct{}, 1)}
	c.s = NewServer(func(msg js.Value, transfer []any) {
		for _, tr := range transfer {
			if !tr.(js.Value).InstanceOf(js.Global().Get("ArrayBuffer")) {
				t.Errorf("transfer list holds a non-ArrayBuffer")
			}
		}
		c.mu.Lock()
		if msg.Get("event").Type() == js.TypeString {
			c.events = append(c.events, msg)
		} else {
			c.msgs = append(c.msgs, msg)
		}
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
	})
	return c
}

// closeStore waits for background storing, then closes the connection
// (deleting an open database would fire versionchange, whose handler in
// go-indexeddb logs to stdout, which deadlocks under Node).
func (c *client) closeStore() {
	done := make(chan struct{})
	go func() { c.s.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.t.Error("background storing did not finish")
	}
	c.s.st.mu.Lock()
	if c.s.st.store != nil {
		c.s.st.store.Close()
		c.s.st.store = nil
	}
	c.s.st.mu.Unlock()
}

func hasIDB() bool { return js.Global().Get("indexedDB").Truthy() }

func needIDB(t *testing.T) {
	if !hasIDB() {
		if os.Getenv("VHDXVIEW_REQUIRE_IDB") != "" {
			t.Fatal("indexedDB is missing (preload fake-indexeddb with NODE_OPTIONS=--require …)")
		}
		t.Skip("no indexedDB (preload fake-indexeddb to run the store tests)")
	}
}

// send dispatches a request and returns its id.
func (c *client) send(op string, a map[string]any) int {
	c.nextID++
	id := c.nextID
	if a == nil {
		a = map[string]any{}
	}
	c.s.Dispatch(js.ValueOf(map[string]any{"id": id, "op": op, "args": a}))
	return id
}

// wait returns the reply to id; progress messages for id go to onProgress.
func (c *client) wait(id int, onProgress func(done, total int64)) (result, errv js.Value) {
	c.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		c.mu.Lock()
		for i, m := range c.msgs {
			if m.Get("id").Int() != id {
				continue
			}
			c.msgs = append(c.msgs[:i], c.msgs[i+1:]...)
			c.mu.Unlock()
			if p := m.Get("progress"); p.Truthy() {
				if onProgress != nil {
					onProgress(int64(p.Get("done").Float()), int64(p.Get("total").Float()))
				}
				c.mu.Lock()
				break
			}
			if m.Get("ok").Bool() {
				return m.Get("result"), js.Undefined()
			}
			return js.Undefined(), m.Get("error")
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("no reply to request %d", id)
		}
	}
}

func (c *client) call(op string, a map[string]any) (js.Value, js.Value) {
	c.t.Helper()
	return c.wait(c.send(op, a), nil)
}

// ok calls op and fails the test on an error reply.
func (c *client) ok(op string, a map[string]any) js.Value {
	c.t.Helper()
	res, e := c.call(op, a)
	if !e.IsUndefined() {
		c.t.Fatalf("%s: %s: %s", op, e.Get("name"), e.Get("message"))
	}
	return res
}

// fail calls op and returns the error reply, failing the test if it
// succeeded or if the error's name is not name.
func (c *client) fail(op string, a map[string]any, name string) js.Value {
	c.t.Helper()
	_, e := c.call(op, a)
	if e.IsUndefined() {
		c.t.Fatalf("%s succeeded, want %s", op, name)
	}
	if got := e.Get("name").String(); got != name {
		c.t.Fatalf("%s: error %s (%s), want %s", op, got, e.Get("message"), name)
	}
	if e.Get("message").String() == "" {
		c.t.Fatalf("%s: %s without a message", op, name)
	}
	return e
}

// storeEvent waits for a "store" event of key in a final state.
func (c *client) storeEvent(key string) js.Value {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, ev := range c.events {
			if ev.Get("event").String() == "store" && ev.Get("key").String() == key {
				if st := ev.Get("state").String(); st == "stored" || st == "failed" {
					c.mu.Unlock()
					return ev
				}
			}
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.t.Fatalf("no final store event for %s", key)
	return js.Undefined()
}

func bytesOf(v js.Value) []byte {
	u := v
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		u = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, u.Get("length").Int())
	js.CopyBytesToGo(b, u)
	return b
}

// newFile makes a JS File (Node 20 has a global File).
func newFile(t *testing.T, name string, data []byte, lastModified int64) js.Value {
	t.Helper()
	u := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u, data)
	if js.Global().Get("File").Type() != js.TypeFunction {
		t.Fatal("no global File: Node 20+ is required")
	}
	return js.Global().Get("File").New([]any{u}, name, map[string]any{"lastModified": lastModified})
}

// testImage is a built image and the virtual disk a reader must return.
type testImage struct {
	name     string
	file     []byte
	expected []byte
	lay      *builder.Layout
}

func build(t *testing.T, name string, im *builder.Image, parent []byte) *testImage {
	t.Helper()
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var pr io.ReaderAt
	if parent != nil {
		pr = bytes.NewReader(parent)
	}
	ti := &testImage{name: name, file: b, lay: lay}
	if im.VirtualSize > 64*mib {
		return ti // too big to hold; tests of it need no contents
	}
	vd, err := im.Expected(pr)
	if err != nil {
		t.Fatal(err)
	}
	exp := make([]byte, vd.Size())
	if _, err := vd.ReadAt(exp, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	ti.expected = exp
	return ti
}

func (ti *testImage) jsFile(t *testing.T) js.Value {
	return newFile(t, ti.name, ti.file, 1700000000000)
}

var (
	guidParent = uuid.MustParse("11111111-2222-4333-8444-555555555555")
	guidChild  = uuid.MustParse("66666666-7777-4888-8999-aaaaaaaaaaaa")
)

func dynamicImage(t *testing.T) *testImage {
	return build(t, "dynamic.vhdx", &builder.Image{
		VirtualSize: 16 * mib,
		Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "index", Value: 1}},
			3: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "byte", Value: 0xab}},
			5: {State: builder.PayloadZero},
			7: {State: builder.PayloadUndefined},
			9: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "index", Value: 9}},
		},
	}, nil)
}

func chainImages(t *testing.T) (parent, child *testImage) {
	parent = build(t, "parent.vhdx", &builder.Image{
		VirtualSize: 8 * mib, DataWriteGUID: guidParent,
		Blocks: map[uint64]builder.Block{
			0: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "index", Value: 100}},
			1: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "index", Value: 101}},
			2: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "index", Value: 102}},
		},
	}, nil)
	child = build(t, "child.avhdx", &builder.Image{
		VirtualSize: 8 * mib, DataWriteGUID: guidChild,
		Parent: builder.NewVHDXParent(guidParent, `..\base\parent.vhdx`),
		Blocks: map[uint64]builder.Block{
			1: {State: builder.PayloadPartiallyPresent, Fill: &builder.Fill{Pattern: "byte", Value: 0xcd},
				Present: []builder.SectorRange{{Start: 8, Count: 16}}},
			2: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "index", Value: 202}},
		},
	}, parent.expected)
	return parent, child
}

// openOne opens files and returns (image handle, result).
func (c *client) open(files ...js.Value) (int, js.Value) {
	c.t.Helper()
	list := make([]any, len(files))
	for i, f := range files {
		list[i] = f
	}
	res := c.ok("open", map[string]any{"files": list})
	return res.Get("image").Int(), res
}

func (c *client) read(img int, off, n int64) []byte {
	c.t.Helper()
	res := c.ok("read", map[string]any{"image": img, "offset": off, "length": n})
	if !res.InstanceOf(js.Global().Get("ArrayBuffer")) {
		c.t.Fatalf("read result is not an ArrayBuffer")
	}
	return bytesOf(res)
}

// checkReads compares reads at a few places (block edges, odd offsets)
// with the expected virtual disk.
func (c *client) checkReads(img int, exp []byte) {
	c.t.Helper()
	size := int64(len(exp))
	for _, r := range [][2]int64{{0, 4096}, {0, 3 * mib}, {mib - 100, 300}, {3*mib + 7, 2 * mib}, {size - 4096, 4096},
		{size - 10, 100}, {0, size}} {
		got := c.read(img, r[0], r[1])
		want := exp[r[0]:min(r[0]+r[1], size)]
		if !bytes.Equal(got, want) {
			c.t.Errorf("read %#x+%#x: %d bytes, differ from expected (%d bytes)", r[0], r[1], len(got), len(want))
		}
	}
}

func TestOpenInfoReadMapPlan(t *testing.T) {
	c := newClient(t)
	ti := dynamicImage(t)
	img, res := c.open(ti.jsFile(t))
	sum := res.Get("summary")
	if sum.Get("type").String() != "dynamic" || sum.Get("virtual_size").Int() != 16*mib ||
		sum.Get("name").String() != "dynamic.vhdx" || sum.Get("payload_blocks").Int() != 16 {
		t.Fatalf("summary: %s", jsonString(sum))
	}
	if res.Get("files").Length() != 1 || res.Get("files").Index(0).Get("size").Int() != len(ti.file) {
		t.Fatalf("files: %v", res.Get("files"))
	}

	info := c.ok("info", map[string]any{"image": img})
	if info.Get("type").String() != "dynamic" || info.Get("structures").Index(0).Get("children").Index(1).Get("children").Length() != 2 || info.Get("payload_blocks").Int() != 16 {
		t.Fatalf("info: %s", jsonString(info))
	}

	c.checkReads(img, ti.expected)
	if got := c.read(img, 16*mib, 10); len(got) != 0 {
		t.Fatalf("read at the end: %d bytes", len(got))
	}
	c.fail("read", map[string]any{"image": img, "offset": 0, "length": MaxRead + 1}, "ArgumentError")
	c.fail("read", map[string]any{"image": img, "offset": -1, "length": 1}, "ArgumentError")
	c.fail("read", map[string]any{"image": img, "offset": 0.5, "length": 1}, "ArgumentError")
	c.fail("read", map[string]any{"image": img + 100, "offset": 0, "length": 1}, "NotOpenError")
	c.fail("frobnicate", nil, "UnknownOpError")

	m := c.ok("map", map[string]any{"image": img})
	states := bytesOf(m.Get("states"))
	want := make([]byte, 16)
	want[0], want[3], want[5], want[7], want[9] = 6, 6, 2, 1, 6
	if !bytes.Equal(states, want) || m.Get("blocks").Int() != 16 || m.Get("first").Int() != 0 {
		t.Fatalf("map: %v, want %v", states, want)
	}
	m = c.ok("map", map[string]any{"image": img, "first": 3, "count": 4})
	if got := bytesOf(m.Get("states")); !bytes.Equal(got, want[3:7]) || m.Get("count").Int() != 4 {
		t.Fatalf("map page: %v, want %v", got, want[3:7])
	}
	m = c.ok("map", map[string]any{"image": img, "first": 14, "count": 10})
	if m.Get("count").Int() != 2 {
		t.Fatalf("map past the end: count %d", m.Get("count").Int())
	}

	// A plan covers the range exactly and agrees with the file and reads.
	p := c.ok("plan", map[string]any{"image": img})
	runs := p.Get("runs")
	if !p.Get("next").IsNull() || p.Get("end").Int() != 16*mib {
		t.Fatalf("plan: next %v end %v", p.Get("next"), p.Get("end"))
	}
	got := execPlan(t, runs, [][]byte{ti.file}, 0, 16*mib)
	if !bytes.Equal(got, ti.expected) {
		t.Fatal("executing the plan does not give the expected disk")
	}
	// Paged: limit 2 runs per page, follow next to the end.
	var all []byte
	off := int64(0)
	pages := 0
	for {
		p := c.ok("plan", map[string]any{"image": img, "offset": off, "length": 16*mib - off, "limit": 2})
		end := int64(p.Get("end").Float())
		all = append(all, execPlan(t, p.Get("runs"), [][]byte{ti.file}, off, end)...)
		pages++
		if p.Get("next").IsNull() {
			break
		}
		off = end
	}
	if pages < 3 || !bytes.Equal(all, ti.expected) {
		t.Fatalf("paged plan: %d pages, equal %v", pages, bytes.Equal(all, ti.expected))
	}

	c.ok("close", map[string]any{"image": img})
	c.fail("info", map[string]any{"image": img}, "NotOpenError")
}

// execPlan builds [off, end) from runs the way vhdxview.js builds a Blob.
func execPlan(t *testing.T, runs js.Value, files [][]byte, off, end int64) []byte {
	t.Helper()
	var out []byte
	pos := off
	for i := 0; i < runs.Length(); i++ {
		r := runs.Index(i)
		o, n := int64(r.Get("offset").Float()), int64(r.Get("length").Float())
		if o != pos || n <= 0 {
			t.Fatalf("run %d at %#x+%#x, want it at %#x", i, o, n, pos)
		}
		switch r.Get("kind").String() {
		case "zero":
			out = append(out, make([]byte, n)...)
		case "file":
			f := files[r.Get("level").Int()]
			fo := int64(r.Get("file_offset").Float())
			out = append(out, f[fo:fo+n]...)
		case "bytes":
			d := bytesOf(r.Get("data"))
			if int64(len(d)) != n {
				t.Fatalf("bytes run of %d holds %d", n, len(d))
			}
			out = append(out, d...)
		default:
			t.Fatalf("run kind %v", r.Get("kind"))
		}
		pos += n
	}
	if pos != end {
		t.Fatalf("runs end at %#x, want %#x", pos, end)
	}
	return out
}

func jsonString(v js.Value) string { return js.Global().Get("JSON").Call("stringify", v).String() }

func TestDamagedImage(t *testing.T) {
	c := newClient(t)
	bad := build(t, "bad.vhdx", &builder.Image{VirtualSize: 8 * mib,
		RegionTables: [2]builder.RegionTableOptions{{CorruptChecksum: true}, {CorruptChecksum: true}}}, nil)
	e := c.fail("open", map[string]any{"files": []any{bad.jsFile(t)}}, "FormatError")
	if e.Get("file").String() != "bad.vhdx" || !strings.Contains(e.Get("structure").String(), "region") || e.Get("offset").Type() != js.TypeNumber {
		t.Fatalf("error: %s", jsonString(e))
	}
	// Not a disk at all: named by its signature.
	e = c.fail("open", map[string]any{"files": []any{newFile(t, "notes.txt", bytes.Repeat([]byte("x"), 2*mib), 0)}}, "FormatError")
	if e.Get("kind").String() != "text" || !e.Get("raw_possible").Bool() {
		t.Fatalf("error: %s", jsonString(e))
	}
	// Named .vhdx, it also says what the VHDX reader found.
	e = c.fail("open", map[string]any{"files": []any{newFile(t, "junk.vhdx", make([]byte, 2*mib), 0)}}, "FormatError")
	if e.Get("structure").String() != "file type identifier" || e.Get("offset").Int() != 0 || e.Get("kind").String() != "unknown" {
		t.Fatalf("error: %s", jsonString(e))
	}
	c.fail("open", map[string]any{"files": []any{}}, "ArgumentError")
	c.fail("open", map[string]any{"files": []any{"not a file"}}, "ArgumentError")

	// A BAT entry pointing past the end of the file: open works, reading
	// the block fails with a BlockError naming it.
	blk := build(t, "badblock.vhdx", &builder.Image{VirtualSize: 8 * mib,
		Blocks: map[uint64]builder.Block{0: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "byte", Value: 1}}},
		RawBAT: map[uint64]uint64{2: builder.BATEntry(6, 4096*mib)}}, nil)
	img, _ := c.open(blk.jsFile(t))
	if got := c.read(img, 0, 4096); !bytes.Equal(got, blk.expected[:4096]) {
		t.Fatal("good block differs")
	}
	e = c.fail("read", map[string]any{"image": img, "offset": 2*mib + 512, "length": 512}, "BlockError")
	if e.Get("block").Int() != 2 || e.Get("entry").Int() != 2 {
		t.Fatalf("error: %s", jsonString(e))
	}
	c.fail("plan", map[string]any{"image": img}, "BlockError")
	rep := c.ok("verify", map[string]any{"image": img})
	if rep.Get("verdict").String() != "problems" || rep.Get("errors").Int() == 0 {
		t.Fatalf("verify: %s", jsonString(rep))
	}
}

func TestMissingParentThenSupplied(t *testing.T) {
	c := newClient(t)
	parent, child := chainImages(t)
	e := c.fail("open", map[string]any{"files": []any{child.jsFile(t)}}, "MissingParentError")
	paths := e.Get("paths")
	if paths.Length() != 1 || paths.Index(0).Get("key").String() != "relative_path" ||
		paths.Index(0).Get("value").String() != `..\base\parent.vhdx` {
		t.Fatalf("paths: %s", jsonString(e))
	}
	if e.Get("linkages").Index(0).String() != guidParent.String() {
		t.Fatalf("linkages: %s", jsonString(e))
	}

	// partial: the child alone opens; reads that need the parent fail
	// naming it.
	res := c.ok("open", map[string]any{"files": []any{child.jsFile(t)}, "partial": true})
	if pm := res.Get("summary").Get("parent_missing"); !pm.Truthy() || pm.Get("paths").Index(0).Get("value").String() != `..\base\parent.vhdx` {
		t.Fatalf("partial summary: %s", jsonString(res.Get("summary")))
	}
	pimg := res.Get("image").Int()
	if got := c.read(pimg, 2*mib, 4096); !bytes.Equal(got, child.expected[2*mib:2*mib+4096]) {
		t.Fatal("partial: child's own block differs")
	}
	e = c.fail("read", map[string]any{"image": pimg, "offset": 0, "length": 512}, "MissingParentError")
	if e.Get("paths").Index(0).Get("value").String() != `..\base\parent.vhdx` {
		t.Fatalf("read error: %s", jsonString(e))
	}

	// Both files, in either order.
	for _, order := range [][]js.Value{{child.jsFile(t), parent.jsFile(t)}, {parent.jsFile(t), child.jsFile(t)}} {
		img, res := c.open(order...)
		sum := res.Get("summary")
		if sum.Get("type").String() != "differencing" || sum.Get("chain").Length() != 2 ||
			sum.Get("chain").Index(1).Get("name").String() != "parent.vhdx" || sum.Get("name").String() != "child.avhdx" {
			t.Fatalf("summary: %s", jsonString(sum))
		}
		if f := res.Get("files"); f.Length() != 2 || f.Index(0).Get("name").String() != "child.avhdx" {
			t.Fatalf("files: %d", f.Length())
		}
		c.checkReads(img, child.expected)
		p := c.ok("plan", map[string]any{"image": img})
		if got := execPlan(t, p.Get("runs"), [][]byte{child.file, parent.file}, 0, 8*mib); !bytes.Equal(got, child.expected) {
			t.Fatal("executing the chain's plan does not give the expected disk")
		}
		m := c.ok("map", map[string]any{"image": img, "level": 1})
		if got := bytesOf(m.Get("states")); got[0] != 6 || got[1] != 6 || got[3] != 0 {
			t.Fatalf("parent map: %v", got)
		}
		info := c.ok("info", map[string]any{"image": img})
		if info.Get("chain").Length() != 2 {
			t.Fatalf("info chain: %s", jsonString(info.Get("chain")))
		}
	}

	// A file that is no VHDX among the disk's files is left out, and said so.
	notes := newFile(t, "vm.vmcx", bytes.Repeat([]byte("x"), 2*mib), 0)
	_, res = c.open(child.jsFile(t), notes, parent.jsFile(t))
	if sk := res.Get("skipped"); sk.Length() != 1 || sk.Index(0).Get("file").String() != "vm.vmcx" ||
		sk.Index(0).Get("name").String() != "FormatError" || res.Get("summary").Get("chain").Length() != 2 {
		t.Fatalf("open with a stray file: %s", jsonString(res))
	}
	// Alone, it is an error.
	c.fail("open", map[string]any{"files": []any{notes}}, "FormatError")

	// An unrelated file is no parent: still missing, and the error says
	// why the candidate was rejected.
	other := dynamicImage(t)
	e = c.fail("open", map[string]any{"files": []any{child.jsFile(t), other.jsFile(t)}}, "MissingParentError")
	if tried := e.Get("tried"); tried.Length() != 1 || !strings.Contains(tried.Index(0).String(), "dynamic.vhdx") ||
		!strings.Contains(tried.Index(0).String(), "is not the parent_linkage") {
		t.Fatalf("error: %s", jsonString(e))
	}
	// Two separate disks are not one chain.
	e = c.fail("open", map[string]any{"files": []any{parent.jsFile(t), other.jsFile(t)}}, "MultipleImagesError")
	if e.Get("files").Length() != 2 {
		t.Fatalf("error: %s", jsonString(e))
	}
}

// TestPartialChainFacts: a grandchild given with its parent but not the
// base: the error and the partial open's summary name the missing level
// (2), its file and the disk that names it; used maps chain levels to the
// files given and skipped lists the rest with their index; a locator that
// names no parent opens, its base listed as a separate disk and why.
func TestPartialChainFacts(t *testing.T) {
	c := newClient(t)
	parent, child := chainImages(t)
	grand := build(t, "grand.avhdx", &builder.Image{
		VirtualSize: 8 * mib, DataWriteGUID: uuid.MustParse("77777777-7777-4888-8999-aaaaaaaaaaaa"),
		Parent: builder.NewVHDXParent(guidChild, `.\child.avhdx`),
		Blocks: map[uint64]builder.Block{3: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "byte", Value: 0x33}}},
	}, child.expected)
	png := newFile(t, "photo.png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 4096)...), 0)
	files := []any{png, child.jsFile(t), grand.jsFile(t)}

	e := c.fail("open", map[string]any{"files": files}, "MissingParentError")
	if e.Get("child").String() != "child.avhdx" || e.Get("level").Int() != 1 || e.Get("parent_level").Int() != 2 ||
		e.Get("parent_name").String() != "parent.vhdx" || e.Get("tried").Length() != 0 {
		t.Fatalf("error: %s", jsonString(e))
	}
	if sk := e.Get("skipped"); sk.Length() != 1 || sk.Index(0).Get("file").String() != "photo.png" ||
		sk.Index(0).Get("index").Int() != 0 || sk.Index(0).Get("kind_name").String() != "a PNG image" {
		t.Fatalf("error's skipped: %s", jsonString(e))
	}

	res := c.ok("open", map[string]any{"files": files, "partial": true})
	pm := res.Get("summary").Get("parent_missing")
	if !pm.Truthy() || pm.Get("child").String() != "child.avhdx" || pm.Get("parent_level").Int() != 2 || pm.Get("parent_name").String() != "parent.vhdx" {
		t.Fatalf("partial summary: %s", jsonString(res.Get("summary")))
	}
	if got := jsonString(res.Get("used")); got != "[2,1]" {
		t.Fatalf("used %s, want [2,1]", got)
	}
	if sk := res.Get("skipped"); sk.Length() != 1 || sk.Index(0).Get("index").Int() != 0 {
		t.Fatalf("skipped: %s", jsonString(sk))
	}
	img := res.Get("image").Int()
	if got := c.read(img, 2*mib, 4096); !bytes.Equal(got, child.expected[2*mib:2*mib+4096]) {
		t.Fatal("the parent's own block differs")
	}
	rep := c.ok("verify", map[string]any{"image": img})
	found := false
	for i := 0; i < rep.Get("checks").Length(); i++ {
		ck := rep.Get("checks").Index(i)
		if ck.Get("structure").String() == "parent" {
			found = ck.Get("level").Int() == 1 && strings.Contains(ck.Get("message").String(), "parent 2 (parent.vhdx), the parent of child.avhdx")
		}
	}
	if !found {
		t.Fatalf("verify has no parent check for level 2: %s", jsonString(rep))
	}
	// The whole chain, given in any order with the PNG: used names each
	// level's file.
	res = c.ok("open", map[string]any{"files": []any{png, child.jsFile(t), grand.jsFile(t), parent.jsFile(t)}})
	if got := jsonString(res.Get("used")); got != "[2,1,3]" || res.Get("summary").Get("parent_missing").Truthy() {
		t.Fatalf("whole chain: used %s, summary %s", got, jsonString(res.Get("summary")))
	}

	// A child whose locator has no parent_linkage, with a base: the child
	// opens (its parent cannot be identified), the base is a separate disk.
	noLink := build(t, "nolink.avhdx", &builder.Image{VirtualSize: 8 * mib, DataWriteGUID: uuid.MustParse("88888888-7777-4888-8999-aaaaaaaaaaaa"),
		Parent: &builder.ParentLocator{Entries: []builder.KeyValue{{Key: builder.KeyRelativePath, Value: "parent.vhdx"}}}}, make([]byte, 8*mib))
	res = c.ok("open", map[string]any{"files": []any{parent.jsFile(t), noLink.jsFile(t)}})
	pm = res.Get("summary").Get("parent_missing")
	if res.Get("summary").Get("name").String() != "nolink.avhdx" || !pm.Get("unidentified").Bool() || pm.Get("parent_name").String() != "parent.vhdx" {
		t.Fatalf("no linkage: %s", jsonString(res.Get("summary")))
	}
	sk := res.Get("skipped")
	if sk.Length() != 1 || sk.Index(0).Get("name").String() != "SeparateDiskError" || sk.Index(0).Get("index").Int() != 0 ||
		!strings.Contains(sk.Index(0).Get("message").String(), "no valid parent_linkage") {
		t.Fatalf("no linkage skipped: %s", jsonString(sk))
	}
}

func TestDirtyLogPlanBytes(t *testing.T) {
	c := newClient(t)
	im := &builder.Image{VirtualSize: 8 * mib,
		Blocks: map[uint64]builder.Block{1: {State: builder.PayloadFullyPresent, Fill: &builder.Fill{Pattern: "index", Value: 5}}}}
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	im.Log = &builder.Log{Deferred: []builder.Deferred{{FileOffset: uint64(lay.Blocks[1]) + 8192, Length: 8192}}}
	ti := build(t, "dirty.vhdx", im, nil)
	img, res := c.open(ti.jsFile(t))
	if !res.Get("summary").Get("log_replayed").Bool() {
		t.Fatalf("summary: %s", jsonString(res.Get("summary")))
	}
	c.checkReads(img, ti.expected)
	p := c.ok("plan", map[string]any{"image": img})
	runs := p.Get("runs")
	kinds := map[string]int{}
	for i := 0; i < runs.Length(); i++ {
		kinds[runs.Index(i).Get("kind").String()]++
	}
	if kinds["bytes"] == 0 || kinds["file"] == 0 || kinds["zero"] == 0 {
		t.Fatalf("run kinds %v, want all three", kinds)
	}
	if got := execPlan(t, runs, [][]byte{ti.file}, 0, 8*mib); !bytes.Equal(got, ti.expected) {
		t.Fatal("executing the plan does not give the replayed disk")
	}
}

func TestVerifyProgressAndCancel(t *testing.T) {
	c := newClient(t)
	ti := dynamicImage(t)
	img, _ := c.open(ti.jsFile(t))
	var last [2]int64
	calls := 0
	rep, e := c.wait(c.send("verify", map[string]any{"image": img}), func(done, total int64) {
		calls++
		last = [2]int64{done, total}
	})
	if !e.IsUndefined() {
		t.Fatalf("verify: %s", jsonString(e))
	}
	if rep.Get("verdict").String() != "clean" || rep.Get("checks").Length() == 0 {
		t.Fatalf("verify: %s", jsonString(rep))
	}
	if calls == 0 || last[0] != last[1] || last[1] == 0 {
		t.Fatalf("progress: %d calls, last %v", calls, last)
	}

	// A disk with a million BAT entries: cancel after the first progress.
	big := build(t, "big.vhdx", &builder.Image{VirtualSize: 1 << 40}, nil)
	img, _ = c.open(big.jsFile(t))
	id := c.send("verify", map[string]any{"image": img})
	cancelled := false
	_, e = c.wait(id, func(done, total int64) {
		if !cancelled {
			cancelled = true
			res := c.ok("cancel", map[string]any{"target": id})
			if !res.Get("cancelled").Bool() {
				t.Errorf("cancel: %s", jsonString(res))
			}
		}
	})
	if e.IsUndefined() || e.Get("name").String() != "CancelledError" {
		t.Fatalf("cancelled verify: %v", jsonString(e))
	}
	if res := c.ok("cancel", map[string]any{"target": 9999}); res.Get("cancelled").Bool() {
		t.Fatal("cancel of an unknown request says cancelled")
	}
	c.fail("cancel", map[string]any{}, "ArgumentError")
}

func TestConcurrentReads(t *testing.T) {
	c := newClient(t)
	ti := dynamicImage(t)
	img, _ := c.open(ti.jsFile(t))
	var ids []int
	var offs []int64
	for i := 0; i < 16; i++ {
		off := int64(i) * 997 * 1024
		offs = append(offs, off)
		ids = append(ids, c.send("read", map[string]any{"image": img, "offset": off, "length": 300 * 1024}))
	}
	for i, id := range ids {
		res, e := c.wait(id, nil)
		if !e.IsUndefined() {
			t.Fatalf("read %d: %s", i, jsonString(e))
		}
		want := ti.expected[offs[i]:min(offs[i]+300*1024, int64(len(ti.expected)))]
		if !bytes.Equal(bytesOf(res), want) {
			t.Fatalf("read %d differs", i)
		}
	}
}

func TestStoreRecentReopenForget(t *testing.T) {
	needIDB(t)
	c := newClient(t)
	parent, child := chainImages(t)
	_, res := c.open(child.jsFile(t), parent.jsFile(t))
	key := res.Get("key").String()
	if key == "" || res.Get("store_error").Truthy() {
		t.Fatalf("open: key %q, store_error %s", key, jsonString(res.Get("store_error")))
	}
	pkey := res.Get("summary").Get("chain").Index(1).Get("key").String()
	for _, k := range []string{key, pkey} {
		if ev := c.storeEvent(k); ev.Get("state").String() != "stored" {
			t.Fatalf("store event: %s", jsonString(ev))
		}
	}
	rec := c.ok("recent", nil)
	recs := rec.Get("records")
	if recs.Length() != 2 || rec.Get("usage").Get("with_bytes").Int() != 2 {
		t.Fatalf("recent: %s", jsonString(rec))
	}
	found := false
	for i := 0; i < recs.Length(); i++ {
		r := recs.Index(i)
		if r.Get("key").String() == key {
			found = true
			if r.Get("name").String() != "child.avhdx" || !r.Get("has_bytes").Bool() || r.Get("size").Int() != len(child.file) ||
				r.Get("summary").Get("type").String() != "differencing" || r.Get("last_modified").Float() != 1700000000000 {
				t.Fatalf("record: %s", jsonString(r))
			}
		}
	}
	if !found {
		t.Fatalf("recent lacks %s", key)
	}

	// The same file again gives the same key.
	_, again := c.open(child.jsFile(t), parent.jsFile(t))
	if again.Get("key").String() != key {
		t.Fatalf("second open: key %s, want %s", again.Get("key"), key)
	}

	// verify keeps its report in the record.
	c.ok("verify", map[string]any{"image": again.Get("image").Int()})
	rec = c.ok("recent", nil)
	for i := 0; i < rec.Get("records").Length(); i++ {
		r := rec.Get("records").Index(i)
		if r.Get("key").String() == key && r.Get("verify").Get("verdict").String() != "clean" {
			t.Fatalf("record after verify: %s", jsonString(r))
		}
	}

	// User state and pinning are kept, also across a later open.
	c.ok("set_state", map[string]any{"key": key, "state": map[string]any{"offset": 4096, "bookmarks": []any{1, 2}}})
	c.ok("pin", map[string]any{"key": key})
	c.open(child.jsFile(t), parent.jsFile(t))
	rec = c.ok("recent", nil)
	for i := 0; i < rec.Get("records").Length(); i++ {
		r := rec.Get("records").Index(i)
		if r.Get("key").String() == key && (r.Get("user_state").Get("offset").Int() != 4096 || !r.Get("pinned").Bool() ||
			r.Get("verify").Get("verdict").String() != "clean") {
			t.Fatalf("record after set_state, pin, open: %s", jsonString(r))
		}
	}
	c.fail("set_state", map[string]any{"key": "nope", "state": 1}, "NotFoundError")
	c.fail("pin", map[string]any{"key": "nope"}, "NotFoundError")

	// A second server (a reloaded page) reopens from the store.
	c2 := newBareClient(t)
	c2.s.st.cfg = c.s.st.cfg
	defer c2.closeStore()
	ro := c2.ok("reopen", map[string]any{"key": key})
	if ro.Get("key").String() != key || ro.Get("summary").Get("chain").Length() != 2 {
		t.Fatalf("reopen: %s", jsonString(ro))
	}
	c2.checkReads(ro.Get("image").Int(), child.expected)
	c2.fail("reopen", map[string]any{"key": "nope"}, "NotFoundError")
	c2.fail("reopen", map[string]any{}, "ArgumentError")

	c2.ok("forget", map[string]any{"key": key})
	if n := c2.ok("recent", nil).Get("records").Length(); n != 1 {
		t.Fatalf("after forget: %d records", n)
	}
	c2.fail("reopen", map[string]any{"key": key}, "NotFoundError")
	c2.ok("forget", map[string]any{"all": true})
	if n := c2.ok("recent", nil).Get("records").Length(); n != 0 {
		t.Fatalf("after forget all: %d records", n)
	}
}

func TestStoreQuota(t *testing.T) {
	needIDB(t)
	c := newClient(t)
	restore := js.Global().Get("Function").New(`const proto = IDBObjectStore.prototype; const orig = proto.put;
		proto.put = function(value, key) {
			if (this.name === "blobs") throw new DOMException("simulated", "QuotaExceededError");
			return orig.call(this, value, key);
		};
		return () => { proto.put = orig; };`).Invoke()
	defer restore.Invoke()
	ti := dynamicImage(t)
	img, res := c.open(ti.jsFile(t))
	key := res.Get("key").String()
	ev := c.storeEvent(key)
	if ev.Get("state").String() != "failed" || ev.Get("error").Get("name").String() != "QuotaError" ||
		!strings.Contains(ev.Get("error").Get("message").String(), "quota") {
		t.Fatalf("store event: %s", jsonString(ev))
	}
	// Nothing else broke: the image reads, recent lists it without bytes.
	c.checkReads(img, ti.expected)
	recs := c.ok("recent", nil).Get("records")
	if recs.Length() != 1 || recs.Index(0).Get("has_bytes").Bool() {
		t.Fatalf("recent: %s", jsonString(recs))
	}
	c.fail("reopen", map[string]any{"key": key}, "NotStoredError")

	// A per-image limit below the file size: TooLargeError, same outcome.
	c.ok("config", map[string]any{"per_image_limit": 1024})
	restore.Invoke()
	other := build(t, "other.vhdx", &builder.Image{VirtualSize: 4 * mib}, nil)
	_, res = c.open(other.jsFile(t))
	ev = c.storeEvent(res.Get("key").String())
	if ev.Get("state").String() != "failed" || ev.Get("error").Get("name").String() != "TooLargeError" {
		t.Fatalf("store event: %s", jsonString(ev))
	}
}

func TestStoreOff(t *testing.T) {
	c := newClient(t)
	c.ok("config", map[string]any{"store": false})
	ti := dynamicImage(t)
	img, res := c.open(ti.jsFile(t))
	if !res.Get("key").IsNull() || res.Get("store_error").Truthy() {
		t.Fatalf("open with the store off: %s", jsonString(res))
	}
	c.checkReads(img, ti.expected)
	c.fail("recent", nil, "StoreOffError")
}

func TestFingerprint(t *testing.T) {
	ti := dynamicImage(t)
	s := NewServer(func(js.Value, []any) {})
	key := func(name string, mod int64, data []byte) string {
		f, err := s.newFile(newFile(t, name, data, mod), 0, false)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- f.fingerprint() }()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return f.key
	}
	k := key("a.vhdx", 1, ti.file)
	mod := bytes.Clone(ti.file)
	mod[100]++
	for _, other := range []string{key("b.vhdx", 1, ti.file), key("a.vhdx", 2, ti.file), key("a.vhdx", 1, mod),
		key("a.vhdx", 1, append(bytes.Clone(ti.file), 0))} {
		if other == k {
			t.Fatal("different files share a fingerprint")
		}
	}
	if key("a.vhdx", 1, ti.file) != k || len(k) != 32 {
		t.Fatalf("fingerprint %q not stable", k)
	}
}

// TestStoreRecordWithoutBytes: open with keep_bytes: false remembers the
// image (it is listed) but stores none of its bytes, and sends no store
// event; keep stores them later, when the user agrees.
func TestStoreRecordWithoutBytes(t *testing.T) {
	needIDB(t)
	c := newClient(t)
	ti := dynamicImage(t)
	res := c.ok("open", map[string]any{"files": []any{ti.jsFile(t)}, "keep_bytes": false})
	img, key := res.Get("image").Int(), res.Get("key").String()
	if key == "" || res.Get("store_error").Truthy() {
		t.Fatalf("open: %s", jsonString(res))
	}
	c.checkReads(img, ti.expected)
	rec := c.ok("recent", nil)
	recs := rec.Get("records")
	if recs.Length() != 1 || recs.Index(0).Get("has_bytes").Bool() || recs.Index(0).Get("stored_bytes").Int() != 0 ||
		rec.Get("usage").Get("stored_bytes").Int() != 0 || recs.Index(0).Get("summary").Get("virtual_size").Int() == 0 {
		t.Fatalf("recent after an open without bytes: %s", jsonString(rec))
	}
	c.mu.Lock()
	for _, ev := range c.events {
		if ev.Get("event").String() == "store" {
			c.mu.Unlock()
			t.Fatalf("store event after an open without bytes: %s", jsonString(ev))
		}
	}
	c.mu.Unlock()
	c.fail("reopen", map[string]any{"key": key}, "NotStoredError")

	c.ok("keep", map[string]any{"image": img})
	if ev := c.storeEvent(key); ev.Get("state").String() != "stored" {
		t.Fatalf("store event after keep: %s", jsonString(ev))
	}
	if recs := c.ok("recent", nil).Get("records"); !recs.Index(0).Get("has_bytes").Bool() {
		t.Fatalf("recent after keep: %s", jsonString(recs))
	}
	ro := c.ok("reopen", map[string]any{"key": key})
	c.checkReads(ro.Get("image").Int(), ti.expected)
	c.fail("keep", map[string]any{"image": 9999}, "NotOpenError")
}
