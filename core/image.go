package core

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
)

// Image is an opened VHDX file: an io.ReaderAt over its virtual disk, safe
// for concurrent use. Info describes what was found in the file.
type Image struct {
	name          string
	fileSize      int64
	ident         *fileIdentifier
	headers       [2]*headerCopy
	current       int    // index into Headers of the current header
	currentReason string // why that header is current
	regionTables  [2]*regionTable
	regions       *regionTable // the copy in use
	regionNote    string       // set when copy 2 is used, or the copies differ
	log           *logInfo
	meta          *metadata
	geom          diskGeometry
	batRegion     regionEntry
	parent        *Image      // the resolved parent, or nil
	level         int         // 0 for the opened file, k for its k-th parent
	missing       *ChainError // the parent not found, for a partial chain

	file     io.ReaderAt // the file as it is
	view     io.ReaderAt // the file after log replay
	viewSize int64
	bat      *bat
	// structures are the file ranges payload blocks must not overlap.
	structures []namedRange

	// Set only by a failed open (Inspect): the stage that failed, and
	// the metadata decoded before the damage, if the table was read.
	failedAt    int
	partialMeta *metadata

	zeroBad bool // set on the copy ZeroBad returns
}

type namedRange struct {
	name     string
	off, len int64
}

// hdr returns the current header.
func (img *Image) hdr() *header { return &img.headers[img.current].Header }

// Size returns the virtual disk size in bytes.
func (img *Image) Size() int64 { return img.geom.VirtualSize }

// Type returns "fixed", "dynamic" or "differencing". A file whose
// LeaveBlocksAllocated bit is set is reported as fixed, as Hyper-V does.
func (img *Image) Type() string {
	switch {
	case img.meta.FileParameters.HasParent:
		return "differencing"
	case img.meta.FileParameters.LeaveBlocksAllocated:
		return "fixed"
	}
	return "dynamic"
}

// Chain returns the image and its resolved parents, nearest first.
func (img *Image) Chain() []*Image {
	var out []*Image
	for p := img; p != nil; p = p.parent {
		out = append(out, p)
	}
	return out
}

func openFile(ctx context.Context, r io.ReaderAt, size int64, name string, level int) (*Image, error) {
	img := &Image{name: name, fileSize: size, file: r, level: level}
	if err := img.open(ctx); err != nil {
		return nil, err
	}
	return img, nil
}

// Stages of open, in order: failedAt says which one stopped it, so that
// Inspect knows which structure the error is about.
const (
	stageIdent = iota + 1
	stageHeaders
	stageLog
	stageRegions
	stageMetadata
	stageBAT
)

// open reads and checks the file's structures in the order the spec
// needs them, keeping each on img as it is read: a failed open leaves
// what was read before the failure, and failedAt, for Inspect.
func (img *Image) open(ctx context.Context) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, size := img.file, img.fileSize
	stage := stageIdent
	defer func() {
		if err != nil {
			img.failedAt = stage
		}
	}()
	b, err := readStruct(r, size, 0, int(min(size, 8+512)), "file type identifier")
	if err != nil {
		return err
	}
	if img.ident, err = parseFileIdentifier(b); err != nil {
		return err
	}
	stage = stageHeaders
	if size < headerSectionSize {
		return formatErr("header section", 0, "", "file is shorter than the 1 MiB header section", size)
	}
	for i, off := range headerOffsets {
		b, err := readStruct(r, size, off, headerSize, headerName(i+1))
		if err != nil {
			return err
		}
		img.headers[i] = readHeaderCopy(b, i+1, off)
	}
	if img.current, img.currentReason, err = selectHeader(img.headers); err != nil {
		return err
	}
	cur := img.headers[img.current]
	if err := checkHeader(cur, size); err != nil {
		return err
	}
	h := &cur.Header
	stage = stageLog
	if h.LogLength > 0 && h.LogOffset+uint64(h.LogLength) > uint64(size) {
		return formatErr(headerName(cur.Index), cur.Offset+72, "LogOffset", "log extends past the end of the file", fmt.Sprintf("log 0x%x+0x%x, file 0x%x", h.LogOffset, h.LogLength, size))
	}

	// The log is replayed before anything else is read (MS-VHDX 2.3.3).
	img.log, img.view, img.viewSize, err = openLog(ctx, r, size, h)
	if err != nil {
		return err
	}

	stage = stageRegions
	if err := img.readRegionTables(); err != nil {
		return err
	}
	stage = stageMetadata
	md, _ := img.regions.find(regionMetadata)
	if int64(md.FileOffset)+int64(md.Length) > img.viewSize {
		return formatErr("metadata region", int64(md.FileOffset), "", "extends past the end of the file", img.viewSize)
	}
	meta, err := readMetadata(img.view, img.viewSize, md)
	if err != nil {
		img.partialMeta = meta
		return err
	}
	img.meta = meta
	img.geom = geometry(img.meta)
	stage = stageBAT
	return img.openBAT()
}

func (img *Image) readRegionTables() error {
	var errs []error
	for i, off := range regionTableOffsets {
		b, err := readStruct(img.view, img.viewSize, off, regionTableSize, regionTableName(i+1))
		if err != nil {
			return err
		}
		t := parseRegionTable(b, i+1, off)
		if t.Err == nil {
			h := img.hdr()
			t.Err = checkRegions(t, h.LogOffset, uint64(h.LogLength))
		}
		img.regionTables[i] = t
		errs = append(errs, t.Err)
	}
	t1, t2 := img.regionTables[0], img.regionTables[1]
	switch {
	case t1.Err == nil:
		img.regions = t1
		if t2.Err == nil && !sameRegions(t1, t2) {
			img.regionNote = "region table 2 differs from region table 1; using table 1"
		}
	case t2.Err == nil:
		img.regions = t2
		img.regionNote = "region table 1 is damaged (" + detail(t1.Err) + "); using region table 2"
	default:
		// Prefer reporting "unsupported" when that is the real reason.
		for _, e := range errs {
			if errors.Is(e, ErrUnsupported) {
				return e
			}
		}
		return &FormatError{Structure: "region tables", Offset: regionTableOffsets[0], Msg: "neither copy is valid", Err: errors.Join(t1.Err, t2.Err)}
	}
	h := img.hdr()
	img.structures = []namedRange{{"header section", 0, headerSectionSize}}
	if h.LogLength > 0 {
		img.structures = append(img.structures, namedRange{"log", int64(h.LogOffset), int64(h.LogLength)})
	}
	for _, e := range img.regions.Entries {
		if e.Length > 0 {
			img.structures = append(img.structures, namedRange{e.Name() + " region", int64(e.FileOffset), int64(e.Length)})
		}
	}
	return nil
}

func sameRegions(a, b *regionTable) bool {
	if len(a.Entries) != len(b.Entries) {
		return false
	}
	for i := range a.Entries {
		if a.Entries[i] != b.Entries[i] {
			return false
		}
	}
	return true
}

func (img *Image) openBAT() error {
	e, _ := img.regions.find(regionBAT)
	img.batRegion = e
	g := img.geom
	if int64(e.Length) < g.BATEntries*8 {
		return formatErr("BAT region", int64(e.FileOffset), "Length", fmt.Sprintf("too small for %d entries", g.BATEntries), e.Length)
	}
	if int64(e.FileOffset)+g.BATEntries*8 > img.viewSize {
		return formatErr("BAT region", int64(e.FileOffset), "", "extends past the end of the file", img.viewSize)
	}
	img.bat = &bat{r: img.view, off: int64(e.FileOffset), entries: g.BATEntries, chunkRatio: g.ChunkRatio}
	return nil
}

// checkBlockRange returns why a block or sector bitmap at [off, off+n) in
// the file cannot be used, or "" when it can.
func (img *Image) checkBlockRange(off, n int64) string {
	// FileOffsetMB has 44 bits, so in bytes it can overflow int64.
	if off < 0 || off > maxFileOffset || off+n > img.viewSize {
		return fmt.Sprintf("lies past the end of the file (0x%x)", img.viewSize)
	}
	for _, s := range img.structures {
		if off < s.off+s.len && s.off < off+n {
			return "overlaps the " + s.name
		}
	}
	return ""
}

// linkage-independent identity of a file for cycle detection.
func (img *Image) identity() uuid.UUID { return img.hdr().DataWriteGUID }
