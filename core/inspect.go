package core

// Inspect: the structure list of a file that does not open. Open stops at
// the first structure it cannot use (MS-VHDX 2.2 to 2.5 are read in that
// order: identifier, headers, log, region tables, metadata, BAT); what it
// read and checked before that is still worth showing, because it says
// which copies were valid and where the damage is.

import (
	"context"
	"errors"
	"io"
	"strings"
)

// Inspection is what Inspect read of one file: its structures as Info
// lists them (as far as they were read) and a check of each.
type Inspection struct {
	Name     string `json:"name,omitempty"`
	FileSize int64  `json:"file_size"`
	// Structures are the structures read, in file order, as in Info. The
	// one the error is about has status "error" and the error as its
	// note; its ancestors have status "error" too.
	Structures []Structure `json:"structures"`
	// Report has a check per structure listed, and last the error that
	// stopped the open. Its verdict is "unreadable" when the file does
	// not open. No BAT entry is walked.
	Report *Report `json:"report"`
}

// Inspect reads the single file r of the given size as Open does, without
// parents, and returns the structures it read and checked, with the error
// Open would return (nil when the file opens; then the list is Info's).
// The Inspection is nil only when the file is no VHDX file at all
// (ErrNotVHDX) or ctx is done.
func Inspect(ctx context.Context, r io.ReaderAt, size int64, name string) (*Inspection, error) {
	img := &Image{name: name, fileSize: size, file: r}
	err := img.open(ctx)
	if err != nil && (errors.Is(err, ErrNotVHDX) || ctx.Err() != nil) {
		return nil, err
	}
	in := &Inspection{Name: name, FileSize: size}
	if err == nil {
		in.Structures = img.Info().Structures
	} else {
		in.Structures = img.partialStructures(err)
	}
	in.Report = reportOf(in.Structures, err)
	return in, err
}

// partialStructures lists what a failed open read, and marks the structure
// err is about.
func (img *Image) partialStructures(err error) []Structure {
	if img.ident == nil { // the first bytes could not be read
		s := Structure{ID: "ident", Name: "file type identifier", Offset: 0, Length: min(64*kib, img.fileSize)}
		setError(&s, err)
		return []Structure{s}
	}
	section := Structure{ID: "header-section", Name: "header section", Offset: 0, Length: headerSectionSize, Status: StatusOK,
		Note:     "the file type identifier, two headers and two region tables; the rest is reserved",
		Children: []Structure{img.identStructure()}}
	if img.headers[1] != nil {
		section.Children = append(section.Children, img.headerStructures())
	}
	if img.regionTables[0] != nil {
		section.Children = append(section.Children, img.regionStructures())
	}
	out := []Structure{section}
	target := ""
	switch img.failedAt {
	case stageHeaders:
		target = "header-section"
		if img.headers[1] != nil {
			target = "headers"
		}
	case stageLog:
		target = "log"
	case stageRegions:
		target = "regions"
	case stageMetadata:
		target = "metadata"
	case stageBAT:
		target = "bat"
	}
	if img.log != nil {
		if s, ok := img.logStructure(); ok {
			out = append(out, s)
		}
	} else if img.failedAt == stageLog {
		h := img.hdr()
		out = append(out, Structure{ID: "log", Name: "log", Offset: int64(h.LogOffset), Length: int64(h.LogLength), Status: StatusOK,
			Fields: []Field{{Name: "LogGuid", Value: h.LogGUID.String()}}})
	}
	switch {
	case img.meta != nil:
		out = append(out, img.metadataStructure(img.meta))
	case img.partialMeta != nil:
		out = append(out, img.metadataStructure(img.partialMeta))
	case img.failedAt == stageMetadata:
		md, _ := img.regions.find(regionMetadata)
		out = append(out, Structure{ID: "metadata", Name: "metadata table", Offset: int64(md.FileOffset), Length: int64(md.Length), Status: StatusOK})
	}
	if img.failedAt == stageBAT {
		out = append(out, img.batStructure())
	}
	if target != "" {
		markFailure(out, target, err)
	}
	return out
}

// markFailure sets status "error" and err's text on the node with the
// given ID, or on its deepest part holding the offset err names (a header
// of the two, a metadata item); ancestors of that node get status "error".
func markFailure(list []Structure, id string, err error) bool {
	for i := range list {
		s := &list[i]
		if s.ID == id {
			var fe *FormatError
			if errors.As(err, &fe) && fe.Err == nil && fe.Offset != s.Offset {
				if markAt(s.Children, fe.Offset, err) {
					s.Status = StatusError
					return true
				}
			}
			setError(s, err)
			return true
		}
		if markFailure(s.Children, id, err) {
			s.Status = StatusError
			return true
		}
	}
	return false
}

// markAt marks the deepest node of list whose range holds off.
func markAt(list []Structure, off int64, err error) bool {
	for i := range list {
		s := &list[i]
		if off < s.Offset || off >= s.Offset+max(s.Length, 1) {
			continue
		}
		if !markAt(s.Children, off, err) {
			setError(s, err)
		}
		s.Status = StatusError
		return true
	}
	return false
}

func setError(s *Structure, err error) {
	s.Status = StatusError
	msg := "open stopped here: " + detail(err)
	if s.Note != "" && !strings.Contains(s.Note, detail(err)) {
		msg = s.Note + "; " + msg
	}
	s.Note = msg
}

// holdsStop reports whether a node of l or below is the one the open
// stopped at.
func holdsStop(l []Structure) bool {
	for _, s := range l {
		if strings.Contains(s.Note, "open stopped here") || holdsStop(s.Children) {
			return true
		}
	}
	return false
}

// reportOf is a check per structure of list, depth first. The check of
// the structure err is about says err, with its field; when no structure
// holds it, err is a check of its own at the end.
func reportOf(list []Structure, err error) *Report {
	rep := &Report{BAT: []BATStats{}}
	errCheck := Check{Structure: "open", Status: StatusError}
	if err != nil {
		errCheck.Message = err.Error()
		var fe *FormatError
		if errors.As(err, &fe) {
			errCheck.Structure, errCheck.Offset = fe.Structure, fe.Offset
			if fe.Field != "" {
				errCheck.Field, errCheck.FieldOffset = fe.Field, fe.Offset
			}
		}
	}
	placed := false
	var walk func([]Structure)
	walk = func(l []Structure) {
		for _, s := range l {
			c := Check{Structure: s.Name, Offset: s.Offset, Length: s.Length, Status: s.Status, Message: s.Note}
			switch {
			case err != nil && strings.Contains(s.Note, "open stopped here"):
				c.Message, c.Field, c.FieldOffset = errCheck.Message, errCheck.Field, errCheck.FieldOffset
				placed = true
			case s.Status == StatusError && holdsStop(s.Children): // an ancestor of the damaged part
				c.Status, c.Message = StatusOK, "holds the damaged part below"
			case c.Message == "" && len(s.Tags) > 0:
				c.Message = strings.Join(s.Tags, ", ")
			case c.Message == "":
				c.Message = "read and checked"
			}
			rep.Checks = append(rep.Checks, c)
			walk(s.Children)
		}
	}
	walk(list)
	if err != nil && !placed {
		rep.Checks = append(rep.Checks, errCheck)
	}
	rep.Tally()
	if err != nil {
		rep.Verdict = "unreadable"
	}
	return rep
}
