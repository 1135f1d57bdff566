package vhdbuilder

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vhdxview/vhdxview/internal/reftool"
)

// The builder's CHS calculation and checksum agree with qemu-img's for
// disks of many sizes: qemu rounds the size to its CHS geometry, which
// the spec's algorithm must then give back.
func TestGeometryAndChecksumLikeQemu(t *testing.T) {
	reftool.Require(t, "qemu-img")
	dir := t.TempDir()
	for _, size := range []int64{1 << 20, 10 << 20, 100 << 20, 1 << 30, 40 << 30, 127 << 30, 500 << 30} {
		p := filepath.Join(dir, fmt.Sprint(size)+".vhd")
		reftool.Run(t, "qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=dynamic", p, fmt.Sprint(size))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f := b[len(b)-FooterSize:]
		cur := int64(binary.BigEndian.Uint64(f[48:]))
		c, h, s := Geometry(cur / SectorSize)
		if got, want := fmt.Sprintf("%d/%d/%d", c, h, s), fmt.Sprintf("%d/%d/%d", binary.BigEndian.Uint16(f[56:]), f[58], f[59]); got != want {
			t.Errorf("%d bytes: CHS %s, qemu %s", size, got, want)
		}
		if got, want := Checksum(f, 64), binary.BigEndian.Uint32(f[64:]); got != want {
			t.Errorf("%d bytes: checksum 0x%08x, qemu 0x%08x", size, got, want)
		}
	}
}
