// lib.mjs: what the browser test and benchmark runners share: building
// the engine, running tools, serving the repository like
// internal/cmd/serve, and starting Chromium.

import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MiB = 1 << 20;

export const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: opts.encoding || 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

// serveCSP is the page's policy: index.html's <meta> tag, which
// internal/cmd/serve reads and sends as a header too (index.html is its
// one source), so that this server and the real one cannot drift apart.
export function serveCSP() {
  const src = readFileSync(join(root, 'index.html'), 'utf8');
  const m = [...src.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/gi)];
  if (m.length !== 1) throw new Error(`index.html: want one Content-Security-Policy <meta> tag, found ${m.length}`);
  return m[0][1];
}

// ensureEngine builds web/vhdxview.wasm and web/vhdxview-core.wasm when
// either is missing or older than any Go file they are built from.
export function ensureEngine() {
  const wasm = join(root, 'web/vhdxview.wasm');
  const needed = [wasm, join(root, 'web/vhdxview-core.wasm'), join(root, 'web/wasm_exec.js'), join(root, 'web/manifest.json')];
  let stale = !needed.every(existsSync);
  if (!stale) {
    const built = statSync(wasm).mtimeMs;
    const newer = (dir) => readdirSync(join(root, dir), { withFileTypes: true }).some((e) =>
      e.isDirectory() ? newer(join(dir, e.name)) : e.name.endsWith('.go') && statSync(join(root, dir, e.name)).mtimeMs > built);
    stale = ['core', 'bridge', 'wasm'].some(newer) || statSync(join(root, 'go.mod')).mtimeMs > built;
  }
  if (stale) {
    console.log('# building the wasm engine (web/build-wasm.sh)');
    run('bash', ['web/build-wasm.sh'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
}

export function sha256File(path) {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => res(h.digest('hex'))).on('error', rej);
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.gz': 'application/gzip',
};

// serve answers like internal/cmd/serve (same paths, CSP and headers),
// plus PREFIX/NAME from fixDir. While isDown() is true every request fails
// as if the network were gone (so only a service worker's cache answers).
export function serve(fixDir, csp, { prefix = '/__test/', isDown = () => false } = {}) {
  const server = createServer((req, res) => {
    if (isDown()) {
      req.socket.destroy();
      return;
    }
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let base = root;
    if (p.startsWith(prefix)) {
      base = fixDir;
      p = p.slice(prefix.length - 1);
    } else if (!(p === '/' || p === '/index.html' || p === '/sw.js' || p.startsWith('/web/') || p.startsWith('/docs/'))) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    if (p === '/') p = '/index.html';
    const file = normalize(join(base, p));
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res(server)));
}

// launch starts Chromium with a fresh persistent profile in dir (a real
// IndexedDB that survives reloads).
export function launch(profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// timedDownload runs fn(arg) in the page, which must start one download,
// and returns the seconds until the download is complete, after checking
// its size.
export async function timedDownload(page, size, fn, arg) {
  const t0 = performance.now();
  const [d] = await Promise.all([page.waitForEvent('download'), page.evaluate(fn, arg)]);
  const saved = await d.path(); // resolves when the download is complete
  const s = (performance.now() - t0) / 1000;
  const got = statSync(saved).size;
  await d.delete();
  if (got !== size) throw new Error(`download is ${got} bytes, want ${size}`);
  return s;
}

// browserMemory sums the memory of the Chromium started with profile dir
// and all its processes (browser, renderers, GPU, utility), from /proc:
// rss counts each process's resident pages, so pages shared between them
// (the executable, fonts, shared memory) are counted once per process;
// pss divides each shared page among its sharers, so it adds up to what
// the browser really holds. Linux only.
export function browserMemory(profile) {
  const procs = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      procs.set(Number(d), { ppid, cmd });
    } catch { /* gone */ }
  }
  const mine = new Set([...procs].filter(([, p]) => p.cmd.includes(`--user-data-dir=${profile}\0`)).map(([pid]) => pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs) if (!mine.has(pid) && mine.has(p.ppid)) { mine.add(pid); grew = true; }
  }
  let rss = 0, pss = 0, renderer = 0;
  for (const pid of mine) {
    try {
      const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const p = Number(/^Pss:\s+(\d+) kB/m.exec(s)[1]) * 1024;
      rss += Number(/^Rss:\s+(\d+) kB/m.exec(s)[1]) * 1024;
      pss += p;
      // The renderers hold the pages and their workers: "the tab".
      if (procs.get(pid).cmd.includes('--type=renderer')) renderer += p;
    } catch { /* gone */ }
  }
  return { processes: mine.size, rss, pss, renderer };
}

// engineWorkers are the page's engine workers (web/worker.js): one per
// engine started.
export function engineWorkers(page) {
  return page.workers().filter((w) => w.url().endsWith('/web/worker.js'));
}

// engineWorker finds the page's engine worker: the core engine's
// ("vhdxview": opens, reads, stores) or, with full, the full engine's
// ("vhdxview-full": file-system ops, hash, search); null if not started.
export async function engineWorker(page, { full = false } = {}) {
  const want = full ? 'vhdxview-full' : 'vhdxview';
  for (const w of engineWorkers(page)) {
    if ((await w.evaluate(() => self.name)) === want) return w;
  }
  return null;
}

// fullEngineOnly makes ctx serve web/manifest.json without core_wasm: what
// a build of the full engine alone serves, which then runs in the one
// worker and serves every op (as before the core engine was split off).
// Returns a function that undoes it.
export async function fullEngineOnly(ctx) {
  const pattern = /\/web\/manifest\.json/;
  const strip = async (route) => {
    const res = await route.fetch();
    const m = await res.json();
    delete m.core_wasm;
    await route.fulfill({ response: res, json: m });
  };
  await ctx.route(pattern, strip);
  return () => ctx.unroute(pattern, strip);
}
