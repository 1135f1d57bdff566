package core

// Verify: a structured report of every structure checked, used by
// `vhdx check` and by the page's structure tree and verify report.

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Status of one check.
type Status string

const (
	StatusOK      Status = "ok"
	StatusWarning Status = "warning" // readable, but not as the spec wants
	StatusError   Status = "error"   // damaged; reads that touch it fail
)

// Check is one structure's verdict.
type Check struct {
	Structure string `json:"structure"`
	Level     int    `json:"level"` // chain level: 0 = the opened file
	Offset    int64  `json:"offset"`
	Length    int64  `json:"length"`
	Status    Status `json:"status"`
	Expected  string `json:"expected,omitempty"` // e.g. the computed checksum
	Actual    string `json:"actual,omitempty"`   // e.g. the stored checksum
	Message   string `json:"message"`
	// Field and FieldOffset name the field a failure is about, when it is
	// about one (from the FormatError): a page selects that field's bytes
	// rather than the whole structure's.
	Field       string `json:"field,omitempty"`
	FieldOffset int64  `json:"field_offset,omitempty"`
}

// BATStats counts BAT entries by state.
type BATStats struct {
	Entries        int64            `json:"entries"`
	PayloadBlocks  int64            `json:"payload_blocks"`
	States         map[string]int64 `json:"states"`
	BitmapsPresent int64            `json:"sector_bitmaps_present"`
	BadEntries     int64            `json:"bad_entries"`
	AllocatedBytes int64            `json:"allocated_bytes"`
}

// Report is the result of Verify.
type Report struct {
	Verdict  string     `json:"verdict"` // "clean" | "problems" (Tally), or "unreadable" (Inspect)
	Errors   int        `json:"errors"`
	Warnings int        `json:"warnings"`
	Checks   []Check    `json:"checks"`
	BAT      []BATStats `json:"bat"` // one per chain level
}

// maxBATReports bounds how many individual bad BAT entries are listed.
const maxBATReports = 100

// maxTrackedFileSize bounds the overlap bitmap of verifyBAT (8 MiB): no
// valid VHDX file is larger than a 64 TiB disk plus its BAT and bitmaps.
const maxTrackedFileSize = 65 * tib

// Verify checks every structure of the image and its parents: the header
// section, region tables, metadata, log, and every BAT entry. It reads the
// whole BAT (page by page) and calls progress, if not nil, as it goes. It
// stops early, with a report so far, when ctx is done.
func (img *Image) Verify(ctx context.Context, progress func(done, total int64)) *Report {
	rep := &Report{}
	var total int64
	for _, lvl := range img.Chain() {
		total += lvl.geom.BATEntries
	}
	var done int64
	for _, lvl := range img.Chain() {
		rep.Checks = append(rep.Checks, lvl.structureChecks()...)
		st, checks := lvl.verifyBAT(ctx, func(n int64) {
			if progress != nil {
				progress(done+n, total)
			}
		})
		done += lvl.geom.BATEntries
		rep.BAT = append(rep.BAT, st)
		rep.Checks = append(rep.Checks, checks...)
	}
	if c, ok := img.missingCheck(); ok {
		rep.Checks = append(rep.Checks, c)
	}
	if ctx.Err() != nil {
		rep.Checks = append(rep.Checks, Check{Structure: "verify", Status: StatusWarning, Message: "stopped before the end: " + ctx.Err().Error()})
	}
	rep.Tally()
	return rep
}

// Tally counts the report's error and warning checks into Errors and
// Warnings and sets Verdict from them: "clean" with none, else "problems".
// A verifier calls it once its checks are all in.
func (r *Report) Tally() {
	r.Errors, r.Warnings = 0, 0
	for _, c := range r.Checks {
		switch c.Status {
		case StatusError:
			r.Errors++
		case StatusWarning:
			r.Warnings++
		}
	}
	r.Verdict = "clean"
	if r.Errors+r.Warnings > 0 {
		r.Verdict = "problems"
	}
}

// missingCheck is the "parent" check of a chain that ends in a
// differencing disk (at any level) whose parent is not attached: on that
// disk's parent locator, naming the missing level and file as Info's
// MissingParent does. A parent not given is a warning; a locator that
// names no parent is an error (MS-VHDX 2.6.2.6 requires parent_linkage).
func (img *Image) missingCheck() (Check, bool) {
	chain := img.Chain()
	last := chain[len(chain)-1]
	if !last.meta.FileParameters.HasParent {
		return Check{}, false
	}
	c := Check{Structure: "parent", Level: last.level, Status: StatusWarning}
	var paths []string
	if loc := last.meta.ParentLocator; loc != nil {
		c.Offset = loc.Offset
		for _, p := range loc.Paths() {
			paths = append(paths, p.Key+"="+p.Value)
		}
	}
	what := fmt.Sprintf("parent %d", last.level+1)
	var why string
	if ce := img.missing; ce != nil {
		if ce.ParentName != "" {
			what += " (" + ce.ParentName + ")"
		}
		if ce.Unidentified {
			c.Status = StatusError
			why = "; " + strings.TrimPrefix(ce.Msg, ce.Child+": ")
		}
	}
	c.Message = fmt.Sprintf("%s, the parent of %s, is not attached%s; ranges that live in it cannot be read", what, last.describe(), why)
	if len(paths) > 0 {
		c.Message += " (" + strings.Join(paths, ", ") + ")"
	}
	return c, true
}

func (img *Image) check(structure string, off, n int64, err error, okMsg string) Check {
	c := Check{Structure: structure, Level: img.level, Offset: off, Length: n, Status: StatusOK, Message: okMsg}
	if err != nil {
		c.Status, c.Message = StatusError, err.Error()
		var fe *FormatError
		if errors.As(err, &fe) && fe.Field != "" && fe.Offset >= off && fe.Offset < off+n {
			c.Field, c.FieldOffset = fe.Field, fe.Offset
		}
	}
	return c
}

// structureChecks describes what Open found, structure by structure.
func (img *Image) structureChecks() []Check {
	var out []Check
	add := func(c Check) { out = append(out, c) }
	add(img.check("file type identifier", 0, 64*kib, nil, fmt.Sprintf("signature vhdxfile, creator %q", img.ident.Creator)))
	for i, h := range img.headers {
		c := img.check(headerName(i+1), h.Offset, headerSize, h.Err, fmt.Sprintf("sequence %d", h.Header.SequenceNumber))
		c.Expected = fmt.Sprintf("0x%08x", h.ComputedChecksum)
		c.Actual = fmt.Sprintf("0x%08x", h.Header.Checksum)
		if i == img.current {
			c.Message += "; current (" + img.currentReason + ")"
		} else if h.Err == nil {
			c.Message += "; not current"
		}
		if h.Err != nil && img.headers[img.current].Valid() {
			c.Status = StatusWarning // the other header carries the file
			c.Message += "; the other header is used"
		}
		add(c)
	}
	for _, t := range img.regionTables {
		c := img.check(regionTableName(t.Index), t.Offset, regionTableSize, t.Err, fmt.Sprintf("%d entries", t.EntryCount))
		c.Expected = fmt.Sprintf("0x%08x", t.ComputedChecksum)
		c.Actual = fmt.Sprintf("0x%08x", t.Checksum)
		if t == img.regions {
			c.Message += "; in use"
		} else if t.Err != nil {
			c.Status = StatusWarning
			c.Message += "; the other copy is used"
		}
		add(c)
	}
	if img.regionNote != "" && img.regions.Index == 1 {
		add(Check{Structure: "region tables", Level: img.level, Offset: regionTableOffsets[0], Status: StatusWarning, Message: img.regionNote})
	}
	for _, e := range img.regions.Entries {
		msg := fmt.Sprintf("%s region %s", e.Name(), e.GUID)
		if e.Name() == "unknown" {
			msg += " (optional, ignored)"
		}
		add(img.check(e.Name()+" region", int64(e.FileOffset), int64(e.Length), nil, msg))
	}
	h := img.hdr()
	if img.log.Present || h.LogLength > 0 {
		c := img.check("log", int64(h.LogOffset), int64(h.LogLength), nil, "")
		switch {
		case !img.log.Present:
			c.Message = "empty (LogGuid is zero)"
		case img.log.Replayed:
			// Not closed cleanly: the normal state of a disk copied from a
			// running VM. Replaying in memory is what the spec asks of a
			// reader (MS-VHDX 2.3.3), so it is stated, not a problem.
			a := img.log.Active
			c.Message = fmt.Sprintf("not closed cleanly: active sequence %d..%d (%s) replayed in memory (the file is unchanged): %s, %s",
				a[0].Sequence, a[len(a)-1].Sequence, count(len(a), "entry", "entries"),
				count(img.log.DataSectors, "data sector", "data sectors"), count(img.log.ZeroRanges, "zero range", "zero ranges"))
		default:
			c.Message = fmt.Sprintf("LogGuid set, nothing to replay (%s)", count(img.log.ValidEntries, "valid entry", "valid entries"))
		}
		stale := 0
		for _, d := range img.log.Damaged {
			stale += b2i(d.Stale)
		}
		if stale > 0 {
			c.Message += fmt.Sprintf("; %d entries of earlier sessions (another LogGuid) ignored, as the spec says", stale)
		}
		add(c)
		for _, d := range img.log.Damaged {
			if !d.Stale {
				add(Check{Structure: "log entry", Level: img.level, Offset: d.FileOffset, Status: StatusWarning,
					Message: "skipped damaged entry: " + d.Message})
			}
		}
	}
	m := img.meta
	add(img.check("metadata table", m.Offset, metadataTableSize, nil, fmt.Sprintf("%d entries", m.EntryCount)))
	for _, e := range m.Entries {
		msg := e.Name()
		if e.Name() == "unknown" || e.IsUser {
			msg += " " + e.ItemID.String() + " (ignored)"
		}
		add(img.check(e.Name()+" item", m.itemOffset(e), int64(e.Length), nil, msg))
	}
	return out
}

// verifyBAT walks every BAT entry once.
func (img *Image) verifyBAT(ctx context.Context, progress func(int64)) (BATStats, []Check) {
	g := img.geom
	st := BATStats{Entries: g.BATEntries, PayloadBlocks: g.PayloadBlocks, States: map[string]int64{}}
	var checks []Check
	report := func(entry int64, off int64, msg string) {
		st.BadEntries++
		if st.BadEntries <= maxBATReports {
			checks = append(checks, Check{Structure: fmt.Sprintf("BAT entry %d", entry), Level: img.level,
				Offset: img.bat.off + entry*8, Length: 8, Status: StatusError, Message: msg})
		}
	}
	// One bit per MiB of file: a second block claiming the same MiB
	// overlaps. The bitmap covers the real file (at most a 64 TiB disk's
	// worth); the log can make the replayed file far larger (up to 2^60
	// bytes), so MiBs past it are kept in a map that only grows with the
	// blocks that claim them.
	words := min(img.viewSize, img.fileSize, maxTrackedFileSize)/mib/64 + 1
	used := make([]uint64, words)
	far := map[int64]uint64{}
	claim := func(off, n int64) bool {
		ok := true
		for m := off / mib; m < (off+n+mib-1)/mib; m++ {
			bit := uint64(1) << (m % 64)
			if k := m / 64; k < words {
				ok = ok && used[k]&bit == 0
				used[k] |= bit
			} else {
				ok = ok && far[k]&bit == 0
				far[k] |= bit
			}
		}
		return ok
	}
	for b := int64(0); b < g.PayloadBlocks; b++ {
		if b%batPageEntries == 0 {
			if ctx.Err() != nil {
				break
			}
			progress(img.bat.payloadIndex(b))
		}
		blk, err := img.block(b)
		if err != nil {
			if be, ok := err.(*BlockError); ok {
				report(be.Entry, be.FileOffset, be.Error())
			} else {
				report(img.bat.payloadIndex(b), 0, err.Error())
			}
			continue
		}
		st.States[blk.State.String()]++
		if blk.State == PayloadFullyPresent || blk.State == PayloadPartiallyPresent {
			n := min(g.BlockSize, g.VirtualSize-b*g.BlockSize)
			st.AllocatedBytes += n
			if !claim(blk.FileOffset, n) {
				report(blk.Entry, blk.FileOffset, fmt.Sprintf("payload block %d overlaps another block in the file", b))
			}
		}
	}
	for c := int64(0); c < g.BitmapBlocks && ctx.Err() == nil; c++ {
		i := img.bat.bitmapIndex(c)
		if i >= g.BATEntries {
			break // dynamic disks need no entry after the last chunk
		}
		e, err := img.bat.entry(i)
		if err != nil {
			report(i, 0, err.Error())
			continue
		}
		switch {
		case e.State() == sectorBitmapNotPresent:
		case e.State() != sectorBitmapPresent:
			report(i, e.FileOffset(), fmt.Sprintf("sector bitmap entry for chunk %d has reserved state %d", c, e.State()))
		case !img.meta.FileParameters.HasParent:
			report(i, e.FileOffset(), fmt.Sprintf("sector bitmap for chunk %d is present in a disk without a parent", c))
		default:
			st.BitmapsPresent++
			if why := img.checkBlockRange(e.FileOffset(), mib); why != "" || e.FileOffset() == 0 {
				report(i, e.FileOffset(), fmt.Sprintf("sector bitmap for chunk %d %s", c, why))
			} else if !claim(e.FileOffset(), mib) {
				report(i, e.FileOffset(), fmt.Sprintf("sector bitmap for chunk %d overlaps another block", c))
			}
		}
	}
	progress(g.BATEntries)
	if st.BadEntries > maxBATReports {
		checks = append(checks, Check{Structure: "BAT", Level: img.level, Offset: img.bat.off, Status: StatusError,
			Message: fmt.Sprintf("%d more bad entries not listed", st.BadEntries-maxBATReports)})
	}
	var parts []string
	for _, s := range []PayloadState{PayloadFullyPresent, PayloadPartiallyPresent, PayloadNotPresent, PayloadZero, PayloadUnmapped, PayloadUndefined} {
		if n := st.States[s.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	c := img.check("BAT", img.bat.off, int64(img.batRegion.Length), nil, fmt.Sprintf("%d entries, %d payload blocks: %s", g.BATEntries, g.PayloadBlocks, strings.Join(parts, ", ")))
	if st.BadEntries > 0 {
		c.Status, c.Message = StatusError, c.Message+fmt.Sprintf("; %d bad entries", st.BadEntries)
	}
	return st, append([]Check{c}, checks...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
