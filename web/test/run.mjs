#!/usr/bin/env node
// run.mjs runs the engine's browser tests (web/test/engine.test.mjs) in
// Debian's headless Chromium through playwright-core:
//
//   node web/test/run.mjs [name-filter]
//
// It builds the wasm engine if web/vhdxview.wasm is missing or older than
// the Go sources (web/build-wasm.sh), makes the test images in a temporary
// directory with internal/cmd/mkvhdx and qemu-img/qemu-io, serves the
// repository the way internal/cmd/serve does (same paths, same CSP header,
// read from that file, .wasm as application/wasm) plus the images under
// /__test/ on 127.0.0.1 at a random port, and drives web/test/harness.html
// in a persistent Chromium profile (real IndexedDB that survives reloads).
// One line per test, then `N passed, N failed`; the exit status is 1 when
// a test failed. Every test also fails if the page or its worker requested
// another origin, logged a CSP violation or threw.

import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { MiB, ensureEngine, launch, root, run, serve, serveCSP, sha256File } from './lib.mjs';
import { tests } from './engine.test.mjs';

const filter = process.argv[2] || '';

// fixtures writes the test images and their expected virtual disks into dir.
async function fixtures(dir) {
  const mk = join(dir, 'mkvhdx');
  run('go', ['build', '-o', mk, './internal/cmd/mkvhdx']);
  let vhdx = join(root, 'bin/vhdx');
  if (!existsSync(vhdx)) {
    vhdx = join(dir, 'vhdx');
    run('go', ['build', '-o', vhdx, './cmd/vhdx']);
  }
  const p = (name) => join(dir, name);
  const make = (name, desc, extra = []) => {
    writeFileSync(p(name + '.json'), JSON.stringify(desc));
    return run(mk, ['-o', p(name), ...extra, p(name + '.json')]);
  };
  const fill = (value, pattern = 'index') => ({ state: 'FULLY_PRESENT', fill: { pattern, value } });

  // A dynamic disk with every kind of block.
  make('dynamic.vhdx', {
    virtualSize: 64 * MiB,
    blocks: { 0: fill(1), 1: fill(2), 5: fill(171, 'byte'), 6: { state: 'ZERO' }, 7: { state: 'UNMAPPED' }, 8: { state: 'UNDEFINED' }, 40: fill(40), 63: fill(63) },
  }, ['-expected', p('dynamic.raw')]);
  run(vhdx, ['cat', '-o', p('dynamic.cat'), p('dynamic.vhdx')]);

  // A disk whose log must be replayed: two payload pages live in the log.
  const dirty = { virtualSize: 16 * MiB, creator: 'dirty', blocks: { 2: fill(2), 3: fill(3) } };
  const lay = JSON.parse(make('dirty.vhdx', dirty, ['-layout']));
  dirty.log = { deferred: [{ fileOffset: lay.blocks['2'] + 4096, length: 8192 }, { fileOffset: lay.blocks['3'], length: 4096 }] };
  make('dirty.vhdx', dirty, ['-expected', p('dirty.raw')]);

  // A differencing chain.
  const P = '11111111-2222-4333-8444-555555555555';
  make('parent.vhdx', { virtualSize: 16 * MiB, dataWriteGuid: P, blocks: { 0: fill(100), 1: fill(101), 2: fill(102), 9: fill(109) } },
    ['-expected', p('parent.raw')]);
  make('child.avhdx', {
    virtualSize: 16 * MiB, dataWriteGuid: '66666666-7777-4888-8999-aaaaaaaaaaaa',
    parent: { entries: [{ key: 'parent_linkage', value: `{${P}}` }, { key: 'relative_path', value: '.\\parent.vhdx' }] },
    blocks: { 1: { state: 'PARTIALLY_PRESENT', fill: { pattern: 'byte', value: 205 }, present: [{ start: 8, count: 16 }] }, 2: fill(202), 12: fill(212) },
  }, ['-expected', p('child.raw'), '-parent', p('parent.raw')]);

  // A 64 TiB sparse disk: 2 Mi BAT entries (a 16 MiB BAT).
  make('big.vhdx', { virtualSize: 64 * 1024 * 1024 * MiB, blockSize: 32 * MiB, blocks: { 1000000: fill(5) } });

  // A 2 TiB sparse disk with 1 MiB blocks: 2 Mi payload blocks, nothing
  // allocated, so that a plan of the whole disk walks them all.
  make('sparse2t.vhdx', { virtualSize: 2 * 1024 * 1024 * MiB, blockSize: MiB });

  // A sparse disk with 1 MiB blocks, mostly never written, and qemu-img's
  // raw conversion of it: saveTo() must give the same bytes and write
  // only the allocated blocks.
  make('sparse256.vhdx', { virtualSize: 256 * MiB, blockSize: MiB, blocks: { 0: fill(1), 1: fill(2), 50: { state: 'ZERO' }, 100: fill(100), 255: fill(255, 'byte') } });
  run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', p('sparse256.vhdx'), p('sparse256.ref')]);

  // A small disk for the quota test.
  make('quota.vhdx', { virtualSize: 8 * MiB, creator: 'quota', blocks: { 1: fill(7) } });

  // A disk written by qemu, and qemu's own raw conversion of it.
  run('qemu-img', ['create', '-q', '-f', 'raw', p('qemu.src'), '40M']);
  run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 1M 3M', '-c', 'write -P 0x33 17M 100k', '-c', 'write -P 0x01 39M 1M', p('qemu.src')]);
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', p('qemu.src'), p('qemu.vhdx')]);
  run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', p('qemu.vhdx'), p('qemu.ref')]);

  // qemu-img's bytes of the other formats, for the read tests: a VHD of
  // qemu.src, the dynamic disk, and the dirty one, whose log qemu replays
  // only in a copy it may write (qemu-io opens it read-write).
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', p('qemu.src'), p('qemu.vhd')]);
  run('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', p('qemu.vhd'), p('qemu.vhd.ref')]);
  run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', p('dynamic.vhdx'), p('dynamic.ref')]);
  copyFileSync(p('dirty.vhdx'), p('dirty.copy.vhdx'));
  run('qemu-io', ['-f', 'vhdx', '-c', 'read 0 512', p('dirty.copy.vhdx')]);
  run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', p('dirty.copy.vhdx'), p('dirty.ref')]);

  // A GPT disk with ext4 and NTFS (testdata/make-fs.sh) and its files' hashes.
  writeFileSync(p('fs.vhdx'), gunzipSync(readFileSync(join(root, 'testdata/fs.vhdx.gz'))));
  const fsFiles = JSON.parse(readFileSync(join(root, 'testdata/fs.json'), 'utf8')).files;

  const sha = {};
  for (const f of ['dynamic.raw', 'dynamic.cat', 'dirty.raw', 'child.raw', 'qemu.ref', 'sparse256.ref']) sha[f] = await sha256File(p(f));
  return { dir, path: p, sha, vhdx, fsFiles };
}

async function main() {
  ensureEngine();
  const dir = mkdtempSync(join(tmpdir(), 'vhdxview-web-'));
  let server, context, failed = 0, passed = 0;
  try {
    console.log('# making test images in', dir);
    const fx = await fixtures(dir);
    server = await serve(dir, serveCSP());
    const base = `http://127.0.0.1:${server.address().port}`;
    const profile = join(dir, 'profile');
    context = await launch(profile);
    const problems = [];
    const requests = [];
    const watch = (page) => {
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('worker', (w) => w.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP (worker): ${m.text()}`);
      }));
    };
    context.on('request', (r) => {
      requests.push(r.url());
      const u = r.url();
      if (!(u.startsWith(base + '/') || u.startsWith('blob:') || u.startsWith('data:'))) problems.push(`request off the origin: ${u}`);
    });
    context.on('page', watch);
    const page = context.pages()[0] || (await context.newPage());
    watch(page);
    page.setDefaultTimeout(60_000);
    const t = { page, context, base, fx, requests, downloads: join(dir, 'downloads') };

    for (const test of tests) {
      if (filter && !test.name.includes(filter)) continue;
      problems.length = 0;
      const start = Date.now();
      try {
        await test.fn(t);
        if (problems.length) throw new Error(problems.join('\n'));
        passed++;
        console.log(`ok   ${test.name} (${Date.now() - start} ms)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${test.name} (${Date.now() - start} ms)\n     ${String(e && e.stack || e).split('\n').join('\n     ')}`);
      }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL setup\n     ${String(e && e.stack || e).split('\n').join('\n     ')}`);
  } finally {
    if (context) await context.close().catch(() => {});
    if (server) server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
