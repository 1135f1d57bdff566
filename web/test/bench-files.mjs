// bench-files.mjs: the browser benchmarks of the partitions-and-files
// issue, run by bench.mjs on its page (web/test/harness.html, where
// window.vhdxview is the engine's API):
//
//   - listing a directory of 10,000 entries (vhdxview.ls; target < 1 s)
//   - downloading a 1 GiB file, timed until the download is complete,
//     against downloading the same number of raw bytes of the disk
//     (vhdxview.blob of a range; target: at least 50 % of its speed, so a
//     time ratio ≤ 2), rounds interleaved:
//       ext4: the file is mapped (file_plan), its Blob is File slices
//       NTFS: mapped from its run list, the same
//       streamed: the same NTFS file read in 16 MiB chunks through the
//             engine into a file of the origin private file system, then
//             downloaded: the path of files the engine cannot map
//             (compressed NTFS), as the page takes it without
//             showSaveFilePicker
//
// The disk (GPT, an ext4 and an NTFS partition, made with fsimage.mjs as
// the browser tests make theirs) is written at bench time into dir.
// quick: a 32 MiB file, so ./build.sh test runs this briefly.

import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MiB, run, timedDownload } from './lib.mjs';
import { mkExt, mkGPTDisk, mkNTFS, toVHDX } from './fsimage.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// patternFile writes size bytes that differ in every MiB (so no file
// system or compressor can shortcut them).
function patternFile(path, size) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(MiB);
  for (let off = 0; off < size; off += MiB) {
    chunk.fill(`block ${off / MiB} `);
    writeSync(fd, chunk, 0, Math.min(MiB, size - off));
  }
  closeSync(fd);
}

// makeDisk returns {vhdx, fileSize, ext: {offset}, ntfs: {offset}}.
function makeDisk(dir, quick) {
  const fileSize = quick ? 32 * MiB : 1024 * MiB;
  const src = join(dir, 'fs-src');
  mkdirSync(join(src, 'many'), { recursive: true });
  for (let i = 0; i < 10000; i++) writeFileSync(join(src, 'many', `f${String(i).padStart(5, '0')}.txt`), '');
  patternFile(join(src, 'big.bin'), fileSize);
  const volMiB = Math.ceil(fileSize / MiB * 1.25) + 64; // NTFS needs room for its log and MFT
  const ext = mkExt(dir, 'ext4', src, volMiB, { label: 'BENCH', extra: ['-N', '12000'] });
  const ntfs = mkNTFS(dir, {}, {}, volMiB, { label: 'BENCH' });
  run('ntfscp', ['-f', '-q', ntfs, join(src, 'big.bin'), '/big.bin']);
  rmSync(src, { recursive: true });
  const { raw, partitions } = mkGPTDisk(dir, 'fs', 2 * volMiB + 4,
    [{ sizeMiB: volMiB, type: '8300', img: ext }, { sizeMiB: volMiB, type: '0700', img: ntfs }]);
  rmSync(ext);
  rmSync(ntfs);
  const vhdx = toVHDX(raw, join(dir, 'fs.vhdx'));
  rmSync(raw);
  return { vhdx, fileSize, ext: { offset: partitions[0].start * 512 }, ntfs: { offset: partitions[1].start * 512 } };
}

/** Runs the benchmarks; returns rows for internal/cmd/benchrun. */
export async function benchFiles({ page, dir, rounds, quick = false }) {
  console.log('# making the file system disk (ext4 + NTFS, GPT)');
  const disk = makeDisk(dir, quick);
  await page.evaluate(() => {
    const i = document.createElement('input');
    i.type = 'file';
    i.id = 'bench-fs-file';
    i.hidden = true;
    document.body.append(i);
  });
  await page.setInputFiles('#bench-fs-file', disk.vhdx);
  const image = await page.evaluate(async () => {
    const f = document.getElementById('bench-fs-file').files[0];
    const r = await window.vhdxview.open(f, { store: false });
    const t = await window.vhdxview.parts(r.image);
    if (t.partitions.length !== 2 || !t.partitions.every((p) => p.supported)) throw new Error('parts: ' + JSON.stringify(t));
    return r.image;
  });
  const rows = [];

  // 1. ls of 10,000 entries. The first listing opens the file system and
  // reads its inode table; it is timed with the others.
  const ls = await page.evaluate(async ({ image, n }) => {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await window.vhdxview.ls(image, 1, '/many');
      ms.push(performance.now() - t0);
      if (r.entries.length !== 10000) throw new Error(`ls: ${r.entries.length} entries`);
    }
    return ms;
  }, { image, n: Math.max(rounds, 5) });
  console.log(`ls of 10,000 entries: median ${median(ls).toFixed(1)} ms, first ${ls[0].toFixed(1)} ms`);
  rows.push({ name: 'list a directory of 10,000 entries, ext4 (browser)', A: 'vhdxview.ls', B: 'target 1 s', MedA: median(ls) / 1000, MedB: 1, Target: 1, Rounds: ls.length, Measured: 'time' });

  // 2. 1 GiB file downloads vs the raw range of the same length.
  const size = disk.fileSize;
  const raw = [], extDl = [], ntfsDl = [], streamDl = [];
  const blobDownload = async ({ image, partition, name }) => {
    const b = await window.vhdxview.fileBlob(image, partition, '/big.bin');
    if (!b) throw new Error(`partition ${partition}: /big.bin is not mapped`);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(b);
    a.download = name;
    a.click();
  };
  for (let i = 0; i < rounds; i++) {
    raw.push(await timedDownload(page, size, async ({ image, offset, size }) => {
      const b = await window.vhdxview.blob(image, offset, size);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(b);
      a.download = 'range.raw';
      a.click();
    }, { image, offset: disk.ext.offset, size }));
    extDl.push(await timedDownload(page, size, blobDownload, { image, partition: 1, name: 'ext-big.bin' }));
    ntfsDl.push(await timedDownload(page, size, blobDownload, { image, partition: 2, name: 'ntfs-big.bin' }));
    // The path of a file the engine cannot map (a compressed NTFS file):
    // 16 MiB chunks read through the engine into an OPFS file, then
    // downloaded, as the page does without showSaveFilePicker.
    streamDl.push(await timedDownload(page, size, async ({ image }) => {
      const root = await navigator.storage.getDirectory();
      const d = await root.getDirectoryHandle('vhdxview-bench', { create: true });
      const fh = await d.getFileHandle('big.bin', { create: true });
      await window.vhdxview.saveFile(image, 2, '/big.bin', await fh.createWritable(), { viaEngine: true });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(await fh.getFile());
      a.download = 'streamed-big.bin';
      a.click();
    }, { image }));
  }
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry('vhdxview-bench', { recursive: true }).catch(() => {});
  });
  const mib = size / MiB;
  console.log(`${mib} MiB: raw range ${median(raw).toFixed(3)} s, ext4 file ${median(extDl).toFixed(3)} s, NTFS file ${median(ntfsDl).toFixed(3)} s, streamed through the engine ${median(streamDl).toFixed(3)} s`);
  const B = `raw ${mib} MiB range: vhdxview.blob + <a download>`;
  rows.push({ name: `download a ${mib} MiB file, ext4 (mapped: File slices) (browser)`, A: 'vhdxview.fileBlob + <a download>', B, MedA: median(extDl), MedB: median(raw), Target: 2, Rounds: rounds, Measured: 'time' });
  rows.push({ name: `download a ${mib} MiB file, NTFS (mapped: File slices) (browser)`, A: 'vhdxview.fileBlob + <a download>', B, MedA: median(ntfsDl), MedB: median(raw), Target: 2, Rounds: rounds, Measured: 'time' });
  rows.push({ name: `download a ${mib} MiB file streamed through the engine to OPFS, the path of compressed NTFS files (browser)`, A: 'vhdxview.saveFile → OPFS + <a download>', B, MedA: median(streamDl), MedB: median(raw), Target: 2, Rounds: rounds, Measured: 'time' });
  await page.evaluate((image) => window.vhdxview.close(image), image);
  return rows;
}
