// Package disk opens "a disk" whatever its format: a VHDX file or chain
// (package core), a VHD file or chain (package vhd), or a raw image, a
// file that is its own virtual disk (a dd image, a partition dump).
//
// OpenFiles names each file by its signature (package sniff) and hands
// VHDX files to core and VHD files to vhd, each set with its own parent
// resolution: VHDX and VHD files never chain with each other. A file whose
// first sectors hold a partition table (MBR, GPT) or a file system opens
// as a raw disk directly; any other file opens as raw only when the caller
// asks (Options.Raw), and is otherwise refused with a *KindError naming
// what it is ("a VMDK image").
//
// A *Disk is the format's image behind one small interface (Image: ReadAt,
// Size, Plan, Verify, File), which the CLI, the worker and every reader of
// the virtual disk use as they are, plus the few format-aware facts a
// caller renders: Format, Facts per chain level, Info (the format's own
// JSON-ready description, with a "format" field) and block states for
// the allocation map.
package disk
