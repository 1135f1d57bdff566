//go:build js && wasm

package bridge

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// settled waits (without a wall-clock bound on the result: the deadline
// only ends a test that would otherwise hang) until cond holds, letting
// other goroutines and the JS event loop run.
func settled(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened", what)
		}
		time.Sleep(time.Millisecond) // a timer: returns to the event loop
	}
}

func TestAwaitPromiseValues(t *testing.T) {
	ctx := context.Background()
	v, err := AwaitPromise(ctx, jsFn("return Promise.resolve(42)").Invoke())
	if err != nil || v.Int() != 42 {
		t.Fatalf("resolved: %v, %v", v, err)
	}
	_, err = AwaitPromise(ctx, jsFn("return Promise.reject(new RangeError('no'))").Invoke())
	var je *JSError
	if !errors.As(err, &je) || je.Name != "RangeError" || je.Message != "no" {
		t.Fatalf("rejected: %v", err)
	}
	// Settling later, after a timer.
	v, err = AwaitPromise(ctx, jsFn("return new Promise((r) => setTimeout(() => r('late'), 5))").Invoke())
	if err != nil || v.String() != "late" {
		t.Fatalf("late: %v, %v", v, err)
	}
	// Not a promise: the value itself.
	if v, err := AwaitPromise(ctx, jsFn("return 7").Invoke()); err != nil || v.Int() != 7 {
		t.Fatalf("plain value: %v, %v", v, err)
	}
	// A cancelled context: no wait at all.
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := AwaitPromise(c, jsFn("return new Promise(() => {})").Invoke()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
}

// A wait for a promise that never settles ends when its context does, and
// leaves nothing behind: no goroutine waiting for the promise.
func TestAwaitPromiseCancelLeavesNoGoroutine(t *testing.T) {
	never := jsFn("return new Promise(() => {})")
	runtime.GC()
	base := runtime.NumGoroutine()
	const n = 50
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := AwaitPromise(ctx, never.Invoke())
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("wait %d: %v, want context.Canceled", i, err)
		}
	}
	// Goroutines that are merely finishing may still be counted for a
	// moment; one left per wait is a leak.
	settled(t, "the end of every waiting goroutine", func() bool { return runtime.NumGoroutine() < base+n/2 })
	if g := runtime.NumGoroutine(); g > base+2 {
		t.Errorf("%d goroutines after %d cancelled waits, %d before", g, n, base)
	}
}

// A promise that settles after its wait was cancelled calls nothing that
// was released (the page would log "call to released function").
func TestAwaitPromiseLateSettlement(t *testing.T) {
	hook := jsFn(`let resolve; const p = new Promise((r) => { resolve = r; });
		const errs = []; const orig = console.error;
		console.error = (...a) => { errs.push(a.join(' ')); };
		return { p, resolve: () => resolve('late'), errs, restore: () => { console.error = orig; } };`).Invoke()
	defer hook.Call("restore")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := AwaitPromise(ctx, hook.Get("p"))
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("wait: %v", err)
	}
	hook.Call("resolve")
	// Let the promise's reactions run.
	if _, err := AwaitPromise(context.Background(), jsFn("return new Promise((r) => setTimeout(r, 1))").Invoke()); err != nil {
		t.Fatal(err)
	}
	if n := hook.Get("errs").Length(); n != 0 {
		t.Fatalf("console.error after a late settlement: %v", hook.Get("errs").Index(0))
	}
}
