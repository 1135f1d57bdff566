#!/usr/bin/env node
// bench.mjs measures the engine in headless Chromium against the targets
// of the bridge/worker issue, and writes rows for internal/cmd/benchrun:
//
//   node web/test/bench.mjs [--out rows.json] [--rounds N]
//
//   - open to summary of a 64 TiB sparse VHDX (target < 100 ms, median)
//   - random 4 KiB reads on a 2 GiB image (target p99 < 20 ms)
//   - download of a whole 1 GiB image through vhdxview.blob and
//     <a download>, against qemu-img convert -O raw (target ≤ 1.5×),
//     rounds interleaved
//   - the engine's wasm memory afterwards (target < 256 MiB) and the
//     brotli size of web/vhdxview.wasm (goal ≤ 1 MB)
//
// Images are made in a temporary directory with qemu-img/qemu-io and
// internal/cmd/mkvhdx. ./build.sh bench runs this when it exists.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as zc } from 'node:zlib';
import { MiB, ensureEngine, launch, root, run, serve, serveCSP } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const out = opt('--out', '');
const rounds = Number(opt('--rounds', process.env.ROUNDS || 5));

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

async function main() {
  ensureEngine();
  const dir = mkdtempSync(join(tmpdir(), 'vhdxview-bench-'));
  let server, context;
  const rows = [];
  try {
    console.log('# making images in', dir);
    const mk = join(dir, 'mkvhdx');
    run('go', ['build', '-o', mk, './internal/cmd/mkvhdx']);
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ virtualSize: 64 * 1024 * 1024 * MiB, blockSize: 32 * MiB, blocks: { 7: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 1 } } } }));
    run(mk, ['-o', join(dir, 'big.vhdx'), join(dir, 'big.json')]);
    const img1 = dataImage(dir, 'one.vhdx', 1024 * MiB, true);
    const img2 = dataImage(dir, 'two.vhdx', 2048 * MiB);

    server = await serve(dir, serveCSP());
    const base = `http://127.0.0.1:${server.address().port}`;
    context = await launch(join(dir, 'profile'));
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(600_000);
    await page.goto(base + '/web/test/harness.html');
    await page.waitForSelector('body[data-ready="true"]');
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
    await page.setInputFiles('#bench-files', [join(dir, 'big.vhdx'), img1, img2, join(dir, 'one.vhdx.src')]);

    // 1. open to summary, 64 TiB sparse (remembered: includes the record write).
    const opens = await page.evaluate(async ({ n, name }) => {
      const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
      const ms = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const r = await window.vhdxview.open(f);
        ms.push(performance.now() - t0);
        await window.vhdxview.close(r.image);
      }
      return ms;
    }, { n: Math.max(rounds, 5), name: 'big.vhdx' });
    console.log(`open 64 TiB sparse: median ${median(opens).toFixed(1)} ms (${opens.map((x) => x.toFixed(1)).join(', ')})`);
    rows.push({ name: 'open a 64 TiB sparse VHDX to summary (browser)', A: 'vhdxview.open', B: 'target 100 ms', MedA: median(opens) / 1000, MedB: 0.1, Target: 1, Rounds: opens.length, Measured: 'time' });

    // 2. random 4 KiB reads on the 2 GiB image.
    const reads = await page.evaluate(async ({ name, n }) => {
      const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
      const { image, summary } = await window.vhdxview.open(f, { store: false });
      const sectors = summary.virtual_size / 4096;
      let seed = 12345;
      const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const ms = [];
      for (let i = 0; i < n; i++) {
        const off = Math.floor(rnd() * sectors) * 4096;
        const t0 = performance.now();
        const b = await window.vhdxview.read(image, off, 4096);
        ms.push(performance.now() - t0);
        if (b.length !== 4096) throw new Error('short read');
      }
      await window.vhdxview.close(image);
      return ms;
    }, { name: 'two.vhdx', n: 2000 });
    const p50 = quantile(reads, 0.5), p99 = quantile(reads, 0.99);
    console.log(`random 4 KiB read on 2 GiB: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...reads).toFixed(2)} ms`);
    rows.push({ name: 'random 4 KiB read p99, 2 GiB image (browser)', A: 'vhdxview.read p99', B: 'target 20 ms', MedA: p99 / 1000, MedB: 0.02, Target: 1, Rounds: reads.length, Measured: 'time' });

    // 3. whole-disk download of the 1 GiB image vs qemu-img convert, and vs
    // downloading a plain 1 GiB File (what the browser's download path
    // costs without the engine), interleaved.
    const image1 = await page.evaluate(async (name) => {
      const f = Array.from(document.getElementById('bench-files').files).find((x) => x.name === name);
      return (await window.vhdxview.open(f, { store: false })).image;
    }, 'one.vhdx');
    const dl = [], plain = [], qemu = [];
    const download = async (fn, arg) => {
      const t0 = performance.now();
      const [d] = await Promise.all([page.waitForEvent('download'), page.evaluate(fn, arg)]);
      const saved = await d.path(); // resolves when the download is complete
      const s = (performance.now() - t0) / 1000;
      if (statSync(saved).size !== 1024 * MiB) throw new Error(`download is ${statSync(saved).size} bytes`);
      await d.delete();
      return s;
    };
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
    console.log(`download 1 GiB: median ${median(dl).toFixed(3)} s; plain File download ${median(plain).toFixed(3)} s; qemu-img convert ${median(qemu).toFixed(3)} s; ratio to qemu ${(median(dl) / median(qemu)).toFixed(2)}`);
    rows.push({ name: 'download a whole 1 GiB image vs a plain 1 GiB File (browser)', A: 'vhdxview.blob + <a download>', B: 'plain File + <a download>', MedA: median(dl), MedB: median(plain), Target: 0, Rounds: rounds, Measured: 'time' });
    rows.push({ name: 'download a whole 1 GiB image (browser)', A: 'vhdxview.blob + <a download>', B: 'qemu-img convert -O raw', MedA: median(dl), MedB: median(qemu), Target: 1.5, Rounds: rounds, Measured: 'time' });

    // 4. memory and size.
    const w = page.workers().find((x) => x.url().endsWith('/web/worker.js'));
    const mem = await w.evaluate(() => self.vhdxviewEngine.memory());
    const wasm = readFileSync(join(root, 'web/vhdxview.wasm'));
    const br = brotliCompressSync(wasm, { params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: wasm.length } }).length;
    console.log(`wasm memory after the runs: ${(mem / MiB).toFixed(1)} MiB (target < 256 MiB)`);
    console.log(`web/vhdxview.wasm: ${wasm.length} bytes, ${br} brotli (goal ≤ 1 MB)`);
    rows.push({ name: `wasm memory after the benchmarks, MiB (browser)`, A: 'engine memory', B: 'target 256 MiB', MedA: mem / MiB, MedB: 256, Target: 1, Rounds: 1, Measured: 'MiB' });
    rows.push({ name: `web/vhdxview.wasm brotli size, MB (${wasm.length} bytes raw)`, A: 'brotli -q 11', B: 'goal 1 MB', MedA: br / 1e6, MedB: 1, Target: 1, Rounds: 1, Measured: 'MB' });
  } finally {
    if (context) await context.close().catch(() => {});
    if (server) server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (out) writeFileSync(out, JSON.stringify(rows, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
