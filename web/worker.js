// worker.js: the dedicated worker that runs a Go engine (web/vhdxview-core.wasm
// or web/vhdxview.wasm; see FULL below).
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

// compile fetches and compiles the engine. It needs no imports, so it
// starts before wasm_exec.js and hash-wasm are loaded and runs beside them
// (importScripts blocks this thread, not the download or the compile).
async function compile(url) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error('fetching ' + url + ': HTTP ' + resp.status);
  if (WebAssembly.compileStreaming && resp.headers.get('Content-Type') === 'application/wasm') {
    return WebAssembly.compileStreaming(resp);
  }
  return WebAssembly.compile(await resp.arrayBuffer());
}

// hash-wasm (web/hash-wasm/, copied from npm by build-wasm.sh) hashes about
// twice as fast as Go's crypto in wasm, which has no assembly. The engine's
// hash op asks for hashers with newHasher(names) and feeds them the plan of
// what it hashes: bytes, counts of zeros, and ranges of the image's Blobs,
// read here so that no payload passes through Go. Without the files (a
// hand build) the engine hashes in Go.
//
// The work is queued in order: blob() starts reading its range at once
// (Blob.arrayBuffer, which the browser serves off this thread) and
// returns a promise that resolves when the work queued before it is
// hashed, so the engine reads range k+1 while range k is hashed and never
// has more than two ranges in memory. digest() resolves once all is hashed.
const ZEROS = 4 << 20;

function loadHashers(m) {
  try {
    importScripts(...['sha256', 'sha1', 'md5'].map((a) => versioned(`hash-wasm/${a}.umd.min.js`, m[`hashwasm_${a}_sha256`])));
  } catch (_) {
    return;
  }
  const make = { sha256: self.hashwasm.createSHA256, sha1: self.hashwasm.createSHA1, md5: self.hashwasm.createMD5 };
  let zeros = null;
  self.vhdxviewEngine.newHasher = async (names) => {
    const hs = await Promise.all(names.map((n) => make[n]()));
    for (const h of hs) h.init();
    const update = (u8) => {
      for (const h of hs) h.update(u8);
    };
    let hashed = Promise.resolve(); // all queued work is hashed
    const queue = (work) => {
      const before = hashed;
      hashed = hashed.then(work);
      return before;
    };
    return {
      bytes: (u8) => queue(() => update(u8)),
      zeros: (n) => queue(() => {
        if (!zeros) zeros = new Uint8Array(ZEROS);
        for (; n > 0; n -= zeros.length) update(n >= zeros.length ? zeros : zeros.subarray(0, n));
      }),
      blob(b, start, end) {
        const read = b.slice(start, end).arrayBuffer();
        read.catch(() => {}); // reported through hashed
        return queue(() => read.then((ab) => {
          if (ab.byteLength !== end - start) throw new Error(`read ${ab.byteLength} of ${end - start} bytes at ${start}`);
          update(new Uint8Array(ab));
        }));
      },
      async digest() {
        await hashed;
        const out = {};
        names.forEach((n, i) => (out[n] = hs[i].digest('hex')));
        return out;
      },
    };
  };
}

// Which engine this worker runs, by the name vhdxview.js gives it: the full
// engine (vhdxview.wasm) in "vhdxview-full", else the core engine
// (vhdxview-core.wasm, built with -tags nofs: no file-system code, so it
// loads sooner). A build whose manifest names no core engine runs the full
// one in both.
const FULL = self.name === 'vhdxview-full';

async function start() {
  const m = await manifest();
  const full = FULL || !m.core_wasm;
  const [name, hash] = full ? [m.wasm || 'vhdxview.wasm', m.wasm_sha256] : [m.core_wasm, m.core_wasm_sha256];
  const compiled = compile(versioned(name, hash));
  compiled.catch(() => {}); // awaited below
  importScripts(versioned(m.wasm_exec || 'wasm_exec.js', m.wasm_exec_sha256));
  // Only the full engine hashes (hash is one of its ops).
  if (full) loadHashers(m);
  const go = new Go();
  let exitCode = null;
  go.exit = (code) => {
    exitCode = code;
  };
  const instance = await WebAssembly.instantiate(await compiled, go.importObject);
  // The engine's memory in bytes, for benchmarks and diagnostics.
  self.vhdxviewEngine.memory = () => instance.exports.mem.buffer.byteLength;
  go.run(instance).then(
    () => fatal(new Error('the Go program exited with code ' + exitCode)),
    (e) => fatal(e),
  );
}

start().catch(fatal);
