// vhdxview.js: the page's handle on the engine, which runs in two workers
// (worker.js: the core engine and the full engine, see Engine below). Every
// function sends one request of the protocol in PROTOCOL.md and returns a
// Promise; failures reject with a VhdxError whose name and fields are the
// protocol's error object, and an aborted signal rejects at once with the
// signal's reason (an AbortError).
//
// Results are the engine's, as PROTOCOL.md describes them. Integers that
// can exceed 2^53 (header and log sequence numbers, GPT attribute bits)
// are decimal strings there: use BigInt(x) to compute with one.
//
//   import * as vhdxview from './web/vhdxview.js';
//   const { image, summary } = await vhdxview.open(input.files);
//   const bytes = await vhdxview.read(image, 0, 512);          // Uint8Array
//   const disk = await vhdxview.blob(image);                   // Blob, no copy
//
// Events from the engine ("ready", "store", "fatal") are dispatched on
// `events` as CustomEvents whose detail is the message; on(name, fn) calls
// fn(message) for each.

const WORKER_URL = new URL('./worker.js', import.meta.url);

// Zero runs of a blob() are slices of one shared zero Blob of this size.
const ZERO_CHUNK = 16 << 20;

/**
 * A failed request: name, message and the error's fields (PROTOCOL.md);
 * `request` is the op of the request that failed. For an InternalError
 * (a bug in the engine), `stack` is the engine's Go stack trace.
 */
export class VhdxError extends Error {
  constructor(e, request) {
    super(e && e.message ? e.message : String(e));
    Object.assign(this, e);
    this.name = (e && e.name) || 'Error';
    if (request) this.request = request;
  }
}

// abortError is what a request whose signal aborted rejects with: the
// signal's reason, as fetch() does (an AbortError DOMException unless
// abort() was given another reason).
function abortError(signal) {
  return signal.reason !== undefined ? signal.reason : new DOMException('cancelled', 'AbortError');
}

// raceAbort makes promises lose to signal's abort: race(p) settles as p
// does, or rejects with an AbortError as soon as the signal aborts, so a
// write that never returns cannot hold up a cancel. done() stops listening.
function raceAbort(signal) {
  if (!signal) return { race: (p) => p, done: () => {} };
  let stop = null;
  const aborted = new Promise((_, reject) => {
    stop = () => reject(abortError(signal));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => {});
  return { race: (p) => Promise.race([p, aborted]), done: () => signal.removeEventListener('abort', stop) };
}

/** Engine events: "ready", "store", "fatal" (CustomEvent, detail = message). */
export const events = new EventTarget();

/** Calls fn(message) for each engine event `name`; returns a function that stops it. */
export function on(name, fn) {
  const h = (e) => fn(e.detail);
  events.addEventListener(name, h);
  return () => events.removeEventListener(name, h);
}

// The engine is two Go programs, each in its own worker (worker.js). The
// core engine (vhdxview-core.wasm) opens, checks, reads and stores images;
// it leaves out the file-system code, about a fifth of the engine, so that
// a first visit's first open waits only for it. The full engine
// (vhdxview.wasm) serves the ops that need that code (FS_OPS): it loads
// once the core engine is ready, and opens each image again, from the same
// Files and without storing anything, the first time one of those ops
// names it. Both read the same bytes, so they see the same disk.
const FS_OPS = new Set(['parts', 'ls', 'stat', 'ntfs_info', 'file_read', 'file_plan', 'listing', 'file_extents', 'file_preview', 'hash', 'search']);

let nextId = 1; // one sequence for both engines
const images = new Map(); // image (the core engine's handle) → {files, size, raw, partial, full}
let zeroBlob = null;
let persistAsked = false;
const opening = new Set(); // open and reopen requests not yet answered

// Engine is one worker and the requests it has not answered.
class Engine {
  constructor(name, { onEvent, onStart }) {
    this.name = name;
    this.onEvent = onEvent;
    this.onStart = onStart;
    this.worker = null;
    this.dead = null; // the fatal error, once the engine is gone
    this.pending = new Map(); // id → {op, resolve, reject, onProgress}
    this.readyPromise = null;
    this.about = null; // the ready event's {protocol, version, fs}
  }

  start() {
    if (this.worker) return this.worker;
    this.worker = new Worker(WORKER_URL, { name: this.name });
    this.readyPromise = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {}); // reported through the requests too
    this.worker.onmessage = (e) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.receive({ event: 'fatal', error: { name: 'EngineError', message: 'the engine worker failed: ' + (e.message || 'unknown error') } });
    };
    if (this.onStart) this.onStart(this);
    return this.worker;
  }

  receive(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (typeof msg.event === 'string') {
      if (msg.event === 'ready') {
        // "vhdxview:ready" and "vhdxview-full:ready", for the cold-load
        // benchmark's timeline.
        if (typeof performance !== 'undefined' && performance.mark) performance.mark(`${this.name}:ready`);
        this.about = { protocol: msg.protocol, version: msg.version, fs: msg.fs };
        this.resolveReady();
      }
      if (msg.event === 'fatal') {
        this.dead = new VhdxError(msg.error);
        this.rejectReady(this.dead);
        for (const p of this.pending.values()) p.reject(this.dead);
        this.pending.clear();
      }
      this.onEvent(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.progress) {
      if (p.onProgress) p.onProgress(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new VhdxError(msg.error, p.op));
  }

  request(op, args, { onProgress, signal } = {}) {
    if (this.dead) return Promise.reject(this.dead);
    if (signal && signal.aborted) return Promise.reject(abortError(signal));
    const w = this.start();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      let onAbort = null;
      const done = (f) => (v) => {
        if (onAbort) signal.removeEventListener('abort', onAbort);
        f(v);
      };
      this.pending.set(id, { op, resolve: done(resolve), reject: done(reject), onProgress });
      if (signal) {
        onAbort = () => {
          const p = this.pending.get(id);
          if (!p) return;
          this.pending.delete(id);
          w.postMessage({ id: nextId++, op: 'cancel', args: { target: id } });
          p.reject(abortError(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      w.postMessage({ id, op, args });
    });
  }
}

const core = new Engine('vhdxview', {
  onEvent(msg) {
    if (msg.event === 'store' && msg.state === 'storing') askPersist();
    events.dispatchEvent(new CustomEvent(msg.event, { detail: msg }));
  },
  onStart() {
    // When the engine was asked for; the page compares it with its own
    // modules' start (the first-visit ui test), since when the browser then
    // fetches the worker's script is its own choice.
    if (typeof performance !== 'undefined' && performance.mark) performance.mark('vhdxview:engine-asked');
    fullEngine().catch(() => {});
  },
});

const full = new Engine('vhdxview-full', {
  // Its failures reach the page as the failures of its requests; the page's
  // "fatal" is the core engine's.
  onEvent() {},
  onStart(e) {
    // It stores nothing: the core engine keeps the images.
    e.request('config', { store: false }).catch(() => {});
  },
});

// navigator.storage.persist() exists only in windows, so the page asks,
// once, when the engine first stores an image's bytes.
function askPersist() {
  if (persistAsked) return;
  persistAsked = true;
  const sm = globalThis.navigator && navigator.storage;
  if (sm && typeof sm.persist === 'function') sm.persist().catch(() => {});
}

/** Resolves when the engine has loaded (rejects if it cannot start). */
export function ready() {
  core.start();
  return core.readyPromise;
}

/**
 * Resolves when the engine that serves the file-system ops, hash and search
 * has loaded too: the full engine, which starts after the core engine has
 * answered its first opens and the page is idle (at once with a build of
 * the full engine alone). For automation that wants the page settled.
 */
export async function fullReady() {
  const eng = await fullEngine();
  return eng.readyPromise;
}

/** The engine's {protocol, version, fs} (from its ready event), or null before it is ready. */
export function engineInfo() {
  return core.about;
}

/**
 * Sends one request {id, op, args}. options: onProgress({done, total}),
 * signal (an AbortSignal). Aborting the signal rejects the promise at
 * once with the signal's reason (an AbortError) and sends a cancel
 * request, which stops the engine's work; the engine's own reply to the
 * request is then dropped. The ops of FS_OPS go to the full engine, with
 * args.image turned into its handle for the same image.
 */
export function request(op, args = {}, { onProgress, signal } = {}) {
  if (!FS_OPS.has(op)) return core.request(op, args, { onProgress, signal });
  return fullRequest(op, args, { onProgress, signal });
}

async function fullRequest(op, args, opts) {
  const ab = raceAbort(opts.signal);
  let eng;
  let image = args.image;
  try {
    eng = await ab.race(fullEngine());
    const img = images.get(args.image);
    if (eng === full && img) {
      image = await ab.race(fullImage(img));
    } else if (eng === full && typeof args.image === 'number') {
      // Not one of ours: the full engine's handles are another sequence,
      // and the same number there could be another image.
      throw new VhdxError({ name: 'NotOpenError', message: `no open image ${args.image} (closed, or never opened)` }, op);
    } // else the engine says what is wrong with args.image
  } finally {
    ab.done();
  }
  return eng.request(op, { ...args, image }, opts);
}

// fullEngine resolves to the engine that serves FS_OPS. It starts the full
// engine once the core one serves, has answered the opens asked of it
// meanwhile and the page is idle (it has drawn what they gave): a first
// visit's first summary has the machine to itself, and a page left idle has
// the full engine loaded by the time a file is picked. A build without the
// core engine runs the full one in the first worker (its ready event says
// fs: true), which then serves everything.
let fullStarted = null;
function fullEngine() {
  if (!fullStarted) {
    core.start();
    fullStarted = core.readyPromise
      .catch(() => {})
      .then(() => {
        if (core.about && core.about.fs) return core;
        return Promise.allSettled([...opening])
          .then(idle)
          .then(() => {
            full.start();
            return full;
          });
      });
  }
  return fullStarted;
}

// idle resolves when the page's main thread is next idle (at most 1 s on).
function idle() {
  return new Promise((resolve) => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => resolve(), { timeout: 1000 });
    else setTimeout(resolve, 0);
  });
}

// fullImage opens img in the full engine once: the same Files, as the
// same kind of disk (raw, or a chain missing its parent), storing nothing.
function fullImage(img) {
  if (!img.full) {
    const p = full.request('open', { files: img.files, raw: img.raw, partial: img.partial, store: false }).then((r) => r.image);
    img.full = p;
    p.catch(() => {
      if (img.full === p) img.full = null; // the next request tries again
    });
  }
  return img.full;
}

/** Changes the engine's settings (store, db_name, per_image_limit, total_cap). */
export function configure(settings) {
  return request('config', settings || {});
}

function remember(result) {
  images.set(result.image, {
    files: result.files,
    size: result.summary.virtual_size,
    raw: result.summary.format === 'raw',
    partial: !!result.summary.parent_missing,
    full: null, // the full engine's handle, a promise (fullImage)
  });
  return result;
}

/**
 * Opens a disk from one or more Files (a FileList, an array or one File):
 * a VHDX or VHD file, the leaf of a differencing chain with its parents
 * (matched by GUID), or a raw disk image (a file with a partition table
 * or a file system at its start). options: partial (open a child whose
 * parent is missing), raw (true: read the file as a raw disk whatever its
 * signature; offered when an error has raw_possible), store (false: do
 * not remember it), keep_bytes (false: remember it, with its summary, but
 * store none of its bytes; see keep()). summary.format is "vhdx", "vhd" or "raw". Resolves to {image, key, summary, files,
 * used, store_error?, skipped?}: files[k] is the File (or stored Blob) of
 * chain level k, used[k] the index in files given of that level's file,
 * skipped the files given that were left out and why (each with its
 * index); summary.parent_missing names a missing chain level.
 */
export async function open(files, options = {}) {
  const list = files instanceof Blob ? [files] : Array.from(files || []);
  return remember(await tracked(request('open', { ...options, files: list })));
}

/** Reopens a remembered image by its key (see recent()). */
export async function reopen(key, options = {}) {
  return remember(await tracked(request('reopen', { ...options, key })));
}

// tracked keeps an open in `opening` until it is answered.
function tracked(p) {
  opening.add(p);
  const drop = () => opening.delete(p);
  p.then(drop, drop);
  return p;
}

/** The full structure summary (`vhdx info --json`). */
export function info(image) {
  return request('info', { image });
}

/** Checks every structure; onProgress({done, total}) counts BAT entries. */
export function verify(image, { onProgress, signal } = {}) {
  return request('verify', { image }, { onProgress, signal });
}

/** Reads up to 16 MiB of the virtual disk at offset; shorter at its end. */
export async function read(image, offset, length, { signal } = {}) {
  return new Uint8Array(await request('read', { image, offset, length }, { signal }));
}

/** The most bytes one read() or readDirect() returns (the engine's read op limit). */
export const READ_LIMIT = 16 << 20;

/**
 * Reads up to READ_LIMIT bytes of the virtual disk at offset, as read()
 * does, but in the page: the engine only plans the range (where each
 * byte lies: a file's range, zeros, or log-replayed bytes it holds), and
 * the bytes are sliced from the image's Files here. A 4 KiB read reads
 * 4 KiB of the file, and a range inside one file run is the browser's
 * own buffer, never copied. Shorter at the end of the disk.
 */
export async function readDirect(image, offset, length, { signal } = {}) {
  const img = images.get(image);
  if (!img) throw new VhdxError({ name: 'NotOpenError', message: 'no open image ' + image });
  if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) {
    throw new VhdxError({ name: 'ArgumentError', message: `readDirect: offset and length must be whole numbers from 0, not ${offset} and ${length}` });
  }
  if (length > READ_LIMIT) {
    throw new VhdxError({ name: 'ArgumentError', message: `readDirect: length ${length} is over the ${READ_LIMIT}-byte limit of one request` });
  }
  const start = Math.min(offset, img.size);
  const end = Math.min(img.size, start + length);
  const runs = [];
  for (let pos = start; pos < end;) {
    const p = await plan(image, pos, end - pos, { limit: 65536, signal });
    runs.push(...p.runs);
    if (p.next === null || p.next === undefined) break;
    pos = p.next;
  }
  const slice = async (r) => {
    let b;
    try {
      b = new Uint8Array(await img.files[r.level].slice(r.file_offset, r.file_offset + r.length).arrayBuffer());
    } catch (e) {
      throw new VhdxError({ name: 'ReadError', message: `cannot read the file (was it changed, moved or deleted since it was opened?): ${e.message || e}` });
    }
    if (b.length !== r.length) {
      throw new VhdxError({ name: 'ReadError', message: `cannot read the file (was it changed, moved or deleted since it was opened?): level ${r.level} gave ${b.length} of ${r.length} bytes at ${r.file_offset}` });
    }
    return b;
  };
  if (runs.length === 1 && runs[0].kind === 'file' && runs[0].length === end - start) return slice(runs[0]);
  const out = new Uint8Array(end - start);
  await Promise.all(runs.map(async (r) => {
    if (r.kind === 'file') out.set(await slice(r), r.offset - start);
    else if (r.kind === 'bytes') out.set(r.data, r.offset - start);
  }));
  if (signal && signal.aborted) throw abortError(signal);
  return out;
}

/** Raw BAT states of payload blocks [first, first+count) of chain level `level`. */
export async function map(image, first = 0, count = undefined, { level = 0 } = {}) {
  const r = await request('map', { image, first, count, level });
  return r.states;
}

/**
 * One page of the plan of [offset, offset+length): {offset, end, next,
 * runs}. With zeroBad a block whose table entry is damaged is a zero run
 * with bad: {message, level, block} instead of a BlockError.
 */
export function plan(image, offset = 0, length = undefined, { limit, signal, zeroBad } = {}) {
  return request('plan', { image, offset, length, limit, zero_bad: !!zeroBad }, { signal });
}

/**
 * The ranges of [offset, offset+length) (default: the whole disk) whose
 * blocks cannot be read because their table entries are damaged: {blocks,
 * ranges: [{offset, length, level, block, blocks, message}], listed_all}.
 * It walks the block table; onProgress({done, total}) counts virtual bytes.
 * A download with zeroBad fills exactly these ranges with zeros.
 */
export function badRanges(image, { offset, length, signal, onProgress } = {}) {
  return request('bad_ranges', { image, offset, length }, { signal, onProgress });
}

// filledRun calls onFilled with a plan run that zeroBad filled.
function filledRun(r, onFilled) {
  if (r.bad && onFilled) onFilled({ offset: r.offset, length: r.length, level: r.bad.level, block: r.bad.block, message: r.bad.message });
}

// ---- Blob downloads: a bounded number of parts -------------------------------

/**
 * The most parts a download Blob may have. Chromium keeps each part of a
 * Blob (a file slice, a zero slice) as an item in its blob registry,
 * about 0.5-3.5 KB each, nested Blobs flattened: 65,536 parts stay under
 * ~250 MB, while the 4 million zero slices of a 64 TiB sparse disk took
 * the browser past 12 GB. blob() and fileBlob() stop with a TooLargeError
 * once a plan needs more; save such a range with saveTo().
 */
export const BLOB_PART_LIMIT = 65536;

/**
 * The largest range blob() can take whatever its plan: BLOB_PART_LIMIT
 * zero chunks (1 TiB). Beyond it a browser download also writes every
 * zero byte, which no disk holds.
 */
export const BLOB_SIZE_LIMIT = BLOB_PART_LIMIT * ZERO_CHUNK;

// BlobParts collects the parts of a download Blob, folded into nested
// Blobs of FOLD parts: one flat array of 65,536 parts takes Chromium tens
// of seconds to turn into a Blob, nested ones a fraction of a second.
const FOLD = 1024;
class BlobParts {
  constructor(what, length) {
    this.levels = [[]];
    this.count = 0;
    this.what = what;
    this.length = length;
  }

  push(part) {
    if (++this.count > BLOB_PART_LIMIT) throw tooLarge(this.what, this.length);
    this.add(part, 0);
  }

  add(part, k) {
    if (!this.levels[k]) this.levels[k] = [];
    const l = this.levels[k];
    l.push(part);
    if (l.length >= FOLD) {
      this.levels[k] = [];
      this.add(new Blob(l), k + 1);
    }
  }

  zeros(n) {
    if (!zeroBlob) zeroBlob = new Blob([new Uint8Array(ZERO_CHUNK)]);
    // Checked before any part is made: a 64 TiB run is refused at once.
    if (this.count + Math.ceil(n / ZERO_CHUNK) > BLOB_PART_LIMIT) throw tooLarge(this.what, this.length);
    for (; n >= ZERO_CHUNK; n -= ZERO_CHUNK) this.push(zeroBlob);
    if (n > 0) this.push(zeroBlob.slice(0, n));
  }

  // run adds one plan run; files are the image's chain levels.
  run(r, files) {
    if (r.kind === 'file') this.push(files[r.level].slice(r.file_offset, r.file_offset + r.length));
    else if (r.kind === 'zero') this.zeros(r.length);
    else this.push(r.data);
  }

  // blob joins the levels, the oldest parts (folded highest) first.
  blob(type) {
    const parts = [];
    for (let k = this.levels.length - 1; k >= 0; k--) parts.push(...this.levels[k]);
    return new Blob(parts, { type });
  }
}

function tooLarge(what, length) {
  return new VhdxError({
    name: 'TooLargeError', limit: BLOB_PART_LIMIT, length,
    message: `${what} (${length} bytes) is too fragmented or too sparse for a browser download: its Blob would need more than ${BLOB_PART_LIMIT} parts (a part per run of the plan and per ${ZERO_CHUNK >> 20} MiB of zeros); save it to a file with saveTo() or download a partition or a smaller range`,
  });
}

/**
 * A Blob of the virtual disk range [offset, offset+length) (default: the
 * whole disk), composed from slices of the image's files, a shared zero
 * chunk and the small byte arrays of log-replayed pages, following plan():
 * no payload passes through the engine. The browser keeps a little memory
 * per part, so a plan that needs more than BLOB_PART_LIMIT parts (more than
 * 1 TiB of zeros, or that many runs) rejects with a TooLargeError {limit,
 * length} before any Blob is made: save such a range with saveTo().
 * onProgress({done, total}) counts virtual bytes planned. zeroBad: blocks
 * whose table entries are damaged are zeros instead of a BlockError, and
 * onFilled({offset, length, level, block, message}) is called for each.
 */
export async function blob(image, offset = 0, length = undefined, { signal, type = 'application/octet-stream', onProgress, zeroBad, onFilled } = {}) {
  const img = images.get(image);
  if (!img) throw new VhdxError({ name: 'NotOpenError', message: 'no open image ' + image });
  const start = Math.min(offset, img.size);
  const end = length === undefined ? img.size : Math.min(img.size, start + length);
  const parts = new BlobParts(`the range 0x${start.toString(16)}+0x${(end - start).toString(16)}`, end - start);
  let pos = start;
  while (pos < end) {
    const p = await plan(image, pos, end - pos, { limit: 65536, signal, zeroBad });
    for (const r of p.runs) {
      parts.run(r, img.files);
      filledRun(r, onFilled);
    }
    if (onProgress) onProgress({ done: p.end - start, total: end - start });
    if (p.next === null || p.next === undefined) break;
    pos = p.next;
  }
  return parts.blob(type);
}

// ---- saving into a file: zero runs are skipped ------------------------------

// A saveTo() plans at most PLAN_SPAN virtual bytes per request, so that a
// huge sparse disk reports progress and a cancel is seen between requests.
const PLAN_SPAN = 64 * 2 ** 30;
// Data runs that follow each other are written as one Blob of up to
// WRITE_BYTES bytes or WRITE_PARTS parts; at most WRITE_WINDOW writes are
// in flight. Writes are Blobs of file slices, so memory stays at a few
// plan pages however large the range.
const WRITE_BYTES = 64 << 20;
const WRITE_PARTS = 1024;
const WRITE_WINDOW = 4;

/**
 * Saves the virtual disk range [offset, offset+length) (default: the whole
 * disk) into target: a FileSystemFileHandle (from showSaveFilePicker, or
 * an origin private file system file) or a FileSystemWritableFileStream.
 * Data runs are written at their offsets; zero runs are skipped and the
 * file is truncated to the range's length at the end, so it holds no
 * written zeros (sparse where the file system can be) and memory stays
 * bounded whatever the size. The writable is closed when every byte is
 * written: only then does the promise resolve, to {bytes, written}
 * (written counts the data bytes written, the rest being skipped zeros).
 * On failure or when signal aborts, the writable is aborted, so the
 * browser discards what was written instead of leaving a partial file in
 * its place. onProgress({done, total, written}) counts virtual bytes.
 * zeroBad and onFilled as for blob().
 */
export async function saveTo(image, target, { offset = 0, length = undefined, signal, onProgress, zeroBad, onFilled } = {}) {
  const img = images.get(image);
  if (!img) throw new VhdxError({ name: 'NotOpenError', message: 'no open image ' + image });
  if (signal && signal.aborted) throw abortError(signal);
  const start = Math.min(offset, img.size);
  const end = length === undefined ? img.size : Math.min(img.size, start + length);
  const w = typeof target.createWritable === 'function' ? await target.createWritable({ keepExistingData: false }) : target;
  // A write the destination holds up (a slow or full disk) must not hold
  // up a cancel: each wait races the signal.
  const { race: wait, done: unwatch } = raceAbort(signal);
  const inFlight = [];
  let written = 0;
  let batch = null; // {at, parts, bytes}: data runs that follow each other
  const flush = async () => {
    if (!batch) return;
    const b = batch;
    batch = null;
    const data = b.parts.length === 1 && b.parts[0] instanceof Blob ? b.parts[0] : new Blob(b.parts);
    const p = w.write({ type: 'write', position: b.at - start, data });
    p.catch(() => {});
    inFlight.push(p);
    written += b.bytes;
    while (inFlight.length > WRITE_WINDOW) await wait(inFlight.shift());
  };
  try {
    let pos = start;
    while (pos < end) {
      const p = await plan(image, pos, Math.min(end - pos, PLAN_SPAN), { limit: 65536, signal, zeroBad });
      for (const r of p.runs) {
        filledRun(r, onFilled);
        if (r.kind === 'zero') continue;
        const part = r.kind === 'file' ? img.files[r.level].slice(r.file_offset, r.file_offset + r.length) : r.data;
        if (batch && (batch.at + batch.bytes !== r.offset || batch.bytes + r.length > WRITE_BYTES || batch.parts.length >= WRITE_PARTS)) await flush();
        if (!batch) batch = { at: r.offset, parts: [], bytes: 0 };
        batch.parts.push(part);
        batch.bytes += r.length;
      }
      if (batch && batch.bytes >= WRITE_BYTES) await flush();
      pos = p.next === null || p.next === undefined ? Math.min(end, pos + PLAN_SPAN) : p.next;
      if (pos >= end) await flush();
      if (onProgress) onProgress({ done: pos - start, total: end - start, written });
    }
    await flush();
    while (inFlight.length) await wait(inFlight.shift());
    // The zero runs at the end: the file's length is the range's.
    await wait(w.truncate(end - start));
    await wait(w.close());
    return { bytes: end - start, written };
  } catch (e) {
    // Not awaited: abort waits for a write in flight, which may be the
    // one that stalled.
    w.abort(e).catch(() => {});
    throw e;
  } finally {
    unwatch();
  }
}

// ---- hashing and searching -------------------------------------------------

/**
 * Hashes [offset, offset+length) of the virtual disk (default: all of it)
 * in one pass: algorithms is any of 'sha256', 'sha1', 'md5' (default
 * ['sha256']). With partition (and path) it hashes that partition (or that
 * file of it) instead, offset and length within it. Resolves to {sha256?,
 * sha1?, md5?} in lowercase hex, only those asked. onProgress({done,
 * total}) counts bytes; signal cancels.
 */
export function hash(image, { offset, length, algorithms, partition, path, onProgress, signal } = {}) {
  return request('hash', { image, offset, length, algorithms, partition, path }, { onProgress, signal });
}

/** hash() of a file of a partition: the same options, offset and length within the file. */
export function fileHash(image, partition, path, options = {}) {
  return hash(image, { ...options, partition, path });
}

/**
 * Finds pattern (a Uint8Array, 1 to 65536 bytes) in [offset,
 * offset+length) of the virtual disk (or of a partition, or a file of it,
 * with partition and path). Resolves to {hits, next}: hits are the offsets
 * where it starts (matches may overlap), at most limit of them (default
 * and most 1048576); next is where to search on from, or null when the
 * range is done. onProgress({done, total}) counts bytes; signal cancels.
 */
export function search(image, pattern, { offset, length, limit, partition, path, onProgress, signal } = {}) {
  return request('search', { image, pattern, offset, length, limit, partition, path }, { onProgress, signal });
}

// ---- inside the disk: partitions and file systems -------------------------

// Files up to this size that file_plan cannot map are read through the
// engine into a Blob; larger ones are streamed (saveFile).
export const SMALL_FILE = 16 << 20;

/** The partition table: {scheme, sector_size, partitions, problems?, ...}. */
export function parts(image) {
  return request('parts', { image });
}

/**
 * One directory of a partition's file system: {partition, path, fs: {type, label,
 * journal?}, entries, truncated?, incomplete?}; incomplete (a message) says part of the
 * directory could not be read, so the entries are not all of it; fs.journal says
 * an ext journal was replayed in memory (or could not be: the listing is stale).
 */
export function ls(image, partition, path = '/', { signal } = {}) {
  return request('ls', { image, partition, path }, { signal });
}

/** The entry of one path (a file, a directory, or "file:stream" on NTFS). */
export function stat(image, partition, path) {
  return request('stat', { image, partition, path });
}

/**
 * What the MFT record of an NTFS file holds: {record, sequence, offset (the record's
 * disk offset), record_size, directory, metadata, hard_links, dos_attributes,
 * dos_flags, times, names, attributes, streams, extension_records?, problems?}.
 * NTFS only (a FileSystemError with reason "unsupported" elsewhere).
 */
export function ntfsInfo(image, partition, path, { signal } = {}) {
  return request('ntfs_info', { image, partition, path }, { signal });
}

// The file functions below take { deleted: true, id } to read what a
// deleted entry (as ls lists it, recoverable: true) still has on the
// volume: path and id are the entry's. Those are recovered bytes, which
// may have been overwritten since; entry.recover_note says what else to
// beware of, or why an entry cannot be recovered.

/** Reads up to 16 MiB of a file at offset; shorter at its end. */
export async function fileRead(image, partition, path, offset, length, { signal, deleted, id } = {}) {
  return new Uint8Array(await request('file_read', { image, partition, path, offset, length, deleted, id }, { signal }));
}

/** One page of a file's plan: {size, mapped, offset, end, next, runs}, runs in file coordinates. */
export function filePlan(image, partition, path, offset = 0, length = undefined, { limit, signal, deleted, id } = {}) {
  return request('file_plan', { image, partition, path, offset, length, limit, deleted, id }, { signal });
}

/**
 * A Blob of a file's contents. A file whose extents the file system gives
 * (FAT, ext, NTFS streams that are neither resident nor compressed) is
 * composed from slices of the image files, like blob(), with no copy.
 * Another file up to SMALL_FILE bytes is read through the engine. A larger
 * unmapped file (compressed NTFS) gives null: stream it with saveFile().
 * onProgress({done, total}) counts file bytes planned or read.
 */
export async function fileBlob(image, partition, path, { signal, type = 'application/octet-stream', onProgress, deleted, id } = {}) {
  const img = images.get(image);
  if (!img) throw new VhdxError({ name: 'NotOpenError', message: 'no open image ' + image });
  const first = await filePlan(image, partition, path, 0, undefined, { limit: 65536, signal, deleted, id });
  const size = first.size;
  if (!first.mapped) {
    if (size > SMALL_FILE) return null;
    const b = await fileRead(image, partition, path, 0, size, { signal, deleted, id });
    if (onProgress) onProgress({ done: b.length, total: size });
    return new Blob([b], { type });
  }
  const parts = new BlobParts(path, size);
  let p = first;
  for (;;) {
    for (const r of p.runs) parts.run(r, img.files);
    if (onProgress) onProgress({ done: p.end, total: size });
    if (p.next === null || p.next === undefined) break;
    p = await filePlan(image, partition, path, p.next, undefined, { limit: 65536, signal, deleted, id });
  }
  return parts.blob(type);
}

/**
 * Streams a file into writable (a WritableStream, e.g. from
 * FileSystemFileHandle.createWritable()) and closes it; on failure or
 * abort the stream is aborted. A mapped file is piped from its
 * fileBlob(); another (or any, with viaEngine: true) is read through the
 * engine chunkSize bytes at a time (at most 16 MiB), so memory stays at
 * one chunk whatever the file's size. Resolves to the number of bytes
 * written.
 */
export async function saveFile(image, partition, path, writable, { signal, onProgress, chunkSize = SMALL_FILE, viaEngine = false, deleted, id } = {}) {
  const w = writable.getWriter();
  let next = null;
  // A write the destination holds up (a slow disk, a full one) must not
  // hold up a cancel: each write races the signal.
  const { race, done: unwatch } = raceAbort(signal);
  const write = (chunk) => race(w.write(chunk));
  try {
    const first = await filePlan(image, partition, path, 0, 0, { signal, deleted, id });
    const size = first.size;
    let done = 0;
    const tick = () => { if (onProgress) onProgress({ done, total: size }); };
    if (first.mapped && !viaEngine) {
      const b = await fileBlob(image, partition, path, { signal, deleted, id });
      const r = b.stream().getReader();
      for (;;) {
        if (signal && signal.aborted) throw abortError(signal);
        const { value, done: end } = await r.read();
        if (end) break;
        await write(value);
        done += value.length;
        tick();
      }
    } else {
      const n = Math.max(1, Math.min(chunkSize, SMALL_FILE));
      // One read ahead: the next chunk is being read while this one is written.
      next = size > 0 ? fileRead(image, partition, path, 0, Math.min(n, size), { signal, deleted, id }) : null;
      while (next) {
        const chunk = await next;
        if (chunk.length === 0) throw new VhdxError({ name: 'FileSystemError', reason: 'damaged', message: `${path}: short read at ${done} of ${size} bytes` });
        const at = done + chunk.length;
        next = at < size ? fileRead(image, partition, path, at, Math.min(n, size - at), { signal, deleted, id }) : null;
        await write(chunk);
        done = at;
        tick();
      }
    }
    await race(w.close());
    return done;
  } catch (e) {
    if (next) next.catch(() => {}); // the read ahead is no longer wanted
    // Not awaited: abort waits for a write in flight, which may be the
    // one that stalled.
    w.abort(e).catch(() => {});
    throw e;
  } finally {
    unwatch();
  }
}

// ---- what people do with files: listings, previews, where files lie, ZIP ----

/**
 * The recursive listing of a partition's directory path (default "/"), in
 * pages: an async iterator of {format, text | entries, count, next}.
 * format is 'csv' (the header is in the first page's text), 'bodyfile'
 * (The Sleuth Kit's body file, for mactime) or 'entries' (objects {path,
 * name, type, size, mod_time, create_time, access_time, deleted, id,
 * target, sums, problem}); hash lists digests of every live file ('md5',
 * 'sha256', 'sha1'). Pages hold at most limit rows (default 5000) and end
 * early after 256 MiB hashed, so memory is one page whatever the volume.
 * onProgress({rows, hashed}) counts rows and bytes hashed so far; signal
 * cancels (the iterator throws an AbortError).
 */
export async function* listing(image, partition, { path = '/', format = 'csv', hash, limit, signal, onProgress } = {}) {
  let cursor = '';
  let rows = 0;
  let hashed = 0;
  for (;;) {
    let pageHashed = 0;
    const page = await request('listing', { image, partition, path, format, hash, limit, cursor }, {
      signal,
      onProgress: (p) => {
        pageHashed = p.done;
        if (onProgress) onProgress({ rows, hashed: hashed + pageHashed });
      },
    });
    rows += page.count;
    hashed += pageHashed;
    if (onProgress) onProgress({ rows, hashed });
    yield page;
    if (page.next === null || page.next === undefined) return;
    cursor = page.next;
  }
}

/**
 * What a file's first bytes are: {size, read, kind: 'text' | 'image' |
 * 'binary' | 'empty', encoding ('UTF-8', 'UTF-16LE', 'UTF-16BE',
 * 'windows-1252'), bom, text, mime}. It looks at the first limit bytes
 * (default 1 MiB, at most 16 MiB); text is those decoded (read < size when
 * it is the file's beginning). An image's bytes are not sent: draw it from
 * fileBlob().
 */
export function filePreview(image, partition, path, { limit, signal } = {}) {
  return request('file_preview', { image, partition, path, limit }, { signal });
}

/**
 * Where a file's bytes are on the virtual disk: {size, mapped, extents:
 * [{file_offset, disk_offset, length}], next}, in file order, disk_offset
 * -1 for a hole (reads as zeros). mapped is false when the file system
 * cannot say (an NTFS file kept in its MFT record, compressed or
 * encrypted). At most limit pieces (default and most 65536); next is the
 * file offset of the rest, or null.
 */
export function fileExtents(image, partition, path, { limit, signal } = {}) {
  return request('file_extents', { image, partition, path, limit }, { signal });
}

let clientZip = null;

// fileStream gives a ReadableStream of a file's bytes: its fileBlob()'s
// stream (slices of the image files), or, for a large file the engine
// must read (compressed NTFS), chunks of fileRead() pulled one at a time.
async function fileStream(image, partition, path, size, signal) {
  const blob = await fileBlob(image, partition, path, { signal });
  if (blob) return blob.stream();
  let at = 0;
  return new ReadableStream({
    async pull(c) {
      if (at >= size) { c.close(); return; }
      const b = await fileRead(image, partition, path, at, Math.min(SMALL_FILE, size - at), { signal });
      if (b.length === 0) throw new VhdxError({ name: 'FileSystemError', reason: 'damaged', message: `${path}: short read at ${at} of ${size} bytes` });
      at += b.length;
      c.enqueue(b);
    },
  }, { highWaterMark: 0 });
}

/**
 * A ZIP of files of a partition as a Response whose body is streamed
 * (client-zip: stored, not compressed; ZIP64 where a size needs it).
 * items are [{path, name, size, mod_time, type}]: path on the volume,
 * name in the archive ("dir/file"), type 'file' or 'dir' (an entry of
 * its own, so that empty folders are kept), mod_time (RFC 3339) as the
 * entry's time. Each file is read only when the archive reaches it, from
 * its fileBlob() (no bytes through the engine) or in 16 MiB chunks, so
 * memory stays at a chunk or two whatever the total. The Response has a
 * Content-Length (the exact archive size). onProgress({done, total})
 * counts file bytes put in; signal aborts the body.
 */
export async function zip(image, partition, items, { signal, onProgress } = {}) {
  if (!clientZip) clientZip = await import('./client-zip/index.js');
  const list = Array.from(items);
  const total = list.reduce((n, it) => n + (it.type === 'dir' ? 0 : it.size), 0);
  const meta = list.map((it) => (it.type === 'dir' ? { name: `${it.name.replace(/\/+$/, '')}/` } : { name: it.name, size: it.size }));
  let done = 0;
  async function* inputs() {
    for (const it of list) {
      if (signal && signal.aborted) throw abortError(signal);
      const lastModified = it.mod_time ? new Date(it.mod_time) : undefined;
      if (it.type === 'dir') {
        yield { name: `${it.name.replace(/\/+$/, '')}/`, lastModified };
        continue;
      }
      const src = await fileStream(image, partition, it.path, it.size, signal);
      let got = 0;
      const count = new TransformStream({
        transform(chunk, c) {
          if (signal && signal.aborted) throw abortError(signal);
          got += chunk.length;
          done += chunk.length;
          if (got > it.size) throw new VhdxError({ name: 'FileSystemError', reason: 'damaged', message: `${it.path}: more than its ${it.size} bytes` });
          if (onProgress) onProgress({ done, total });
          c.enqueue(chunk);
        },
        flush() {
          if (got !== it.size) throw new VhdxError({ name: 'FileSystemError', reason: 'damaged', message: `${it.path}: ${got} of its ${it.size} bytes` });
        },
      });
      yield { name: it.name, lastModified, size: it.size, input: src.pipeThrough(count) };
    }
  }
  return clientZip.downloadZip(inputs(), { metadata: meta });
}

/** Remembered images, most recently used first, and storage use: {records, usage}. */
export function recent() {
  return request('recent');
}

/** Forgets a remembered image (record and stored bytes). */
export function forget(key) {
  return request('forget', { key });
}

/**
 * Pins (pinned = true) or unpins a remembered image: pinned bytes are
 * never evicted. Pinning an open image stores its bytes (whatever their
 * size) and resolves once they are stored: {stored, store_error?}.
 */
export function pin(key, pinned = true, { signal } = {}) {
  return request('pin', { key, pinned }, { signal });
}

/**
 * Stores the bytes of an open image (opened with keep_bytes: false) in the
 * background, so that it reopens offline; "store" events tell how it goes.
 */
export function keep(image) {
  return request('keep', { image });
}

/** Keeps state (any JSON value: position, bookmarks…) with a remembered image; recent() returns it as user_state. */
export function setState(key, state) {
  return request('set_state', { key, state });
}

/** Forgets every remembered image. */
export function forgetAll() {
  return request('forget', { all: true });
}

/** Closes an open image. */
export async function close(image) {
  const img = images.get(image);
  images.delete(image);
  if (img && img.full) img.full.then((h) => full.request('close', { image: h })).catch(() => {});
  return request('close', { image });
}
