package core

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/internal/builder"
)

// checkInspect: Inspect of a file Open refused returns the same error,
// and a structure list in which exactly the damaged structure's node (and
// its ancestors) says so; a file that is no VHDX file gives no list.
func checkInspect(t *testing.T, b []byte, openErr error) {
	t.Helper()
	in, err := Inspect(context.Background(), bytes.NewReader(b), int64(len(b)), "x.vhdx")
	if err == nil || err.Error() != openErr.Error() {
		t.Fatalf("Inspect: %v, want Open's error %v", err, openErr)
	}
	if errors.Is(err, ErrNotVHDX) {
		if in != nil {
			t.Errorf("Inspect of a non-VHDX file gave a list")
		}
		return
	}
	if in == nil || len(in.Structures) == 0 {
		t.Fatalf("Inspect: no structures")
	}
	if in.Report.Verdict != "unreadable" || in.Report.Errors == 0 {
		t.Errorf("report verdict %q, %d errors", in.Report.Verdict, in.Report.Errors)
	}
	said := 0
	for _, c := range in.Report.Checks {
		if c.Message == err.Error() {
			said++
			if c.Status != StatusError {
				t.Errorf("check %+v says the error but is not an error", c)
			}
		}
	}
	if said != 1 {
		t.Errorf("%d checks say the open error, want 1", said)
	}
	marked := 0
	var walk func(l []Structure)
	walk = func(l []Structure) {
		for _, s := range l {
			if strings.Contains(s.Note, "open stopped here: "+detail(err)) {
				marked++
				if s.Status != StatusError {
					t.Errorf("%s carries the error but has status %s", s.ID, s.Status)
				}
			}
			walk(s.Children)
		}
	}
	walk(in.Structures)
	if marked != 1 {
		t.Errorf("%d nodes carry the error, want 1: %+v", marked, in.Structures)
	}
	if in.Structures[0].ID != "header-section" || in.Structures[0].Children[0].ID != "ident" {
		t.Errorf("first node %s, want the header section with the identifier", in.Structures[0].ID)
	}
}

// find returns the node with the given ID.
func find(l []Structure, id string) *Structure {
	for i := range l {
		if l[i].ID == id {
			return &l[i]
		}
		if s := find(l[i].Children, id); s != nil {
			return s
		}
	}
	return nil
}

// TestInspectMetadataItem: a bad block size stops the open at the file
// parameters item; the headers, region tables and the metadata table's
// entries read before it are listed with their checks, the item is the
// one in error, and items decoded later are listed without values.
func TestInspectMetadataItem(t *testing.T) {
	im := damageBase()
	im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.FileParametersGUID, IsRequired: true, Data: builder.FileParameters(3*mB, false, false)}}
	b, lay := imageBytes(t, im)
	in, err := Inspect(t.Context(), bytes.NewReader(b), int64(len(b)), "bad.vhdx")
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Structure != "file parameters item" || fe.Field != "BlockSize" {
		t.Fatalf("Inspect: %v", err)
	}
	for _, id := range []string{"header-1", "header-2", "region-table-1", "region-table-2"} {
		s := find(in.Structures, id)
		if s == nil || s.Status != StatusOK {
			t.Errorf("%s: %+v, want it listed as ok", id, s)
		}
	}
	if s := find(in.Structures, "header-2"); s == nil || !strings.Contains(strings.Join(s.Tags, ","), "current") {
		t.Errorf("header 2 should be current: %+v", s)
	}
	md := find(in.Structures, "metadata")
	if md == nil || md.Offset != lay.Metadata.Offset || md.Status != StatusError || len(md.Children) != 5 {
		t.Fatalf("metadata node %+v, want the table at 0x%x with its 5 entries, in error", md, lay.Metadata.Offset)
	}
	fp := md.Children[0]
	if fp.Name != "file parameters item" || fp.Status != StatusError || !strings.Contains(fp.Note, "BlockSize") ||
		len(fp.Fields) != 7 || fp.Fields[4].Name != "BlockSize" || fp.Fields[4].Value != "3145728" {
		t.Errorf("file parameters item: %+v", fp)
	}
	for _, c := range md.Children[1:] {
		if c.Status != StatusOK || len(c.Fields) != 4 { // the entry's own 4 fields; no decoded value
			t.Errorf("%s: %+v, want its entry fields only", c.Name, c)
		}
	}
	if find(in.Structures, "bat") != nil {
		t.Errorf("the BAT was never reached, but is listed")
	}
	// The item's check names the field, so a page selects its bytes.
	var fc *Check
	for i, c := range in.Report.Checks {
		if c.Structure == "file parameters item" {
			fc = &in.Report.Checks[i]
		}
	}
	if fc == nil || fc.Status != StatusError || fc.Field != "BlockSize" || fc.FieldOffset != fe.Offset {
		t.Errorf("file parameters check %+v", fc)
	}
}

// TestInspectNeitherHeader: both headers damaged: both are listed with
// why, none is current, and the headers node carries the error.
func TestInspectNeitherHeader(t *testing.T) {
	im := damageBase()
	im.Headers[0].CorruptChecksum = true
	b, _ := imageBytes(t, im)
	binary.LittleEndian.PutUint32(b[128*kB:], 0) // header 2's signature
	in, err := Inspect(t.Context(), bytes.NewReader(b), int64(len(b)), "bad.vhdx")
	if err == nil || in == nil {
		t.Fatalf("Inspect: %v", err)
	}
	hs := find(in.Structures, "headers")
	if hs == nil || hs.Status != StatusError || !strings.Contains(hs.Note, "neither header is valid") {
		t.Fatalf("headers node %+v", hs)
	}
	for i, want := range []string{"Checksum", "Signature"} {
		h := hs.Children[i]
		if h.Status != StatusError || !strings.Contains(h.Note, want) || strings.Contains(h.Note, "the other header is used") ||
			strings.Contains(strings.Join(h.Tags, ","), "current") {
			t.Errorf("header %d: %+v", i+1, h)
		}
	}
	if find(in.Structures, "regions") != nil {
		t.Errorf("region tables listed though never read")
	}
}

// TestInspectGood: a file that opens gives Info's list and a clean report.
func TestInspectGood(t *testing.T) {
	b, _ := imageBytes(t, damageBase())
	in, err := Inspect(t.Context(), bytes.NewReader(b), int64(len(b)), "good.vhdx")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := openBytes(b, nil)
	if len(in.Structures) != len(img.Info().Structures) || in.Report.Verdict != "clean" {
		t.Errorf("%d structures, verdict %s", len(in.Structures), in.Report.Verdict)
	}
}
