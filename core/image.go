package core

import (
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
)

// Options configure Open. The zero value opens a single file.
type Options struct {
	// Name is the file's name, used in reports and chain listings.
	Name string
	// Parent, when set, is asked for candidate parents of a differencing
	// disk (see ParentResolver). Without it a differencing disk opens, but
	// reads that need the parent fail with ErrNoParent.
	Parent ParentResolver
}

// Image is an opened VHDX file. It is an io.ReaderAt over the virtual disk
// and safe for concurrent use. The exported fields describe the structures
// found in the file and must not be modified.
type Image struct {
	Name           string
	FileSize       int64
	FileIdentifier *FileIdentifier
	Headers        [2]*HeaderCopy
	Current        int    // index into Headers of the current header
	CurrentReason  string // why that header is current
	RegionTables   [2]*RegionTable
	Regions        *RegionTable // the copy in use
	RegionNote     string       // set when copy 2 is used, or the copies differ
	Log            *LogInfo
	Metadata       *Metadata
	Geometry       Geometry
	BATRegion      RegionEntry
	Parent         *Image // the resolved parent, or nil
	Level          int    // 0 for the opened file, k for its k-th parent

	file     io.ReaderAt // the file as it is
	view     io.ReaderAt // the file after log replay
	viewSize int64
	bat      *bat
	// structures are the file ranges payload blocks must not overlap.
	structures []namedRange
	problems   []Check // what Open noticed that does not stop it
}

type namedRange struct {
	name     string
	off, len int64
}

// Header returns the current header.
func (img *Image) Header() *Header { return &img.Headers[img.Current].Header }

// Size returns the virtual disk size in bytes.
func (img *Image) Size() int64 { return img.Geometry.VirtualSize }

// Type returns "fixed", "dynamic" or "differencing". A file whose
// LeaveBlocksAllocated bit is set is reported as fixed, as Hyper-V does.
func (img *Image) Type() string {
	switch {
	case img.Metadata.FileParameters.HasParent:
		return "differencing"
	case img.Metadata.FileParameters.LeaveBlocksAllocated:
		return "fixed"
	}
	return "dynamic"
}

// Chain returns the image and its resolved parents, nearest first.
func (img *Image) Chain() []*Image {
	var out []*Image
	for p := img; p != nil; p = p.Parent {
		out = append(out, p)
	}
	return out
}

// Open reads and checks a VHDX file of the given size through r. Nothing is
// ever written to r. A dirty log is replayed in memory.
func Open(r io.ReaderAt, size int64, opts *Options) (*Image, error) {
	if opts == nil {
		opts = &Options{}
	}
	img, err := openFile(r, size, opts.Name, 0)
	if err != nil {
		return nil, err
	}
	if img.Metadata.FileParameters.HasParent && opts.Parent != nil {
		if err := img.resolveChain(opts.Parent); err != nil {
			return nil, err
		}
	}
	return img, nil
}

func openFile(r io.ReaderAt, size int64, name string, level int) (*Image, error) {
	img := &Image{Name: name, FileSize: size, file: r, Level: level}
	if size < headerSectionSize {
		return nil, formatErr("header section", 0, "", "file is shorter than the 1 MiB header section", size)
	}
	b, err := readStruct(r, size, 0, 8+512, "file type identifier")
	if err != nil {
		return nil, err
	}
	if img.FileIdentifier, err = parseFileIdentifier(b); err != nil {
		return nil, err
	}
	for i, off := range HeaderOffsets {
		b, err := readStruct(r, size, off, headerSize, headerName(i+1))
		if err != nil {
			return nil, err
		}
		img.Headers[i] = readHeaderCopy(b, i+1, off)
	}
	if img.Current, img.CurrentReason, err = selectHeader(img.Headers); err != nil {
		return nil, err
	}
	cur := img.Headers[img.Current]
	if err := checkHeader(cur, size); err != nil {
		return nil, err
	}
	h := &cur.Header
	if h.LogLength > 0 && h.LogOffset+uint64(h.LogLength) > uint64(size) {
		return nil, formatErr(headerName(cur.Index), cur.Offset+72, "LogOffset", "log extends past the end of the file", fmt.Sprintf("log 0x%x+0x%x, file 0x%x", h.LogOffset, h.LogLength, size))
	}

	// The log is replayed before anything else is read (MS-VHDX 2.3.3).
	img.Log, img.view, img.viewSize, err = openLog(r, size, h)
	if err != nil {
		return nil, err
	}

	if err := img.readRegionTables(); err != nil {
		return nil, err
	}
	md, _ := img.Regions.find(RegionMetadata)
	if int64(md.FileOffset)+int64(md.Length) > img.viewSize {
		return nil, formatErr("metadata region", int64(md.FileOffset), "", "extends past the end of the file", img.viewSize)
	}
	if img.Metadata, err = readMetadata(img.view, img.viewSize, md); err != nil {
		return nil, err
	}
	img.Geometry = geometry(img.Metadata)
	if err := img.openBAT(); err != nil {
		return nil, err
	}
	return img, nil
}

func (img *Image) readRegionTables() error {
	var errs []error
	for i, off := range RegionTableOffsets {
		b, err := readStruct(img.view, img.viewSize, off, regionTableSize, regionTableName(i+1))
		if err != nil {
			return err
		}
		t := parseRegionTable(b, i+1, off)
		if t.Err == nil {
			h := img.Header()
			t.Err = checkRegions(t, h.LogOffset, uint64(h.LogLength))
		}
		img.RegionTables[i] = t
		errs = append(errs, t.Err)
	}
	t1, t2 := img.RegionTables[0], img.RegionTables[1]
	switch {
	case t1.Err == nil:
		img.Regions = t1
		if t2.Err == nil && !sameRegions(t1, t2) {
			img.RegionNote = "region table 2 differs from region table 1; using table 1"
		}
	case t2.Err == nil:
		img.Regions = t2
		img.RegionNote = "region table 1 is damaged (" + t1.Err.Error() + "); using region table 2"
	default:
		// Prefer reporting "unsupported" when that is the real reason.
		for _, e := range errs {
			if errors.Is(e, ErrUnsupported) {
				return e
			}
		}
		return &FormatError{Structure: "region tables", Offset: RegionTableOffsets[0], Msg: "neither copy is valid: " + t1.Err.Error() + "; " + t2.Err.Error()}
	}
	h := img.Header()
	img.structures = []namedRange{{"header section", 0, headerSectionSize}}
	if h.LogLength > 0 {
		img.structures = append(img.structures, namedRange{"log", int64(h.LogOffset), int64(h.LogLength)})
	}
	for _, e := range img.Regions.Entries {
		if e.Length > 0 {
			img.structures = append(img.structures, namedRange{e.Name() + " region", int64(e.FileOffset), int64(e.Length)})
		}
	}
	return nil
}

func sameRegions(a, b *RegionTable) bool {
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
	e, _ := img.Regions.find(RegionBAT)
	img.BATRegion = e
	g := img.Geometry
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
func (img *Image) identity() uuid.UUID { return img.Header().DataWriteGUID }
