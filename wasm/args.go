//go:build js && wasm

package main

// Argument checks. Numbers from JS are float64: offsets and lengths must be
// whole, not negative and at most 2^53 (Number.MAX_SAFE_INTEGER).

import (
	"fmt"
	"math"
	"syscall/js"
)

const maxSafeInt = 1<<53 - 1

type args struct{ v js.Value }

func (a args) value(name string) js.Value {
	if a.v.Type() != js.TypeObject {
		return js.Undefined()
	}
	return a.v.Get(name)
}

func absent(v js.Value) bool { return v.IsUndefined() || v.IsNull() }

// int returns a whole number in [0, 2^53), or def when absent.
func (a args) int(name string, def int64) (int64, error) {
	v := a.value(name)
	if absent(v) {
		return def, nil
	}
	if v.Type() != js.TypeNumber {
		return 0, argErrorf("%s must be a number, not %s", name, v.Type())
	}
	f := v.Float()
	if math.IsNaN(f) || f < 0 || f > maxSafeInt || f != math.Trunc(f) {
		return 0, argErrorf("%s must be a whole number from 0 to 2^53-1, not %v", name, f)
	}
	return int64(f), nil
}

// required is int without a default.
func (a args) required(name string) (int64, error) {
	if absent(a.value(name)) {
		return 0, argErrorf("%s is required", name)
	}
	return a.int(name, 0)
}

func (a args) bool(name string, def bool) (bool, error) {
	v := a.value(name)
	if absent(v) {
		return def, nil
	}
	if v.Type() != js.TypeBoolean {
		return false, argErrorf("%s must be true or false", name)
	}
	return v.Bool(), nil
}

func (a args) string(name string) (string, error) {
	v := a.value(name)
	if absent(v) {
		return "", nil
	}
	if v.Type() != js.TypeString {
		return "", argErrorf("%s must be a string", name)
	}
	return v.String(), nil
}

// image returns the open image named by args.image.
func (r *request) image() (*session, error) {
	h, err := args{r.args}.required("image")
	if err != nil {
		return nil, err
	}
	r.s.mu.Lock()
	sess := r.s.images[int(h)]
	r.s.mu.Unlock()
	if sess == nil {
		return nil, &protoError{name: "NotOpenError", msg: fmt.Sprintf("no open image %d (closed, or never opened)", h)}
	}
	return sess, nil
}
