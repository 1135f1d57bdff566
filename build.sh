#!/usr/bin/env bash
# vhdxview build script.
#   ./build.sh build   native CLI (bin/vhdx) and the wasm engine (web/)
#   ./build.sh serve   build, then serve the viewer on http://127.0.0.1:8080
#   ./build.sh test    install what the tests need, then run every test
#   ./build.sh bench   run the benchmarks and rewrite BENCHMARKS.md
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"

say() { printf '\n== %s\n' "$*"; }

build() {
  say "native CLI -> bin/vhdx"
  go build -trimpath -o bin/vhdx ./cmd/vhdx
  if [ -f web/build-wasm.sh ]; then
    say "wasm engine -> web/"
    bash web/build-wasm.sh
  fi
}

# deps installs the Debian packages and npm modules the tests use, when
# they are missing (as root on Debian; otherwise it says what is missing).
deps() {
  local pkgs=() p
  command -v qemu-img >/dev/null || pkgs+=(qemu-utils)
  command -v vhdiinfo >/dev/null || pkgs+=(libvhdi-utils)
  /usr/bin/python3 -c 'import pyvhdi' 2>/dev/null || pkgs+=(python3-libvhdi)
  [ -x /usr/bin/chromium ] || pkgs+=(chromium)
  command -v mkfs.fat >/dev/null || pkgs+=(dosfstools)
  command -v mcopy >/dev/null || pkgs+=(mtools)
  command -v mkfs.ext4 >/dev/null || pkgs+=(e2fsprogs)
  command -v mkntfs >/dev/null || pkgs+=(ntfs-3g)
  command -v sfdisk >/dev/null || pkgs+=(fdisk)
  command -v sgdisk >/dev/null || pkgs+=(gdisk)
  command -v brotli >/dev/null || pkgs+=(brotli)
  command -v mactime >/dev/null || pkgs+=(sleuthkit) # listings: fls and mactime are the body file's oracles
  command -v unzip >/dev/null || pkgs+=(unzip)
  command -v zip >/dev/null || pkgs+=(zip)
  command -v node >/dev/null || pkgs+=(nodejs npm)
  if [ ${#pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing ${pkgs[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
    else
      echo "missing packages: ${pkgs[*]} (install them with apt-get as root)" >&2
      exit 1
    fi
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    say "npm ci"
    npm ci --no-audit --no-fund
  fi
  go mod download
}

run_tests() {
  say "gofmt / go vet"
  local bad
  bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
  if [ -n "$bad" ]; then echo "gofmt needed: $bad" >&2; exit 1; fi
  go vet ./...
  GOOS=js GOARCH=wasm go vet ./bridge/ ./wasm/ ./core/ ./internal/cmd/readbench/ ./internal/idbtest/ ./vhd/ ./disk/ ./volume/ ./sniff/ ./scan/ ./listing/ ./preview/
  GOOS=js GOARCH=wasm go vet -tags nofs ./wasm/

  # The service worker's list of the page's modules is written by hand: a
  # module missing from it breaks the page offline.
  local f
  for f in web/app/*.js; do
    grep -q "'$f'" sw.js || { echo "sw.js does not cache $f (add it to CORE)" >&2; exit 1; }
  done

  say "go test (native: core, CLI, builder, bridge cache)"
  go test -count=1 ./...

  say "go test (js/wasm on Node: bridge)"
  bash bridge/test.sh -count=1

  if [ -d wasm ] && ls wasm/*_test.go >/dev/null 2>&1; then
    say "go test (js/wasm on Node: worker protocol)"
    NODE_OPTIONS="--require $root/node_modules/fake-indexeddb/auto/index.js" VHDXVIEW_REQUIRE_IDB=1 \
      GOOS=js GOARCH=wasm go test -count=1 -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/...
    say "go test (js/wasm on Node: the core engine, -tags nofs)"
    NODE_OPTIONS="--require $root/node_modules/fake-indexeddb/auto/index.js" VHDXVIEW_REQUIRE_IDB=1 \
      GOOS=js GOARCH=wasm go test -count=1 -tags nofs -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/...
  fi

  if [ -f web/test/run.mjs ]; then
    say "browser tests (headless Chromium)"
    build
    node web/test/run.mjs
  fi
  if [ -f web/test/ui.mjs ]; then
    say "viewer tests (headless Chromium)"
    node web/test/ui.mjs
  fi

  # Every parser's fuzz target, briefly: enough to run each on its seeds and
  # a few thousand mutations in CI, so none rots or stalls (issue #16). Run
  # one for longer with: go test -run '^$' -fuzz '^FuzzX$' -fuzztime 5m ./pkg
  # The budget is a count of inputs, not a time: with a time, Go 1.26's
  # coordinator can fail a target that found nothing with "context deadline
  # exceeded" when the deadline lands while a worker is busy (golang/go#75804,
  # fixed in Go 1.27; it failed CI once on FuzzNTFSStructures).
  say "fuzz targets, ${FUZZTIME:-3000x} each"
  local pkg fz out
  for pkg in $(go list ./...); do
    for fz in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
      echo "-- $fz ($pkg)"
      if ! out=$(go test -run '^$' -fuzz "^$fz\$" -fuzztime "${FUZZTIME:-3000x}" "$pkg" 2>&1); then
        echo "$out" >&2
        exit 1
      fi
      echo "$out" | grep -E '^fuzz: elapsed' | tail -n 1 || true
    done
  done

  # Timings are printed, never checked: a benchmark fails only when it
  # cannot run.
  say "benchmarks, once each on tiny images (so they cannot rot)"
  go build -trimpath -o bin/vhdx ./cmd/vhdx
  go run ./internal/cmd/benchrun -quick # native CLI, wasm on Node, Go benchmarks
  if [ -f web/test/bench.mjs ]; then
    node web/test/bench.mjs --quick # browser
  fi
}

case "${1:-}" in
  build) build ;;
  serve)
    build
    say "serving on http://127.0.0.1:${PORT:-8080}/"
    exec go run ./internal/cmd/serve -addr "127.0.0.1:${PORT:-8080}" -root "$root"
    ;;
  test)
    deps
    run_tests
    say "all tests passed"
    ;;
  bench)
    deps
    build
    extra=()
    if [ -f web/test/bench.mjs ]; then
      node web/test/bench.mjs --rounds "${ROUNDS:-5}" --out "$root/bin/browser-bench.json"
      extra=(-extra "$root/bin/browser-bench.json")
    fi
    go run ./internal/cmd/benchrun -rounds "${ROUNDS:-5}" -out BENCHMARKS.md "${extra[@]}"
    ;;
  *)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
