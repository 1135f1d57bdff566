package main

import (
	"errors"
	"syscall"
)

// Linux fallocate(2) modes.
const (
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
)

// punchHole makes [off, off+n) of f read as zeros, freeing its blocks where
// the file system can (ext4, xfs, btrfs, tmpfs), else by writing zeros.
func punchHole(f sparseFile, off, n int64, zero []byte) error {
	if fd, ok := f.(interface{ Fd() uintptr }); ok {
		err := syscall.Fallocate(int(fd.Fd()), fallocPunchHole|fallocKeepSize, off, n)
		if err == nil || !(errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS)) {
			return err
		}
	}
	return writeZeros(f, off, n, zero)
}
