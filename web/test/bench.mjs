#!/usr/bin/env node
// bench.mjs measures the engine in headless Chromium against the targets
// of issue #7, and writes rows for internal/cmd/benchrun:
//
//   node web/test/bench.mjs [--out rows.json] [--rounds N] [--quick]
//                           [--only open,cancel,read,readseq,cold,download,sparse,hash,search,files,zip,journal,size]
//                           [--full-engine-only]
//
//   - open to summary of a 1 GiB fully allocated VHDX and of a 64 TiB
//     sparse one (target < 100 ms each, median)
//   - random 4 KiB reads on a 2 GiB image: p50, and p99 (target < 20 ms),
//     and bytes read per byte returned (target ≤ 2), through the engine
//     and through the page's plan reader (readDirect)
//   - sequential 16 MiB reads of a 1 GiB image through the engine against
//     File.slice in the page (target ≥ 0.9× its speed)
//   - a cold load: navigation to the viewer in a new profile (no cache,
//     no service worker) to the summary of a 1 GiB image
//   - download of a whole 1 GiB image through vhdxview.blob and
//     <a download>, against qemu-img convert -O raw (target ≤ 1.5×) and
//     against downloading a plain 1 GiB File, rounds interleaved
//   - the peak wasm memory of each of those (target < 256 MiB): every
//     benchmark runs in a fresh page, so a fresh engine, and the engine's
//     WebAssembly.Memory size is sampled while it runs and once after
//   - issue #6: listing a directory of 10,000 entries (target < 1 s) and
//     downloading a 1 GiB file from ext4 and NTFS at ≥ 50 % of the speed
//     of a raw range of the same length (web/test/bench-files.mjs)
//   - issue #13: a folder's ZIP export (vhdxview.listing + vhdxview.zip,
//     streamed to an OPFS file and downloaded) against `zip -0 -r` of the
//     same files (web/test/bench-zip.mjs)
//   - issue #15: the replay of an ext4 journal (open + ls of a volume
//     copied while mounted) against copying the partition and letting the
//     kernel replay it in a loop mount (web/test/bench-journal.mjs; root)
//   - the size of web/vhdxview.wasm (the full engine) and of
//     web/vhdxview-core.wasm (the core engine, which a first open waits
//     for) raw, gzip -9 and brotli -q 11 (goal ≤ 1 MB brotli)
//
// --quick (./build.sh test) runs each benchmark once on small images and
// prints the rows instead of writing them: it checks that the benchmarks
// still run, never how fast (no benchmark fails on timing).
//
// Images are made in a temporary directory with qemu-img/qemu-io and
// internal/cmd/mkvhdx. ./build.sh bench runs this when it exists.

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { MiB, engineWorker, engineWorkers, ensureEngine, fullEngineOnly, launch, root, run, serve, serveCSP, timedDownload } from './lib.mjs';
import { benchFiles } from './bench-files.mjs';
import { benchZip, zipDisk } from './bench-zip.mjs';
import { benchJournal, canMount, journalDisk } from './bench-journal.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const quick = argv.includes('--quick');
const out = opt('--out', '');
const rounds = quick ? 1 : Number(opt('--rounds', process.env.ROUNDS || 5));
// --only open,cancel,read,readseq,cold,download,sparse,hash,search,files,zip,journal,size runs only those benchmarks (to work on one).
const only = opt('--only', '');
const runs = (name) => !only || only.split(',').includes(name);
// --full-engine-only runs every page (the cold load's aside) with the full
// engine alone, as before the core engine was split off: run a benchmark
// both ways to see what the split costs it.
const fullOnly = argv.includes('--full-engine-only');

// Sizes: the full run uses the sizes issue #7 names; --quick small ones.
const ONE = quick ? 64 * MiB : 1024 * MiB; // the "1 GiB" image (open, download)
const TWO = quick ? 64 * MiB : 2048 * MiB; // the multi-GB image (random reads)
const OPENS = quick ? 2 : Math.max(rounds, 5); // timed opens per image
const READS = quick ? 50 : 2000; // random 4 KiB reads
const times = (n, what) => `${n.toLocaleString('en')} ${what}${n === 1 ? '' : 's'}`;
const sizeName = (n) => (n >= 1024 * MiB ? `${n / 1024 / MiB} GiB` : `${n / MiB} MiB`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

// dataImage writes a dynamic VHDX of size bytes, every MiB written (so the
// whole disk is allocated) with a pattern that changes every 64 MiB. With
// keepRaw the raw source stays as name + '.src'.
function dataImage(dir, name, size, keepRaw = false) {
  const raw = join(dir, name + '.src');
  run('qemu-img', ['create', '-q', '-f', 'raw', raw, String(size)]);
  const cmds = [];
  for (let off = 0; off < size; off += 64 * MiB) cmds.push('-c', `write -q -P ${1 + ((off / (64 * MiB)) % 250)} ${off} ${64 * MiB}`);
  run('qemu-io', ['-f', 'raw', ...cmds, raw]);
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', raw, join(dir, name)]);
  if (!keepRaw) rmSync(raw);
  return join(dir, name);
}

// phase runs fn(page) in a fresh page (so fresh workers and engines) that
// holds the given files in a hidden <input id="bench-files">, and samples
// the engine's wasm memory (WebAssembly.Memory buffer byteLength, see
// web/worker.js) every 200 ms while fn runs and once after. Wasm memory
// never shrinks, so the last sample is the peak; the others only guard
// that. Returns {value: what fn returned, peak: bytes}.
async function phase(context, base, files, fn) {
  const page = await context.newPage();
  page.setDefaultTimeout(600_000);
  try {
    await page.goto(base + '/web/test/harness.html');
    await page.waitForSelector('body[data-ready="true"]');
    // Both engines loaded, so that the full engine's fetch and compile do
    // not run beside what is timed.
    await page.evaluate(() => window.vhdxview.fullReady());
    // Files from disk, as a person would pick them: File objects held by
    // a hidden input of our own (the harness's opens on change).
    await page.evaluate(() => {
      const i = document.createElement('input');
      i.type = 'file';
      i.multiple = true;
      i.id = 'bench-files';
      i.hidden = true;
      document.body.append(i);
    });
    if (files.length) await page.setInputFiles('#bench-files', files);
    // Both engines' memory: the core engine's worker, and the full
    // engine's once it has started (file-system ops, hash, search).
    const memory = async () => {
      let sum = 0;
      for (const w of engineWorkers(page)) {
        sum += await w.evaluate(() => (self.vhdxviewEngine.memory ? self.vhdxviewEngine.memory() : 0));
      }
      return sum;
    };
    let peak = await memory();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await new Promise((r) => setTimeout(r, 200));
        if (sampling) peak = Math.max(peak, await memory().catch(() => 0));
      }
    })();
    let value;
    try {
      value = await fn(page);
    } finally {
      sampling = false;
      await sampler;
    }
    peak = Math.max(peak, await memory());
    return { value, peak };
  } finally {
    await page.close();
  }
}

// timeOpens opens the file named name n times through vhdxview.open (the
// image is remembered, as the viewer does: the time includes the store
// record's write) and returns the milliseconds from the call to the
// summary. The file's bytes are then copied into IndexedDB in the
// background; that copy is not timed, and the next open waits for it.
function timeOpens(page, name, n) {
  return page.evaluate(async ({ n, name }) => {
    const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
    const ms = [];
    for (let i = 0; i < n; i++) {
      let stored = null;
      const settled = new Promise((resolve) => {
        stored = window.vhdxview.on('store', (d) => {
          if (d.state === 'stored' || d.state === 'failed') resolve(d);
        });
      });
      const t0 = performance.now();
      const r = await window.vhdxview.open(f);
      ms.push(performance.now() - t0);
      if (!r.summary || !r.summary.virtual_size) throw new Error('open returned no summary');
      if (r.key) await settled;
      stored();
      await window.vhdxview.close(r.image);
    }
    return ms;
  }, { n, name });
}

async function main() {
  ensureEngine();
  const dir = mkdtempSync(join(tmpdir(), 'vhdxview-bench-'));
  let server, context;
  const rows = [];
  const memRows = [];
  // memRow reports a phase's peak wasm memory against the 256 MiB target.
  const memRow = (what, peak) => {
    console.log(`  peak wasm memory: ${(peak / MiB).toFixed(1)} MiB`);
    memRows.push({ name: `peak wasm memory: ${what} (browser)`, A: 'WebAssembly.Memory size', B: 'target 256 MiB', MedA: peak / MiB, MedB: 256, Target: 1, Rounds: 1, Measured: 'MiB' });
  };
  try {
    console.log('# making images in', dir);
    const mk = join(dir, 'mkvhdx');
    run('go', ['build', '-o', mk, './internal/cmd/mkvhdx']);
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ virtualSize: 64 * 1024 * 1024 * MiB, blockSize: 32 * MiB, blocks: { 7: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 1 } } } }));
    run(mk, ['-o', join(dir, 'big.vhdx'), join(dir, 'big.json')]);
    const big = join(dir, 'big.vhdx');
    const img1 = dataImage(dir, 'one.vhdx', ONE, true);
    const src1 = join(dir, 'one.vhdx.src');
    const img2 = dataImage(dir, 'two.vhdx', TWO);

    server = await serve(dir, serveCSP());
    const base = `http://127.0.0.1:${server.address().port}`;
    context = await launch(join(dir, 'profile'));
    if (fullOnly) await fullEngineOnly(context);

    // 1. open to summary: the 1 GiB fully allocated image, then the 64 TiB
    // sparse one (each in its own page, for its own memory peak).
    for (const [file, label] of runs('open') ? [[img1, `${sizeName(ONE)} fully allocated`], [big, '64 TiB sparse']] : []) {
      const name = file.slice(dir.length + 1);
      const { value: opens, peak } = await phase(context, base, [file], (page) => timeOpens(page, name, OPENS));
      console.log(`open ${label}: median ${median(opens).toFixed(1)} ms (${opens.map((x) => x.toFixed(1)).join(', ')})`);
      rows.push({ name: `open a ${label} VHDX to summary (browser)`, A: 'vhdxview.open', B: 'target 100 ms', MedA: median(opens) / 1000, MedB: 0.1, Target: 1, Rounds: opens.length, Measured: 'time' });
      memRow(`open a ${label} VHDX, ${times(opens.length, 'open')}`, peak);
    }

    // 1b. cancel: abort a whole-disk blob() of a 2 TiB sparse disk with
    // 1 MiB blocks while the engine plans it (2 Mi BAT entries), and time
    // from abort() until the engine answers the next request.
    if (runs('cancel')) {
      writeFileSync(join(dir, 'sparse2t.json'), JSON.stringify({ virtualSize: 2 * 1024 * 1024 * MiB, blockSize: MiB }));
      run(mk, ['-o', join(dir, 'sparse2t.vhdx'), join(dir, 'sparse2t.json')]);
      const { value: lat } = await phase(context, base, [join(dir, 'sparse2t.vhdx')], (page) => page.evaluate(async ({ n }) => {
        const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === 'sparse2t.vhdx');
        const { image } = await window.vhdxview.open(f, { store: false });
        const ms = [];
        for (let i = 0; i < n; i++) {
          const ac = new AbortController();
          const p = window.vhdxview.blob(image, 0, undefined, { signal: ac.signal }).catch((e) => e);
          await new Promise((r) => setTimeout(r, 100));
          const t0 = performance.now();
          ac.abort();
          await window.vhdxview.info(image);
          ms.push(performance.now() - t0);
          const r = await p;
          if (!(r instanceof Error) || r.name !== 'AbortError') throw new Error(`blob() was not cancelled: ${r}`);
        }
        await window.vhdxview.close(image);
        return ms;
      }, { n: OPENS }));
      console.log(`cancel blob() of a 2 TiB sparse disk: median ${median(lat).toFixed(1)} ms (${lat.map((x) => x.toFixed(1)).join(', ')})`);
      rows.push({ name: 'cancel a whole-disk blob() of a 2 TiB sparse disk, abort to the engine\'s next reply (browser)', A: 'abort → next reply', B: 'target 250 ms', MedA: median(lat) / 1000, MedB: 0.25, Target: 1, Rounds: lat.length, Measured: 'time' });
    }

    // 2. random 4 KiB reads on the 2 GiB image: p50, p99 (target < 20 ms)
    // and the bytes read from the File per byte returned (target ≤ 2),
    // through the engine's read op (vhdxview.read) and through the page's
    // own reader (vhdxview.readDirect: the plan, then File.slice). The
    // bytes are counted where they are read: FileReaderSync in the worker,
    // Blob.arrayBuffer in the page.
    if (runs('read')) {
      const { value: byWay, peak } = await phase(context, base, [img2], async (page) => {
        await page.evaluate(() => {
          window.benchFetched = 0;
          const ab = Blob.prototype.arrayBuffer;
          Blob.prototype.arrayBuffer = function () {
            window.benchFetched += this.size;
            return ab.call(this);
          };
        });
        const worker = await engineWorker(page);
        await worker.evaluate(() => {
          self.benchFetched = 0;
          const rs = FileReaderSync.prototype.readAsArrayBuffer;
          FileReaderSync.prototype.readAsArrayBuffer = function (b) {
            self.benchFetched += b.size;
            return rs.call(this, b);
          };
        });
        const out = {};
        const ways = await page.evaluate(() => ['read', 'readDirect'].filter((w) => typeof window.vhdxview[w] === 'function'));
        for (const way of ways) {
          const before = await worker.evaluate(() => self.benchFetched);
          const r = await page.evaluate(async ({ name, n, way }) => {
            const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
            const { image, summary } = await window.vhdxview.open(f, { store: false });
            const sectors = summary.virtual_size / 4096;
            let seed = 12345;
            const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
            const ms = [];
            const fetched0 = window.benchFetched;
            for (let i = 0; i < n; i++) {
              const off = Math.floor(rnd() * sectors) * 4096;
              const t0 = performance.now();
              const b = await window.vhdxview[way](image, off, 4096);
              ms.push(performance.now() - t0);
              if (b.length !== 4096) throw new Error('short read');
            }
            await window.vhdxview.close(image);
            return { ms, fetched: window.benchFetched - fetched0 };
          }, { name: 'two.vhdx', n: READS, way });
          // The engine's open reads headers, the log and the BAT (a few
          // MiB): only the reads' own bytes count, so open and close are
          // measured alone and taken off.
          const inWorker = (await worker.evaluate(() => self.benchFetched)) - before;
          out[way] = { ms: r.ms, fetched: r.fetched + inWorker };
        }
        // What opening alone reads in the worker.
        const before = await worker.evaluate(() => self.benchFetched);
        await page.evaluate(async (name) => {
          const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
          await window.vhdxview.close((await window.vhdxview.open(f, { store: false })).image);
        }, 'two.vhdx');
        const opening = (await worker.evaluate(() => self.benchFetched)) - before;
        for (const way of Object.keys(out)) out[way].fetched -= opening;
        return out;
      });
      const what = `random 4 KiB read, ${sizeName(TWO)} image`;
      for (const [way, { ms: reads, fetched }] of Object.entries(byWay)) {
        const p50 = quantile(reads, 0.5), p99 = quantile(reads, 0.99);
        const perByte = fetched / (reads.length * 4096);
        console.log(`random 4 KiB ${way} on ${sizeName(TWO)}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...reads).toFixed(2)} ms, ${perByte.toFixed(2)} bytes read per byte`);
        rows.push({ name: `${what}, p50 vs p99 (browser, ${way})`, A: `vhdxview.${way} p50`, B: `vhdxview.${way} p99`, MedA: p50 / 1000, MedB: p99 / 1000, Target: 0, Rounds: reads.length, Measured: 'time' });
        rows.push({ name: `${what}, p99 (browser, ${way})`, A: `vhdxview.${way} p99`, B: 'target 20 ms', MedA: p99 / 1000, MedB: 0.02, Target: 1, Rounds: reads.length, Measured: 'time' });
        rows.push({ name: `${what}, bytes read from the File per byte (browser, ${way})`, A: `vhdxview.${way}`, B: 'target 2', MedA: perByte, MedB: 2, Target: 1, Rounds: reads.length, Measured: 'bytes' });
      }
      memRow(`random 4 KiB reads, ${sizeName(TWO)} image, ${times(READS, 'read')} each way`, peak);
    }

    // 2b. sequential 16 MiB reads of the whole 1 GiB image through the
    // engine (vhdxview.read) against File.slice().arrayBuffer() of the
    // image's own File in the same page (target ≥ 0.9× its speed, so a
    // time ratio ≤ 1.11), rounds interleaved.
    if (runs('readseq')) {
      const { value: [eng, plain], peak } = await phase(context, base, [img1], async (page) => {
        const eng = [], plain = [];
        for (let i = 0; i < rounds; i++) {
          const [a, b] = await page.evaluate(async ({ name, chunk }) => {
            const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
            const { image, summary } = await window.vhdxview.open(f, { store: false });
            const size = summary.virtual_size;
            let t0 = performance.now();
            for (let off = 0; off < size; off += chunk) {
              const b = await window.vhdxview.read(image, off, chunk);
              if (b.length !== Math.min(chunk, size - off)) throw new Error('short read');
            }
            const a = (performance.now() - t0) / 1000;
            await window.vhdxview.close(image);
            t0 = performance.now();
            for (let off = 0; off < size; off += chunk) {
              const b = new Uint8Array(await f.slice(off, off + chunk).arrayBuffer());
              if (b.length !== Math.min(chunk, size - off)) throw new Error('short slice');
            }
            return [a, (performance.now() - t0) / 1000];
          }, { name: 'one.vhdx', chunk: 16 * MiB });
          eng.push(a);
          plain.push(b);
        }
        return [eng, plain];
      });
      const mbs = (t) => (ONE / 1e6 / t).toFixed(0);
      console.log(`sequential 16 MiB reads of ${sizeName(ONE)}: vhdxview.read ${median(eng).toFixed(3)} s (${mbs(median(eng))} MB/s), File.slice ${median(plain).toFixed(3)} s (${mbs(median(plain))} MB/s), speed ratio ${(median(plain) / median(eng)).toFixed(2)}`);
      rows.push({ name: `read a whole ${sizeName(ONE)} image in 16 MiB reads (browser)`, A: 'vhdxview.read', B: 'File.slice().arrayBuffer() in the page', MedA: median(eng), MedB: median(plain), Target: 1.11, Rounds: rounds, Measured: 'time' });
      memRow(`sequential 16 MiB reads of a ${sizeName(ONE)} image, ${times(rounds, 'round')}`, peak);
    }

    // 2c. a cold load: from navigating to the viewer (index.html) in a
    // new browser profile (nothing cached, no service worker) to the
    // summary of the 1 GiB image, picked as soon as the page has its
    // file input, and on to the summary's partitions row (parts, from the
    // full engine). This is what the engine's size costs a first visit.
    // Each round loads the page twice, interleaved: as built (the core
    // engine first, the full one after it) and with the full engine alone
    // (manifest.json served without core_wasm: the one worker loads
    // vhdxview.wasm and serves every op, as before the split).
    if (runs('cold')) {
      const got = { split: { summary: [], parts: [] }, full: { summary: [], parts: [] } };
      for (let i = 0; i < OPENS; i++) {
        for (const how of i % 2 ? ['full', 'split'] : ['split', 'full']) {
          const ctx = await launch(join(dir, `profile-cold-${how}-${i}`));
          try {
            if (how === 'full') await fullEngineOnly(ctx);
            const page = ctx.pages()[0] || (await ctx.newPage());
            page.setDefaultTimeout(600_000);
            await page.goto(base + '/index.html', { waitUntil: 'commit' });
            // The input is in the HTML before the page's modules have run:
            // a file set then would go to no listener.
            await page.waitForFunction(() => window.vhdxviewUI);
            await page.setInputFiles('#files', img1);
            await page.waitForFunction(() => document.querySelector('#panel-summary') && document.querySelector('#panel-summary').textContent.includes('Virtual size') && !document.querySelector('#viewer').hidden);
            got[how].summary.push(await page.evaluate(() => performance.now() / 1000));
            await page.waitForSelector('#panel-summary dd[data-key="partitions"]');
            got[how].parts.push(await page.evaluate(() => performance.now() / 1000));
            const fs = await page.evaluate(() => window.vhdxview.engineInfo().fs);
            if (fs !== (how === 'full')) throw new Error(`cold load (${how}): the first engine has fs ${fs}`);
            // The viewer registers its service worker once loaded; none may
            // have served the navigation itself.
            if (await page.evaluate(() => performance.getEntriesByType('navigation')[0].workerStart > 0)) throw new Error('a service worker served the cold load');
          } finally {
            await ctx.close();
          }
        }
      }
      const list = (xs) => xs.map((x) => x.toFixed(2)).join(', ');
      for (const [what, key] of [['summary', 'summary'], ['partitions row of the summary', 'parts']]) {
        const a = got.split[key];
        const b = got.full[key];
        console.log(`cold load to the ${what} of ${sizeName(ONE)}: core engine first ${median(a).toFixed(3)} s (${list(a)}); full engine alone ${median(b).toFixed(3)} s (${list(b)})`);
        rows.push({ name: `cold load of the viewer to the ${what} of a ${sizeName(ONE)} image, no cache or service worker (browser)`, A: 'core engine first, then the full one', B: 'the full engine alone', MedA: median(a), MedB: median(b), Target: 0, Rounds: a.length, Measured: 'time' });
      }
    }

    // 3. whole-disk download of the 1 GiB image vs qemu-img convert, and vs
    // downloading a plain 1 GiB File (what the browser's download path
    // costs without the engine), interleaved.
    if (runs('download')) {
      const { value: [dl, plain, qemu], peak } = await phase(context, base, [img1, src1], async (page) => {
        const image1 = await page.evaluate(async (name) => {
          const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
          return (await window.vhdxview.open(f, { store: false })).image;
        }, 'one.vhdx');
        const dl = [], plain = [], qemu = [];
        const download = (fn, arg) => timedDownload(page, ONE, fn, arg);
        for (let i = 0; i < rounds; i++) {
          dl.push(await download(async (image) => {
            const blob = await window.vhdxview.blob(image);
            const a = document.createElement('a');
            a.href = URL.createObjectURL(blob);
            a.download = 'one.raw';
            a.click();
          }, image1));
          plain.push(await download((name) => {
            const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
            const a = document.createElement('a');
            a.href = URL.createObjectURL(f);
            a.download = 'plain.raw';
            a.click();
          }, 'one.vhdx.src'));
          const t0 = performance.now();
          run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', img1, join(dir, 'one.raw')]);
          qemu.push((performance.now() - t0) / 1000);
          rmSync(join(dir, 'one.raw'));
        }
        return [dl, plain, qemu];
      });
      const secs = (xs) => xs.map((x) => x.toFixed(2)).join(', ');
      console.log(`download ${sizeName(ONE)}: median ${median(dl).toFixed(3)} s (${secs(dl)}); plain File download ${median(plain).toFixed(3)} s (${secs(plain)}); qemu-img convert ${median(qemu).toFixed(3)} s (${secs(qemu)}); ratio to qemu ${(median(dl) / median(qemu)).toFixed(2)}`);
      rows.push({ name: `download a whole ${sizeName(ONE)} image vs a plain ${sizeName(ONE)} File (browser)`, A: 'vhdxview.blob + <a download>', B: 'plain File + <a download>', MedA: median(dl), MedB: median(plain), Target: 0, Rounds: rounds, Measured: 'time' });
      rows.push({ name: `download a whole ${sizeName(ONE)} image (browser)`, A: 'vhdxview.blob + <a download>', B: 'qemu-img convert -O raw', MedA: median(dl), MedB: median(qemu), Target: 1.5, Rounds: rounds, Measured: 'time' });
      memRow(`download a whole ${sizeName(ONE)} image, ${times(rounds, 'download')}`, peak);
    }

    // Hash and search of the fully allocated 1 GiB image against
    // sha256sum and grep of its raw bytes, in one run (issue #13).
    if (runs('hash') || runs('search')) {
      const { value, peak } = await phase(context, base, [img1], async (page) => {
        const image = await page.evaluate(async (name) => {
          const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
          return (await window.vhdxview.open(f, { store: false })).image;
        }, 'one.vhdx');
        // The page's CSP allows no eval: each timed call is named.
        const timed = (what) => page.evaluate(async ({ what, image }) => {
          const v = window.vhdxview;
          const t0 = performance.now();
          if (what === 'wasm') await v.hash(image, { algorithms: ['sha256'] });
          else if (what === 'go') await v.request('hash', { image, via: 'go' });
          else await v.search(image, new TextEncoder().encode('VHDXVIEW-NEEDLE'));
          return (performance.now() - t0) / 1000;
        }, { what, image });
        const native = (cmd, args) => {
          const t0 = performance.now();
          spawnSync(cmd, args, { stdio: 'ignore' });
          return (performance.now() - t0) / 1000;
        };
        const r = { wasm: [], go: [], sum: [], search: [], grep: [] };
        for (let i = 0; i < rounds; i++) {
          if (runs('hash')) {
            r.wasm.push(await timed('wasm'));
            r.go.push(await timed('go'));
            r.sum.push(native('sha256sum', [src1]));
          }
          if (runs('search')) {
            r.search.push(await timed('search'));
            r.grep.push(native('grep', ['-c', '-a', '-F', 'VHDXVIEW-NEEDLE', src1]));
          }
        }
        return r;
      });
      const n = sizeName(ONE);
      if (runs('hash')) {
        console.log(`hash ${n}: hash-wasm ${median(value.wasm).toFixed(2)} s, Go ${median(value.go).toFixed(2)} s, sha256sum ${median(value.sum).toFixed(2)} s`);
        rows.push({ name: `SHA-256 of a fully allocated ${n} disk (browser)`, A: 'vhdxview.hash (hash-wasm)', B: 'sha256sum of the raw bytes', MedA: median(value.wasm), MedB: median(value.sum), Target: 1, Rounds: rounds, Measured: 'time' });
        rows.push({ name: `SHA-256 of a fully allocated ${n} disk, hash-wasm vs Go crypto in wasm (browser)`, A: 'vhdxview.hash (hash-wasm)', B: 'hash op via "go"', MedA: median(value.wasm), MedB: median(value.go), Target: 0, Rounds: rounds, Measured: 'time' });
      }
      if (runs('search')) {
        console.log(`search ${n}: vhdxview.search ${median(value.search).toFixed(2)} s, grep -c ${median(value.grep).toFixed(2)} s`);
        rows.push({ name: `search a fully allocated ${n} disk for an absent 15-byte text (browser)`, A: 'vhdxview.search', B: 'grep -c -a -F on the raw bytes', MedA: median(value.search), MedB: median(value.grep), Target: 0, Rounds: rounds, Measured: 'time' });
      }
      memRow(`hash and search a ${n} image, ${times(rounds, 'round')}`, peak);
    }

    // 3b. a sparse whole-disk save through the writer (vhdxview.saveTo into
    // an origin private file system file, zero runs skipped): a 64 GiB
    // disk of 1 MiB blocks with 64 blocks of data, against qemu-img
    // convert -O raw of the same disk (which also leaves zeros unwritten).
    if (runs('sparse')) {
      const virt = quick ? 4 * 1024 * MiB : 64 * 1024 * MiB;
      const blocks = {};
      for (let i = 0; i < 64; i++) blocks[Math.floor((i * (virt / MiB)) / 64)] = { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: i + 1 } };
      writeFileSync(join(dir, 'sparse.json'), JSON.stringify({ virtualSize: virt, blockSize: MiB, blocks }));
      run(mk, ['-o', join(dir, 'sparse.vhdx'), join(dir, 'sparse.json')]);
      const { value: [mine, qemu], peak } = await phase(context, base, [join(dir, 'sparse.vhdx')], async (page) => {
        const a = [];
        const b = [];
        for (let i = 0; i < rounds; i++) {
          a.push(await page.evaluate(async () => {
            const f = document.getElementById('bench-files').files[0];
            const { image } = await window.vhdxview.open(f, { store: false });
            const root = await navigator.storage.getDirectory();
            const h = await root.getFileHandle('bench-sparse.raw', { create: true });
            const t0 = performance.now();
            await window.vhdxview.saveTo(image, h);
            const s = (performance.now() - t0) / 1000;
            await root.removeEntry('bench-sparse.raw');
            await window.vhdxview.close(image);
            return s;
          }));
          const t0 = performance.now();
          run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', join(dir, 'sparse.vhdx'), join(dir, 'sparse.raw')]);
          b.push((performance.now() - t0) / 1000);
          rmSync(join(dir, 'sparse.raw'));
        }
        return [a, b];
      });
      console.log(`save a ${sizeName(virt)} sparse disk: median ${median(mine).toFixed(3)} s; qemu-img convert ${median(qemu).toFixed(3)} s`);
      rows.push({ name: `save a whole ${sizeName(virt)} sparse disk (64 MiB of data) into a file (browser)`, A: 'vhdxview.saveTo (OPFS file)', B: 'qemu-img convert -O raw', MedA: median(mine), MedB: median(qemu), Target: 0, Rounds: rounds, Measured: 'time' });
      memRow(`save a whole ${sizeName(virt)} sparse disk, ${times(rounds, 'save')}`, peak);
    }

    // 4. issue #6: list a directory of 10,000 entries; download a 1 GiB
    // file from ext4 and from NTFS (mapped), and streamed through the
    // engine, each against the same number of raw bytes of the disk
    // (web/test/bench-files.mjs).
    if (runs('files')) {
      const { value, peak } = await phase(context, base, [], (page) => benchFiles({ page, dir, rounds, quick }));
      rows.push(...value);
      memRow(`list 10,000 entries and download a ${quick ? '32 MiB' : '1 GiB'} file, ${times(rounds, 'round')}`, peak);
    }

    // 5. issue #13: ZIP export of a folder against zip -0 -r.
    if (runs('zip')) {
      const total = quick ? 32 : 512;
      const zd = zipDisk(dir, total);
      const { value, peak } = await phase(context, base, [zd.vhdx], (page) => benchZip({ page, dir, src: zd.src, total, rounds }));
      rows.push(...value);
      memRow(`ZIP a ${total} MiB folder, ${times(rounds, 'round')}`, peak);
    }

    // 6. issue #15: an ext4 journal replayed in memory against the
    // kernel's replay of a copy (loop mounts: root only).
    if (runs('journal')) {
      if (!canMount()) {
        console.log('journal replay: skipped (loop mounts need root)');
      } else {
        const jd = journalDisk(dir, quick);
        const { value, peak } = await phase(context, base, [jd.vhdx], (page) => benchJournal({ page, dir, disk: jd, rounds }));
        rows.push(...value);
        memRow(`replay an ext4 journal, ${times(rounds, 'round')}`, peak);
      }
    }

    rows.push(...memRows);

    // 5. the engine's size, raw and compressed with the command-line tools.
    if (runs('size')) {
      // The full engine, and the core engine (-tags nofs) that a first
      // open waits for: issue #15's goal is ≤ 1 MB brotli, or a first open
      // that does not wait for the file-system code.
      for (const [file, what] of [['web/vhdxview.wasm', 'full engine'], ['web/vhdxview-core.wasm', 'core engine']]) {
        const wasmPath = join(root, file);
        const raw = statSync(wasmPath).size;
        const gz = run('gzip', ['-9', '-c', wasmPath], { encoding: 'buffer' }).length;
        const br = run('brotli', ['-q', '11', '-c', wasmPath], { encoding: 'buffer' }).length;
        console.log(`${file} (${what}): ${raw} bytes raw, ${gz} gzip -9, ${br} brotli -q 11`);
        rows.push({ name: `${file} (${what}) size, raw vs brotli, MB`, A: `raw (${raw} bytes)`, B: `brotli -q 11 (${br} bytes)`, MedA: raw / 1e6, MedB: br / 1e6, Target: 0, Rounds: 1, Measured: 'MB' });
        rows.push({ name: `${file} (${what}) size, gzip vs brotli, MB`, A: `gzip -9 (${gz} bytes)`, B: `brotli -q 11 (${br} bytes)`, MedA: gz / 1e6, MedB: br / 1e6, Target: 0, Rounds: 1, Measured: 'MB' });
        rows.push({ name: `${file} (${what}) brotli size, MB`, A: 'brotli -q 11', B: 'goal 1 MB', MedA: br / 1e6, MedB: 1, Target: 1, Rounds: 1, Measured: 'MB' });
      }
    }
  } finally {
    if (context) await context.close().catch(() => {});
    if (server) server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (out) writeFileSync(out, JSON.stringify(rows, null, 2) + '\n');
  if (quick) {
    for (const r of rows) console.log(`quick: ${r.name}: ${r.MedA.toFixed(4)} vs ${r.MedB.toFixed(4)} (${r.Measured})`);
    console.log(`quick run done: ${rows.length} rows (timings of tiny images, not checked)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
