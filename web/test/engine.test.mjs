// engine.test.mjs: the engine in a real browser, driven through
// web/test/harness.html and window.vhdxview (web/vhdxview.js). Run by
// run.mjs, which passes t = {page, context, base, fx, requests, downloads}:
// fx.path(name) is a test image or reference file, fx.sha[name] its sha256.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync, statSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { engineWorker, engineWorkers, fullEngineOnly } from './lib.mjs';

const MiB = 1 << 20;
const CHUNK = 16 * MiB; // the read op's limit

// harness loads web/test/harness.html unless it is loaded already.
async function harness(t, { reload = false } = {}) {
  if (reload || !t.page.url().endsWith('/web/test/harness.html')) await t.page.goto(t.base + '/web/test/harness.html');
  await t.page.waitForSelector('body[data-ready="true"]');
}

// openInput opens files through the harness's file input and returns the
// JSON it prints: the open result, or {error}.
async function openInput(t, ...names) {
  await t.page.evaluate(() => { document.getElementById('summary').textContent = ''; });
  await t.page.setInputFiles('#files', names.map((n) => t.fx.path(n)));
  await t.page.waitForFunction(() => document.getElementById('summary').textContent !== '');
  return JSON.parse(await t.page.textContent('#summary'));
}

// fileHashes is the sha256 of each 16 MiB chunk of a file, or of
// [offset, offset+length) in one piece.
function fileHashes(path, offset = 0, length = statSync(path).size - offset, chunk = CHUNK) {
  const fd = openSync(path, 'r');
  const out = [];
  try {
    for (let pos = offset; pos < offset + length; pos += chunk) {
      const n = Math.min(chunk, offset + length - pos);
      const b = Buffer.alloc(n);
      let got = 0;
      while (got < n) got += readSync(fd, b, got, n - got, pos + got);
      out.push(createHash('sha256').update(b).digest('hex'));
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

// pageHashes reads [offset, offset+length) through vhdxview.read in chunks
// and hashes each chunk in the page.
function pageHashes(t, image, offset, length, chunk = CHUNK) {
  return t.page.evaluate(async ({ image, offset, length, chunk }) => {
    const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
    const out = [];
    for (let pos = offset; pos < offset + length; pos += chunk) {
      const n = Math.min(chunk, offset + length - pos);
      const bytes = await window.vhdxview.read(image, pos, n);
      if (bytes.length !== n) throw new Error(`read ${pos}+${n} gave ${bytes.length} bytes`);
      out.push(hex(await crypto.subtle.digest('SHA-256', bytes)));
    }
    return out;
  }, { image, offset, length, chunk });
}

// download makes vhdxview.blob(image) of the whole disk, clicks an
// <a download> for it and returns the sha256 and size of the saved file.
async function download(t, image, name) {
  const [dl] = await Promise.all([
    t.page.waitForEvent('download'),
    t.page.evaluate(async ({ image, name }) => {
      const blob = await window.vhdxview.blob(image);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    }, { image, name }),
  ]);
  mkdirSync(t.downloads, { recursive: true });
  const path = join(t.downloads, name);
  await dl.saveAs(path);
  const [sha] = fileHashes(path, 0, statSync(path).size, Infinity);
  return { sha, size: statSync(path).size };
}

// recentRecord polls recent() until the record of key satisfies ok.
async function recentRecord(t, key, ok, what) {
  for (let i = 0; i < 200; i++) {
    const r = await t.page.evaluate(async () => window.vhdxview.recent());
    const rec = r.records.find((x) => x.key === key);
    if (rec && ok(rec)) return { rec, recent: r };
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`recent: ${key} never became ${what}`);
}

export const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('the engine loads in a worker from the served files', async (t) => {
  await harness(t, { reload: true });
  const workers = t.page.workers().map((w) => w.url());
  assert.ok(workers.some((u) => u.endsWith('/web/worker.js')), `workers: ${workers}`);
  assert.match(await t.page.textContent('#status'), /engine ready/);
  // Two engines: the core one (no file-system code) serves first; the
  // full one loads after it, each with its content hash in the URL.
  assert.deepEqual(await t.page.evaluate(() => window.vhdxview.engineInfo().fs), false, 'the first engine is the core one');
  const { parts, closed, fullMarks } = await t.page.evaluate(async () => {
    const v = window.vhdxview;
    await v.fullReady();
    const fullMarks = performance.getEntriesByName('vhdxview-full:ready').length;
    const { image } = await v.open(new File([new Uint8Array(1 << 20)], 'zeros.img'), { raw: true, store: false });
    const parts = await v.parts(image).then((p) => p.scheme, (e) => e.name);
    await v.close(image);
    return { parts, fullMarks, closed: await v.parts(image).then(() => 'answered', (e) => e.name) };
  });
  assert.ok(!['UnsupportedOpError', 'EngineError', 'NotOpenError'].includes(parts), `parts, answered by the full engine: ${parts}`);
  assert.equal(closed, 'NotOpenError', 'a closed image is closed in both engines');
  assert.equal(fullMarks, 1, 'fullReady() resolved once the full engine said ready');
  const core = t.requests.findIndex((u) => /\/web\/vhdxview-core\.wasm\?v=[0-9a-f]{16}$/.test(u));
  const full = t.requests.findIndex((u) => /\/web\/vhdxview\.wasm\?v=[0-9a-f]{16}$/.test(u));
  assert.ok(core >= 0 && full > core, `the core engine is fetched first, then the full one: ${t.requests.filter((u) => u.includes('.wasm'))}`);
  assert.equal(engineWorkers(t.page).length, 2, 'one worker per engine');
  const urls = t.requests.join('\n');
  assert.match(urls, /\/web\/wasm_exec\.js\?v=[0-9a-f]{16}/);
  // Sync reads: the worker has FileReaderSync.
  const w = await engineWorker(t.page);
  assert.equal(await w.evaluate(() => typeof FileReaderSync), 'function');
  await t.page.evaluate(() => window.vhdxview.forgetAll());
});

test('a build without the core engine serves every op from one worker', async (t) => {
  // manifest.json without core_wasm: what a hand build of the full engine
  // alone serves. The first worker then loads vhdxview.wasm, says fs: true,
  // and vhdxview.js sends it the file-system ops too.
  const undo = await fullEngineOnly(t.context);
  try {
    const seen = t.requests.length;
    await harness(t, { reload: true });
    const out = await t.page.evaluate(async () => {
      const v = window.vhdxview;
      const { image } = await v.open(new File([new Uint8Array(1 << 20)], 'zeros.img'), { raw: true, store: false });
      try {
        const parts = await v.parts(image).then((p) => p.scheme, (e) => e.name);
        return { fs: v.engineInfo().fs, parts };
      } finally {
        await v.close(image);
      }
    });
    assert.equal(out.fs, true, 'the one engine is the full one');
    assert.ok(!['UnsupportedOpError', 'EngineError', 'NotOpenError'].includes(out.parts), `parts: ${out.parts}`);
    assert.equal(engineWorkers(t.page).length, 1, 'one worker');
    const wasm = t.requests.slice(seen).filter((u) => u.includes('.wasm'));
    assert.ok(wasm.length > 0 && wasm.every((u) => /\/web\/vhdxview\.wasm\?v=/.test(u)), `wasm fetched: ${wasm}`);
  } finally {
    await undo();
    await harness(t, { reload: true });
  }
});

test('open a File from the file input; read equals vhdx cat', async (t) => {
  await harness(t);
  const res = await openInput(t, 'dynamic.vhdx');
  assert.equal(res.error, undefined, JSON.stringify(res.error));
  assert.equal(res.summary.type, 'dynamic');
  assert.equal(res.summary.virtual_size, 64 * MiB);
  assert.equal(res.summary.name, 'dynamic.vhdx');
  assert.match(res.key, /^[0-9a-f]{32}$/);
  assert.equal(t.fx.sha['dynamic.cat'], t.fx.sha['dynamic.raw'], 'vhdx cat and the builder agree');
  assert.deepEqual(await pageHashes(t, res.image, 0, 64 * MiB), fileHashes(t.fx.path('dynamic.cat')));
  // Unaligned, across blocks, and a tail past the end.
  for (const [off, len] of [[1234567, 100003], [5 * MiB - 17, 3 * MiB + 1], [64 * MiB - 1000, 1000]]) {
    assert.deepEqual(await pageHashes(t, res.image, off, len, Infinity), fileHashes(t.fx.path('dynamic.cat'), off, len, Infinity), `read ${off}+${len}`);
  }
  const tail = await t.page.evaluate(async (img) => (await window.vhdxview.read(img, 64 * 1048576 - 10, 100)).length, res.image);
  assert.equal(tail, 10);
  // info, map and plan answer too.
  const out = await t.page.evaluate(async (img) => {
    const v = window.vhdxview;
    const info = await v.info(img);
    const states = Array.from(await v.map(img, 0, 10));
    const plan = await v.plan(img, 5 * 1048576, 3 * 1048576);
    let err = null;
    try { await v.read(img, 0, 16 * 1048576 + 1); } catch (e) { err = e.name; }
    return { type: info.type, blocks: info.payload_blocks, states, kinds: plan.runs.map((r) => r.kind), err };
  }, res.image);
  assert.deepEqual(out, { type: 'dynamic', blocks: 64, states: [6, 6, 0, 0, 0, 6, 2, 3, 1, 0], kinds: ['file', 'zero'], err: 'ArgumentError' });
});

test('open a File from a real drop; blob download equals qemu-img convert', async (t) => {
  await harness(t);
  await t.page.evaluate(() => { document.getElementById('summary').textContent = ''; });
  const dt = await t.page.evaluateHandle(async () => {
    const r = await fetch('/__test/qemu.vhdx');
    const f = new File([await r.blob()], 'qemu.vhdx', { lastModified: 1700000000000 });
    const d = new DataTransfer();
    d.items.add(f);
    return d;
  });
  await t.page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
  await t.page.waitForFunction(() => document.getElementById('summary').textContent !== '');
  const res = JSON.parse(await t.page.textContent('#summary'));
  assert.equal(res.error, undefined, JSON.stringify(res.error));
  assert.equal(res.summary.virtual_size, 40 * MiB);
  const got = await download(t, res.image, 'qemu.raw');
  assert.equal(got.size, 40 * MiB);
  assert.equal(got.sha, t.fx.sha['qemu.ref']);
});

test('dirty log: reads and the download show the replayed disk', async (t) => {
  await harness(t);
  const res = await openInput(t, 'dirty.vhdx');
  assert.equal(res.error, undefined, JSON.stringify(res.error));
  assert.equal(res.summary.log_replayed, true);
  const kinds = await t.page.evaluate(async (img) => (await window.vhdxview.plan(img)).runs.map((r) => r.kind), res.image);
  assert.ok(kinds.includes('bytes') && kinds.includes('file') && kinds.includes('zero'), `run kinds ${kinds}`);
  assert.deepEqual(await pageHashes(t, res.image, 0, 16 * MiB), fileHashes(t.fx.path('dirty.raw')));
  const got = await download(t, res.image, 'dirty.raw');
  assert.equal(got.sha, t.fx.sha['dirty.raw']);
});

// readRanges returns the length and sha256 of each range [offset, length]
// of the disk opened from files (names of fixtures) with options, read
// through vhdxview[way] (the bytes stay in the page).
async function readRanges(t, files, options, way, ranges) {
  await t.page.evaluate(() => {
    if (document.getElementById('read-files')) return;
    const i = document.createElement('input');
    i.type = 'file';
    i.multiple = true;
    i.hidden = true;
    i.id = 'read-files';
    document.body.append(i);
  });
  await t.page.setInputFiles('#read-files', files.map((n) => t.fx.path(n)));
  return t.page.evaluate(async ({ options, way, ranges }) => {
    const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
    const v = window.vhdxview;
    const { image } = await v.open(document.getElementById('read-files').files, { ...options, store: false });
    try {
      const out = [];
      for (const [off, len] of ranges) {
        const b = await v[way](image, off, len);
        out.push([b.length, hex(await crypto.subtle.digest('SHA-256', b))]);
      }
      return out;
    } finally {
      await v.close(image);
    }
  }, { options, way, ranges });
}

// fileRange is the length and sha256 of [offset, offset+length) of a
// file, clipped at its end.
function fileRange(path, offset, length) {
  const fd = openSync(path, 'r');
  try {
    const n = Math.max(0, Math.min(length, statSync(path).size - offset));
    const b = Buffer.alloc(n);
    let got = 0;
    while (got < n) got += readSync(fd, b, got, n - got, offset + got);
    return [n, createHash('sha256').update(b).digest('hex')];
  } finally {
    closeSync(fd);
  }
}

test('read and readDirect equal qemu-img\'s bytes at random ranges: VHDX dynamic, a chain, a replayed log, VHD, raw', async (t) => {
  await harness(t);
  // reference: qemu-img convert's raw bytes, but for the chain, which
  // qemu cannot open (it has no VHDX differencing support): the builder's.
  const disks = [
    { files: ['dynamic.vhdx'], ref: 'dynamic.ref', size: 64 * MiB },
    { files: ['child.avhdx', 'parent.vhdx'], ref: 'child.raw', size: 16 * MiB },
    { files: ['dirty.vhdx'], ref: 'dirty.ref', size: 16 * MiB },
    { files: ['qemu.vhd'], ref: 'qemu.vhd.ref', size: statSync(t.fx.path('qemu.vhd.ref')).size },
    { files: ['qemu.src'], ref: 'qemu.src', size: 40 * MiB, options: { raw: true } },
  ];
  let seed = 7;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (const d of disks) {
    // Random ranges of 1 byte to 300 KiB, and ones that cross a block
    // boundary, cover a replayed log page, end at or run past the end,
    // or start past it.
    const ranges = [[0, 4096], [MiB - 100, 200], [2 * MiB + 4000, 16384], [3 * MiB, 4096], [d.size - 4096, 8192], [d.size + 10, 10], [d.size - 5 * MiB, 5 * MiB]];
    for (let i = 0; i < 24; i++) ranges.push([rnd(d.size), 1 + rnd(i % 3 ? 4096 : 300 * 1024)]);
    const want = ranges.map(([off, len]) => fileRange(t.fx.path(d.ref), off, len));
    for (const way of ['read', 'readDirect']) {
      const got = await readRanges(t, d.files, d.options || {}, way, ranges);
      ranges.forEach(([off, len], i) => assert.deepEqual(got[i], want[i], `${d.files[0]} ${way} ${off}+${len}: not the bytes of ${d.ref}`));
    }
  }
  // Bad arguments and an unknown image are refused as read() refuses them.
  const errs = await t.page.evaluate(async () => {
    const name = async (p) => p.then(() => 'ok', (e) => e.name);
    const v = window.vhdxview;
    return [await name(v.readDirect(9999, 0, 1)), await name(v.readDirect(9999, -1, 1))];
  });
  assert.deepEqual(errs, ['NotOpenError', 'NotOpenError']);
});

test('a missing parent is named; adding it opens the chain', async (t) => {
  await harness(t);
  const res = await openInput(t, 'child.avhdx');
  assert.equal(res.error && res.error.name, 'MissingParentError', JSON.stringify(res));
  assert.deepEqual(res.error.paths, [{ key: 'relative_path', value: '.\\parent.vhdx' }]);
  assert.match(await t.page.textContent('#status'), /parent needed: \.\\parent\.vhdx/);
  // The harness keeps the child: picking the parent now opens both.
  const ok = await openInput(t, 'parent.vhdx');
  assert.equal(ok.error, undefined, JSON.stringify(ok.error));
  assert.equal(ok.summary.type, 'differencing');
  assert.deepEqual(ok.summary.chain.map((l) => l.name), ['child.avhdx', 'parent.vhdx']);
  assert.deepEqual(await pageHashes(t, ok.image, 0, 16 * MiB), fileHashes(t.fx.path('child.raw')));
  const got = await download(t, ok.image, 'child.raw');
  assert.equal(got.sha, t.fx.sha['child.raw']);
});

test('a 64 TiB sparse disk opens at once; verify reports progress and can be cancelled', async (t) => {
  await harness(t);
  const out = await t.page.evaluate(async () => {
    const v = window.vhdxview;
    const r = await fetch('/__test/big.vhdx');
    const file = new File([await r.blob()], 'big.vhdx', { lastModified: 1 });
    const t0 = performance.now();
    const res = await v.open(file, { store: false });
    const openMs = performance.now() - t0; // printed, not checked
    const first = await v.read(res.image, 1000000 * 32 * 1048576, 8);
    const seen = [];
    const rep = await v.verify((await v.open(await (await fetch('/__test/dynamic.vhdx')).blob(), { store: false })).image,
      { onProgress: (p) => seen.push(p) });
    // Cancel a long verify (2 Mi BAT entries) at its first progress message.
    const ac = new AbortController();
    let cancelled = null;
    const during = [];
    const sent = window.__engine.sent.length;
    try {
      await v.verify(res.image, { signal: ac.signal, onProgress: (p) => { during.push(p); ac.abort(); } });
    } catch (e) {
      cancelled = e.name;
    }
    // What the engine itself answered: the verify stopped before its end.
    const req = window.__engine.sent.slice(sent).find((m) => m.op === 'verify');
    const engine = await window.__engine.reply(req.id);
    return { size: res.summary.virtual_size, openMs, first: Array.from(first), verdict: rep.verdict, last: seen[seen.length - 1], cancelled, engine, during: during.length };
  });
  console.log(`     open of the 64 TiB disk: ${out.openMs.toFixed(1)} ms`);
  assert.equal(out.size, 64 * 1024 * 1024 * MiB);
  assert.deepEqual(out.first, [0, 0, 64, 66, 15, 0, 0, 0]); // "index" fill: sector 0xf42400000, little-endian
  assert.equal(out.verdict, 'clean');
  assert.ok(out.last && out.last.done === out.last.total && out.last.total > 0, JSON.stringify(out.last));
  assert.equal(out.cancelled, 'AbortError');
  assert.equal(out.during, 1, 'progress after the abort reached the page');
  assert.deepEqual(out.engine, { ok: false, error: 'CancelledError' }, 'the cancelled verify ran to its end');
});

// The plan of the whole disk walks 2 Mi BAT entries in one request, all in
// memory: the engine takes a cancel (or any message) during it only if the
// walk checks its context, which lets the worker's event loop run. So the
// page first waits until the engine answers another request while the
// plan runs, then aborts: if the walk never lets messages in, that answer
// comes only when the plan is done, and the abort is too late.
test('aborting blob() of a 2 TiB sparse disk stops the engine\'s plan; the engine answers during it and after', async (t) => {
  await harness(t);
  const out = await t.page.evaluate(async () => {
    const v = window.vhdxview;
    const r = await fetch('/__test/sparse2t.vhdx');
    const res = await v.open(new File([await r.blob()], 'sparse2t.vhdx', { lastModified: 1 }), { store: false });
    const ac = new AbortController();
    const sent = window.__engine.sent.length;
    const made = v.blob(res.image, 0, undefined, { signal: ac.signal });
    let outcome = null;
    made.then((b) => { outcome = { resolved: b.size }; }, (e) => { outcome = { rejected: e.name }; });
    await new Promise((res) => setTimeout(res, 100));
    await v.configure({}); // answered while the plan runs, or after it
    ac.abort();
    await made.catch(() => {});
    // The engine's own answer to the plan: it stopped, it did not finish.
    const plan = window.__engine.sent.slice(sent).find((m) => m.op === 'plan');
    const engine = await window.__engine.reply(plan.id);
    const next = Array.from(await v.read(res.image, 2 * 2 ** 40 - 8, 8));
    await v.close(res.image);
    return { size: res.summary.virtual_size, blocks: res.summary.payload_blocks, outcome, engine, next };
  });
  assert.equal(out.size, 2 * 2 ** 40);
  assert.equal(out.blocks, 2 * 2 ** 20);
  assert.deepEqual(out.engine, { ok: false, error: 'CancelledError' }, 'the engine finished the plan instead of stopping it');
  assert.deepEqual(out.outcome, { rejected: 'AbortError' });
  assert.deepEqual(out.next, [0, 0, 0, 0, 0, 0, 0, 0]);
});

test('recent lists the image after a reload, and reopen works', async (t) => {
  await harness(t);
  const res = await openInput(t, 'dynamic.vhdx');
  await t.page.evaluate((img) => window.vhdxview.verify(img), res.image);
  await recentRecord(t, res.key, (r) => r.has_bytes, 'stored');
  await t.page.reload();
  await t.page.waitForSelector('body[data-ready="true"]');
  const { rec, recent } = await recentRecord(t, res.key, (r) => r.has_bytes, 'listed after the reload');
  assert.equal(rec.name, 'dynamic.vhdx');
  assert.equal(rec.summary.virtual_size, 64 * MiB);
  assert.equal(rec.verify && rec.verify.verdict, 'clean', 'the verify report was kept');
  assert.ok(recent.usage.stored_bytes >= rec.size);
  const again = await t.page.evaluate(async (key) => {
    const { files, ...r } = await window.vhdxview.reopen(key);
    return r;
  }, res.key);
  assert.equal(again.key, res.key);
  assert.deepEqual(await pageHashes(t, again.image, 0, 64 * MiB), fileHashes(t.fx.path('dynamic.cat')));
  const got = await download(t, again.image, 'reopened.raw');
  assert.equal(got.sha, t.fx.sha['dynamic.raw']);
  // forget removes it.
  await t.page.evaluate((key) => window.vhdxview.forget(key), res.key);
  const after = await t.page.evaluate(() => window.vhdxview.recent());
  assert.ok(!after.records.some((r) => r.key === res.key));
});

test('a quota failure is reported and nothing else breaks', async (t) => {
  await harness(t);
  const w = await engineWorker(t.page);
  assert.ok(w, 'no engine worker');
  // What the browser does when the origin is over its quota.
  await w.evaluate(() => {
    const proto = IDBObjectStore.prototype;
    const orig = proto.put;
    proto.put = function (value, key) {
      if (this.name === 'blobs') throw new DOMException('simulated', 'QuotaExceededError');
      return orig.call(this, value, key);
    };
  });
  const res = await openInput(t, 'quota.vhdx');
  assert.equal(res.error, undefined, JSON.stringify(res.error));
  await t.page.waitForFunction(() => /not saved: quota\.vhdx/.test(document.getElementById('status').textContent));
  assert.match(await t.page.textContent('#status'), /not saved: quota\.vhdx: QuotaError: .*quota/);
  const bytes = await t.page.evaluate(async (img) => Array.from(await window.vhdxview.read(img, 1048576, 8)), res.image);
  assert.deepEqual(bytes, [0, 8, 0, 0, 0, 0, 0, 0]); // "index" fill: sector 2048, little-endian
  const { rec } = await recentRecord(t, res.key, () => true, 'listed');
  assert.equal(rec.has_bytes, false);
  const err = await t.page.evaluate(async (key) => {
    try { await window.vhdxview.reopen(key); } catch (e) { return e.name; }
    return null;
  }, res.key);
  assert.equal(err, 'NotStoredError');
  // A fresh worker (reload) stores again.
  await t.page.reload();
  await t.page.waitForSelector('body[data-ready="true"]');
  const again = await openInput(t, 'quota.vhdx');
  await recentRecord(t, again.key, (r) => r.has_bytes, 'stored after the reload');
});

test('files: fileBlob and saveFile give every file of ext4 and NTFS; a cancel beats a stalled write', async (t) => {
  await harness(t);
  const r = await openInput(t, 'fs.vhdx');
  assert.ok(r.image !== undefined, JSON.stringify(r));
  const got = await t.page.evaluate(async ({ image, files }) => {
    const v = window.vhdxview;
    const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
    const sha = async (blob) => hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    const out = [];
    for (const f of files) {
      const b = await v.fileBlob(image, f.partition, f.path);
      const viaBlob = b && (await sha(b));
      const chunks = { direct: [], engine: [] };
      const progress = [];
      for (const via of ['direct', 'engine']) {
        const n = await v.saveFile(image, f.partition, f.path, new WritableStream({ write(c) { chunks[via].push(c.slice()); } }),
          { viaEngine: via === 'engine', chunkSize: 65536, onProgress: (p) => progress.push(p) });
        if (n !== f.size) throw new Error(`${f.path}: saveFile wrote ${n}`);
      }
      out.push({ path: f.path, viaBlob, direct: await sha(new Blob(chunks.direct)), engine: await sha(new Blob(chunks.engine)),
        lastProgress: progress[progress.length - 1] });
    }
    // A destination that never finishes a write: aborting must still end
    // saveFile (it could not end otherwise).
    const ac = new AbortController();
    const stalled = v.saveFile(image, 1, '/docs/report.txt', new WritableStream({ write() { return new Promise(() => {}); } }),
      { signal: ac.signal, viaEngine: true, chunkSize: 4096 });
    setTimeout(() => ac.abort(), 200);
    let cancel = null;
    try { await stalled; } catch (e) { cancel = { name: e.name }; }
    return { out, cancel };
  }, { image: r.image, files: t.fx.fsFiles });
  for (const [i, f] of t.fx.fsFiles.entries()) {
    const g = got.out[i];
    assert.equal(g.viaBlob, f.sha256, `${f.path}: fileBlob`);
    assert.equal(g.direct, f.sha256, `${f.path}: saveFile`);
    assert.equal(g.engine, f.sha256, `${f.path}: saveFile through the engine`);
  }
  assert.deepEqual(got.cancel, { name: 'AbortError' });
});

// digestFile hashes [offset, offset+length) of a local file with Node's crypto.
function digestFile(path, algo, offset = 0, length = statSync(path).size - offset) {
  const fd = openSync(path, 'r');
  const h = createHash(algo);
  try {
    const b = Buffer.alloc(4 * MiB);
    for (let pos = offset; pos < offset + length;) {
      const n = readSync(fd, b, 0, Math.min(b.length, offset + length - pos), pos);
      h.update(b.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

// scanFile lists every offset where pattern starts in a local file.
function scanFile(path, pattern) {
  const b = readFileSync(path);
  const hits = [];
  for (let i = b.indexOf(pattern); i >= 0; i = b.indexOf(pattern, i + 1)) hits.push(i);
  return hits;
}

test('hash: disks, ranges, a chain, a replayed log and files equal Node\'s digests of the reference bytes; hash-wasm and Go agree; cancel stops it', async (t) => {
  await harness(t);
  const out = await t.page.evaluate(async (fsFiles) => {
    const v = window.vhdxview;
    const open = async (...names) => v.open(await Promise.all(names.map(async (n) => new File([await (await fetch('/__test/' + n)).blob()], n))), { store: false });
    const all = ['sha256', 'sha1', 'md5'];
    const qemu = (await open('qemu.vhdx')).image;
    const r = {
      qemu: await v.hash(qemu, { algorithms: all }),
      qemuGo: await v.hash(qemu, { algorithms: all, via: 'go' }),
      range: await v.hash(qemu, { offset: 1048576 - 5, length: 17 * 1048576 + 9, algorithms: ['md5'] }),
      dirty: await v.hash((await open('dirty.vhdx')).image),
      child: await v.hash((await open('child.avhdx', 'parent.vhdx')).image, { algorithms: ['sha1'] }),
    };
    const progress = [];
    await v.hash(qemu, { onProgress: (p) => progress.push(p) });
    r.progressLast = progress[progress.length - 1];
    const fsImg = (await open('fs.vhdx')).image;
    r.files = {};
    for (const f of fsFiles) r.files[f.partition + f.path] = (await v.fileHash(fsImg, f.partition, f.path)).sha256;
    // A 64 TiB disk of zeros would take days: cancelled at its first progress.
    const big = (await open('big.vhdx')).image;
    const ac = new AbortController();
    try {
      await v.hash(big, { signal: ac.signal, onProgress: () => ac.abort() });
    } catch (e) {
      r.cancelled = e.name;
    }
    r.after = (await v.hash(qemu, { length: 10 })).sha256;
    try { await v.hash(qemu, { algorithms: ['crc32'] }); } catch (e) { r.bad = e.name; }
    return r;
  }, t.fx.fsFiles);
  const ref = t.fx.path('qemu.ref');
  const want = Object.fromEntries(['sha256', 'sha1', 'md5'].map((a) => [a, digestFile(ref, a)]));
  assert.deepEqual(out.qemu, want);
  assert.deepEqual(out.qemuGo, want, 'Go\'s crypto gives the same digests');
  assert.deepEqual(out.range, { md5: digestFile(ref, 'md5', MiB - 5, 17 * MiB + 9) });
  assert.deepEqual(out.dirty, { sha256: t.fx.sha['dirty.raw'] });
  assert.deepEqual(out.child, { sha1: digestFile(t.fx.path('child.raw'), 'sha1') });
  assert.deepEqual(out.progressLast, { done: 40 * MiB, total: 40 * MiB });
  for (const f of t.fx.fsFiles) assert.equal(out.files[f.partition + f.path], f.sha256, f.path);
  assert.equal(out.cancelled, 'AbortError');
  assert.equal(out.after, digestFile(ref, 'sha256', 0, 10));
  assert.equal(out.bad, 'ArgumentError');
  assert.match(t.requests.join('\n'), /\/web\/hash-wasm\/sha256\.umd\.min\.js\?v=[0-9a-f]{16}/, 'the worker loaded hash-wasm');
});

test('search: hits equal a scan of the reference bytes, pages through next, across zero runs', async (t) => {
  await harness(t);
  const patterns = [[0x5a, 0x5a, 0x5a], [0, 0x33, 0x33], [0x33, 0, 0, 0, 0], [0x01, 0x01]];
  const out = await t.page.evaluate(async (patterns) => {
    const v = window.vhdxview;
    const file = new File([await (await fetch('/__test/qemu.vhdx')).blob()], 'qemu.vhdx');
    const { image } = await v.open(file, { store: false });
    const r = {};
    for (const p of patterns) {
      const hits = [];
      let offset = 0;
      let pages = 0;
      for (;;) {
        const res = await v.search(image, new Uint8Array(p), { offset, limit: 100000 });
        hits.push(...res.hits);
        pages++;
        if (res.next === null) break;
        offset = res.next;
      }
      r[p.join(',')] = { count: hits.length, first: hits.slice(0, 3), last: hits.slice(-3), pages };
    }
    const zeros = await v.search(image, new Uint8Array(4), { offset: 16 * 1048576, length: 2 * 1048576, limit: 5 });
    r.zeros = zeros;
    return r;
  }, patterns);
  const ref = t.fx.path('qemu.ref');
  for (const p of patterns) {
    const hits = scanFile(ref, Buffer.from(p));
    const got = out[p.join(',')];
    assert.deepEqual({ count: got.count, first: got.first, last: got.last }, { count: hits.length, first: hits.slice(0, 3), last: hits.slice(-3) }, `pattern ${p}`);
    assert.equal(got.pages, Math.max(1, Math.ceil(hits.length / 100000)) + (hits.length && hits.length % 100000 === 0 ? 1 : 0));
  }
  const z = 16 * MiB;
  assert.deepEqual(out.zeros, { hits: [z, z + 1, z + 2, z + 3, z + 4], next: z + 5 });
});

// profileFiles lists the regular files under dir of exactly size bytes
// (the origin private file system keeps its files under the profile with
// names of its own).
function profileFiles(dir, size) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...profileFiles(p, size));
    else if (e.isFile() && statSync(p).size === size) out.push(p);
  }
  return out;
}

test('saveTo writes a sparse disk into a file: qemu-img convert\'s bytes, zero runs not written', async (t) => {
  await harness(t);
  const res = await openInput(t, 'sparse256.vhdx');
  const out = await t.page.evaluate(async (img) => {
    const root = await navigator.storage.getDirectory();
    const h = await root.getFileHandle('saveto-sparse256.raw', { create: true });
    const seen = [];
    const r = await window.vhdxview.saveTo(img, h, { onProgress: (p) => seen.push(p) });
    return { r, size: (await h.getFile()).size, seen };
  }, res.image);
  assert.deepEqual(out.r, { bytes: 256 * MiB, written: 4 * MiB });
  assert.equal(out.size, 256 * MiB);
  assert.deepEqual(out.seen.at(-1), { done: 256 * MiB, total: 256 * MiB, written: 4 * MiB });
  // The file on disk: qemu-img's bytes, and only the 4 blocks of data
  // take space (the zero runs were never written).
  const files = profileFiles(join(t.fx.dir, 'profile'), 256 * MiB);
  assert.equal(files.length, 1, `the saved file in the profile: ${files.join(', ')}`);
  assert.deepEqual(fileHashes(files[0], 0, 256 * MiB, 256 * MiB), fileHashes(t.fx.path('sparse256.ref'), 0, 256 * MiB, 256 * MiB));
  const used = statSync(files[0]).blocks * 512;
  assert.ok(used <= 8 * MiB, `the saved file takes ${used} bytes of disk for 4 MiB of data`);
  await t.page.evaluate(async (img) => {
    await (await navigator.storage.getDirectory()).removeEntry('saveto-sparse256.raw');
    await window.vhdxview.close(img);
  }, res.image);
});

test('saveTo: log-replayed bytes, a range, a writable stream; a cancel aborts the file', async (t) => {
  await harness(t);
  const dirty = await openInput(t, 'dirty.vhdx');
  const qemu = await openInput(t, 'qemu.vhdx');
  const big = await openInput(t, 'sparse2t.vhdx');
  const [off, len] = [MiB - 512, 17 * MiB + 1000];
  const out = await t.page.evaluate(async ({ dirty, qemu, big, off, len }) => {
    const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
    const root = await navigator.storage.getDirectory();
    const hash = async (h) => hex(await crypto.subtle.digest('SHA-256', await (await h.getFile()).arrayBuffer()));
    const a = await root.getFileHandle('saveto-dirty.raw', { create: true });
    await window.vhdxview.saveTo(dirty, a);
    // A range, into a writable the caller made.
    const b = await root.getFileHandle('saveto-range.raw', { create: true });
    const rb = await window.vhdxview.saveTo(qemu, await b.createWritable(), { offset: off, length: len });
    // Cancelled while the engine plans 2 TiB of zeros: the writable is
    // aborted, so the file keeps what it had (nothing).
    const c = await root.getFileHandle('saveto-cancel.raw', { create: true });
    const ac = new AbortController();
    let first = null;
    const seen = new Promise((r) => { first = r; });
    const p = window.vhdxview.saveTo(big, c, { signal: ac.signal, onProgress: first }).then(() => 'resolved', (e) => e.name);
    await seen;
    ac.abort();
    const cancelled = await p;
    await new Promise((r) => setTimeout(r, 200));
    const left = (await c.getFile()).size;
    const next = Array.from(await window.vhdxview.read(big, 0, 4));
    const r = { dirty: await hash(a), range: await hash(b), rb, cancelled, left, next };
    for (const n of ['saveto-dirty.raw', 'saveto-range.raw', 'saveto-cancel.raw']) await root.removeEntry(n);
    return r;
  }, { dirty: dirty.image, qemu: qemu.image, big: big.image, off, len });
  assert.equal(out.dirty, t.fx.sha['dirty.raw']);
  assert.deepEqual(out.rb.bytes, len);
  assert.deepEqual([out.range], fileHashes(t.fx.path('qemu.ref'), off, len, len));
  assert.equal(out.cancelled, 'AbortError');
  assert.equal(out.left, 0, 'a cancelled save left bytes in the file');
  assert.deepEqual(out.next, [0, 0, 0, 0], 'the engine answers after the cancel');
  for (const r of [dirty, qemu, big]) await t.page.evaluate((img) => window.vhdxview.close(img), r.image);
});

test('no request left the origin', async (t) => {
  await harness(t);
  const origin = new URL(t.base).origin;
  const off = t.requests.filter((u) => !(u.startsWith(origin + '/') || u.startsWith('blob:') || u.startsWith('data:')));
  assert.deepEqual(off, []);
  assert.ok(t.requests.some((u) => u.includes('/web/vhdxview.wasm')), 'worker requests are watched too');
});
