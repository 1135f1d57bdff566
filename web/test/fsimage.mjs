// fsimage.mjs: disks with partitions and file systems for the browser
// tests, made at test time with the Debian tools a person would use, as
// volume/helpers_test.go does for the Go tests (mkExt, mkNTFS, mkDisk,
// ddInto, toVHDX): mkfs.ext4 -d and mkntfs + ntfscp build file systems in
// plain files, sgdisk writes the partition table on a plain file, dd
// (conv=notrunc) puts each file system at its partition's offset, and
// qemu-img convert -O vhdx turns the raw disk into a VHDX. No root, no loop
// devices.

import { closeSync, mkdirSync, openSync, writeFileSync, ftruncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { run } from './lib.mjs';

// randBytes gives n reproducible pseudo-random bytes (sha256 in counter
// mode, so the same seed always gives the same file).
export function randBytes(seed, n) {
  const out = Buffer.alloc(n);
  for (let i = 0, k = 0; i < n; k++) {
    const h = createHash('sha256').update(`${seed}:${k}`).digest();
    i += h.copy(out, i);
  }
  return out;
}

// writeTree writes files {"dir/name": Buffer|string} under dir and
// returns dir. Directories are implied; a value of null makes an empty
// directory.
export function writeTree(dir, files) {
  mkdirSync(dir, { recursive: true });
  for (const [p, data] of Object.entries(files)) {
    const fp = join(dir, p);
    if (data === null) {
      mkdirSync(fp, { recursive: true });
      continue;
    }
    mkdirSync(dirname(fp), { recursive: true });
    writeFileSync(fp, data);
  }
  return dir;
}

function sparseFile(path, bytes) {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

// mkExt makes an ext2/3/4 file system of sizeMiB holding the directory src.
export function mkExt(work, kind, src, sizeMiB, { label = `vol-${kind}`, extra = [] } = {}) {
  const img = join(work, `${kind}-${label}.img`);
  run(`mkfs.${kind}`, ['-q', '-F', '-L', label, '-d', src, ...extra, img, `${sizeMiB}M`], { env: { ...process.env, LC_ALL: 'C' } });
  return img;
}

// mkNTFS makes an NTFS file system of sizeMiB holding the flat set of files
// (ntfscp cannot make directories) and the alternate data streams ads
// ({"file:stream": bytes}).
export function mkNTFS(work, files, ads, sizeMiB, { label = 'NTFSVOL' } = {}) {
  const dir = join(work, `ntfs-${label}`);
  const img = join(dir, 'ntfs.img');
  mkdirSync(dir, { recursive: true });
  sparseFile(img, sizeMiB * 2 ** 20);
  run('mkntfs', ['-F', '-Q', '-q', '-L', label, img]);
  const src = writeTree(join(dir, 'src'), files);
  for (const p of Object.keys(files)) run('ntfscp', ['-f', '-q', img, join(src, p), `/${p}`]);
  for (const [p, data] of Object.entries(ads)) {
    const [name, stream] = p.split(':');
    const sf = join(dir, 'stream');
    writeFileSync(sf, data);
    run('ntfscp', ['-f', '-q', '-N', stream, img, sf, `/${name}`]);
  }
  return img;
}

// mkGPTDisk writes a raw disk of sizeMiB with a GPT holding parts
// ([{sizeMiB, type (sgdisk code), name, img}]), copies each part's image
// in, and returns {raw, partitions}: the partitions as `sfdisk -J` reads
// them ({node, start, size, type, uuid, name}, in 512-byte sectors).
export function mkGPTDisk(work, name, sizeMiB, parts) {
  const raw = join(work, `${name}.raw`);
  sparseFile(raw, sizeMiB * 2 ** 20);
  const args = ['-o'];
  parts.forEach((p, i) => {
    const n = i + 1;
    args.push(`-n=${n}:0:+${p.sizeMiB}M`, `-t=${n}:${p.type}`);
    if (p.name) args.push(`-c=${n}:${p.name}`);
  });
  run('sgdisk', [...args, raw]);
  const partitions = JSON.parse(run('sfdisk', ['-J', raw])).partitiontable.partitions;
  if (partitions.length !== parts.length) throw new Error(`sfdisk reports ${partitions.length} partitions, want ${parts.length}`);
  parts.forEach((p, i) => {
    if (p.img) ddInto(raw, p.img, partitions[i].start * 512);
  });
  return { raw, partitions };
}

// ddInto copies src into dst at byte offset off without truncating dst.
export function ddInto(dst, src, off) {
  run('dd', [`if=${src}`, `of=${dst}`, 'bs=64K', 'oflag=seek_bytes', `seek=${off}`, 'conv=notrunc,sparse', 'status=none']);
}

// toVHDX converts a raw disk with qemu-img (subformat dynamic or fixed).
export function toVHDX(raw, out, subformat = 'dynamic') {
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', `subformat=${subformat}`, raw, out]);
  return out;
}
