#!/usr/bin/env node
// ui.mjs runs the viewer's page tests (web/test/ui.test.mjs) in Debian's
// headless Chromium through playwright-core.
//
//   node web/test/ui.mjs [name-filter]
//
// It needs bin/vhdx, web/vhdxview.wasm and web/wasm_exec.js (./build.sh
// build), qemu-img, and Go (to build the test image writer). It serves the
// repository like internal/cmd/serve does (same paths, same CSP header,
// read from that file) plus the test images under /__fixtures/, starts
// Chromium with a fresh profile, runs every test in one browser context
// (so the service worker and IndexedDB carry over, as for a person) and
// prints one line per test and `N passed, N failed` last; the exit status
// is non-zero when a test failed. It also fails any test during which the
// page requested another origin, logged a CSP violation or threw. It
// saves docs/screenshot.png when that is missing or UPDATE_SCREENSHOT=1;
// KEEP=1 keeps the work directory (fixtures, downloads, screenshots of
// failures and of the main, dark and narrow views).

import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tests as viewerTests } from './ui.test.mjs';
import { tests as fileflowTests } from './fileflows.test.mjs';
import { root, run as runText, serve, serveCSP, CHROMIUM } from './lib.mjs';

const filter = process.argv[2] || '';

// run returns Buffers: tests compare raw disk bytes from `vhdx cat`.
const run = (cmd, args, opts = {}) => runText(cmd, args, { encoding: 'buffer', ...opts });

async function main() {
  for (const f of ['web/vhdxview.wasm', 'web/vhdxview-core.wasm', 'web/wasm_exec.js', 'web/vhdxview.js', 'web/worker.js']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run ./build.sh build first`);
  }
  const work = mkdtempSync(join(tmpdir(), 'vhdxview-ui-'));
  const fixtures = join(work, 'fixtures');
  run('mkdir', ['-p', fixtures]);
  const vhdx = join(root, 'bin', 'vhdx');
  if (!existsSync(vhdx)) run('go', ['build', '-o', vhdx, './cmd/vhdx']);
  const mkvhdx = join(work, 'mkvhdx');
  run('go', ['build', '-o', mkvhdx, './internal/cmd/mkvhdx']);

  const fx = {
    dir: fixtures,
    path: (name) => join(fixtures, name),
    url: (name) => `/__fixtures/${name}`,
    // make writes a builder image from a description.
    make(name, desc) {
      const d = join(work, `${name}.json`);
      writeFileSync(d, JSON.stringify(desc));
      run(mkvhdx, ['-o', join(fixtures, name), d]);
      return join(fixtures, name);
    },
    // layout gives where the builder puts each structure of desc.
    layout(desc) {
      const d = join(work, 'layout.json');
      writeFileSync(d, JSON.stringify(desc));
      return JSON.parse(run(mkvhdx, ['-o', join(work, 'layout.vhdx'), '-layout', d]).toString());
    },
  };
  const cli = (...args) => run(vhdx, args);
  const sh = run;

  const flags = { down: false };
  const server = await serve(fixtures, serveCSP(), { prefix: '/__fixtures/', isDown: () => flags.down });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    baseURL: origin,
  });

  // Watch everything the context does.
  let problems = [];
  const watchPage = (page) => {
    page.on('console', (m) => {
      const t = m.text();
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(t)) problems.push(`CSP: ${t}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  };
  context.on('page', watchPage);
  context.on('request', (r) => {
    const u = r.url();
    if (/^(blob|data):/.test(u)) return;
    if (!u.startsWith(`${origin}/`)) problems.push(`request to another origin: ${u}`);
  });

  const page = context.pages()[0] || await context.newPage();
  if (context.pages()[0] === page) watchPage(page);
  // t.serverDown(true) makes every request fail, so that only the service
  // worker's cache can answer (setOffline alone may not reach the worker).
  const t = { page, context, origin, fx, cli, sh, root, work, serverDown: (v) => { flags.down = v; } };

  let passed = 0;
  let failed = 0;
  for (const test of [...viewerTests, ...fileflowTests]) {
    if (filter && !test.name.includes(filter)) continue;
    problems = [];
    const t0 = Date.now();
    try {
      await test.fn(t);
      if (problems.length) throw new Error(problems.join('\n'));
      passed++;
      console.log(`ok   ${test.name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${test.name}: ${e && e.stack || e}`);
      try {
        await page.screenshot({ path: join(work, `fail-${test.name.replace(/\W+/g, '_')}.png`) });
        console.log(`     screenshot: ${join(work, `fail-${test.name.replace(/\W+/g, '_')}.png`)}`);
      } catch { /* page gone */ }
      await context.setOffline(false).catch(() => {});
      flags.down = false;
    }
  }
  await context.close();
  server.close();
  if (!failed && !process.env.KEEP) rmSync(work, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL setup: ${e && e.stack || e}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
