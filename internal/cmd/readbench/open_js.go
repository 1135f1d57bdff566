//go:build js && wasm

package main

import (
	"context"
	"errors"
	"syscall/js"

	"github.com/vhdxview/vhdxview/bridge"
)

// openSource reads the image as a Node Blob (fs.openAsBlob, Node 20:
// backed by the file, like a browser File) through the async Blob bridge,
// with the bridge's default chunk size, cache and read-ahead.
func openSource(path string) (*source, error) {
	req := js.Global().Get("require")
	if req.Type() != js.TypeFunction {
		return nil, errors.New("no require: run on Node with go_js_wasm_exec")
	}
	fs := req.Invoke("fs")
	if fs.Get("openAsBlob").Type() != js.TypeFunction {
		return nil, errors.New("fs.openAsBlob is missing: Node 20+ is required")
	}
	blob, err := bridge.AwaitPromise(context.Background(), fs.Call("openAsBlob", path))
	if err != nil {
		return nil, err
	}
	r, err := bridge.NewBlobReader(blob, bridge.WithMode(bridge.ModeAsync))
	if err != nil {
		return nil, err
	}
	return &source{
		r: r, size: r.Size(), what: "js/wasm on Node, async Blob bridge",
		fetched: func() int64 { return r.Stats().FetchedBytes },
		close:   func() { r.Close() },
	}, nil
}
