package vhd

// Verify: a structured report of every structure checked, in core's
// Report shape so `vhdx check` and the page's report render it as they
// render a VHDX file's.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vhdxview/vhdxview/core"
)

// maxBATReports bounds how many bad BAT entries are listed one by one.
const maxBATReports = 100

// maxTrackedBlocks bounds the overlap check's memory (16 MiB): a 2040 GiB
// disk of 2 MiB blocks has about a million. Blocks past it are checked
// against the file and the metadata only, and the report says so.
const maxTrackedBlocks = 1 << 21

// Verify checks every structure of the image and its parents: both footer
// copies, the dynamic header, the parent locators and every BAT entry
// (inside the data area, clear of the metadata, no two blocks
// overlapping). It calls progress, if not nil, as it walks the BATs, and
// stops early, with the report so far, when ctx is done.
func (img *Image) Verify(ctx context.Context, progress func(done, total int64)) *core.Report {
	rep := &core.Report{}
	var total, done int64
	for _, lvl := range img.Chain() {
		total += lvl.blocks
	}
	for _, lvl := range img.Chain() {
		rep.Checks = append(rep.Checks, lvl.structureChecks()...)
		st, checks := lvl.verifyBAT(ctx, func(n int64) {
			if progress != nil {
				progress(done+n, total)
			}
		})
		done += lvl.blocks
		rep.BAT = append(rep.BAT, st)
		rep.Checks = append(rep.Checks, checks...)
	}
	if img.missing != nil {
		last := img.Chain()[len(img.Chain())-1]
		// The same words as core's check: which level, which file, whose parent.
		what := fmt.Sprintf("parent %d", last.level+1)
		if img.missing.ParentName != "" {
			what += " (" + img.missing.ParentName + ")"
		}
		rep.Checks = append(rep.Checks, core.Check{Structure: "parent", Level: last.level, Offset: last.hdr.Offset + 40, Length: 16,
			Status: core.StatusWarning, Message: fmt.Sprintf("%s, the parent of %s, is not attached; ranges that live in it cannot be read (%s)", what, last.describe(), img.missing.Msg)})
	}
	if ctx.Err() != nil {
		rep.Checks = append(rep.Checks, core.Check{Structure: "verify", Status: core.StatusWarning, Message: "stopped before the end: " + ctx.Err().Error()})
	}
	rep.Tally()
	return rep
}

func (img *Image) check(structure string, off, n int64, status core.Status, msg string) core.Check {
	return core.Check{Structure: structure, Level: img.level, Offset: off, Length: n, Status: status, Message: msg}
}

// structureChecks describes what Open found, structure by structure.
func (img *Image) structureChecks() []core.Check {
	var out []core.Check
	add := func(c core.Check) { out = append(out, c) }
	f := img.f
	// The footer at the end.
	e := img.end
	c := img.check("footer", e.Offset, int64(e.Size), core.StatusOK, "")
	if e.Present {
		c.Expected, c.Actual = fmt.Sprintf("0x%08x", e.Computed), fmt.Sprintf("0x%08x", e.F.Checksum)
	}
	switch {
	case e == img.using:
		c.Message = fmt.Sprintf("%s disk, %d bytes, unique ID %s; checksum ok", img.Type(), img.Size(), f.UniqueID)
		if e.Size == oldFooterSize {
			c.Message += "; 511-byte footer (Virtual PC before 2004)"
		}
	case !e.Present:
		c.Status, c.Message = core.StatusWarning, "no footer at the end of the file (truncated or overwritten?); the copy at offset 0 is used"
	default:
		c.Status, c.Message = core.StatusWarning, detail(e.Err)+"; the copy at offset 0 is used"
	}
	add(c)
	where := img.using.Name
	if f.Features&featureReserved == 0 {
		add(img.check(where, img.using.Offset+8, 4, core.StatusWarning, fmt.Sprintf("Features 0x%08x: the reserved bit 0x2 the spec says is always set is clear", f.Features)))
	}
	if f.CurrentSize%sectorSize != 0 {
		add(img.check(where, img.using.Offset+48, 8, core.StatusWarning, fmt.Sprintf("Current Size %d is not a whole number of sectors", f.CurrentSize)))
	}
	if img.hdr == nil {
		if gap := img.dataEnd - img.Size(); gap > 0 {
			add(img.check("disk data", img.Size(), gap, core.StatusWarning, fmt.Sprintf("%d bytes between the disk's data and the footer belong to nothing", gap)))
		}
		return out
	}
	// The copy at offset 0.
	cp := img.copy0
	c = img.check("footer copy", 0, footerSize, core.StatusOK, "")
	if cp.Present {
		c.Expected, c.Actual = fmt.Sprintf("0x%08x", cp.Computed), fmt.Sprintf("0x%08x", cp.F.Checksum)
	}
	switch {
	case cp == img.using:
		c.Message = "in use: the footer at the end is unusable"
	case cp.Err != nil:
		c.Status, c.Message = core.StatusWarning, detail(cp.Err)+"; the footer at the end is used"
	default:
		c.Message = "checksum ok; matches the footer"
		if d := footerDiff(&cp.F, &e.F); d != "" {
			c.Status, c.Message = core.StatusWarning, "differs from the footer at the end: "+d+"; the footer at the end is used"
		}
	}
	add(c)
	// The dynamic header and its parent locators.
	h := img.hdr
	msg := fmt.Sprintf("block size %d, BAT at 0x%x with %d entries", h.BlockSize, h.TableOffset, h.MaxTableEntries)
	if int64(h.MaxTableEntries) > img.blocks {
		msg += fmt.Sprintf(" (the disk uses %d)", img.blocks)
	}
	c = img.check("dynamic header", h.Offset, headerSize, core.StatusOK, msg+"; checksum ok")
	c.Expected, c.Actual = fmt.Sprintf("0x%08x", h.Computed), fmt.Sprintf("0x%08x", h.Checksum)
	add(c)
	if h.Offset%sectorSize != 0 {
		add(img.check("dynamic header", h.Offset, headerSize, core.StatusWarning, "not on a sector boundary, as the spec wants"))
	}
	if h.TableOffset%sectorSize != 0 {
		add(img.check("BAT", int64(h.TableOffset), 0, core.StatusWarning, "not on a sector boundary, as the spec wants"))
	}
	if !img.differencing() {
		return out
	}
	usable := 0
	for _, l := range h.Locators {
		if !l.used() {
			continue
		}
		c := img.check(l.name(), int64(l.DataOffset), int64(l.Length), core.StatusOK, "")
		if l.Err != nil {
			c.Status, c.Message = core.StatusWarning, detail(l.Err)+"; not used as a hint"
		} else {
			usable++
			c.Message = fmt.Sprintf("%s (%s): %s", strings.TrimSpace(string(l.Code[:])), l.Note, l.Path)
			if l.Reserved != 0 {
				c.Status, c.Message = core.StatusWarning, c.Message+fmt.Sprintf("; Reserved is 0x%x, not zero", l.Reserved)
			}
		}
		add(c)
	}
	if usable == 0 && h.ParentName == "" {
		add(img.check("dynamic header", h.Offset+64, 512, core.StatusWarning, "a differencing disk with neither a parent name nor a usable parent locator: its parent must be given"))
	}
	return out
}

// footerDiff names the fields where two footers differ, or "".
func footerDiff(a, b *footer) string {
	var d []string
	add := func(name string, differ bool) {
		if differ {
			d = append(d, name)
		}
	}
	add("Features", a.Features != b.Features)
	add("Data Offset", a.DataOffset != b.DataOffset)
	add("Time Stamp", a.TimeStamp != b.TimeStamp)
	add("Creator", a.CreatorApp != b.CreatorApp || a.CreatorVersion != b.CreatorVersion || a.CreatorHostOS != b.CreatorHostOS)
	add("Original Size", a.OriginalSize != b.OriginalSize)
	add("Current Size", a.CurrentSize != b.CurrentSize)
	add("Disk Geometry", a.Cylinders != b.Cylinders || a.Heads != b.Heads || a.SectorsPerTrack != b.SectorsPerTrack)
	add("Disk Type", a.DiskType != b.DiskType)
	add("Unique Id", a.UniqueID != b.UniqueID)
	add("Saved State", a.SavedState != b.SavedState)
	return strings.Join(d, ", ")
}

// verifyBAT walks every BAT entry once.
func (img *Image) verifyBAT(ctx context.Context, progress func(int64)) (core.BATStats, []core.Check) {
	st := core.BATStats{Entries: img.blocks, PayloadBlocks: img.blocks, States: map[string]int64{}}
	if img.hdr == nil {
		st.AllocatedBytes = img.Size() // every byte of a fixed disk is in the file
		progress(0)
		return st, nil
	}
	st.Entries = int64(img.hdr.MaxTableEntries)
	var checks []core.Check
	// report counts a bad entry and lists the first ones; msg is only
	// called for those, so that a BAT of bad entries costs no memory.
	report := func(b int64, msg func() string) {
		st.BadEntries++
		if st.BadEntries <= maxBATReports {
			checks = append(checks, core.Check{Structure: fmt.Sprintf("BAT entry %d", b), Level: img.level,
				Offset: img.bat.off + b*4, Length: 4, Status: core.StatusError, Message: msg()})
		}
	}
	// Allocated blocks as sector<<32 | index, to find overlaps by sorting.
	var placed []uint64
	untracked := int64(0)
	for b := int64(0); b < img.blocks; b++ {
		if b%batPageEntries == 0 {
			if ctx.Err() != nil {
				break
			}
			progress(b)
		}
		e, err := img.bat.entry(b)
		if err != nil {
			report(b, func() string { return detail(err) })
			continue
		}
		blk, p := img.blockAt(b, e)
		if p.kind != fine {
			report(b, func() string {
				return detail(&core.BlockError{Level: img.level, Block: b, Entry: b, FileOffset: blk.BitmapOffset, Msg: img.why(p)})
			})
			continue
		}
		st.States[blk.State.String()]++
		if blk.State != BlockAllocated {
			continue
		}
		st.AllocatedBytes += min(img.blockSize, img.Size()-b*img.blockSize)
		if len(placed) < maxTrackedBlocks {
			placed = append(placed, uint64(blk.BitmapOffset/sectorSize)<<32|uint64(b))
		} else {
			untracked++
		}
	}
	slices.Sort(placed)
	for i := 1; i < len(placed); i++ {
		prev, cur := placed[i-1], placed[i]
		pb, cb := int64(prev&0xffffffff), int64(cur&0xffffffff)
		if int64(cur>>32)*sectorSize < int64(prev>>32)*sectorSize+img.blockSpan(pb) {
			report(cb, func() string {
				return fmt.Sprintf("block %d (file offset 0x%x) overlaps block %d (file offset 0x%x)", cb, int64(cur>>32)*sectorSize, pb, int64(prev>>32)*sectorSize)
			})
			placed[i] = prev // keep comparing with the block that reaches furthest
			if int64(cur>>32)*sectorSize+img.blockSpan(cb) > int64(prev>>32)*sectorSize+img.blockSpan(pb) {
				placed[i] = cur
			}
		}
	}
	progress(img.blocks)
	if st.BadEntries > maxBATReports {
		checks = append(checks, core.Check{Structure: "BAT", Level: img.level, Offset: img.bat.off, Status: core.StatusError,
			Message: fmt.Sprintf("%d more bad entries not listed", st.BadEntries-maxBATReports)})
	}
	c := img.check("BAT", img.bat.off, img.hdr.batLength(img.dataEnd), core.StatusOK,
		fmt.Sprintf("%d blocks of %d bytes: %d allocated, %d unallocated", img.blocks, img.blockSize, st.States["allocated"], st.States["unallocated"]))
	if st.BadEntries > 0 {
		c.Status, c.Message = core.StatusError, c.Message+fmt.Sprintf("; %d bad entries", st.BadEntries)
	}
	out := []core.Check{c}
	if untracked > 0 {
		out = append(out, img.check("BAT", img.bat.off, 0, core.StatusWarning,
			fmt.Sprintf("%d allocated blocks past the first %d were not checked for overlaps with each other", untracked, maxTrackedBlocks)))
	}
	return st, append(out, checks...)
}
