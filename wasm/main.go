//go:build js && wasm

// Command wasm is the vhdxview engine as it runs in the browser: package
// core (the VHDX reader) wired to package bridge (Blob reads, IndexedDB)
// behind the message protocol documented in PROTOCOL.md.
//
// It is built with
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o web/vhdxview.wasm ./wasm
//
// (web/build-wasm.sh) and started by web/worker.js, which must define
// globalThis.vhdxviewEngine before the program runs:
//
//	vhdxviewEngine.post(msg, transfer)  sends one message to the page
//	vhdxviewEngine.ready(dispatch)      receives the function that takes
//	                                    each request message from the page
//
// The files by concept: server.go (requests, replies, cancellation),
// args.go (argument checks), errors.go (errors as messages), open.go
// (open, reopen and the chain of dropped files), ops.go (info, verify,
// read, map, plan, close), store.go (IndexedDB: fingerprints, recent,
// forget, background storing), salvage.go (bad_ranges); the file-system
// ops in volume.go, fileflows.go and scan.go, wired by fsops.go.
//
// Built with -tags nofs it is the core engine (web/vhdxview-core.wasm):
// nofs.go stands in for the file-system files, and the page sends those
// ops to the full engine (PROTOCOL.md, "Two engines").
package main

import (
	"runtime/debug"
	"syscall/js"
)

func main() {
	eng := js.Global().Get("vhdxviewEngine")
	if eng.Type() != js.TypeObject {
		js.Global().Get("console").Call("error", "vhdxview: globalThis.vhdxviewEngine is missing; start the engine with web/worker.js")
		return
	}
	post := eng.Get("post")
	s := NewServer(func(msg js.Value, transfer []any) {
		post.Invoke(msg, transfer)
	})
	dispatch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			s.Dispatch(args[0]) // returns at once; the work runs in a goroutine
		}
		return nil
	})
	eng.Call("ready", dispatch)
	s.Event("ready", map[string]any{"protocol": ProtocolVersion, "version": engineVersion(), "fs": hasFS})
	select {} // serve until the worker is terminated
}

// engineVersion names the build, for bug reports: the source revision
// (with "+dirty" if it had uncommitted changes) and the Go version, e.g.
// "3c044ae1b2c4+dirty go1.26.0"; "devel go1.26.0" without version control
// information.
func engineVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "devel", ""
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && s.Value != "":
			rev = s.Value[:min(12, len(s.Value))]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	return rev + dirty + " " + bi.GoVersion
}
