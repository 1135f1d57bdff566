#!/usr/bin/env bash
# Builds the browser engine into web/:
#   web/vhdxview.wasm   the full Go engine (./wasm), GOOS=js GOARCH=wasm
#   web/vhdxview-core.wasm  the core engine: ./wasm with -tags nofs, all but
#                       the file-system ops, which the page loads first
#   web/wasm_exec.js    Go's JS runtime support, copied from this Go's GOROOT
#                       (it must match the Go that built the wasm)
#   web/hash-wasm/      hash-wasm's SHA-256, SHA-1 and MD5 (npm), which the
#                       worker hashes with when present
#   web/client-zip/     client-zip's streaming ZIP writer (npm), which the
#                       Files tab's ZIP export loads (vhdxview.zip)
#   web/manifest.json   content hashes, which worker.js puts in the URLs it
#                       loads so that a new build is never mixed with a
#                       cached old one
# None of them is committed (.gitignore). Called by ./build.sh build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

goroot="$(go env GOROOT)"
exec_js="$goroot/lib/wasm/wasm_exec.js"
[ -f "$exec_js" ] || exec_js="$goroot/misc/wasm/wasm_exec.js" # Go < 1.24
[ -f "$exec_js" ] || { echo "build-wasm.sh: wasm_exec.js not found under $goroot" >&2; exit 1; }

GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o web/vhdxview.wasm.tmp ./wasm
GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -tags nofs -o web/vhdxview-core.wasm.tmp ./wasm
mv web/vhdxview.wasm.tmp web/vhdxview.wasm
mv web/vhdxview-core.wasm.tmp web/vhdxview-core.wasm
cp "$exec_js" web/wasm_exec.js.tmp
mv web/wasm_exec.js.tmp web/wasm_exec.js

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { wc -c <"$1" | tr -d ' '; }

hashwasm=""
if [ -d node_modules/hash-wasm/dist ]; then
  mkdir -p web/hash-wasm
  for a in sha256 sha1 md5; do
    cp "node_modules/hash-wasm/dist/$a.umd.min.js" "web/hash-wasm/$a.umd.min.js"
    hashwasm+="  \"hashwasm_${a}_sha256\": \"$(sha "web/hash-wasm/$a.umd.min.js")\",
"
  done
else
  echo "build-wasm.sh: node_modules/hash-wasm missing (npm ci): the engine will hash in Go, at half the speed" >&2
fi
clientzip=""
if [ -f node_modules/client-zip/index.js ]; then
  mkdir -p web/client-zip
  cp node_modules/client-zip/index.js web/client-zip/index.js
  cp node_modules/client-zip/LICENSE.txt web/client-zip/LICENSE.txt
  clientzip="  \"client_zip_sha256\": \"$(sha web/client-zip/index.js)\",
"
else
  echo "build-wasm.sh: node_modules/client-zip missing (npm ci): ZIP export will not work" >&2
fi
# The build's version: one hash of both engines and their JS runtime (the
# service worker names its cache after it, and the page shows it).
version="$(printf '%s %s %s' "$(sha web/vhdxview.wasm)" "$(sha web/vhdxview-core.wasm)" "$(sha web/wasm_exec.js)" | sha256sum | cut -d' ' -f1)"
cat >web/manifest.json.tmp <<EOF
{
  "version": "$version",
  "wasm": "vhdxview.wasm",
  "wasm_sha256": "$(sha web/vhdxview.wasm)",
  "wasm_size": $(size web/vhdxview.wasm),
  "core_wasm": "vhdxview-core.wasm",
  "core_wasm_sha256": "$(sha web/vhdxview-core.wasm)",
  "core_wasm_size": $(size web/vhdxview-core.wasm),
  "wasm_exec": "wasm_exec.js",
  "wasm_exec_sha256": "$(sha web/wasm_exec.js)",
${hashwasm}${clientzip}  "go": "$(go env GOVERSION)"
}
EOF
mv web/manifest.json.tmp web/manifest.json
echo "web/vhdxview.wasm: $(size web/vhdxview.wasm) bytes, sha256 $(sha web/vhdxview.wasm | cut -c1-16)…"
echo "web/vhdxview-core.wasm: $(size web/vhdxview-core.wasm) bytes, sha256 $(sha web/vhdxview-core.wasm | cut -c1-16)…"
