package core

// Images made by other software: qemu-img creates dynamic and fixed VHDX
// files with every block size, qemu-io writes patterns, zeroes and discards
// at scattered offsets, and core must read the same virtual disk as
// `qemu-img convert -O raw` and as libvhdi (pyvhdi). libvhdi also checks
// builder images with 4096-byte logical sectors, which qemu 7.2 cannot
// read.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
)

// qemuOps returns qemu-io commands that write, zero and discard at
// scattered, partly unaligned offsets of a disk of the given size.
func qemuOps(seed uint64, size, blockSize int64) []string {
	rng := rand.New(rand.NewPCG(seed, 7))
	var ops []string
	for i := range 10 {
		off := rng.Int64N(size/512) * 512
		n := min(int64(rng.IntN(int(min(blockSize, 2*mB)))+512)&^511, size-off)
		if n <= 0 {
			continue
		}
		switch {
		case i%7 == 5:
			ops = append(ops, fmt.Sprintf("write -z %d %d", off, n))
		case i%7 == 6:
			ops = append(ops, fmt.Sprintf("discard %d %d", off, n))
		default:
			ops = append(ops, fmt.Sprintf("write -P 0x%02x %d %d", 0x10+i, off, n))
		}
	}
	// The first and last sectors, a block boundary, and a whole block.
	ops = append(ops,
		"write -P 0xa1 0 512",
		fmt.Sprintf("write -P 0xa2 %d 512", size-512),
		fmt.Sprintf("write -P 0xa3 %d 1024", blockSize-512),
		fmt.Sprintf("write -P 0xa4 %d %d", min(2*blockSize, size-blockSize), min(blockSize, 8*mB)),
		fmt.Sprintf("write -z %d 4096", blockSize),
	)
	if 4*blockSize <= size { // a whole block of zeros (qemu may mark it ZERO)
		ops = append(ops, fmt.Sprintf("write -P 0xa5 %d %d", 3*blockSize, blockSize), fmt.Sprintf("write -z %d %d", 3*blockSize, blockSize))
	}
	return ops
}

type qemuImage struct {
	name      string
	subformat string
	blockSize int64
	size      int64
	opts      string // extra -o options
}

func qemuImages() []qemuImage {
	var out []qemuImage
	for _, sub := range []string{"dynamic", "fixed"} {
		for _, c := range []struct{ bs, size int64 }{
			{1 * mB, 24*mB + 512},
			{8 * mB, 40 * mB},
			{32 * mB, 100*mB + 4096},
			{256 * mB, 300 * mB},
		} {
			out = append(out, qemuImage{fmt.Sprintf("%s-%dM", sub, c.bs/mB), sub, c.bs, c.size, ""})
		}
	}
	// New dynamic blocks are NOT_PRESENT instead of ZERO.
	return append(out, qemuImage{"dynamic-1M-not-present", "dynamic", mB, 24*mB + 512, ",block_state_zero=off"})
}

// makeQemuImage creates and writes the image and returns its path.
func makeQemuImage(t *testing.T, dir string, q qemuImage, seed uint64) string {
	t.Helper()
	path := dir + "/" + q.name + ".vhdx"
	run(t, "qemu-img", "create", "-q", "-f", "vhdx", "-o",
		fmt.Sprintf("subformat=%s,block_size=%d%s", q.subformat, q.blockSize, q.opts), path, fmt.Sprint(q.size))
	args := []string{"-f", "vhdx"}
	for _, op := range qemuOps(seed, q.size, q.blockSize) {
		args = append(args, "-c", op)
	}
	out := run(t, "qemu-io", append(args, path)...)
	if strings.Contains(out, "error") || strings.Contains(out, "failed") {
		t.Fatalf("qemu-io: %s", out)
	}
	return path
}

func TestQemuImages(t *testing.T) {
	requireTool(t, "qemu-img")
	requireTool(t, "qemu-io")
	for i, q := range qemuImages() {
		t.Run(q.name, func(t *testing.T) {
			dir := t.TempDir()
			path := makeQemuImage(t, dir, q, uint64(i))
			img := mustOpen(t, path, nil)
			if img.Size() != q.size || img.geom.BlockSize != q.blockSize {
				t.Fatalf("size %d block %d, want %d %d", img.Size(), img.geom.BlockSize, q.size, q.blockSize)
			}
			if img.Type() != q.subformat {
				t.Errorf("Type() = %s, want %s", img.Type(), q.subformat)
			}
			rep := img.Verify(t.Context(), nil)
			if rep.Errors > 0 {
				t.Errorf("Verify: %d errors: %+v", rep.Errors, rep.Checks)
			}
			t.Logf("block states: %v", rep.BAT[0].States)
			raw, rawSize := rawFile(t, qemuRaw(t, path))
			if rawSize != img.Size() {
				t.Fatalf("qemu raw is %d bytes, want %d", rawSize, img.Size())
			}
			compareDisks(t, "core vs qemu-img convert", img, raw, img.Size())
			checkPlan(t, img, 0, img.Size())
			requireTool(t, "pyvhdi")
			lraw, lsize := rawFile(t, pyvhdiRaw(t, path))
			if lsize != img.Size() {
				t.Fatalf("libvhdi raw is %d bytes", lsize)
			}
			compareDisks(t, "core vs libvhdi", img, lraw, img.Size())
		})
	}
}

// TestLibvhdi4096 reads builder images with 4096-byte logical sectors with
// libvhdi, core and the builder's expectation.
func TestLibvhdi4096(t *testing.T) {
	requireTool(t, "pyvhdi")
	for _, c := range []readCase{
		{"dynamic-4096", &builder.Image{VirtualSize: 10*mB + 4096, LogicalSectorSize: 4096, PhysicalSectorSize: 4096,
			Blocks: map[uint64]builder.Block{0: fullBlock(fillIdx(1)), 3: fullBlock(fillByte(0x33)), 10: fullBlock(fillIdx(2)),
				4: {State: builder.PayloadZero}, 5: {State: builder.PayloadUnmapped, Fill: fillByte(0xEE)}}}},
		{"block-32MiB-4096", &builder.Image{VirtualSize: 70 * mB, BlockSize: 32 * mB, LogicalSectorSize: 4096,
			Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(3)), 2: fullBlock(fillIdx(4))}}},
		{"fixed-4096", &builder.Image{VirtualSize: 5 * mB, LogicalSectorSize: 4096, Fixed: true,
			Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(5))}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, _ := writeImage(t, t.TempDir(), c.name, c.im)
			img := mustOpen(t, path, nil)
			exp := expectedDisk(t, c.im, nil)
			compareDisks(t, "core vs builder", img, exp, exp.Size())
			lraw, lsize := rawFile(t, pyvhdiRaw(t, path))
			if lsize != exp.Size() {
				t.Fatalf("libvhdi raw is %d bytes, want %d", lsize, exp.Size())
			}
			compareDisks(t, "core vs libvhdi", img, lraw, exp.Size())
		})
	}
}
