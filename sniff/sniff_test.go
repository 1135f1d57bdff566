package sniff

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/vhdxview/vhdxview/internal/reftool"
)

func identify(b []byte) Kind { return Identify(bytes.NewReader(b), int64(len(b))) }

func at(size int, off int, magic string) []byte {
	b := make([]byte, size)
	copy(b[off:], magic)
	return b
}

func TestSignatures(t *testing.T) {
	mbr := make([]byte, 1024)
	copy(mbr[446:], []byte{0x80, 1, 1, 0, 0x83, 1, 1, 1, 0x3f, 0, 0, 0, 0x40, 0, 0, 0})
	mbr[510], mbr[511] = 0x55, 0xaa
	badMBR := append([]byte(nil), mbr...)
	badMBR[446] = 0x33 // status byte neither 0 nor 0x80: boot code, not a table
	vhdFooter := at(4096, 4096-512, "conectix")
	for _, c := range []struct {
		name string
		b    []byte
		id   string
		disk bool
	}{
		{"empty", nil, "empty", false},
		{"vhdx", at(4096, 0, "vhdxfile"), "vhdx", true},
		{"vhd fixed (footer at the end)", vhdFooter, "vhd", true},
		{"vhd 511-byte footer", at(4096, 4096-511, "conectix"), "vhd", true},
		{"vhd dynamic (copy at 0)", at(4096, 0, "conectix"), "vhd", true},
		{"vmdk sparse", at(4096, 0, "KDMV"), "vmdk", false},
		{"vmdk descriptor", []byte("# Disk DescriptorFile\nversion=1\n"), "vmdk", false},
		{"qcow2", at(4096, 0, "QFI\xfb"), "qcow2", false},
		{"vdi", at(4096, 0x40, "\x7f\x10\xda\xbe"), "vdi", false},
		{"e01", at(4096, 0, "EVF\x09\x0d\x0a\xff\x00"), "e01", false},
		{"iso", at(0x9000, 0x8001, "CD001"), "iso", false},
		{"dmg", at(4096, 4096-512, "koly"), "dmg", false},
		{"gzip", []byte("\x1f\x8b\x08\x00rest"), "gzip", false},
		{"xz", at(64, 0, "\xfd7zXZ\x00"), "xz", false},
		{"zip", at(64, 0, "PK\x03\x04"), "zip", false},
		{"7z", at(64, 0, "7z\xbc\xaf\x27\x1c"), "7z", false},
		{"png", at(64, 0, "\x89PNG\r\n\x1a\n"), "png", false},
		{"jpeg", at(64, 0, "\xff\xd8\xff\xe0"), "jpeg", false},
		{"gpt", at(8192, 512, "EFI PART"), "gpt", true},
		{"gpt 4k", at(16384, 4096, "EFI PART"), "gpt", true},
		{"mbr", mbr, "mbr", true},
		{"boot code with 55aa but no table", badMBR, "unknown", false},
		{"ntfs", at(4096, 3, "NTFS    "), "ntfs", true},
		{"ext4", at(4096, 1080, "\x53\xef"), "ext", true},
		{"text", []byte("hello\nworld\n"), "text", false},
		{"zeros", make([]byte, 4096), "unknown", false},
	} {
		k := identify(c.b)
		if k.ID != c.id || k.Disk != c.disk || k.Name == "" {
			t.Errorf("%s: %+v, want %s (disk %v)", c.name, k, c.id, c.disk)
		}
	}
}

// Images made by qemu-img are named as what they are.
func TestQemuImages(t *testing.T) {
	reftool.Require(t, "qemu-img")
	dir := t.TempDir()
	for _, c := range []struct{ format, opts, id string }{
		{"vmdk", "", "vmdk"}, {"qcow2", "", "qcow2"}, {"vdi", "", "vdi"},
		{"vpc", "subformat=dynamic", "vhd"}, {"vpc", "subformat=fixed", "vhd"}, {"vhdx", "", "vhdx"},
	} {
		p := filepath.Join(dir, c.format+c.opts)
		args := []string{"create", "-q", "-f", c.format}
		if c.opts != "" {
			args = append(args, "-o", c.opts)
		}
		reftool.Run(t, "qemu-img", append(args, p, "8M")...)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if k := identify(b); k.ID != c.id {
			t.Errorf("qemu-img -f %s %s: %+v, want %s", c.format, c.opts, k, c.id)
		}
	}
}

func FuzzIdentify(f *testing.F) {
	f.Add([]byte("vhdxfile"))
	f.Add(at(1024, 512, "EFI PART"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k := identify(b)
		if k.ID == "" || k.Name == "" {
			t.Fatalf("no kind for %d bytes", len(b))
		}
	})
}
