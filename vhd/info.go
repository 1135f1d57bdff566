package vhd

// Info: what an opened image is, and its structures as one list in
// core's Structure shape, which `vhdx info` and the page render as they
// are.

import (
	"fmt"
	"strings"

	"github.com/vhdxview/vhdxview/core"
)

// Info is a JSON-ready description of an opened image.
type Info struct {
	Name         string `json:"name,omitempty"`
	Format       string `json:"format"` // always "vhd"
	Type         string `json:"type"`   // fixed | dynamic | differencing
	VirtualSize  int64  `json:"virtual_size"`
	OriginalSize int64  `json:"original_size"`
	BlockSize    int64  `json:"block_size"` // 0 for a fixed disk
	// PayloadBlocks is the number of blocks (BAT entries) the disk uses,
	// 0 for a fixed disk; named as core.Info's, so block maps read both.
	PayloadBlocks int64  `json:"payload_blocks"`
	FileSize      int64  `json:"file_size"`
	UniqueID      string `json:"unique_id"`
	// Creator is the application, its version and the host OS in one
	// line, e.g. "qemu 5.3 (Windows)".
	Creator            string   `json:"creator"`
	CreatorApplication string   `json:"creator_application"`
	CreatorVersion     string   `json:"creator_version"`
	CreatorHostOS      string   `json:"creator_host_os"`
	Created            string   `json:"created"` // the footer's Time Stamp, RFC 3339 UTC
	Geometry           Geometry `json:"geometry"`
	SavedState         bool     `json:"saved_state"`
	Temporary          bool     `json:"temporary"`
	// Footer says which footer copy is in use and why.
	Footer string `json:"footer"`
	// Differencing disks: the parent's Unique Id, its name and time stamp
	// as the child records them.
	ParentID   string `json:"parent_id,omitempty"`
	ParentName string `json:"parent_name,omitempty"`
	ParentTime string `json:"parent_time,omitempty"`
	// Chain lists the image and its attached parents, nearest first.
	Chain []ChainLevel `json:"chain"`
	// MissingParent says which parent is not attached, when the chain was
	// opened partially.
	MissingParent *ChainError `json:"missing_parent,omitempty"`
	// Structures are the file's structures in file order.
	Structures []core.Structure `json:"structures"`
}

// Geometry is the footer's cylinder/head/sector geometry, and the size it
// gives (which the spec's rounding makes smaller than Current Size).
type Geometry struct {
	Cylinders       int   `json:"cylinders"`
	Heads           int   `json:"heads"`
	SectorsPerTrack int   `json:"sectors_per_track"`
	Size            int64 `json:"size"`
}

// ChainLevel is one file of a differencing chain; level 0 is the image.
type ChainLevel struct {
	Level    int    `json:"level"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	FileSize int64  `json:"file_size"`
	UniqueID string `json:"unique_id"`
}

// Info describes the image.
func (img *Image) Info() *Info {
	f := img.f
	in := &Info{
		Name: img.name, Format: "vhd", Type: img.Type(), VirtualSize: img.Size(), OriginalSize: int64(f.OriginalSize),
		BlockSize: img.blockSize, PayloadBlocks: img.blocks, FileSize: img.fileSize, UniqueID: f.UniqueID.String(),
		CreatorApplication: fourCC(f.CreatorApp), CreatorVersion: version(f.CreatorVersion), CreatorHostOS: hostOS(f.CreatorHostOS),
		Created: stamp(f.TimeStamp),
		Geometry: Geometry{Cylinders: int(f.Cylinders), Heads: int(f.Heads), SectorsPerTrack: int(f.SectorsPerTrack),
			Size: int64(f.Cylinders) * int64(f.Heads) * int64(f.SectorsPerTrack) * sectorSize},
		SavedState: f.SavedState != 0, Temporary: f.Features&featureTemporary != 0,
		Footer: img.footerSentence(), MissingParent: img.missing,
	}
	in.Creator = fmt.Sprintf("%s %s (%s)", in.CreatorApplication, in.CreatorVersion, in.CreatorHostOS)
	if img.differencing() {
		in.ParentID, in.ParentName, in.ParentTime = img.hdr.ParentID.String(), img.hdr.ParentName, stamp(img.hdr.ParentTimeStamp)
	}
	for _, lvl := range img.Chain() {
		in.Chain = append(in.Chain, ChainLevel{Level: lvl.level, Name: lvl.name, Type: lvl.Type(), FileSize: lvl.fileSize, UniqueID: lvl.identity().String()})
	}
	if img.hdr == nil {
		in.Structures = append(in.Structures, core.Structure{ID: "data", Name: "disk data", Offset: 0, Length: img.Size(), Status: core.StatusOK,
			Note: "a fixed disk: the virtual disk is the file's first bytes"})
	} else {
		in.Structures = append(in.Structures, img.footerStructure(img.copy0, "footer-copy"), img.headerStructure(), img.batStructure())
	}
	in.Structures = append(in.Structures, img.footerStructure(img.end, "footer"))
	return in
}

func (img *Image) footerSentence() string {
	u := img.using
	switch {
	case u == img.copy0 && !img.end.Present:
		return "the copy at offset 0: there is no footer at the end of the file"
	case u == img.copy0:
		return "the copy at offset 0: the footer at the end is damaged (" + detail(img.end.Err) + ")"
	case u.Size == oldFooterSize:
		return "the 511-byte footer at the end (Virtual PC before 2004)"
	}
	return "the footer at the end"
}

func hexField(name string, off, n int64, v uint64) core.Field {
	return core.Field{Name: name, Value: fmt.Sprintf("0x%x", v), Offset: off, Length: n}
}

func numField(name string, off, n int64, v uint64) core.Field {
	return core.Field{Name: name, Value: fmt.Sprint(v), Offset: off, Length: n}
}

func checksumField(off int64, stored, computed uint32) core.Field {
	v := fmt.Sprintf("0x%08x (matches)", stored)
	if stored != computed {
		v = fmt.Sprintf("0x%08x stored, 0x%08x computed", stored, computed)
	}
	return core.Field{Name: "Checksum", Value: v, Offset: off, Length: 4}
}

func (img *Image) footerStructure(fc *footerCopy, id string) core.Structure {
	name := "footer"
	if id == "footer-copy" {
		name = "footer copy"
	}
	s := core.Structure{ID: id, Name: name, Offset: fc.Offset, Length: int64(fc.Size), Status: core.StatusOK}
	if fc == img.using {
		s.Tags = append(s.Tags, "in use")
	}
	if fc.Size == oldFooterSize {
		s.Tags = append(s.Tags, "511 bytes")
	}
	if !fc.Present {
		s.Status, s.Tags, s.Note = core.StatusWarning, append(s.Tags, "missing"), detail(fc.Err)
		return s
	}
	if fc.Computed == fc.F.Checksum {
		s.Tags = append(s.Tags, "checksum ok")
	} else {
		s.Tags = append(s.Tags, "checksum bad")
	}
	if fc.Err != nil {
		s.Status, s.Note = core.StatusWarning, detail(fc.Err)
	}
	f, o := &fc.F, fc.Offset
	s.Fields = []core.Field{
		{Name: "Cookie", Value: footerCookie, Offset: o, Length: 8},
		{Name: "Features", Value: features(f.Features), Offset: o + 8, Length: 4},
		{Name: "File Format Version", Value: version(f.Version), Offset: o + 12, Length: 4},
		hexField("Data Offset", o+16, 8, f.DataOffset),
		{Name: "Time Stamp", Value: fmt.Sprintf("%d (%s)", f.TimeStamp, stamp(f.TimeStamp)), Offset: o + 24, Length: 4},
		{Name: "Creator Application", Value: fourCC(f.CreatorApp), Offset: o + 28, Length: 4},
		{Name: "Creator Version", Value: version(f.CreatorVersion), Offset: o + 32, Length: 4},
		{Name: "Creator Host OS", Value: hostOS(f.CreatorHostOS), Offset: o + 36, Length: 4},
		numField("Original Size", o+40, 8, f.OriginalSize),
		numField("Current Size", o+48, 8, f.CurrentSize),
		{Name: "Disk Geometry", Value: fmt.Sprintf("C/H/S %d/%d/%d", f.Cylinders, f.Heads, f.SectorsPerTrack), Offset: o + 56, Length: 4},
		{Name: "Disk Type", Value: fmt.Sprintf("%d (%s)", f.DiskType, typeName(f.DiskType)), Offset: o + 60, Length: 4},
		checksumField(o+64, f.Checksum, fc.Computed),
		{Name: "Unique Id", Value: f.UniqueID.String(), Offset: o + 68, Length: 16},
		numField("Saved State", o+84, 1, uint64(f.SavedState)),
	}
	return s
}

func features(v uint32) string {
	var parts []string
	if v&featureTemporary != 0 {
		parts = append(parts, "temporary")
	}
	if v&featureReserved != 0 {
		parts = append(parts, "reserved bit")
	}
	if len(parts) == 0 {
		return fmt.Sprintf("0x%08x", v)
	}
	return fmt.Sprintf("0x%08x (%s)", v, strings.Join(parts, ", "))
}

func (img *Image) headerStructure() core.Structure {
	h, o := img.hdr, img.hdr.Offset
	s := core.Structure{ID: "dynamic-header", Name: "dynamic header", Offset: o, Length: headerSize, Status: core.StatusOK,
		Tags: []string{"checksum ok"},
		Fields: []core.Field{
			{Name: "Cookie", Value: headerCookie, Offset: o, Length: 8},
			hexField("Data Offset", o+8, 8, h.DataOffset),
			hexField("Table Offset", o+16, 8, h.TableOffset),
			{Name: "Header Version", Value: version(h.Version), Offset: o + 24, Length: 4},
			numField("Max Table Entries", o+28, 4, uint64(h.MaxTableEntries)),
			numField("Block Size", o+32, 4, uint64(h.BlockSize)),
			checksumField(o+36, h.Checksum, h.Computed),
		}}
	if !img.differencing() {
		return s
	}
	s.Fields = append(s.Fields,
		core.Field{Name: "Parent Unique ID", Value: h.ParentID.String(), Offset: o + 40, Length: 16},
		core.Field{Name: "Parent Time Stamp", Value: fmt.Sprintf("%d (%s)", h.ParentTimeStamp, stamp(h.ParentTimeStamp)), Offset: o + 56, Length: 4},
		core.Field{Name: "Parent Unicode Name", Value: h.ParentName, Offset: o + 64, Length: 512})
	for _, l := range h.Locators {
		if !l.used() {
			continue
		}
		e := l.EntryOffset
		c := core.Structure{ID: fmt.Sprintf("parent-locator-%d", l.Index), Name: l.name(), Offset: int64(l.DataOffset), Length: int64(l.Length),
			Status: core.StatusOK, Note: l.Note,
			Fields: []core.Field{
				{Name: "Platform Code", Value: fmt.Sprintf("%q", string(l.Code[:])), Offset: e, Length: 4},
				numField("Platform Data Space", e+4, 4, uint64(l.Space)),
				numField("Platform Data Length", e+8, 4, uint64(l.Length)),
				hexField("Platform Data Offset", e+16, 8, l.DataOffset),
			}}
		if l.Err != nil {
			c.Status, c.Note, c.Tags = core.StatusWarning, detail(l.Err), []string{"invalid"}
		} else if l.Path != "" {
			c.Fields = append(c.Fields, core.Field{Name: "Path", Value: l.Path, Offset: int64(l.DataOffset), Length: int64(l.Length)})
		}
		s.Children = append(s.Children, c)
	}
	return s
}

func (img *Image) batStructure() core.Structure {
	h := img.hdr
	return core.Structure{ID: "bat", Name: "BAT", Offset: int64(h.TableOffset), Length: h.batLength(img.dataEnd), Status: core.StatusOK,
		Fields: []core.Field{
			numField("Entries", 0, 0, uint64(h.MaxTableEntries)),
			numField("Blocks the disk uses", 0, 0, uint64(img.blocks)),
			numField("Sector bitmap bytes per block", 0, 0, uint64(img.bitmapSize)),
		}}
}
