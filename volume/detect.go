package volume

// File system detection by signature, before any parser runs, so that an
// unsupported or damaged volume can be named and still offered raw.

import (
	"encoding/binary"
	"io"
)

// Detect names the file system at [off, off+size) of r by its signatures:
// "ntfs", "fat12", "fat16", "fat32", "ext2", "ext3", "ext4" (which OpenFS
// reads) or "exfat", "refs", "bitlocker", "xfs", "btrfs", "luks", "lvm2",
// "swap", "iso9660", "hfs+", "apfs", "squashfs" (which it does not), or ""
// when nothing is recognised.
func Detect(r io.ReaderAt, off, size int64) string {
	if size < 1024 {
		return ""
	}
	b := make([]byte, min(size, 0x10100))
	n, _ := r.ReadAt(b, off)
	b = b[:n]
	if len(b) >= 512 {
		if fs := detectBoot(b[:512]); fs != "" {
			return fs
		}
	}
	at := func(o int, s string) bool { return len(b) >= o+len(s) && string(b[o:o+len(s)]) == s }
	switch {
	case at(0x438, "\x53\xef"):
		return extFlavour(b[0x400:])
	case at(0, "XFSB"):
		return "xfs"
	case at(0x10040, "_BHRfS_M"):
		return "btrfs"
	case at(0, "LUKS\xba\xbe"):
		return "luks"
	case at(0x218, "LVM2 001"):
		return "lvm2"
	case at(4096-10, "SWAPSPACE2"), at(4096-10, "SWAP-SPACE"):
		return "swap"
	case at(0x8001, "CD001"):
		return "iso9660"
	case at(0x400, "H+"), at(0x400, "HX"):
		return "hfs+"
	case at(32, "NXSB"):
		return "apfs"
	case at(0, "hsqs"):
		return "squashfs"
	}
	return ""
}

// fsNames are the file systems' names for people, by Detect's kind.
var fsNames = map[string]string{
	"ntfs": "NTFS", "fat12": "FAT12", "fat16": "FAT16", "fat32": "FAT32",
	"ext2": "ext2", "ext3": "ext3", "ext4": "ext4", "exfat": "exFAT", "refs": "ReFS",
	"bitlocker": "BitLocker (encrypted)", "xfs": "XFS", "btrfs": "Btrfs", "luks": "LUKS (encrypted)",
	"lvm2": "LVM2 physical volume", "swap": "Linux swap", "iso9660": "ISO 9660", "hfs+": "HFS+",
	"apfs": "APFS", "squashfs": "SquashFS",
}

// FSName names a file system kind of Detect for people ("ntfs" → "NTFS");
// an unknown kind is returned as it is, and "" stays "".
func FSName(kind string) string {
	if n, ok := fsNames[kind]; ok {
		return n
	}
	return kind
}

// detectBoot recognises a volume boot sector (the first 512 bytes).
func detectBoot(b []byte) string {
	at := func(o int, s string) bool { return string(b[o:o+len(s)]) == s }
	switch {
	case at(3, "NTFS    "):
		return "ntfs"
	case at(3, "EXFAT   "):
		return "exfat"
	case at(3, "-FVE-FS-"):
		return "bitlocker"
	case at(3, "ReFS\x00"):
		return "refs"
	}
	if bpb, err := parseBPB(b); err == nil {
		return bpb.kind
	}
	return ""
}

// extFlavour tells ext2, ext3 and ext4 apart by their feature flags.
func extFlavour(sb []byte) string {
	compat := binary.LittleEndian.Uint32(sb[0x5c:])
	incompat := binary.LittleEndian.Uint32(sb[0x60:])
	roCompat := binary.LittleEndian.Uint32(sb[0x64:])
	// Features ext3 never had: extents, 64bit, flex_bg, ea_inode,
	// inline_data, encrypt; huge_file, dir_nlink, extra_isize, metadata_csum.
	const ext4Incompat = 0x40 | 0x80 | 0x200 | 0x400 | 0x8000 | 0x10000
	const ext4RoCompat = 0x8 | 0x20 | 0x40 | 0x400
	switch {
	case incompat&ext4Incompat != 0 || roCompat&ext4RoCompat != 0:
		return "ext4"
	case compat&0x4 != 0: // has_journal
		return "ext3"
	}
	return "ext2"
}

// Supported reports whether OpenFS reads the named file system.
func Supported(fs string) bool {
	switch fs {
	case "ntfs", "fat12", "fat16", "fat32", "ext2", "ext3", "ext4":
		return true
	}
	return false
}
