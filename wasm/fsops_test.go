//go:build js && wasm && !nofs

package main

import "testing"

// Every op of fsOps has its handler in the full engine.
func TestFullEngineServesFSOps(t *testing.T) {
	for _, op := range fsOps {
		if fsHandler(op) == nil {
			t.Errorf("fsOps lists %q, which has no handler", op)
		}
	}
	if !hasFS {
		t.Error("the full engine says it has no file-system code")
	}
}
