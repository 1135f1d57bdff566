// Package sniff names what a file is from its signature, so that a file
// that is not a VHDX is called what it is (a VMDK, a qcow2, a PNG) rather
// than a damaged VHDX. It reads at most a few KiB at fixed offsets and
// trusts nothing it reads: it only compares bytes.
package sniff

import (
	"bytes"
	"encoding/binary"
	"io"
)

// Kind is what a file was recognised as.
type Kind struct {
	ID   string `json:"id"`   // "vhdx", "vhd", "vmdk", "qcow2", "png", "raw-disk", "empty", "unknown", ...
	Name string `json:"name"` // for people: "a VMDK image (VMware)"
	// Disk is true for kinds vhdxview reads as a disk: VHDX, VHD, and raw
	// disks and volumes (a partition table or a file system at the start).
	Disk bool `json:"disk"`
}

type signature struct {
	id, name string
	disk     bool
	off      int64 // from the start; negative: from the end
	magic    string
}

// Signatures, most specific first. Offsets from MS-VHDX 2.2.1, the VHD
// spec (footer at the end, or its copy at 0), and each format's own
// documentation of its magic number.
var signatures = []signature{
	{"vhdx", "a VHDX image", true, 0, "vhdxfile"},
	{"vhd", "a VHD image (Virtual PC / Hyper-V, version 1)", true, 0, "conectix"},
	{"vhd", "a VHD image (Virtual PC / Hyper-V, version 1)", true, -512, "conectix"},
	{"vhd", "a VHD image (Virtual PC / Hyper-V, version 1)", true, -511, "conectix"},
	{"vmdk", "a VMDK image (VMware)", false, 0, "KDMV"},
	{"vmdk", "a VMDK descriptor (VMware)", false, 0, "# Disk DescriptorFile"},
	{"vmdk", "a VMDK image (VMware ESX)", false, 0, "COWD"},
	{"qcow2", "a QCOW image (QEMU)", false, 0, "QFI\xfb"},
	{"vdi", "a VDI image (VirtualBox)", false, 0x40, "\x7f\x10\xda\xbe"},
	{"e01", "an EnCase evidence file (E01/EWF)", false, 0, "EVF\x09\x0d\x0a\xff\x00"},
	{"ex01", "an EnCase evidence file (Ex01/EWF2)", false, 0, "EVF2\x0d\x0a\x81\x00"},
	{"dmg", "an Apple disk image (DMG)", false, -512, "koly"},
	{"iso", "an ISO 9660 CD/DVD image", false, 0x8001, "CD001"},
	{"gzip", "a gzip-compressed file", false, 0, "\x1f\x8b"},
	{"xz", "an xz-compressed file", false, 0, "\xfd7zXZ\x00"},
	{"zstd", "a Zstandard-compressed file", false, 0, "\x28\xb5\x2f\xfd"},
	{"bzip2", "a bzip2-compressed file", false, 0, "BZh"},
	{"zip", "a ZIP archive", false, 0, "PK\x03\x04"},
	{"7z", "a 7-Zip archive", false, 0, "7z\xbc\xaf\x27\x1c"},
	{"rar", "a RAR archive", false, 0, "Rar!\x1a\x07"},
	{"png", "a PNG image", false, 0, "\x89PNG\r\n\x1a\n"},
	{"jpeg", "a JPEG image", false, 0, "\xff\xd8\xff"},
	{"gif", "a GIF image", false, 0, "GIF8"},
	{"pdf", "a PDF document", false, 0, "%PDF-"},
	{"vmcx", "a Hyper-V virtual machine configuration (.vmcx)", false, 0, "\xa4\x02\x00\x00"},
	{"gpt", "a raw disk image (GPT partition table)", true, 512, "EFI PART"},
	{"gpt", "a raw disk image (GPT partition table, 4 KiB sectors)", true, 4096, "EFI PART"},
	{"ntfs", "a raw NTFS volume", true, 3, "NTFS    "},
	{"exfat", "a raw exFAT volume", true, 3, "EXFAT   "},
	{"fat", "a raw FAT volume", true, 0x36, "FAT1"},
	{"fat", "a raw FAT32 volume", true, 0x52, "FAT32   "},
	{"ext", "a raw ext2/3/4 volume", true, 1080, "\x53\xef"},
}

// Identify names the file r of the given size.
func Identify(r io.ReaderAt, size int64) Kind {
	if size == 0 {
		return Kind{ID: "empty", Name: "an empty file"}
	}
	head := read(r, size, 0, 0x8010)
	tail := read(r, size, max(size-512, 0), 512)
	at := func(off int64, n int) []byte {
		if off < 0 { // from the end: tail holds the last 512 bytes
			p := int64(len(tail)) + off
			if len(tail) < 512 || p < 0 || p+int64(n) > int64(len(tail)) {
				return nil
			}
			return tail[p : p+int64(n)]
		}
		if off+int64(n) > int64(len(head)) {
			return nil
		}
		return head[off : off+int64(n)]
	}
	for _, s := range signatures {
		if b := at(s.off, len(s.magic)); b != nil && string(b) == s.magic {
			return Kind{ID: s.id, Name: s.name, Disk: s.disk}
		}
	}
	// An MBR: the boot signature and at least one plausible entry.
	if len(head) >= 512 && head[510] == 0x55 && head[511] == 0xaa && mbrPlausible(head[446:510]) {
		return Kind{ID: "mbr", Name: "a raw disk image (MBR partition table)", Disk: true}
	}
	if isText(head) {
		return Kind{ID: "text", Name: "a text file"}
	}
	return Kind{ID: "unknown", Name: "a file of unknown kind"}
}

func read(r io.ReaderAt, size, off int64, n int) []byte {
	n = int(min(int64(n), size-off))
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	k, _ := r.ReadAt(b, off)
	return b[:k]
}

// mbrPlausible: every used entry has status 0x00 or 0x80 and a non-zero
// start, and at least one is used.
func mbrPlausible(entries []byte) bool {
	used := 0
	for i := 0; i < 4; i++ {
		e := entries[i*16 : i*16+16]
		if bytes.Equal(e, make([]byte, 16)) {
			continue
		}
		if (e[0] != 0 && e[0] != 0x80) || e[4] == 0 || binary.LittleEndian.Uint32(e[12:]) == 0 {
			return false
		}
		used++
	}
	return used > 0
}

func isText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b[:min(len(b), 4096)] {
		if c < 0x09 || (c > 0x0d && c < 0x20 && c != 0x1b) {
			return false
		}
	}
	return true
}
