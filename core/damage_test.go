package core

// Damaged files: every kind of damage gets a specific error naming the
// structure and field (*FormatError), or, for damage that only affects
// some payload blocks, opens and fails just those blocks with a
// *BlockError. Nothing panics, whatever the damage and wherever the file
// is cut short.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/internal/builder"
)

// damageBase is the undamaged image the damage cases start from.
func damageBase() *builder.Image {
	return &builder.Image{VirtualSize: 8 * mB, Blocks: map[uint64]builder.Block{
		0: fullBlock(fillIdx(1)), 3: fullBlock(fillByte(0x33)), 7: fullBlock(fillIdx(2)),
	}}
}

// wantErr describes the *FormatError Open must return.
type wantErr struct {
	structure   string // exact, or a prefix when it ends with "*"
	field       string
	unsupported bool
	msg         string // a substring of Msg
}

func (w *wantErr) check(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Open succeeded, want an error in %s", w.structure)
	}
	fe := asFormatError(t, err)
	if s, ok := strings.CutSuffix(w.structure, "*"); ok {
		if !strings.HasPrefix(fe.Structure, s) {
			t.Errorf("Structure %q, want %s: %v", fe.Structure, w.structure, err)
		}
	} else if fe.Structure != w.structure {
		t.Errorf("Structure %q, want %q: %v", fe.Structure, w.structure, err)
	}
	if fe.Field != w.field {
		t.Errorf("Field %q, want %q: %v", fe.Field, w.field, err)
	}
	if !strings.Contains(fe.detail(), w.msg) {
		t.Errorf("%q does not contain %q", fe.detail(), w.msg)
	}
	if w.unsupported != errors.Is(err, ErrUnsupported) || w.unsupported == errors.Is(err, ErrFormat) {
		t.Errorf("errors.Is(ErrUnsupported) = %v, ErrFormat = %v; want unsupported=%v",
			errors.Is(err, ErrUnsupported), errors.Is(err, ErrFormat), w.unsupported)
	}
}

// Raw edits after building, fixing checksums where the structure has one.

func editRegionTables(b []byte, which []int, f func(rt []byte)) {
	for _, i := range which {
		rt := b[regionTableOffsets[i] : regionTableOffsets[i]+regionTableSize]
		f(rt)
		builder.FixRegionTableChecksum(rt)
	}
}

func editMetadataTable(b []byte, lay *builder.Layout, f func(mt []byte)) {
	f(b[lay.Metadata.Offset : lay.Metadata.Offset+metadataTableSize])
}

func editHeader(b []byte, i int, f func(h []byte)) {
	h := b[headerOffsets[i] : headerOffsets[i]+headerSize]
	f(h)
	builder.FixHeaderChecksum(h)
}

// batIndex is the BAT entry index of payload block i of a dynamic disk
// with 1 MiB blocks and 512-byte sectors.
func batIndex(lay *builder.Layout, i uint64) uint64 {
	return builder.PayloadBATIndex(i, lay.ChunkRatio)
}

func TestDamageOpen(t *testing.T) {
	other := uuid.MustParse("0badbeef-1111-4000-8000-000000000001")
	fp := func(bs uint32) []builder.MetadataItem {
		return []builder.MetadataItem{{ID: builder.FileParametersGUID, IsRequired: true, Data: builder.FileParameters(bs, false, false)}}
	}
	vds := func(v uint64) []builder.MetadataItem {
		return []builder.MetadataItem{{ID: builder.VirtualDiskSizeGUID, IsVirtualDisk: true, IsRequired: true,
			Data: binary.LittleEndian.AppendUint64(nil, v)}}
	}
	lss := func(v uint32) []builder.MetadataItem {
		return []builder.MetadataItem{{ID: builder.LogicalSectorSizeGUID, IsVirtualDisk: true, IsRequired: true,
			Data: binary.LittleEndian.AppendUint32(nil, v)}}
	}
	for _, c := range []struct {
		name string
		mod  func(im *builder.Image)
		post func(b []byte, lay *builder.Layout)
		want wantErr
	}{
		{"not-vhdx", nil, func(b []byte, _ *builder.Layout) { copy(b, "vhdxfilX") },
			wantErr{structure: "file type identifier", field: "Signature", msg: "not a VHDX"}},
		{"both-headers", func(im *builder.Image) {
			im.Headers[0].CorruptChecksum = true
			im.Headers[1].Omit = true
		}, nil, wantErr{structure: "headers", msg: "neither header is valid"}},
		{"equal-sequence-different", func(im *builder.Image) {
			im.Headers[0].Sequence, im.Headers[1].Sequence = 5, 5
			im.Headers[1].DataWriteGUID = &other
		}, nil, wantErr{structure: "headers", field: "SequenceNumber", msg: "different contents"}},
		{"header-version", func(im *builder.Image) { im.Headers[1].Version = u16p(2) }, nil,
			wantErr{structure: "header 2", field: "Version", unsupported: true}},
		{"log-version", func(im *builder.Image) {
			im.Log = &builder.Log{}
			im.Headers[1].LogVersion = u16p(1)
		}, nil, wantErr{structure: "header 2", field: "LogVersion", unsupported: true}},
		{"log-offset-unaligned", func(im *builder.Image) { im.Headers[1].LogOffset = u64p(mB + 4096) }, nil,
			wantErr{structure: "header 2", field: "LogOffset", msg: "multiple of 1 MiB"}},
		{"log-past-eof", func(im *builder.Image) { im.Headers[1].LogOffset = u64p(64 * mB) }, nil,
			wantErr{structure: "header 2", field: "LogOffset", msg: "past the end"}},
		{"log-in-header-section", func(im *builder.Image) { im.Headers[1].LogOffset = u64p(0) }, nil,
			wantErr{structure: "header 2", field: "LogOffset", msg: "header section"}},
		{"both-region-tables", func(im *builder.Image) {
			im.RegionTables[0].CorruptChecksum = true
			im.RegionTables[1].Omit = true
		}, nil, wantErr{structure: "region tables", msg: "region table 1 at 0x30004: Checksum"}},
		{"duplicate-region", func(im *builder.Image) {
			im.ExtraRegions = []builder.Region{{GUID: builder.BATRegionGUID, Length: mB, Required: 1}}
		}, nil, wantErr{structure: "region tables", msg: "Guid: region listed twice"}},
		{"no-bat-region", func(im *builder.Image) { im.OmitRegions = []uuid.UUID{builder.BATRegionGUID} }, nil,
			wantErr{structure: "region tables", msg: "no BAT region"}},
		{"no-metadata-region", func(im *builder.Image) { im.OmitRegions = []uuid.UUID{builder.MetadataRegionGUID} }, nil,
			wantErr{structure: "region tables", msg: "no metadata region"}},
		{"unknown-required-region", func(im *builder.Image) {
			im.ExtraRegions = []builder.Region{{GUID: other, Length: mB, Required: 1}}
		}, nil, wantErr{structure: "region table 1", field: "Required", unsupported: true, msg: other.String()}},
		{"region-overlaps-log", func(im *builder.Image) {
			im.ExtraRegions = []builder.Region{{GUID: other, FileOffset: mB, Length: mB}}
		}, nil, wantErr{structure: "region tables", msg: "region overlaps the log"}},
		{"region-overlaps-region", func(im *builder.Image) {
			im.ExtraRegions = []builder.Region{{GUID: other, FileOffset: 3 * mB, Length: mB}}
		}, nil, wantErr{structure: "region tables", msg: "overlaps the BAT region"}},
		{"region-entry-count", nil, func(b []byte, _ *builder.Layout) {
			editRegionTables(b, []int{0, 1}, func(rt []byte) { binary.LittleEndian.PutUint32(rt[8:], 2048) })
		}, wantErr{structure: "region tables", msg: "EntryCount: more than 2047"}},
		{"metadata-signature", nil, func(b []byte, lay *builder.Layout) {
			editMetadataTable(b, lay, func(mt []byte) { mt[0] = 'M' })
		}, wantErr{structure: "metadata table", field: "Signature"}},
		{"metadata-entry-count", nil, func(b []byte, lay *builder.Layout) {
			editMetadataTable(b, lay, func(mt []byte) { binary.LittleEndian.PutUint16(mt[10:], 2048) })
		}, wantErr{structure: "metadata table", field: "EntryCount", msg: "more than 2047"}},
		{"metadata-item-past-region", nil, func(b []byte, lay *builder.Layout) {
			editMetadataTable(b, lay, func(mt []byte) { binary.LittleEndian.PutUint32(mt[32+16:], uint32(lay.Metadata.Length)-4) })
		}, wantErr{structure: "metadata entry 0", field: "Offset", msg: "past the metadata region"}},
		{"metadata-item-in-table", nil, func(b []byte, lay *builder.Layout) {
			editMetadataTable(b, lay, func(mt []byte) { binary.LittleEndian.PutUint32(mt[32+16:], 100) })
		}, wantErr{structure: "metadata entry 0", field: "Offset", msg: "inside the metadata table"}},
		{"metadata-items-overlap", nil, func(b []byte, lay *builder.Layout) {
			editMetadataTable(b, lay, func(mt []byte) { copy(mt[64+16:64+20], mt[32+16:32+20]) })
		}, wantErr{structure: "metadata entry 1", field: "Offset", msg: "overlaps metadata entry 0"}},
		{"metadata-item-too-long", nil, func(b []byte, lay *builder.Layout) {
			editMetadataTable(b, lay, func(mt []byte) { binary.LittleEndian.PutUint32(mt[32+20:], 2*mB) })
		}, wantErr{structure: "metadata entry 0", field: "Length", msg: "longer than 1 MiB"}},
		{"metadata-duplicate", func(im *builder.Image) {
			im.ExtraMetadata = []builder.MetadataItem{{ID: builder.VirtualDiskSizeGUID, Data: make([]byte, 8)}}
		}, nil, wantErr{structure: "metadata entry 5", field: "ItemID", msg: "listed twice"}},
		{"file-parameters-size", func(im *builder.Image) {
			im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.FileParametersGUID, Data: make([]byte, 12)}}
		}, nil, wantErr{structure: "file parameters item", field: "Length", msg: "must be 8 bytes"}},
		{"virtual-size-item-size", func(im *builder.Image) {
			im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.VirtualDiskSizeGUID, Data: make([]byte, 4)}}
		}, nil, wantErr{structure: "virtual disk size item", field: "Length"}},
		{"disk-id-item-size", func(im *builder.Image) {
			im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.VirtualDiskIDGUID, Data: make([]byte, 15)}}
		}, nil, wantErr{structure: "virtual disk ID item", field: "Length"}},
		{"logical-sector-item-size", func(im *builder.Image) {
			im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.LogicalSectorSizeGUID, Data: make([]byte, 8)}}
		}, nil, wantErr{structure: "logical sector size item", field: "Length"}},
		{"missing-item", func(im *builder.Image) { im.OmitMetadata = []uuid.UUID{builder.LogicalSectorSizeGUID} }, nil,
			wantErr{structure: "metadata table", msg: "required item missing: logical sector size"}},
		{"block-size-not-power-of-two", func(im *builder.Image) { im.ReplaceMetadata = fp(3 * mB) }, nil,
			wantErr{structure: "file parameters item", field: "BlockSize"}},
		{"block-size-small", func(im *builder.Image) { im.ReplaceMetadata = fp(512 * kB) }, nil,
			wantErr{structure: "file parameters item", field: "BlockSize"}},
		{"block-size-large", func(im *builder.Image) { im.ReplaceMetadata = fp(512 * mB) }, nil,
			wantErr{structure: "file parameters item", field: "BlockSize"}},
		{"block-size-zero", func(im *builder.Image) { im.ReplaceMetadata = fp(0) }, nil,
			wantErr{structure: "file parameters item", field: "BlockSize"}},
		{"has-parent-without-locator", func(im *builder.Image) {
			im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.FileParametersGUID, IsRequired: true, Data: builder.FileParameters(mB, false, true)}}
		}, nil, wantErr{structure: "file parameters item", field: "HasParent"}},
		{"logical-sector-1024", func(im *builder.Image) { im.ReplaceMetadata = lss(1024) }, nil,
			wantErr{structure: "logical sector size item", field: "LogicalSectorSize"}},
		{"physical-sector-1024", func(im *builder.Image) {
			im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.PhysicalSectorSizeGUID, Data: binary.LittleEndian.AppendUint32(nil, 1024)}}
		}, nil, wantErr{structure: "physical sector size item", field: "PhysicalSectorSize"}},
		{"virtual-size-not-multiple", func(im *builder.Image) { im.ReplaceMetadata = vds(8*mB + 100) }, nil,
			wantErr{structure: "virtual disk size item", field: "VirtualDiskSize", msg: "not a multiple"}},
		{"virtual-size-not-multiple-4096", func(im *builder.Image) {
			im.LogicalSectorSize = 4096
			im.ReplaceMetadata = vds(8*mB + 512)
		}, nil, wantErr{structure: "virtual disk size item", field: "VirtualDiskSize", msg: "not a multiple of the logical sector size 4096"}},
		{"virtual-size-too-large", func(im *builder.Image) { im.ReplaceMetadata = vds(64*builder.TiB + 512) }, nil,
			wantErr{structure: "virtual disk size item", field: "VirtualDiskSize", msg: "64 TiB"}},
		{"virtual-size-zero", func(im *builder.Image) { im.ReplaceMetadata = vds(0) }, nil,
			wantErr{structure: "virtual disk size item", field: "VirtualDiskSize", msg: "zero"}},
		{"virtual-size-needs-bigger-bat", func(im *builder.Image) { im.ReplaceMetadata = vds(2 * builder.TiB) }, nil,
			wantErr{structure: "BAT region", field: "Length", msg: "too small"}},
		{"unknown-required-item", func(im *builder.Image) {
			im.ExtraMetadata = []builder.MetadataItem{{ID: other, IsRequired: true, Data: []byte("x")}}
		}, nil, wantErr{structure: "metadata entry 5", field: "IsRequired", unsupported: true, msg: other.String()}},
		{"too-many-user-items", func(im *builder.Image) {
			for i := range 1025 {
				id := other
				binary.BigEndian.PutUint32(id[12:], uint32(i))
				im.ExtraMetadata = append(im.ExtraMetadata, builder.MetadataItem{ID: id, IsUser: true})
			}
		}, nil, wantErr{structure: "metadata entry 1029", field: "IsUser", msg: "more than 1024"}},
		{"parent-locator-garbage", func(im *builder.Image) {
			im.Parent = builder.NewVHDXParent(other, "p.vhdx")
			im.ReplaceMetadata = []builder.MetadataItem{{ID: builder.ParentLocatorGUID, IsRequired: true, Data: make([]byte, 10)}}
		}, nil, wantErr{structure: "parent locator item", field: "Length"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			im := damageBase()
			if c.mod != nil {
				c.mod(im)
			}
			b, lay := imageBytes(t, im)
			if c.post != nil {
				c.post(b, lay)
			}
			img, err := openBytes(b, nil)
			if err == nil {
				t.Fatalf("Open succeeded (%s); want an error in %s", img.Type(), c.want.structure)
			}
			c.want.check(t, err)
			checkInspect(t, b, err)
		})
	}
}

// TestDamageTolerated: damage the reader works around, and what Verify
// and Info say about it.
func TestDamageTolerated(t *testing.T) {
	other := uuid.MustParse("0badbeef-2222-4000-8000-000000000002")
	for _, c := range []struct {
		name  string
		mod   func(im *builder.Image)
		post  func(b []byte, lay *builder.Layout)
		check func(t *testing.T, img *Image, rep *Report)
	}{
		{"header-1-damaged", func(im *builder.Image) {
			im.Headers[0].Sequence, im.Headers[1].Sequence = 9, 8 // header 1 would be current
			im.Headers[0].CorruptChecksum = true
		}, nil, func(t *testing.T, img *Image, rep *Report) {
			if img.current != 1 || img.currentReason != "header 1 is not valid" {
				t.Errorf("current header %d (%s), want header 2", img.current+1, img.currentReason)
			}
			wantCheck(t, rep, "header 1", StatusWarning, "Checksum")
			wantCheck(t, rep, "header 2", StatusOK, "current")
			// The check names the field it is about: header 1's Checksum at
			// 0x10004 (MS-VHDX 2.2.2.1), not just the 4 KiB header.
			for _, c := range rep.Checks {
				if c.Structure == "header 1" && (c.Field != "Checksum" || c.FieldOffset != 0x10004) {
					t.Errorf("header 1 check: field %q at 0x%x, want Checksum at 0x10004", c.Field, c.FieldOffset)
				}
			}
			hs := img.Info().Structures[0].Children[1]
			if h1, h2 := hs.Children[0], hs.Children[1]; !slices.Contains(h1.Tags, "CRC bad") || !slices.Contains(h2.Tags, "current") || h1.Status != StatusWarning {
				t.Errorf("Info: header 1 %+v, header 2 %+v", h1, h2)
			}
		}},
		{"header-2-damaged", func(im *builder.Image) { im.Headers[1].Omit = true }, nil,
			func(t *testing.T, img *Image, rep *Report) {
				if img.current != 0 {
					t.Errorf("current header %d, want 1", img.current+1)
				}
				wantCheck(t, rep, "header 2", StatusWarning, "Signature")
			}},
		{"header-1-newer", func(im *builder.Image) { im.Headers[0].Sequence, im.Headers[1].Sequence = 7, 3 }, nil,
			func(t *testing.T, img *Image, rep *Report) {
				if img.current != 0 || img.currentReason != "greater sequence number" {
					t.Errorf("current header %d (%s)", img.current+1, img.currentReason)
				}
			}},
		{"equal-sequence-identical", func(im *builder.Image) { im.Headers[0].Sequence, im.Headers[1].Sequence = 5, 5 }, nil,
			func(t *testing.T, img *Image, rep *Report) {
				if img.current != 0 || img.currentReason != "both headers identical" {
					t.Errorf("current header %d (%s)", img.current+1, img.currentReason)
				}
			}},
		{"region-table-1-damaged", func(im *builder.Image) { im.RegionTables[0].CorruptChecksum = true }, nil,
			func(t *testing.T, img *Image, rep *Report) {
				if img.regions != img.regionTables[1] || !strings.Contains(img.regionNote, "using region table 2") {
					t.Errorf("using region table %d, note %q", img.regions.Index, img.regionNote)
				}
				wantCheck(t, rep, "region table 1", StatusWarning, "Checksum")
				wantCheck(t, rep, "region table 2", StatusOK, "in use")
			}},
		{"region-table-2-damaged", func(im *builder.Image) { im.RegionTables[1].Omit = true }, nil,
			func(t *testing.T, img *Image, rep *Report) {
				if img.regions != img.regionTables[0] {
					t.Errorf("using region table %d", img.regions.Index)
				}
				wantCheck(t, rep, "region table 2", StatusWarning, "Signature")
			}},
		{"region-table-1-entry-count", nil, func(b []byte, _ *builder.Layout) {
			editRegionTables(b, []int{0}, func(rt []byte) { binary.LittleEndian.PutUint32(rt[8:], 2048) })
		}, func(t *testing.T, img *Image, rep *Report) {
			wantCheck(t, rep, "region table 1", StatusWarning, "EntryCount")
		}},
		{"unknown-optional-region", func(im *builder.Image) {
			im.ExtraRegions = []builder.Region{{GUID: other, Data: []byte("future")}}
		}, nil, func(t *testing.T, img *Image, rep *Report) {
			wantCheck(t, rep, "unknown region", StatusOK, "optional, ignored")
		}},
		{"unknown-optional-item", func(im *builder.Image) {
			im.ExtraMetadata = []builder.MetadataItem{{ID: other, Data: []byte("x")}, {ID: other, IsUser: true, Data: []byte("user")}}
		}, nil, func(t *testing.T, img *Image, rep *Report) {
			wantCheck(t, rep, "unknown item", StatusOK, "ignored")
			wantCheck(t, rep, "user item item", StatusOK, "ignored")
		}},
		{"log-guid-empty-log", func(im *builder.Image) { im.Log = &builder.Log{} }, nil,
			func(t *testing.T, img *Image, rep *Report) {
				if !img.log.Present || img.log.Replayed {
					t.Errorf("log %+v", img.log)
				}
				wantCheck(t, rep, "log", StatusOK, "nothing to replay")
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			im := damageBase()
			if c.mod != nil {
				c.mod(im)
			}
			b, lay := imageBytes(t, im)
			if c.post != nil {
				c.post(b, lay)
			}
			img, err := openBytes(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			compareDisks(t, "virtual disk", img, expectedDisk(t, damageBase(), nil), img.Size())
			rep := img.Verify(t.Context(), nil)
			c.check(t, img, rep)
		})
	}
}

// wantCheck asserts that the report has a check for structure with the
// status and a message containing msg.
func wantCheck(t *testing.T, rep *Report, structure string, st Status, msg string) {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Structure == structure && c.Status == st && strings.Contains(c.Message, msg) {
			return
		}
	}
	var have []string
	for _, c := range rep.Checks {
		have = append(have, fmt.Sprintf("%s/%s: %s", c.Structure, c.Status, c.Message))
	}
	t.Errorf("no %s check for %q containing %q; have:\n%s", st, structure, msg, strings.Join(have, "\n"))
}

// TestDamageBAT: bad BAT entries open, fail only their block with a
// *BlockError naming it, and are listed by Verify.
func TestDamageBAT(t *testing.T) {
	const bad = 2 // the damaged payload block
	for _, c := range []struct {
		name  string
		entry func(lay *builder.Layout) uint64
		msg   string
	}{
		{"past-eof", func(lay *builder.Layout) uint64 {
			return builder.BATEntry(6, uint64(lay.FileSize)+10*mB)
		}, "past the end of the file"},
		{"straddles-eof", func(lay *builder.Layout) uint64 {
			return builder.BATEntry(6, uint64(lay.FileSize)-mB/2&^(mB-1))
		}, "past the end of the file"},
		// FileOffsetMB is 44 bits: shifted to bytes it overflows int64.
		{"offset-overflows", func(lay *builder.Layout) uint64 { return 6 | (1<<44-1)<<20 }, "past the end of the file"},
		{"offset-2^63", func(lay *builder.Layout) uint64 { return 6 | 1<<63 }, "past the end of the file"},
		{"overlaps-metadata", func(lay *builder.Layout) uint64 {
			return builder.BATEntry(6, uint64(lay.Metadata.Offset))
		}, "overlaps the metadata region"},
		{"overlaps-bat", func(lay *builder.Layout) uint64 { return builder.BATEntry(6, uint64(lay.BAT.Offset)) },
			"overlaps the BAT region"},
		{"overlaps-log", func(lay *builder.Layout) uint64 { return builder.BATEntry(6, uint64(lay.Log.Offset)) },
			"overlaps the log"},
		{"header-section", func(lay *builder.Layout) uint64 { return builder.BATEntry(6, 0) }, "file offset 0"},
		{"reserved-state-4", func(lay *builder.Layout) uint64 { return builder.BATEntry(4, uint64(lay.Blocks[3])) }, "reserved state 4"},
		{"reserved-state-5", func(lay *builder.Layout) uint64 { return 5 }, "reserved state 5"},
		{"reserved-bits", func(lay *builder.Layout) uint64 { return builder.BATEntry(6, uint64(lay.Blocks[3])) | 1<<10 }, "reserved bits"},
		{"partially-present-in-dynamic", func(lay *builder.Layout) uint64 { return builder.BATEntry(7, uint64(lay.Blocks[3])) },
			"PARTIALLY_PRESENT in a disk without a parent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			im := damageBase()
			lay0, err := im.Layout()
			if err != nil {
				t.Fatal(err)
			}
			im.RawBAT = map[uint64]uint64{batIndex(lay0, bad): c.entry(lay0)}
			b, lay := imageBytes(t, im)
			img, err := openBytes(b, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			// The damaged block fails, with a *BlockError naming it.
			buf := make([]byte, 4096)
			_, err = img.ReadAt(buf, bad*mB+512)
			var be *BlockError
			if !errors.As(err, &be) || be.Block != bad || be.Entry != int64(batIndex(lay, bad)) || be.Level != 0 ||
				!strings.Contains(be.Msg, c.msg) || !errors.Is(err, ErrFormat) {
				t.Fatalf("reading block %d: %v (%T), want a *BlockError for block %d: %s", bad, err, err, bad, c.msg)
			}
			if _, err := img.Block(bad); !errors.As(err, &be) {
				t.Errorf("Block(%d): %v", bad, err)
			}
			if _, err := img.planRuns(0, img.Size(), 100); !errors.As(err, &be) {
				t.Errorf("Plan over block %d: %v", bad, err)
			}
			// The others still read.
			exp := expectedDisk(t, damageBase(), nil)
			for _, blk := range []int64{0, 1, 3, 7} {
				if err := checkReadAt(img, exp, blk*mB, mB); err != nil {
					t.Errorf("block %d: %v", blk, err)
				}
			}
			rep := img.Verify(t.Context(), nil)
			wantCheck(t, rep, fmt.Sprintf("BAT entry %d", batIndex(lay, bad)), StatusError, c.msg)
			wantCheck(t, rep, "BAT", StatusError, "1 bad entries")
			if rep.Verdict != "problems" || rep.BAT[0].BadEntries != 1 {
				t.Errorf("verdict %s, %d bad entries", rep.Verdict, rep.BAT[0].BadEntries)
			}
		})
	}
}

// TestDamageBATOverlap: two blocks claiming the same file space read (the
// BAT says so) but Verify reports the overlap.
func TestDamageBATOverlap(t *testing.T) {
	im := damageBase()
	lay0, _ := im.Layout()
	im.RawBAT = map[uint64]uint64{batIndex(lay0, 5): builder.BATEntry(6, uint64(lay0.Blocks[3]))}
	b, lay := imageBytes(t, im)
	img, err := openBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, want := make([]byte, mB), make([]byte, mB)
	img.ReadAt(got, 5*mB)
	img.ReadAt(want, 3*mB)
	if string(got) != string(want) {
		t.Error("block 5 does not read block 3's data")
	}
	rep := img.Verify(t.Context(), nil)
	wantCheck(t, rep, fmt.Sprintf("BAT entry %d", batIndex(lay, 5)), StatusError, "overlaps another block")
}

// TestTruncated cuts images at every structure boundary: Open fails with
// a *FormatError, or opens and then reading the disk fails; never a panic.
func TestTruncated(t *testing.T) {
	dirty := damageBase()
	dirty.Log = &builder.Log{Deferred: []builder.Deferred{{Target: "bat-page", Index: 3}, {Target: "metadata-table"}}}
	diff := &builder.Image{VirtualSize: 8 * mB, Parent: builder.NewVHDXParent(builder.DefaultDataWriteGUID, "p.vhdx"),
		Blocks: map[uint64]builder.Block{
			1: fullBlock(fillIdx(1)),
			2: {State: builder.PayloadPartiallyPresent, Fill: fillIdx(2), Present: []builder.SectorRange{{Start: 3, Count: 5}}},
		}}
	whole := [][2]int64{{0, 8 * mB}}
	for _, c := range []struct {
		name string
		im   *builder.Image
		own  [][2]int64 // virtual ranges stored in the file: offset, length
	}{
		{"clean", damageBase(), whole},
		{"dirty-log", dirty, whole},
		{"differencing", diff, [][2]int64{{mB, mB}, {2*mB + 3*512, 5 * 512}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			full, lay := imageBytes(t, c.im)
			cuts := []int64{0, 8, 4096, 64 * kB, 64*kB + 100, 128 * kB, 128*kB + 4095, 192 * kB, 256 * kB, 256*kB + 100, mB - 1, mB,
				lay.Log.Offset, lay.Log.Offset + 4096, lay.Log.End() - 1, lay.Log.End(),
				lay.Metadata.Offset, lay.Metadata.Offset + 100, lay.Metadata.Offset + 64*kB, lay.Metadata.Offset + 64*kB + 20, lay.Metadata.End() - 1,
				lay.BAT.Offset, lay.BAT.Offset + 8, lay.BAT.Offset + 8*int64(lay.BATEntries) - 1, lay.BAT.End() - 1,
				lay.FileSize - 1}
			for _, off := range lay.Blocks {
				cuts = append(cuts, off, off+512, off+mB-1)
			}
			for _, off := range lay.SectorBitmaps {
				cuts = append(cuts, off, off+1)
			}
			for _, e := range lay.LogEntries {
				cuts = append(cuts, e.Offset+64, e.Offset+int64(e.Length)-1)
			}
			for _, cut := range cuts {
				b := full[:cut]
				img, err := openBytes(b, nil)
				if err != nil {
					var fe *FormatError
					if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
						t.Errorf("cut at 0x%x: %v (%T), want a *FormatError", cut, err, err)
					}
					continue
				}
				img.Verify(t.Context(), nil)
				img.Info()
				// Read what lives in this file: everything, or for the
				// differencing disk its own blocks (the rest needs the
				// parent).
				var readErr error
				for _, r := range c.own {
					if _, err := img.ReadAt(make([]byte, r[1]), r[0]); err != nil {
						readErr = err
					}
				}
				if readErr == nil {
					t.Errorf("cut at 0x%x: Open and reading the disk succeeded", cut)
				}
			}
		})
	}
}

// TestDamageSectorBitmap: a PARTIALLY_PRESENT block needs its chunk's
// sector bitmap block; when that entry is unusable the block fails.
func TestDamageSectorBitmap(t *testing.T) {
	mk := func() *builder.Image {
		return &builder.Image{VirtualSize: 4 * mB, Parent: builder.NewVHDXParent(builder.DefaultDataWriteGUID, "p.vhdx"),
			Blocks: map[uint64]builder.Block{
				0: fullBlock(fillIdx(1)),
				2: {State: builder.PayloadPartiallyPresent, Fill: fillIdx(2), Present: []builder.SectorRange{{Start: 0, Count: 8}}},
			}}
	}
	lay0, err := mk().Layout()
	if err != nil {
		t.Fatal(err)
	}
	sb := builder.SectorBitmapBATIndex(0, lay0.ChunkRatio)
	for _, c := range []struct {
		name  string
		entry uint64
		msg   string
	}{
		{"not-present", 0, "is not present (state 0)"},
		{"reserved-state", builder.BATEntry(3, uint64(lay0.SectorBitmaps[0])), "is not present (state 3)"},
		{"past-eof", builder.BATEntry(6, uint64(lay0.FileSize)+mB), "lies past the end"},
		{"offset-overflows", 6 | (1<<44-1)<<20, "lies past the end"},
		{"overlaps-bat", builder.BATEntry(6, uint64(lay0.BAT.Offset)), "overlaps the BAT region"},
		{"offset-zero", builder.BATEntry(6, 0), "overlaps the header section"},
	} {
		t.Run(c.name, func(t *testing.T) {
			im := mk()
			im.RawBAT = map[uint64]uint64{sb: c.entry}
			b, _ := imageBytes(t, im)
			img, err := openBytes(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = img.ReadAt(make([]byte, 512), 2*mB)
			var be *BlockError
			if !errors.As(err, &be) || be.Block != 2 || !strings.Contains(be.Msg, c.msg) {
				t.Fatalf("reading the partial block: %v, want a *BlockError: %s", err, c.msg)
			}
			// Its own fully present block still reads.
			if _, err := img.ReadAt(make([]byte, mB), 0); err != nil {
				t.Errorf("block 0: %v", err)
			}
			rep := img.Verify(t.Context(), nil)
			if rep.Errors == 0 {
				t.Errorf("Verify found no error")
			}
		})
	}
}
