//go:build js && wasm

package bridge

import (
	"context"
	"fmt"
	"syscall/js"
)

// JSError is a JavaScript exception or promise rejection (Error, DOMException
// or any thrown value) seen from Go.
type JSError struct {
	Name    string // e.g. "NotReadableError", "QuotaExceededError"; "" if unknown
	Message string
}

func (e *JSError) Error() string {
	switch {
	case e.Name == "":
		return "js: " + e.Message
	case e.Message == "":
		return "js: " + e.Name
	}
	return "js: " + e.Name + ": " + e.Message
}

// jsErrorFrom converts a thrown or rejected JS value to an error.
func jsErrorFrom(v js.Value) error {
	if v.Type() == js.TypeObject {
		e := &JSError{}
		if n := v.Get("name"); n.Type() == js.TypeString {
			e.Name = n.String()
		}
		if m := v.Get("message"); m.Type() == js.TypeString {
			e.Message = m.String()
		} else {
			e.Message = js.Global().Get("String").Invoke(v).String()
		}
		return e
	}
	if v.Type() == js.TypeString {
		return &JSError{Message: v.String()}
	}
	return &JSError{Message: fmt.Sprint(v)}
}

// recoverJS turns a panic raised by syscall/js (a JS exception, or a type
// error from a js.Value method) into *err. Use as: defer recoverJS(&err).
func recoverJS(err *error) {
	r := recover()
	if r == nil {
		return
	}
	switch v := r.(type) {
	case js.Error:
		*err = jsErrorFrom(v.Value)
	case error:
		*err = fmt.Errorf("bridge: %w", v)
	default:
		*err = fmt.Errorf("bridge: %v", v)
	}
}

type promiseResult struct {
	val      js.Value
	rejected bool
}

// AwaitPromise waits, from the calling goroutine, for a JS promise (or any
// thenable) to settle. It returns the fulfilment value, or a *JSError for a
// rejection, or ctx.Err() if ctx ends first.
//
// The promise is raced (Promise.race) against a second promise that
// AwaitPromise rejects when ctx ends, so the raced promise always
// settles: a cancelled wait releases its callbacks and leaves no
// goroutine behind, even for a promise that never settles. (Releasing the
// callbacks while the promise could still call them would make a late
// settlement call a released function.)
//
// The then/catch callbacks only do a non-blocking send on a buffered
// channel, so they never block the JS event loop. AwaitPromise itself
// blocks, so it must be called from a goroutine that is not running a
// js.FuncOf callback (that would deadlock: the promise cannot settle until
// the callback returns).
func AwaitPromise(ctx context.Context, p js.Value) (_ js.Value, err error) {
	defer recoverJS(&err)
	if p.Type() != js.TypeObject || p.Get("then").Type() != js.TypeFunction {
		return p, nil // not a thenable: already a value
	}
	if err := ctx.Err(); err != nil {
		return js.Undefined(), err
	}
	promise := js.Global().Get("Promise")
	var stop js.Value // rejects the stop promise
	exec := js.FuncOf(func(_ js.Value, args []js.Value) any {
		stop = args[1] // called synchronously by the Promise constructor
		return nil
	})
	stopped := promise.New(exec)
	exec.Release()
	// The stop promise is rejected with this object, which nothing else
	// can reject with.
	marker := js.Global().Get("Object").New()

	ch := make(chan promiseResult, 1) // exactly one of the callbacks runs, once
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- promiseResult{val: arg0(args)}
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- promiseResult{val: arg0(args), rejected: true}
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	promise.Call("race", []any{p, stopped}).Call("then", onOK, onErr)
	// When ctx ends, reject the stop promise; the race then settles (in a
	// microtask, once this goroutine blocks on ch).
	unwatch := context.AfterFunc(ctx, func() { stop.Invoke(marker) })
	res := <-ch
	unwatch()
	if res.rejected {
		if res.val.Equal(marker) {
			return js.Undefined(), ctx.Err()
		}
		return js.Undefined(), jsErrorFrom(res.val)
	}
	return res.val, nil
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

func hasGlobal(name string) bool {
	v := js.Global().Get(name)
	return v.Type() == js.TypeFunction || v.Type() == js.TypeObject
}
