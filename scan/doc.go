// Package scan hashes and searches a virtual disk, or any range of one, in
// one pass with bounded memory: the disk's plan (core.Run) says where its
// bytes are, so zero runs of a sparse disk are hashed from a zero buffer
// and skipped by a search without being read.
//
// A Source is anything with ReadAt, Size and Plan: *core.Image (VHDX),
// *vhd.Image (VHD), a raw disk, or a file of a volume (File). Hash and
// Search take a context and stop with its error promptly when it is
// cancelled; they report progress in bytes of the range.
package scan
