package volume

import "testing"

// TestFSName: every kind Detect can give has a name for people (the page
// shows it and keeps no list of its own), and an unknown kind passes.
func TestFSName(t *testing.T) {
	for _, kind := range []string{"ntfs", "fat12", "fat16", "fat32", "ext2", "ext3", "ext4", "exfat", "refs",
		"bitlocker", "xfs", "btrfs", "luks", "lvm2", "swap", "iso9660", "hfs+", "apfs", "squashfs"} {
		if n, ok := fsNames[kind]; !ok || n == "" {
			t.Errorf("FSName(%q) has no name", kind)
		}
	}
	if FSName("hfs+") != "HFS+" || FSName("lvm2") != "LVM2 physical volume" || FSName("zfs") != "zfs" || FSName("") != "" {
		t.Errorf("FSName: %q %q %q %q", FSName("hfs+"), FSName("lvm2"), FSName("zfs"), FSName(""))
	}
}
