// Package bridge is the syscall/js glue between the Go engine and the
// browser: an io.ReaderAt over a JS Blob/File with a bounded chunk cache
// (blob.go, cache.go) and a persistent image store on IndexedDB (store.go).
//
// It knows nothing about VHDX: callers supply fingerprints, hashes and
// summaries as opaque values.
//
// cache.go is plain Go and builds (and is tested) on any platform; the rest
// needs GOOS=js GOARCH=wasm. See test.sh for running the tests under Node.
package bridge
