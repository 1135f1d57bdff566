#!/usr/bin/env bash
# make-sample.sh writes web/samples/sample.vhdx.gz, the image behind the
# page's "Try a sample" button: a 16 MiB dynamic VHDX (qemu-img, 1 MiB
# blocks) holding a GPT with one partition and an ext4 file system with a
# few small files. The VHDX is 1 MiB-aligned and so about 11 MiB, nearly all
# zeros; gzip brings it to ~15 KB, and the page inflates it with
# DecompressionStream. The result is committed; run this only to change it.
# Needs qemu-img, sgdisk and mkfs.ext4 (Debian qemu-utils, gdisk, e2fsprogs).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sectors=$((16 * 2048))          # 16 MiB of 512-byte sectors
first=2048                      # partition 1 starts at 1 MiB
last=$((sectors - 34))          # the backup GPT takes the last 33 sectors

truncate -s $((sectors * 512)) "$tmp/disk.raw"
sgdisk -o -n 1:$first:$last -t 1:8300 -c 1:"sample data" \
  -u 1:4f68bce3-e8cd-4db1-96e7-fbcaf984b709 -U 0b3a3f2e-5d6c-4b8a-9e21-7c4d2a1f0e55 \
  "$tmp/disk.raw" >/dev/null

mkdir -p "$tmp/root/notes"
cat > "$tmp/root/README.txt" <<'TXT'
Hello from the vhdxview sample disk.

This 16 MiB virtual disk holds a GPT partition table (LBA 1) with one
partition at LBA 2048 (1 MiB), formatted as ext4 with the label "sample".
Look for the ext4 superblock magic 53 EF at byte 0x100438 of the disk.
TXT
printf 'VHDX stores a disk in blocks; this file lives in one of them.\n' > "$tmp/root/notes/blocks.txt"
# ~3 MiB of text so that several blocks hold data.
for i in $(seq 1 40000); do printf 'line %06d of a file that spans several VHDX payload blocks\n' "$i"; done > "$tmp/root/notes/long.txt"

uuid=6c1d4b1e-7b0a-4c8e-9a54-2f3d1c0a5e77
truncate -s $(((last - first + 1) * 512)) "$tmp/part.raw"
E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -L sample -U $uuid \
  -E root_owner=0:0,hash_seed=$uuid -O ^has_journal -d "$tmp/root" "$tmp/part.raw"
dd if="$tmp/part.raw" of="$tmp/disk.raw" bs=512 seek=$first conv=notrunc status=none

qemu-img convert -f raw -O vhdx -o subformat=dynamic,block_size=1M "$tmp/disk.raw" "$tmp/sample.vhdx"
mkdir -p samples
gzip -9 -n -c "$tmp/sample.vhdx" > samples/sample.vhdx.gz
ls -l samples/sample.vhdx.gz
