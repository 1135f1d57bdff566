#!/usr/bin/env bash
# Writes testdata/fs.vhdx.gz and testdata/fs.json: a 16 MiB dynamic VHDX
# (qemu-img, 1 MiB blocks) holding a GPT disk (sgdisk) with an ext4
# partition (mkfs.ext4 -d) and an NTFS one (mkntfs + ntfscp, with an
# alternate data stream). fs.json lists every source file with its size and
# sha256, so tests compare what the engine reads with the files themselves,
# not with another reader. The wasm protocol tests (wasm/volume_test.go) use
# it; they run under Node, where mkfs cannot be called. File contents are
# compressible text so that the committed file stays small.
#
#   bash testdata/make-fs.sh      (needs e2fsprogs, ntfs-3g, gdisk, qemu-utils)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

lines() { seq -f "$1 line %g" 1 "$2"; } # distinctive, compressible text

mkdir -p src/ext/docs src/ext/big src/ntfs
printf 'hello from ext4\n' >src/ext/hello.txt
lines report 6000 >src/ext/docs/report.txt  # ~100 KiB
truncate -s 2M src/ext/big/sparse.bin       # a hole, then 4 bytes
printf 'tail' >>src/ext/big/sparse.bin
for i in $(seq 1 40); do printf 'file %d\n' "$i" >"src/ext/docs/n$i.txt"; done
lines data 3000 >src/ntfs/data.txt     # non-resident
printf 'small ntfs text\n' >src/ntfs/note.txt
printf 'stream bytes\n' >stream.txt

mkfs.ext4 -q -F -L EXTVOL -d src/ext ext.img 6M
truncate -s 4M ntfs.img
mkntfs -F -Q -q -L NTFSVOL ntfs.img >/dev/null 2>&1
ntfscp -f -q ntfs.img src/ntfs/data.txt /data.txt
ntfscp -f -q ntfs.img src/ntfs/note.txt /note.txt
ntfscp -f -q -N extra ntfs.img stream.txt /note.txt

truncate -s 16M disk.raw
sgdisk -o -n=1:0:+6M -t=1:8300 -c=1:linux -n=2:0:+4M -t=2:0700 -c=2:windows disk.raw >/dev/null
dd if=ext.img of=disk.raw bs=64K oflag=seek_bytes seek=$((2048 * 512)) conv=notrunc,sparse status=none
dd if=ntfs.img of=disk.raw bs=64K oflag=seek_bytes seek=$((14336 * 512)) conv=notrunc,sparse status=none
qemu-img convert -f raw -O vhdx -o subformat=dynamic,block_size=1M disk.raw fs.vhdx

entry() { # partition path file
  printf '    {"partition": %d, "path": "%s", "size": %d, "sha256": "%s"}' \
    "$1" "$2" "$(stat -c %s "$3")" "$(sha256sum "$3" | cut -d' ' -f1)"
}
{
  echo '{'
  echo '  "partitions": [{"index": 1, "first_lba": 2048, "last_lba": 14335, "file_system": "ext4", "label": "EXTVOL"},'
  echo '                 {"index": 2, "first_lba": 14336, "last_lba": 22527, "file_system": "ntfs", "label": "NTFSVOL"}],'
  echo '  "files": ['
  sep=''
  for f in $(cd src/ext && find . -type f | sort); do
    printf '%s' "$sep"; entry 1 "${f#.}" "src/ext/$f"; sep=$',\n'
  done
  for f in $(cd src/ntfs && find . -type f | sort); do
    printf '%s' "$sep"; entry 2 "${f#.}" "src/ntfs/$f"
  done
  printf '%s' "$sep"; entry 2 "/note.txt:extra" stream.txt
  printf '\n  ]\n}\n'
} >"$here/fs.json"
gzip -9 -n -c fs.vhdx >"$here/fs.vhdx.gz"
echo "testdata/fs.vhdx.gz: $(stat -c %s "$here/fs.vhdx.gz") bytes"
