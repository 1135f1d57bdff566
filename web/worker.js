// worker.js: the dedicated worker that runs the Go engine (web/vhdxview.wasm).
//
// A classic worker (not a module): Go's wasm_exec.js is a classic script
// loaded with importScripts, and a dedicated worker has FileReaderSync, so
// the engine reads Blobs synchronously (bridge.ModeSync).
//
// Messages are described in PROTOCOL.md. This file only loads the engine
// and passes messages through: requests that arrive while the engine loads
// are queued; the engine itself posts {event: "ready"} when it serves.
// If loading fails, or the engine stops, it posts {event: "fatal", error}.
'use strict';

const queue = [];
let dispatch = null;

self.onmessage = (e) => {
  if (dispatch) dispatch(e.data);
  else queue.push(e.data);
};

// The engine's side of the handshake (see wasm/main.go).
self.vhdxviewEngine = {
  post(msg, transfer) {
    self.postMessage(msg, transfer || []);
  },
  ready(fn) {
    dispatch = fn;
    for (const m of queue.splice(0)) fn(m);
  },
};

function fatal(err) {
  const error = {
    name: 'EngineError',
    message: 'the engine could not start or stopped: ' + (err && err.message ? err.message : String(err)),
  };
  self.postMessage({ event: 'fatal', error });
  // Every queued and later request gets the same answer.
  const fail = (m) => {
    if (m && m.id !== undefined) self.postMessage({ id: m.id, ok: false, error });
  };
  queue.splice(0).forEach(fail);
  dispatch = fail;
}

// manifest.json (written by build-wasm.sh) holds content hashes; they go
// into the URLs so that a new build is never mixed with a cached old one.
async function manifest() {
  try {
    const r = await fetch('manifest.json', { cache: 'no-cache' });
    if (r.ok) return await r.json();
  } catch (_) {
    // Served without a manifest (e.g. a hand build): load without hashes.
  }
  return {};
}

function versioned(name, hash) {
  return hash ? name + '?v=' + String(hash).slice(0, 16) : name;
}

async function instantiate(url, imports) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error('fetching ' + url + ': HTTP ' + resp.status);
  if (WebAssembly.instantiateStreaming && resp.headers.get('Content-Type') === 'application/wasm') {
    return WebAssembly.instantiateStreaming(resp, imports);
  }
  return WebAssembly.instantiate(await resp.arrayBuffer(), imports);
}

async function start() {
  const m = await manifest();
  importScripts(versioned(m.wasm_exec || 'wasm_exec.js', m.wasm_exec_sha256));
  const go = new Go();
  let exitCode = null;
  go.exit = (code) => {
    exitCode = code;
  };
  const { instance } = await instantiate(versioned(m.wasm || 'vhdxview.wasm', m.wasm_sha256), go.importObject);
  // The engine's memory in bytes, for benchmarks and diagnostics.
  self.vhdxviewEngine.memory = () => instance.exports.mem.buffer.byteLength;
  go.run(instance).then(
    () => fatal(new Error('the Go program exited with code ' + exitCode)),
    (e) => fatal(e),
  );
}

start().catch(fatal);
