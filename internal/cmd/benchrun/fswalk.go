package main

// The file-system walk row: hashing every file of an ext4 volume through
// the engine (volume.FS as io/fs: fs.WalkDir, then SHA-256 of each file
// opened by its path) against find -exec sha256sum on a kernel mount of
// the same volume. It needs root and loop devices (the kernel fills the
// volume and is the peer); without them the row is left out.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	iofs "io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vhdxview/vhdxview/volume"
)

func fsWalkRows(rounds int, quick bool, tmp string) []result {
	if os.Geteuid() != 0 {
		log("not root: leaving out the ext4 walk row (it needs loop mounts)")
		return nil
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		log("no loop devices: leaving out the ext4 walk row")
		return nil
	}
	files, big := 100000, 50000 // big of them in one directory
	if quick {
		files, big = 2000, 1000
	}
	img := filepath.Join(tmp, "walk.img")
	mnt := filepath.Join(tmp, "walk.mnt")
	check(os.Mkdir(mnt, 0o755))
	log("filling an ext4 volume with %d files (%d in one directory) through a loop mount", files, big)
	sh("truncate", "-s", fmt.Sprintf("%dM", files/100+64), img)
	sh("mkfs.ext4", "-q", "-F", "-N", fmt.Sprint(files+1000), img)
	sh("mount", "-o", "loop", img, mnt)
	r := rand.New(rand.NewPCG(7, 7))
	buf := make([]byte, 4096)
	for i := 0; i < files; i++ {
		dir := filepath.Join(mnt, "big")
		if i >= big {
			dir = filepath.Join(mnt, "tree", fmt.Sprintf("d%02d", i%50), fmt.Sprintf("e%d", i%7))
		}
		check(os.MkdirAll(dir, 0o755))
		n := r.IntN(len(buf))
		for k := range buf[:n] {
			buf[k] = byte(r.Uint32())
		}
		check(os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%06d.bin", i)), buf[:n], 0o644))
	}
	sh("umount", mnt)
	defer exec.Command("umount", mnt).Run()

	var engine, kernel string
	a := func() { engine = engineSums(img) }
	b := func() {
		sh("mount", "-o", "loop,ro", img, mnt)
		cmd := exec.Command("sh", "-c", "find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2")
		cmd.Dir = mnt
		out, err := cmd.Output()
		check(err)
		kernel = string(out)
		sh("umount", mnt)
	}
	res := pair(rounds, nil, a, b)
	if engine != kernel {
		fail("the engine's and sha256sum's hashes of the ext4 walk differ")
	}
	res.Name = fmt.Sprintf("SHA-256 of every file of an ext4 volume (%d files, %d in one directory)", files, big)
	res.A, res.B, res.Target = "volume.FS: fs.WalkDir + open by path", "kernel mount: find -exec sha256sum", 1.5
	res.Note = "the kernel side includes its mount and unmount"
	return []result{res}
}

// engineSums walks the volume in img through the engine and returns
// "sum  ./path" lines sorted by path, as sha256sum prints them.
func engineSums(img string) string {
	f, err := os.Open(img)
	check(err)
	defer f.Close()
	st, err := f.Stat()
	check(err)
	fsys, err := volume.OpenFS(f, 0, st.Size(), 512)
	check(err)
	var lines []string
	h := sha256.New()
	buf := make([]byte, 1<<20)
	check(iofs.WalkDir(fsys, ".", func(p string, d iofs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		file, err := fsys.Open(p)
		if err != nil {
			return err
		}
		h.Reset()
		_, err = io.CopyBuffer(h, file, buf)
		file.Close()
		lines = append(lines, hex.EncodeToString(h.Sum(nil))+"  ./"+p)
		return err
	}))
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	return strings.Join(lines, "\n") + "\n"
}
