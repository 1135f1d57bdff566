package core

// Info: what an opened image is, and every structure of its file as one
// list that `vhdx info` and the page render as they are. No offset, name or
// state is derived outside this file.

import "fmt"

// Info is a JSON-ready description of an opened image.
type Info struct {
	Name               string `json:"name,omitempty"`
	Format             string `json:"format"` // always "vhdx", as vhd.Info says "vhd"
	Type               string `json:"type"`   // fixed | dynamic | differencing
	VirtualSize        int64  `json:"virtual_size"`
	BlockSize          int64  `json:"block_size"`
	LogicalSectorSize  int64  `json:"logical_sector_size"`
	PhysicalSectorSize int64  `json:"physical_sector_size"`
	PayloadBlocks      int64  `json:"payload_blocks"`
	BitmapBlocks       int64  `json:"sector_bitmap_blocks"`
	FileSize           int64  `json:"file_size"`
	VirtualDiskID      string `json:"virtual_disk_id"`
	DataWriteGUID      string `json:"data_write_guid"`
	Creator            string `json:"creator"`
	LogReplayed        bool   `json:"log_replayed"`
	Log                string `json:"log"` // what the log held and what was done with it
	// Chain lists the image and its attached parents, nearest first.
	Chain []ChainLevel `json:"chain"`
	// MissingParent says which parent is not attached, when the chain was
	// opened partially.
	MissingParent *ChainError `json:"missing_parent,omitempty"`
	// Structures are the file's structures in file order (the header
	// section, the log, the metadata region, the BAT), each with its parts
	// as children.
	Structures []Structure `json:"structures"`
}

// ChainLevel is one file of a differencing chain; level 0 is the image.
type ChainLevel struct {
	Level         int    `json:"level"`
	Name          string `json:"name"`
	Type          string `json:"type"`
	FileSize      int64  `json:"file_size"`
	VirtualDiskID string `json:"virtual_disk_id"`
	DataWriteGUID string `json:"data_write_guid"`
	LogReplayed   bool   `json:"log_replayed"`
}

// Structure is one on-disk structure of the file (MS-VHDX 2.2-2.6).
type Structure struct {
	ID     string `json:"id"`   // stable key: "header-1", "bat", "metadata-item-3"
	Name   string `json:"name"` // what Check.Structure calls it: "header 1"
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Status Status `json:"status"`
	// Tags are short facts: "current", "in use", "CRC ok", "CRC bad",
	// "invalid", "required", "user", "replayed", "active sequence", "skipped".
	Tags     []string    `json:"tags,omitempty"`
	Note     string      `json:"note,omitempty"` // why it is current, or what is wrong
	Fields   []Field     `json:"fields,omitempty"`
	Children []Structure `json:"children,omitempty"`
}

// Field is one decoded field. Values are text, so 64-bit numbers survive
// JSON readers that hold numbers as doubles.
type Field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Offset int64  `json:"offset"`           // file offset of the field's bytes
	Length int64  `json:"length,omitempty"` // 0: a derived value, not stored bytes
}

// Info describes the image.
func (img *Image) Info() *Info {
	h := img.hdr()
	g := img.geom
	in := &Info{
		Name: img.name, Format: "vhdx", Type: img.Type(), VirtualSize: img.Size(), BlockSize: g.BlockSize,
		LogicalSectorSize: g.LogicalSectorSize, PhysicalSectorSize: int64(img.meta.PhysicalSectorSize),
		PayloadBlocks: g.PayloadBlocks, BitmapBlocks: g.BitmapBlocks, FileSize: img.fileSize,
		VirtualDiskID: img.meta.VirtualDiskID.String(), DataWriteGUID: h.DataWriteGUID.String(),
		Creator: img.ident.Creator, LogReplayed: img.log.Replayed, Log: img.logSentence(),
		MissingParent: img.missing,
	}
	for _, lvl := range img.Chain() {
		in.Chain = append(in.Chain, ChainLevel{Level: lvl.level, Name: lvl.name, Type: lvl.Type(), FileSize: lvl.fileSize,
			VirtualDiskID: lvl.meta.VirtualDiskID.String(), DataWriteGUID: lvl.hdr().DataWriteGUID.String(), LogReplayed: lvl.log.Replayed})
	}
	in.Structures = []Structure{{ID: "header-section", Name: "header section", Offset: 0, Length: headerSectionSize, Status: StatusOK,
		Note:     "the file type identifier, two headers and two region tables; the rest is reserved",
		Children: []Structure{img.identStructure(), img.headerStructures(), img.regionStructures()}}}
	if s, ok := img.logStructure(); ok {
		in.Structures = append(in.Structures, s)
	}
	in.Structures = append(in.Structures, img.metadataStructure(img.meta), img.batStructure())
	return in
}

func hexField(name string, off, n int64, v uint64) Field {
	return Field{Name: name, Value: fmt.Sprintf("0x%x", v), Offset: off, Length: n}
}

func numField(name string, off, n int64, v uint64) Field {
	return Field{Name: name, Value: fmt.Sprint(v), Offset: off, Length: n}
}

func checksumField(off int64, stored, computed uint32) Field {
	v := fmt.Sprintf("0x%08x (matches)", stored)
	if stored != computed {
		v = fmt.Sprintf("0x%08x stored, 0x%08x computed", stored, computed)
	}
	return Field{Name: "Checksum", Value: v, Offset: off, Length: 4}
}

func crcTag(ok bool) string {
	if ok {
		return "CRC ok"
	}
	return "CRC bad"
}

func (img *Image) identStructure() Structure {
	creator := img.ident.Creator
	if creator == "" {
		creator = "(empty)"
	}
	return Structure{ID: "ident", Name: "file type identifier", Offset: 0, Length: 64 * kib, Status: StatusOK,
		Fields: []Field{{Name: "Signature", Value: fileIDSignature, Offset: 0, Length: 8}, {Name: "Creator", Value: creator, Offset: 8, Length: 512}}}
}

func (img *Image) headerStructures() Structure {
	// Both copies are read together; when neither is usable (Inspect of
	// a file that does not open) none is current.
	chosen := img.currentReason != ""
	top := Structure{ID: "headers", Name: "headers", Offset: headerOffsets[0], Length: 2 * 64 * kib, Status: StatusOK}
	if chosen {
		top.Note = fmt.Sprintf("header %d is current: %s", img.current+1, img.currentReason)
	}
	for i, c := range img.headers {
		h, o := c.Header, c.Offset
		s := Structure{ID: fmt.Sprintf("header-%d", c.Index), Name: headerName(c.Index), Offset: o, Length: headerSize, Status: StatusOK,
			Fields: []Field{
				{Name: "Signature", Value: quoteBytes(c.raw[0:4]), Offset: o, Length: 4},
				checksumField(o+4, h.Checksum, c.ComputedChecksum),
				numField("SequenceNumber", o+8, 8, h.SequenceNumber),
				{Name: "FileWriteGuid", Value: h.FileWriteGUID.String(), Offset: o + 16, Length: 16},
				{Name: "DataWriteGuid", Value: h.DataWriteGUID.String(), Offset: o + 32, Length: 16},
				{Name: "LogGuid", Value: h.LogGUID.String(), Offset: o + 48, Length: 16},
				numField("LogVersion", o+64, 2, uint64(h.LogVersion)),
				numField("Version", o+66, 2, uint64(h.Version)),
				numField("LogLength", o+68, 4, uint64(h.LogLength)),
				hexField("LogOffset", o+72, 8, h.LogOffset),
			}}
		if chosen && i == img.current {
			s.Tags = append(s.Tags, "current")
			s.Note = "current: " + img.currentReason
		}
		s.Tags = append(s.Tags, crcTag(c.ChecksumOK))
		if c.Err != nil {
			s.Tags = append(s.Tags, "invalid")
			s.Status, s.Note = StatusWarning, detail(c.Err)
			if chosen {
				s.Note += "; the other header is used"
			} else {
				s.Status = StatusError // neither carries the file
			}
		}
		top.Children = append(top.Children, s)
	}
	return top
}

func (img *Image) regionStructures() Structure {
	top := Structure{ID: "regions", Name: "region tables", Offset: regionTableOffsets[0], Length: 2 * regionTableSize, Status: StatusOK, Note: img.regionNote}
	if img.regionNote != "" && img.regions.Index == 1 {
		top.Status = StatusWarning
	}
	for _, t := range img.regionTables {
		if t == nil { // not read: Inspect of a file that does not open
			continue
		}
		o := t.Offset
		s := Structure{ID: fmt.Sprintf("region-table-%d", t.Index), Name: regionTableName(t.Index), Offset: o, Length: regionTableSize, Status: StatusOK,
			Fields: []Field{
				hexField("Signature", o, 4, uint64(t.Signature)),
				checksumField(o+4, t.Checksum, t.ComputedChecksum),
				numField("EntryCount", o+8, 4, uint64(t.EntryCount)),
			}}
		if t == img.regions {
			s.Tags = append(s.Tags, "in use")
		}
		s.Tags = append(s.Tags, crcTag(t.Checksum == t.ComputedChecksum))
		if t.Err != nil {
			s.Tags = append(s.Tags, "invalid")
			s.Status, s.Note = StatusWarning, detail(t.Err)
			if img.regions != nil {
				s.Note += "; the other copy is used"
			} else {
				s.Status = StatusError // neither copy is usable
			}
		}
		for i, e := range t.Entries {
			eo := o + regionTableHeaderSize + int64(i)*regionEntrySize
			r := Structure{ID: fmt.Sprintf("region-table-%d-entry-%d", t.Index, i), Name: e.Name() + " region",
				Offset: int64(e.FileOffset), Length: int64(e.Length), Status: StatusOK,
				Fields: []Field{
					{Name: "Guid", Value: e.GUID.String(), Offset: eo, Length: 16},
					hexField("FileOffset", eo+16, 8, e.FileOffset),
					numField("Length", eo+24, 4, uint64(e.Length)),
					numField("Required", eo+28, 4, uint64(e.Required)),
				}}
			if e.Required != 0 {
				r.Tags = append(r.Tags, "required")
			}
			if e.Name() == "unknown" {
				r.Note = "optional region, ignored"
			}
			s.Children = append(s.Children, r)
		}
		top.Children = append(top.Children, s)
	}
	return top
}

func (img *Image) logSentence() string {
	l := img.log
	switch {
	case !l.Present:
		return "empty (LogGuid is zero)"
	case l.Replayed:
		a := l.Active
		return fmt.Sprintf("replayed in memory: active sequence %d..%d (%s), %s, %s",
			a[0].Sequence, a[len(a)-1].Sequence, count(len(a), "entry", "entries"),
			count(l.DataSectors, "data sector", "data sectors"), count(l.ZeroRanges, "zero range", "zero ranges"))
	}
	return fmt.Sprintf("LogGuid set, nothing to replay (%s)", count(l.ValidEntries, "valid entry", "valid entries"))
}

func (img *Image) logStructure() (Structure, bool) {
	h, l := img.hdr(), img.log
	if !l.Present && h.LogLength == 0 {
		return Structure{}, false
	}
	s := Structure{ID: "log", Name: "log", Offset: int64(h.LogOffset), Length: int64(h.LogLength), Status: StatusOK, Note: img.logSentence(),
		Fields: []Field{
			{Name: "LogGuid", Value: h.LogGUID.String()},
			numField("Valid entries", 0, 0, uint64(l.ValidEntries)),
		}}
	if l.Replayed {
		s.Tags = append(s.Tags, "replayed")
		s.Fields = append(s.Fields,
			Field{Name: "Replay", Value: fmt.Sprintf("%s, %s: %s, %s (%s)",
				count(l.Entries, "entry", "entries"), count(l.Descriptors, "descriptor", "descriptors"),
				count(l.DataSectors, "data sector", "data sectors"), count(l.ZeroRanges, "zero range", "zero ranges"),
				count(l.ZeroBytes, "byte", "bytes"))},
			Field{Name: "File ranges written", Value: fmt.Sprintf("%s, %s", count(l.RangeCount, "range", "ranges"), count(l.RangeBytes, "byte", "bytes"))},
			Field{Name: "File size", Value: fmt.Sprintf("%d bytes on disk, %d after replay", l.FileSize, l.ReplayedSize)})
		for i, r := range l.Ranges { // at most the first few
			s.Fields = append(s.Fields, Field{Name: fmt.Sprintf("Range %d", i+1), Value: fmt.Sprintf("0x%x +%d bytes", r.Offset, r.Length)})
		}
	}
	for _, a := range l.Active {
		s.Children = append(s.Children, Structure{ID: fmt.Sprintf("log-entry-%d", a.Sequence), Name: "log entry",
			Offset: a.FileOffset, Length: int64(a.Length), Status: StatusOK, Tags: []string{"active sequence"},
			Fields: []Field{
				numField("SequenceNumber", a.FileOffset+16, 8, a.Sequence),
				hexField("Tail", a.FileOffset+12, 4, uint64(a.Tail)),
				{Name: "Descriptors", Value: fmt.Sprintf("%d data, %d zero", a.DataDescriptors, a.ZeroDescriptors)},
				hexField("FlushedFileOffset", a.FileOffset+48, 8, a.FlushedFileOffset),
				hexField("LastFileOffset", a.FileOffset+56, 8, a.LastFileOffset),
			}})
	}
	for i, d := range l.Damaged {
		e := Structure{ID: fmt.Sprintf("log-damaged-%d", i), Name: "log entry",
			Offset: d.FileOffset, Length: 4 * kib, Status: StatusWarning, Tags: []string{"skipped"}, Note: d.Message}
		if d.Stale { // an entry of an earlier session: not damage
			e.Status, e.Tags = StatusOK, []string{"earlier session"}
		}
		s.Children = append(s.Children, e)
	}
	return s, true
}

func (img *Image) metadataStructure(m *metadata) Structure {
	s := Structure{ID: "metadata", Name: "metadata table", Offset: m.Offset, Length: m.Length, Status: StatusOK,
		Fields: []Field{{Name: "Signature", Value: metadataSignature, Offset: m.Offset, Length: 8}, numField("EntryCount", m.Offset+10, 2, uint64(m.EntryCount))}}
	for i, e := range m.Entries {
		eo := m.Offset + 32 + int64(i)*metadataEntrySize
		c := Structure{ID: fmt.Sprintf("metadata-item-%d", i), Name: e.Name() + " item", Offset: m.itemOffset(e), Length: int64(e.Length), Status: StatusOK,
			Fields: []Field{
				{Name: "ItemId", Value: e.ItemID.String(), Offset: eo, Length: 16},
				hexField("Offset", eo+16, 4, uint64(e.Offset)),
				numField("Length", eo+20, 4, uint64(e.Length)),
				hexField("Flags", eo+24, 4, uint64(e.Flags)),
			}}
		if e.IsRequired {
			c.Tags = append(c.Tags, "required")
		}
		if e.IsUser {
			c.Tags = append(c.Tags, "user")
		}
		c.Fields = append(c.Fields, m.itemFields(e)...)
		if e.Name() == "unknown" || e.IsUser {
			c.Note = "not a system item this reader uses; ignored"
		}
		s.Children = append(s.Children, c)
	}
	return s
}

// itemFields decodes a known metadata item's value (MS-VHDX 2.6.2).
func (m *metadata) itemFields(e metadataEntry) []Field {
	o := m.itemOffset(e)
	if e.IsUser || !m.decoded[e.ItemID] {
		return nil
	}
	switch e.ItemID {
	case itemFileParameters:
		return []Field{numField("BlockSize", o, 4, uint64(m.FileParameters.BlockSize)),
			{Name: "LeaveBlocksAllocated", Value: fmt.Sprint(m.FileParameters.LeaveBlocksAllocated), Offset: o + 4, Length: 4},
			{Name: "HasParent", Value: fmt.Sprint(m.FileParameters.HasParent), Offset: o + 4, Length: 4}}
	case itemVirtualDiskSize:
		return []Field{numField("VirtualDiskSize", o, 8, m.VirtualDiskSize)}
	case itemVirtualDiskID:
		return []Field{{Name: "VirtualDiskId", Value: m.VirtualDiskID.String(), Offset: o, Length: 16}}
	case itemLogicalSectorSize:
		return []Field{numField("LogicalSectorSize", o, 4, uint64(m.LogicalSectorSize))}
	case itemPhysicalSectorSize:
		return []Field{numField("PhysicalSectorSize", o, 4, uint64(m.PhysicalSectorSize))}
	case itemParentLocator:
		l := m.ParentLocator
		if l == nil {
			return nil
		}
		out := []Field{{Name: "LocatorType", Value: l.LocatorType.String(), Offset: o, Length: 16}}
		for _, kv := range l.Entries {
			out = append(out, Field{Name: kv.Key, Value: kv.Value})
		}
		return out
	}
	return nil
}

func (img *Image) batStructure() Structure {
	g, e := img.geom, img.batRegion
	return Structure{ID: "bat", Name: "BAT", Offset: int64(e.FileOffset), Length: int64(e.Length), Status: StatusOK,
		Fields: []Field{
			numField("Entries", 0, 0, uint64(g.BATEntries)),
			numField("Payload blocks", 0, 0, uint64(g.PayloadBlocks)),
			numField("Sector bitmap blocks", 0, 0, uint64(g.BitmapBlocks)),
			numField("Chunk ratio", 0, 0, uint64(g.ChunkRatio)),
		}}
}

// count says n things, in the singular for one: "1 data sector", "3 entries".
func count[T ~int | ~int64](n T, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
