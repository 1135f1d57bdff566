// bench-zip.mjs: the ZIP export of a folder (issue #13 item 4) against
// `zip -0 -r` of the same files from the source directory, both in one
// run, for web/test/bench.mjs (--only zip). The page's path without a
// save picker: vhdxview.listing (entries) walks the folder, vhdxview.zip
// streams the archive into an origin private file system file, which is
// then downloaded; the time runs until the download is complete.

import { mkdirSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiB, run, timedDownload } from './lib.mjs';
import { mkExt, mkGPTDisk, toVHDX } from './fsimage.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// zipDisk makes a VHDX with one ext4 partition holding folder/ of total
// MiB in files of 16 MiB (random bytes: nothing to compress either way).
export function zipDisk(dir, total) {
  const src = join(dir, 'zip-src');
  mkdirSync(join(src, 'folder', 'sub'), { recursive: true });
  for (let i = 0, left = total; left > 0; i++, left -= 16) {
    writeFileSync(join(src, 'folder', i % 2 ? 'sub' : '', `f${i}.bin`), randomBytes(Math.min(16, left) * MiB));
  }
  const fsMiB = Math.ceil(total * 1.1) + 16;
  const ext = mkExt(dir, 'ext4', src, fsMiB, { label: 'zipbench' });
  const { raw } = mkGPTDisk(dir, 'zipbench', fsMiB + 4, [{ sizeMiB: fsMiB, type: '8300', name: 'zip', img: ext }]);
  const vhdx = toVHDX(raw, join(dir, 'zipbench.vhdx'));
  rmSync(raw);
  rmSync(ext);
  return { vhdx, src };
}

// benchZip runs in a page holding the disk's File in #bench-files.
export async function benchZip({ page, dir, src, total, rounds }) {
  const image = await page.evaluate(async () => {
    const f = document.getElementById('bench-files').files[0];
    return (await window.vhdxview.open(f, { store: false })).image;
  });
  const zipIt = async ({ image, download }) => {
    const v = window.vhdxview;
    const items = [{ path: '/folder', name: 'folder', type: 'dir', size: 0 }];
    for await (const p of v.listing(image, 1, { path: '/folder', format: 'entries' })) {
      for (const e of p.entries) items.push({ path: e.path, name: e.path.slice(1), type: e.type, size: e.size, mod_time: e.mod_time });
    }
    const res = await v.zip(image, 1, items);
    if (!download) {
      res.body.cancel().catch(() => {}); // only its length is wanted
      return Number(res.headers.get('Content-Length'));
    }
    const root = await navigator.storage.getDirectory();
    const fh = await root.getFileHandle('bench.zip', { create: true });
    await res.body.pipeTo(await fh.createWritable());
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await fh.getFile());
    a.download = 'folder.zip';
    a.click();
    return 0;
  };
  const size = await page.evaluate(zipIt, { image, download: false });
  const mine = [];
  const native = [];
  for (let i = 0; i < rounds; i++) {
    mine.push(await timedDownload(page, size, zipIt, { image, download: true }));
    const out = join(dir, 'native.zip');
    const t0 = performance.now();
    run('zip', ['-0', '-r', '-q', out, 'folder'], { cwd: src });
    native.push((performance.now() - t0) / 1000);
    if (Math.abs(statSync(out).size - size) > size / 100) throw new Error(`zip -0 made ${statSync(out).size} bytes, the page ${size}`);
    rmSync(out);
  }
  await page.evaluate(async () => (await navigator.storage.getDirectory()).removeEntry('bench.zip').catch(() => {}));
  console.log(`ZIP of a ${total} MiB folder: vhdxview.zip ${median(mine).toFixed(2)} s, zip -0 -r ${median(native).toFixed(2)} s`);
  return [{ name: `ZIP a ${total} MiB folder (stored) from an ext4 partition (browser)`, A: 'vhdxview.listing + vhdxview.zip → OPFS + <a download>', B: 'zip -0 -r of the source folder', MedA: median(mine), MedB: median(native), Target: 0, Rounds: rounds, Measured: 'time' }];
}
