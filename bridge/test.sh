#!/usr/bin/env bash
# Runs the bridge package tests:
#   1. natively (the pure-Go chunk cache, cache_test.go), then
#   2. as js/wasm under Node (Blob reader + IndexedDB store), with
#      fake-indexeddb preloaded into Node's globals.
# Needs: go, node >= 20 (global Blob, structuredClone of Blob) and the npm
# devDependencies installed (npm ci at the repo root).
# Extra arguments are passed to both `go test` runs (e.g. -v, -run Store).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

die() {
	echo "bridge/test.sh: $*" >&2
	exit 1
}

command -v go >/dev/null || die "go is not on PATH"
command -v node >/dev/null || die "node is not on PATH (Node 20+ is required for the js/wasm tests)"
node -e 'const m = +process.versions.node.split(".")[0]; process.exit(m >= 20 && typeof Blob === "function" && typeof structuredClone === "function" ? 0 : 1)' ||
	die "Node $(node --version) is too old: Node 20+ is required (global Blob, structuredClone)"

fidb="$root/node_modules/fake-indexeddb/auto/index.js"
[ -f "$fidb" ] || die "fake-indexeddb is missing: run 'npm ci' (or 'npm install') in $root"
node --require "$fidb" -e 'process.exit(typeof indexedDB === "object" && typeof IDBObjectStore === "function" ? 0 : 1)' ||
	die "fake-indexeddb did not install a global indexedDB"

goroot="$(go env GOROOT)"
exec_wasm="$goroot/lib/wasm/go_js_wasm_exec"
[ -x "$exec_wasm" ] || exec_wasm="$goroot/misc/wasm/go_js_wasm_exec"
[ -x "$exec_wasm" ] || die "go_js_wasm_exec not found under $goroot"

echo "== bridge: native tests (chunk cache)"
go test "$@" ./bridge/

echo "== bridge: js/wasm tests under Node $(node --version) with fake-indexeddb"
# The auto entry (CommonJS) defines indexedDB, IDBObjectStore, … on globalThis
# before wasm_exec_node.js starts the Go test binary. BRIDGE_REQUIRE_IDB makes
# the store tests fail instead of skipping if indexedDB is missing.
NODE_OPTIONS="--require \"$fidb\"${NODE_OPTIONS:+ $NODE_OPTIONS}" \
	BRIDGE_REQUIRE_IDB=1 \
	GOOS=js GOARCH=wasm \
	go test -exec="$exec_wasm" "$@" ./bridge/
