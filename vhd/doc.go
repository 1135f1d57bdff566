// Package vhd is a read-only reader for VHD (v1) files, the "Virtual PC"
// format that Virtual Server and Hyper-V generation 1 also use, written
// from Microsoft's Virtual Hard Disk Image Format Specification 1.0.
//
// It has the shape of the VHDX engine in package core: Open takes an
// io.ReaderAt and a size, the returned *Image is an io.ReaderAt over the
// virtual disk, Plan says where each byte comes from as core.Run values,
// Info lists the file's structures as core.Structure values and Verify
// returns a *core.Report. OpenFiles opens differencing chains given in any
// order, matching a child's Parent Unique ID with its parent's Unique Id.
//
// Everything read from the file is untrusted: checksums, offsets, sizes and
// counts are checked before use, damage is a *FormatError naming the
// structure, its file offset and the field, no allocation is sized by a
// file field beyond a fixed cap, and nothing is ever written to the file.
//
// Files by concept: footer.go ("Hard Disk Footer Format"), header.go
// ("Dynamic Disk Header Format"), locator.go (parent locator entries),
// bat.go ("Block Allocation Table (BAT) and Data Blocks"), chain.go
// (differencing chains), plan.go and read.go (the virtual disk), verify.go
// and info.go (reports).
package vhd
