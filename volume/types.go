package volume

// Names for partition types: GPT type GUIDs (UEFI 2.10 table 5-7 and the
// registries of the systems that define them) and MBR type bytes.

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"

	"github.com/diskfs/go-diskfs/partition/gpt"
)

var gptTypes = map[gpt.Type]string{
	gpt.EFISystemPartition:       "EFI System",
	gpt.MBRPartitionScheme:       "MBR partition scheme",
	gpt.BIOSBoot:                 "BIOS boot",
	gpt.MicrosoftReserved:        "Microsoft reserved",
	gpt.MicrosoftBasicData:       "Microsoft basic data",
	gpt.MicrosoftLDMMetadata:     "Microsoft LDM metadata",
	gpt.MicrosoftLDMData:         "Microsoft LDM data",
	gpt.MicrosoftWindowsRecovery: "Windows recovery environment",
	gpt.MicrosoftStorageSpaces:   "Microsoft Storage Spaces",
	gpt.LinuxSwap:                "Linux swap",
	gpt.LinuxFilesystem:          "Linux filesystem",
	gpt.LinuxServerData:          "Linux server data",
	gpt.LinuxRootX86:             "Linux root (x86)",
	gpt.LinuxRootX86_64:          "Linux root (x86-64)",
	gpt.LinuxRootArm:             "Linux root (ARM)",
	gpt.LinuxRootArm64:           "Linux root (ARM64)",
	gpt.LinuxReserved:            "Linux reserved",
	gpt.LinuxHome:                "Linux home",
	gpt.LinuxRAID:                "Linux RAID",
	gpt.LinuxExtendedBoot:        "Linux extended boot",
	gpt.LinuxLVM:                 "Linux LVM",
	gpt.LinuxDMCrypt:             "Linux dm-crypt",
	gpt.LinuxLUKS:                "Linux LUKS",
	gpt.FreeBSDData:              "FreeBSD data",
	gpt.FreeBSDBoot:              "FreeBSD boot",
	gpt.FreeBSDSwap:              "FreeBSD swap",
	gpt.FreeBSDUFS:               "FreeBSD UFS",
	gpt.FreeBSDZFS:               "FreeBSD ZFS",
	gpt.AppleHFS:                 "Apple HFS+",
	gpt.AppleAPFS:                "Apple APFS",
	gpt.AppleBoot:                "Apple boot",
	gpt.AppleCoreStorage:         "Apple Core Storage",
	gpt.SolarisUsrAndAppleZFS:    "Solaris /usr or Apple ZFS",
	gpt.ChromeOSKernel:           "ChromeOS kernel",
	gpt.ChromeOSRootFs:           "ChromeOS root",
	gpt.VMwareVMFS:               "VMware VMFS",
	gpt.CephOSD:                  "Ceph OSD",
}

func gptTypeName(guid string) string {
	if n, ok := gptTypes[gpt.Type(guid)]; ok {
		return n
	}
	return "unknown (" + guid + ")"
}

var mbrTypes = map[uint8]string{
	0x01: "FAT12", 0x04: "FAT16 <32M", 0x05: "Extended", 0x06: "FAT16", 0x07: "NTFS/exFAT/HPFS",
	0x0b: "W95 FAT32", 0x0c: "W95 FAT32 (LBA)", 0x0e: "W95 FAT16 (LBA)", 0x0f: "W95 Extended (LBA)",
	0x11: "Hidden FAT12", 0x14: "Hidden FAT16 <32M", 0x16: "Hidden FAT16", 0x17: "Hidden NTFS/exFAT",
	0x1b: "Hidden W95 FAT32", 0x1c: "Hidden W95 FAT32 (LBA)", 0x1e: "Hidden W95 FAT16 (LBA)",
	0x27: "Windows recovery", 0x42: "Windows dynamic (LDM)", 0x82: "Linux swap", 0x83: "Linux",
	0x85: "Linux extended", 0x8e: "Linux LVM", 0xa5: "FreeBSD", 0xa6: "OpenBSD", 0xa8: "Darwin UFS",
	0xa9: "NetBSD", 0xab: "Darwin boot", 0xaf: "HFS/HFS+", 0xee: "GPT protective", 0xef: "EFI System",
	0xfb: "VMware VMFS", 0xfc: "VMware swap", 0xfd: "Linux RAID autodetect",
}

func mbrTypeName(t uint8) string {
	if n, ok := mbrTypes[t]; ok {
		return n
	}
	return fmt.Sprintf("unknown (0x%02x)", t)
}

// utf16z decodes a zero-terminated UTF-16LE string.
func utf16z(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
