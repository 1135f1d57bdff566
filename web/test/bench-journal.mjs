// bench-journal.mjs: the replay of an ext4 journal (issue #15 item 5)
// for web/test/bench.mjs (--only journal): the first listing of a volume
// copied while mounted, whose last files are only in its journal, against
// what a person would do instead on Linux: copy the image (mounting it
// replays the journal by writing to it, and the original must stay as it
// is), mount the copy through a loop device (the kernel replays), list,
// unmount.
//
// The volume is written through a real loop mount with data=journal, so
// file data as well as metadata goes through the journal, and fsync
// commits each file to the journal only; the image is copied before the
// kernel writes those blocks in place. The page's side opens the VHDX
// and lists the folder: the engine replays the journal in memory on the
// first look at the volume. Needs root (loop mounts); the row is left out
// without it.

import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { MiB, run } from './lib.mjs';
import { mkGPTDisk, toVHDX } from './fsimage.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// canMount says whether this machine can loop-mount (root, loop devices).
export function canMount() {
  return process.getuid && process.getuid() === 0 && spawnSync('test', ['-e', '/dev/loop-control']).status === 0;
}

// journalDisk makes {vhdx, raw, files, journalMiB}: a GPT disk with one
// ext4 partition whose folder /j holds `files` files of 4 MiB that are
// only in the journal (about files × 4 MiB of it to replay).
export function journalDisk(dir, quick) {
  const files = quick ? 2 : 24;
  const fsMiB = quick ? 64 : 1024;
  const journalMiB = quick ? 16 : 256;
  const img = join(dir, 'journal-fs.img');
  run('truncate', ['-s', `${fsMiB}M`, img]);
  run('mkfs.ext4', ['-q', '-F', '-J', `size=${journalMiB}`, '-L', 'journal', img]);
  const m = mkdtempSync(join(dir, 'mnt-'));
  // commit=600: no timed commit between ours; the fsyncs commit.
  run('mount', ['-o', 'loop,data=journal,commit=600', img, m]);
  let copy;
  try {
    mkdirSync(join(m, 'j'));
    for (let i = 0; i < files; i++) {
      const fd = openSync(join(m, 'j', `f${i}.bin`), 'w');
      writeSync(fd, randomBytes(4 * MiB));
      fsyncSync(fd);
      closeSync(fd);
    }
    copy = join(dir, 'journal-copy.img');
    run('cp', ['--sparse=always', img, copy]);
  } finally {
    run('umount', [m]);
    rmSync(m, { recursive: true, force: true });
  }
  rmSync(img);
  if (!run('dumpe2fs', ['-h', copy]).includes('needs_recovery')) throw new Error('the copied volume does not need recovery: nothing to replay');
  const { raw, partitions } = mkGPTDisk(dir, 'journal', fsMiB + 4, [{ sizeMiB: fsMiB, type: '8300', img: copy }]);
  rmSync(copy);
  const vhdx = toVHDX(raw, join(dir, 'journal.vhdx'));
  return { vhdx, raw, files, journalMiB, partStart: partitions[0].start * 512, partSize: fsMiB * MiB };
}

// nativeReplay copies the partition out of the raw disk (as a person must
// before mounting: a mount replays by writing), mounts the copy, lists
// the folder and unmounts; it returns the seconds and the names listed.
function nativeReplay(dir, d) {
  const copy = join(dir, 'native-copy.img');
  const m = mkdtempSync(join(dir, 'mnt-'));
  const t0 = performance.now();
  run('dd', [`if=${d.raw}`, `of=${copy}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${d.partStart}`, `count=${d.partSize}`, 'conv=sparse', 'status=none']);
  run('mount', ['-o', 'loop', copy, m]);
  let names;
  try {
    names = run('ls', [join(m, 'j')]).split('\n').filter(Boolean);
  } finally {
    run('umount', [m]);
  }
  const s = (performance.now() - t0) / 1000;
  rmSync(m, { recursive: true, force: true });
  rmSync(copy);
  return { s, names };
}

// benchJournal runs in a page holding the disk's File in #bench-files.
export async function benchJournal({ page, dir, disk, rounds }) {
  const mine = [];
  const native = [];
  let facts = null;
  for (let i = 0; i < rounds; i++) {
    // A fresh open each round: the engine keeps a volume's replay while
    // the image is open.
    const r = await page.evaluate(async () => {
      const v = window.vhdxview;
      const f = document.getElementById('bench-files').files[0];
      const t0 = performance.now();
      const { image } = await v.open(f, { store: false });
      const l = await v.ls(image, 1, '/j');
      const s = (performance.now() - t0) / 1000;
      await v.close(image);
      return { s, names: l.entries.map((e) => e.name), journal: l.fs.journal };
    });
    const n = nativeReplay(dir, disk);
    if (!r.journal || !r.journal.replayed) throw new Error(`the engine did not replay the journal: ${JSON.stringify(r.journal)}`);
    if (r.names.length !== disk.files || n.names.length !== disk.files || [...n.names].sort().join() !== [...r.names].sort().join()) {
      throw new Error(`listings differ: the page ${r.names.length} files, the kernel ${n.names.length}, want ${disk.files}`);
    }
    facts = r.journal;
    mine.push(r.s);
    native.push(n.s);
  }
  console.log(`journal replay (${facts.transactions} transactions, ${facts.blocks} blocks): vhdxview open + ls ${median(mine).toFixed(3)} s, copy + mount + ls + umount ${median(native).toFixed(3)} s`);
  return [{
    name: `replay an ext4 journal (${facts.transactions} transactions, ${facts.blocks} blocks, ${disk.files * 4} MiB of files only in it) and list the folder (browser)`,
    A: 'vhdxview.open + ls (replay in memory)', B: 'kernel: copy the partition, mount -o loop (replays), ls, umount',
    MedA: median(mine), MedB: median(native), Target: 0, Rounds: rounds, Measured: 'time',
  }];
}
