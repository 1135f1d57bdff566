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
	ch := make(chan promiseResult, 1) // exactly one of the callbacks runs, once
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- promiseResult{val: arg0(args)}
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- promiseResult{val: arg0(args), rejected: true}
		return nil
	})
	release := func() {
		onOK.Release()
		onErr.Release()
	}
	p.Call("then", onOK, onErr)
	select {
	case res := <-ch:
		release()
		if res.rejected {
			return js.Undefined(), jsErrorFrom(res.val)
		}
		return res.val, nil
	case <-ctx.Done():
		// The callbacks may still be called: release them only after.
		go func() {
			<-ch
			release()
		}()
		return js.Undefined(), ctx.Err()
	}
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
