//go:build js && wasm

// Package idbtest holds IndexedDB fakes shared by the js/wasm tests of
// bridge and wasm.
package idbtest

import (
	"syscall/js"
	"testing"
)

// StallBlobPuts makes every put into the blobs object store slow, as a
// browser copying a large file is: the put's success is held back, and its
// transaction is kept alive with small requests, until release() (the
// success is then delivered) or until the transaction aborts. It returns
// the JS handle {held(), aborted(), release(), restore()}; restore runs at
// the end of the test.
func StallBlobPuts(t testing.TB) js.Value {
	t.Helper()
	h := js.Global().Get("Function").New(`const proto = IDBObjectStore.prototype; const orig = proto.put;
		let held = 0, aborted = 0, released = false, stopped = false;
		proto.put = function (value, key) {
			const req = orig.call(this, value, key);
			if (this.name !== 'blobs') return req;
			held++;
			const store = this, tx = this.transaction;
			tx.addEventListener('abort', () => { aborted++; });
			const listeners = [];
			const add = req.addEventListener.bind(req);
			req.addEventListener = (type, fn, opts) => {
				if (type === 'success') listeners.push(fn); else add(type, fn, opts);
			};
			// A request at a time keeps the transaction active; the held
			// success is delivered from one of their callbacks.
			const spin = () => {
				if (stopped) return;
				if (released) { for (const fn of listeners) fn.call(req, new Event('success')); return; }
				const r = store.count();
				r.onsuccess = spin;
				r.onerror = (e) => e.preventDefault();
			};
			spin();
			return req;
		};
		return {
			held: () => held, aborted: () => aborted,
			release: () => { released = true; },
			restore: () => { stopped = true; proto.put = orig; },
		};`).Invoke()
	t.Cleanup(func() { h.Call("restore") })
	return h
}
