//go:build !linux

package main

// punchHole makes [off, off+n) of f read as zeros by writing them (no
// portable hole-punching call).
func punchHole(f sparseFile, off, n int64, zero []byte) error { return writeZeros(f, off, n, zero) }
