// Package core is a read-only reader for VHDX (Hyper-V virtual hard disk v2)
// files, written from the MS-VHDX specification.
//
// The entry point mirrors archive/zip: Open takes an io.ReaderAt and a size,
// so one reader serves an *os.File, a byte slice or a browser Blob. The
// returned *Image is itself an io.ReaderAt over the virtual disk.
//
// Everything read from the file is untrusted: every structure is checked
// (signatures, CRC-32C, ranges, overlaps) and damage is reported as a
// *FormatError naming the structure, its file offset and the field. No
// allocation is sized by a file field beyond a fixed cap, and nothing is
// ever written to the file: a dirty log is replayed into an in-memory
// overlay.
//
// Files by concept: header.go (file identifier and headers, MS-VHDX 2.2.1,
// 2.2.2), region.go (2.2.3), log.go (2.3), bat.go (2.4, 2.5), metadata.go
// (2.6), parent.go (2.6.2.6 and chains), plan.go and read.go (the virtual
// disk), verify.go (the structure report).
package core
