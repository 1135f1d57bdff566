//go:build js && wasm && nofs

package main

// The core engine (-tags nofs): everything but the file-system code, which
// is about a fifth of the full engine's code. The page loads it first, so
// that a first open waits only for this smaller engine, and sends the ops
// of fsOps to the full engine (web/vhdxview.js).

import "fmt"

// volumes holds nothing here: no op reads inside the disk.
type volumes struct{}

func fsHandler(op string) handler {
	return func(*request) (reply, error) {
		return reply{}, &protoError{name: "UnsupportedOpError", msg: fmt.Sprintf("op %q needs the file-system code, which this engine (the core engine, built with -tags nofs) leaves out: send it to the full engine", op)}
	}
}

// fsError: without package volume there are no file-system errors.
func fsError(error) (fields map[string]any, ok bool) { return nil, false }

const hasFS = false
