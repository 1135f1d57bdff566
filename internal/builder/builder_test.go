package builder

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/uuid"
)

func mustBytes(t *testing.T, im *Image) ([]byte, *Layout) {
	t.Helper()
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	lay, err := im.Layout()
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != lay.FileSize {
		t.Fatalf("Bytes returned %d bytes, layout says %d", len(b), lay.FileSize)
	}
	return b, lay
}

func TestGUIDBytes(t *testing.T) {
	// MS-VHDX GUIDs are stored like Windows GUID structures: Data1-3
	// little-endian, Data4 as is.
	got := GUIDBytes(BATRegionGUID)
	want := []byte{0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6, 0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08}
	if !bytes.Equal(got[:], want) {
		t.Fatalf("GUIDBytes(BAT) = % x, want % x", got, want)
	}
	for _, u := range []uuid.UUID{BATRegionGUID, MetadataRegionGUID, VHDXParentLocatorType, uuid.New()} {
		g := GUIDBytes(u)
		if GUIDFromBytes(g[:]) != u || msGUID(g[:]) != u {
			t.Errorf("round trip of %s failed", u)
		}
	}
}

func TestBATArithmetic(t *testing.T) {
	for _, c := range []struct {
		ls, bs uint32
		cr     uint64
	}{
		{512, MiB, 4096}, {512, 32 * MiB, 128}, {512, 256 * MiB, 16},
		{4096, MiB, 32768}, {4096, 256 * MiB, 128},
	} {
		if got := ChunkRatio(c.ls, c.bs); got != c.cr {
			t.Errorf("ChunkRatio(%d, %d) = %d, want %d", c.ls, c.bs, got, c.cr)
		}
	}
	// Simulate the interleaving of MS-VHDX 2.5 (chunk ratio 4): payload
	// entries of a chunk, then its sector bitmap entry.
	const cr = 4
	var payload, bitmap []uint64
	for idx := uint64(0); idx < 40; idx++ {
		if idx%(cr+1) == cr {
			bitmap = append(bitmap, idx)
		} else {
			payload = append(payload, idx)
		}
	}
	for i, want := range payload {
		if got := PayloadBATIndex(uint64(i), cr); got != want {
			t.Errorf("PayloadBATIndex(%d) = %d, want %d", i, got, want)
		}
	}
	for c, want := range bitmap {
		if got := SectorBitmapBATIndex(uint64(c), cr); got != want {
			t.Errorf("SectorBitmapBATIndex(%d) = %d, want %d", c, got, want)
		}
	}
	for _, c := range []struct {
		size       uint64
		bs, ls     uint32
		diff       bool
		want       uint64
		wantBATLen int64
	}{
		{8 * MiB, MiB, 512, false, 8, MiB},
		{8 * MiB, MiB, 512, true, 4097, MiB},
		{4 * GiB, MiB, 512, false, 4096, MiB},                  // exactly one chunk: no bitmap entry
		{4*GiB + MiB, MiB, 512, false, 4098, MiB},              // second chunk starts after bitmap entry 0
		{4*GiB + MiB, MiB, 512, true, 8194, MiB},               // two full chunks
		{64 * TiB, MiB, 512, false, 64*MiB + 16383, 513 * MiB}, // the 64 TiB case
		{64 * TiB, 256 * MiB, 4096, true, 2048 * 129, 3 * MiB},
	} {
		if got := BATEntryCount(c.size, c.bs, c.ls, c.diff); got != c.want {
			t.Errorf("BATEntryCount(%d, %d, %d, %v) = %d, want %d", c.size, c.bs, c.ls, c.diff, got, c.want)
		}
		im := &Image{VirtualSize: c.size, BlockSize: c.bs, LogicalSectorSize: c.ls}
		if c.diff {
			im.Parent = NewVHDXParent(uuid.Nil, "p.vhdx")
		}
		lay, err := im.Layout()
		if err != nil {
			t.Fatal(err)
		}
		if lay.BATEntries != c.want || lay.BAT.Length != c.wantBATLen {
			t.Errorf("size %d: layout has %d entries in %d bytes", c.size, lay.BATEntries, lay.BAT.Length)
		}
	}
	if BATEntry(6, 5*MiB) != 6|5<<20 {
		t.Errorf("BATEntry(6, 5 MiB) = %#x", BATEntry(6, 5*MiB))
	}
}

func TestHeaderSection(t *testing.T) {
	im := &Image{VirtualSize: 8 * MiB, Creator: "test créateur",
		FileWriteGUID: uuid.MustParse("aaaaaaaa-0000-4000-8000-000000000001"),
		DataWriteGUID: uuid.MustParse("aaaaaaaa-0000-4000-8000-000000000002")}
	img, lay := mustBytes(t, im)
	if string(img[0:8]) != "vhdxfile" {
		t.Fatalf("signature %q", img[0:8])
	}
	u := utf16.Encode([]rune("test créateur"))
	for i, c := range u {
		if le.Uint16(img[8+2*i:]) != c {
			t.Fatalf("creator code unit %d", i)
		}
	}
	if le.Uint16(img[8+2*len(u):]) != 0 {
		t.Fatal("creator not NUL terminated")
	}
	for i, off := range []int{64 * KiB, 128 * KiB} {
		h := parseHeader(img[off:])
		if !h.valid || h.seq != uint64(i+1) || h.version != 1 || h.logVersion != 0 ||
			h.logOffset != MiB || h.logLength != MiB || h.log != uuid.Nil ||
			h.fileWrite != im.FileWriteGUID || h.dataWrite != im.DataWriteGUID {
			t.Errorf("header %d: %+v", i, h)
		}
		if !allZero(img[off+80 : off+64*KiB]) {
			t.Errorf("header %d: reserved bytes not zero", i)
		}
	}
	if currentHeader(t, img).seq != 2 || lay.CurrentHeader != 1 {
		t.Error("second header should be current")
	}
	rt1, rt2 := img[192*KiB:256*KiB], img[256*KiB:320*KiB]
	if !bytes.Equal(rt1, rt2) {
		t.Fatal("region table copies differ")
	}
	rs := parseRegionTable(t, rt1)
	if len(rs) != 2 {
		t.Fatalf("%d regions", len(rs))
	}
	bat, md := regionOf(t, rs, BATRegionGUID), regionOf(t, rs, MetadataRegionGUID)
	if bat.required != 1 || md.required != 1 {
		t.Error("known regions must be required")
	}
	if int64(bat.off) != lay.BAT.Offset || int64(bat.length) != lay.BAT.Length ||
		int64(md.off) != lay.Metadata.Offset || int64(md.length) != lay.Metadata.Length {
		t.Errorf("regions %+v vs layout %+v %+v", rs, lay.BAT, lay.Metadata)
	}
	for _, e := range []Extent{lay.Log, lay.Metadata, lay.BAT} {
		if e.Offset%MiB != 0 || e.Length%MiB != 0 || e.Offset < MiB {
			t.Errorf("structure %+v not 1 MiB aligned", e)
		}
	}
}

func TestMetadataRegion(t *testing.T) {
	for _, diff := range []bool{false, true} {
		im := &Image{VirtualSize: 8*MiB + 4096, BlockSize: 2 * MiB, LogicalSectorSize: 4096,
			PhysicalSectorSize: 512, VirtualDiskID: uuid.MustParse("12345678-9abc-4def-8123-456789abcdef")}
		if diff {
			im.Parent = NewVHDXParent(uuid.MustParse("83ed0ec3-24c8-49a6-a959-5e4bf1288bfb"), `..\p.vhdx`)
		}
		img, lay := mustBytes(t, im)
		ms := parseMetadata(t, img, uint64(lay.Metadata.Offset))
		type flags struct{ user, vd, req bool }
		want := map[uuid.UUID]flags{
			FileParametersGUID:     {false, false, true},
			VirtualDiskSizeGUID:    {false, true, true},
			VirtualDiskIDGUID:      {false, true, true},
			LogicalSectorSizeGUID:  {false, true, true},
			PhysicalSectorSizeGUID: {false, true, true},
		}
		if diff {
			want[ParentLocatorGUID] = flags{false, false, true}
		}
		if len(ms) != len(want) {
			t.Fatalf("diff=%v: %d items", diff, len(ms))
		}
		for _, m := range ms {
			f, ok := want[m.id]
			if !ok || (flags{m.isUser, m.isVirtualDisk, m.isRequired}) != f {
				t.Errorf("item %s flags %+v", m.id, m)
			}
			if m.off < 64*KiB {
				t.Errorf("item %s at offset %d < 64 KiB", m.id, m.off)
			}
		}
		fp, _ := findMeta(ms, FileParametersGUID)
		wantFlags := uint32(0)
		if diff {
			wantFlags = 2
		}
		if len(fp.data) != 8 || le.Uint32(fp.data) != 2*MiB || le.Uint32(fp.data[4:]) != wantFlags {
			t.Errorf("file parameters % x", fp.data)
		}
		vs, _ := findMeta(ms, VirtualDiskSizeGUID)
		ls, _ := findMeta(ms, LogicalSectorSizeGUID)
		ps, _ := findMeta(ms, PhysicalSectorSizeGUID)
		id, _ := findMeta(ms, VirtualDiskIDGUID)
		if le.Uint64(vs.data) != 8*MiB+4096 || le.Uint32(ls.data) != 4096 || le.Uint32(ps.data) != 512 ||
			msGUID(id.data) != im.VirtualDiskID {
			t.Errorf("size/sector/id items wrong")
		}
		if diff {
			pl, _ := findMeta(ms, ParentLocatorGUID)
			kv := decodeLocator(t, pl.data)
			if kv["parent_linkage"] != "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}" || kv["relative_path"] != `..\p.vhdx` {
				t.Errorf("locator %v", kv)
			}
		}
	}
}

// decodeLocator decodes a parent locator item per MS-VHDX 2.6.2.6.
func decodeLocator(t *testing.T, b []byte) map[string]string {
	t.Helper()
	if msGUID(b) != uuid.MustParse("B04AEFB7-D19E-4A81-B789-25B8E9445913") || le.Uint16(b[16:]) != 0 {
		t.Fatalf("locator type/reserved % x", b[:18])
	}
	n := int(le.Uint16(b[18:]))
	str := func(off, length uint32) string {
		if off == 0 || length == 0 || length%2 != 0 {
			t.Fatalf("bad string %d+%d", off, length)
		}
		var u []uint16
		for i := off; i < off+length; i += 2 {
			u = append(u, le.Uint16(b[i:]))
		}
		return string(utf16.Decode(u))
	}
	kv := map[string]string{}
	for i := range n {
		e := b[20+12*i:]
		kv[str(le.Uint32(e), uint32(le.Uint16(e[8:])))] = str(le.Uint32(e[4:]), uint32(le.Uint16(e[10:])))
	}
	return kv
}

func TestParentLocator(t *testing.T) {
	if got := LinkageValue(uuid.MustParse("83ED0EC3-24C8-49A6-A959-5E4BF1288BFB")); got != "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}" {
		t.Errorf("LinkageValue = %s", got)
	}
	pl := &ParentLocator{Entries: []KeyValue{
		{KeyParentLinkage, "{x}"}, {KeyParentLinkage2, "{y}"}, {KeyRelativePath, `..\a\ü.vhdx`},
		{KeyVolumePath, `\\?\Volume{26A21BDA-A627-11D7-9931-806E6F6E6963}\p.vhdx`},
		{KeyAbsoluteWin32Path, `\\?\d:\p.vhdx`}, {"custom", "1"},
	}}
	b, err := pl.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	kv := decodeLocator(t, b)
	if len(kv) != 6 {
		t.Fatalf("%d entries", len(kv))
	}
	for _, e := range pl.Entries {
		if kv[e.Key] != e.Value {
			t.Errorf("%s = %q, want %q", e.Key, kv[e.Key], e.Value)
		}
	}
	if v, ok := pl.Get(KeyRelativePath); !ok || v != `..\a\ü.vhdx` {
		t.Error("Get")
	}
	// Strings are packed in entry order with no NULs.
	if strings.Contains(string(b[20+12*6:]), "\x00\x00\x00") {
		t.Error("NUL characters in strings")
	}
}

func TestBlocksAndBAT(t *testing.T) {
	im := &Image{VirtualSize: 10*MiB + 512, Blocks: map[uint64]Block{
		1:  full(idx(1)),
		2:  {State: PayloadZero},
		4:  {State: PayloadUnmapped, Data: []byte("stale")},
		5:  {State: PayloadUndefined},
		9:  fullData([]byte("nine")),
		10: full(fill(0x10)), // the last, partial block
	}}
	img, lay := mustBytes(t, im)
	if lay.PayloadBlocks != 11 || lay.BATEntries != 11 {
		t.Fatalf("payload blocks %d, entries %d", lay.PayloadBlocks, lay.BATEntries)
	}
	wantState := map[uint64]uint8{1: 6, 2: 2, 4: 3, 5: 1, 9: 6, 10: 6}
	prev := int64(0)
	for i := range uint64(11) {
		st, off := batEntryAt(img, uint64(lay.BAT.Offset), i)
		if st != wantState[i] {
			t.Errorf("block %d state %d, want %d", i, st, wantState[i])
		}
		got, allocated := lay.Blocks[i]
		if allocated != (off != 0) || (allocated && int64(off) != got) {
			t.Errorf("block %d: BAT offset %#x, layout %#x", i, off, got)
		}
		if allocated {
			if int64(off) <= prev || off%MiB != 0 || int64(off) < lay.BAT.End() {
				t.Errorf("block %d at %#x: not ascending/aligned/after the BAT", i, off)
			}
			prev = int64(off)
		}
	}
	if _, ok := lay.Blocks[2]; ok {
		t.Error("ZERO block without data must not be allocated")
	}
	if string(img[lay.Blocks[4]:lay.Blocks[4]+5]) != "stale" || string(img[lay.Blocks[9]:lay.Blocks[9]+5]) != "nine\x00" {
		t.Error("block data not at its BAT offset")
	}
	if le.Uint64(img[lay.Blocks[1]+512:]) != MiB/512+1 || le.Uint64(img[lay.Blocks[1]+520:]) != 1 {
		t.Error("index fill of block 1 wrong")
	}
	if lay.FileSize != lay.Blocks[10]+MiB {
		t.Errorf("file size %d", lay.FileSize)
	}
	fp, _ := findMeta(parseMetadata(t, img, uint64(lay.Metadata.Offset)), FileParametersGUID)
	if le.Uint32(fp.data[4:]) != 0 {
		t.Error("dynamic image has File Parameters flags set")
	}
}

func TestFixed(t *testing.T) {
	im := &Image{VirtualSize: 5 * MiB, Fixed: true, Blocks: map[uint64]Block{
		1: fullData([]byte("one")), 3: {State: PayloadZero},
	}}
	img, lay := mustBytes(t, im)
	first := lay.BAT.End()
	for i := range uint64(5) {
		st, off := batEntryAt(img, uint64(lay.BAT.Offset), i)
		wantOff := uint64(first) + i*MiB
		if i == 3 {
			if st != 2 || off != 0 {
				t.Errorf("ZERO block in fixed image: state %d off %#x", st, off)
			}
			continue
		}
		if st != 6 || off != wantOff {
			t.Errorf("block %d: state %d off %#x, want 6 at %#x", i, st, off, wantOff)
		}
	}
	if lay.FileSize != first+5*MiB {
		t.Errorf("fixed file size %d, want %d", lay.FileSize, first+5*MiB)
	}
	fp, _ := findMeta(parseMetadata(t, img, uint64(lay.Metadata.Offset)), FileParametersGUID)
	if le.Uint32(fp.data[4:]) != 1 {
		t.Error("fixed image lacks LeaveBlockAllocated")
	}
	if _, err := (&Image{VirtualSize: MiB, Fixed: true, Parent: &ParentLocator{}}).Bytes(); err == nil {
		t.Error("Fixed differencing image accepted")
	}
}

func TestDifferencingSectorBitmap(t *testing.T) {
	bm := make([]byte, 256)
	bm[10] = 0x81
	im := &Image{VirtualSize: 4 * MiB, Parent: NewVHDXParent(uuid.Nil, "p.vhdx"),
		AbsentSectorFill: []byte{0xDE, 0xAD},
		Blocks: map[uint64]Block{
			0: full(fill(1)),
			1: {State: PayloadPartiallyPresent, Fill: fill(2), Present: []SectorRange{{0, 3}, {2047, 1}}, PresentBitmap: bm},
			3: {State: PayloadNotPresent},
		}}
	img, lay := mustBytes(t, im)
	cr := lay.ChunkRatio
	if lay.BATEntries != cr+1 {
		t.Fatalf("BAT entries %d", lay.BATEntries)
	}
	st, off := batEntryAt(img, uint64(lay.BAT.Offset), SectorBitmapBATIndex(0, cr))
	if st != 6 || int64(off) != lay.SectorBitmaps[0] || off == 0 {
		t.Fatalf("sector bitmap entry: state %d off %#x", st, off)
	}
	sb := img[off : off+MiB]
	// Block 0 (FULLY_PRESENT): sectors 0-2047 all set.
	if !bytes.Equal(sb[:256], bytes.Repeat([]byte{0xFF}, 256)) {
		t.Error("bits of the fully present block not set")
	}
	// Block 1: sectors 2048+{0,1,2}, 2048+80, 2048+87, 2048+2047.
	b1 := sb[256:512]
	if b1[0] != 0b111 || b1[10] != 0x81 || b1[255] != 0x80 || bytes.Count(b1, []byte{0}) != 253 {
		t.Errorf("partial block bitmap % x ... % x", b1[:11], b1[255:])
	}
	if !allZero(sb[512:]) {
		t.Error("bits beyond block 1 set")
	}
	data := img[lay.Blocks[1] : lay.Blocks[1]+MiB]
	if data[0] != 2 || data[2*512] != 2 || data[3*512] != 0xDE || data[3*512+1] != 0xAD || data[80*512] != 2 {
		t.Error("absent sectors not marked / present sectors not kept")
	}
	fp, _ := findMeta(parseMetadata(t, img, uint64(lay.Metadata.Offset)), FileParametersGUID)
	if le.Uint32(fp.data[4:]) != 2 {
		t.Error("HasParent not set")
	}
	// Expected: partial sectors from the parent.
	parent := bytes.Repeat([]byte{9}, 4*MiB)
	exp, err := im.Expected(bytes.NewReader(parent))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4*MiB)
	if _, err := exp.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		off  int
		want byte
	}{{0, 1}, {MiB, 2}, {MiB + 3*512, 9}, {MiB + 80*512, 2}, {MiB + 81*512, 9}, {2*MiB - 1, 2}, {2 * MiB, 9}, {3 * MiB, 9}} {
		if got[c.off] != c.want {
			t.Errorf("expected byte at %#x = %d, want %d", c.off, got[c.off], c.want)
		}
	}
}

func TestOverrides(t *testing.T) {
	extra := uuid.MustParse("deadbeef-0000-4000-8000-000000000001")
	v2 := uint16(2)
	logOff := uint64(77 * MiB)
	im := &Image{VirtualSize: 4 * MiB,
		Blocks:       map[uint64]Block{0: full(fill(1))},
		Headers:      [2]HeaderOptions{{Sequence: 9, Version: &v2}, {Sequence: 3, CorruptChecksum: true, LogOffset: &logOff}},
		RegionTables: [2]RegionTableOptions{{}, {Omit: true}},
		ExtraRegions: []Region{
			{GUID: extra, Required: 1, Data: []byte("extra region")},
			{GUID: BATRegionGUID, FileOffset: 100 * MiB, Length: MiB}, // duplicate BAT entry
		},
		ReplaceMetadata: []MetadataItem{{ID: FileParametersGUID, IsRequired: true, Data: []byte{0, 0, 0x10, 0, 4, 0, 0, 0}}},
		OmitMetadata:    []uuid.UUID{PhysicalSectorSizeGUID},
		ExtraMetadata: []MetadataItem{
			{ID: extra, IsUser: true, IsRequired: true, Data: []byte("user")},
			{ID: extra, Data: nil},
			{ID: VirtualDiskSizeGUID, Offset: 1000, Data: []byte{1}},
		},
		RawBAT:  map[uint64]uint64{1: 0xFFFF_FFFF_FFFF_FFFF},
		Patches: []Patch{{FileOffset: 200 * MiB, Data: []byte("tail")}},
	}
	img, lay := mustBytes(t, im)
	h1, h2 := parseHeader(img[64*KiB:]), parseHeader(img[128*KiB:])
	if !h1.valid || h1.seq != 9 || h1.version != 2 || h2.valid || h2.logOffset != logOff {
		t.Errorf("headers %+v %+v", h1, h2)
	}
	if !allZero(img[256*KiB : 320*KiB]) {
		t.Error("second region table not omitted")
	}
	rs := parseRegionTable(t, img[192*KiB:])
	if len(rs) != 4 || rs[2].guid != extra || rs[2].required != 1 || rs[3].guid != BATRegionGUID || rs[3].off != 100*MiB {
		t.Errorf("regions %+v", rs)
	}
	if string(img[rs[2].off:rs[2].off+12]) != "extra region" || rs[2].length != MiB {
		t.Error("extra region data")
	}
	ms := parseMetadata(t, img, uint64(lay.Metadata.Offset))
	if len(ms) != 7 {
		t.Fatalf("%d metadata items", len(ms))
	}
	if !bytes.Equal(ms[0].data, []byte{0, 0, 0x10, 0, 4, 0, 0, 0}) {
		t.Error("file parameters not replaced")
	}
	if _, ok := findMeta(ms, PhysicalSectorSizeGUID); ok {
		t.Error("physical sector size not omitted")
	}
	if m := ms[4]; m.id != extra || !m.isUser || !m.isRequired || string(m.data) != "user" {
		t.Errorf("extra item %+v", m)
	}
	if m := ms[5]; m.off != 0 || m.length != 0 {
		t.Errorf("empty item must have offset 0 and length 0: %+v", m)
	}
	if m := ms[6]; m.off != 1000 || m.length != 1 {
		t.Errorf("placed item %+v", m)
	}
	if le.Uint64(img[lay.BAT.Offset+8:]) != 0xFFFF_FFFF_FFFF_FFFF {
		t.Error("raw BAT entry")
	}
	if lay.FileSize != 200*MiB+4 || string(img[200*MiB:]) != "tail" {
		t.Error("patch")
	}
	if _, err := (&Image{VirtualSize: MiB, ReplaceMetadata: []MetadataItem{{ID: extra}}}).Bytes(); err == nil {
		t.Error("replacing an unknown item accepted")
	}
}

func TestEmptyLogMakesHeaderDirty(t *testing.T) {
	img, _ := mustBytes(t, &Image{VirtualSize: MiB, Log: &Log{}})
	if h := currentHeader(t, img); h.log != DefaultLogGUID {
		t.Errorf("log GUID %s", h.log)
	}
}

func TestChecksumHelpers(t *testing.T) {
	img, _ := mustBytes(t, &Image{VirtualSize: MiB})
	h := img[64*KiB : 68*KiB]
	rt := img[192*KiB : 256*KiB]
	if !crcOK(h) || !crcOK(rt) {
		t.Fatal("checksums of a fresh image are wrong")
	}
	h[8]++ // bump the sequence number
	rt[8]++
	if crcOK(h) || crcOK(rt) {
		t.Fatal("damage not detected")
	}
	FixHeaderChecksum(h)
	FixRegionTableChecksum(rt)
	if !crcOK(h) || !crcOK(rt) {
		t.Fatal("Fix*Checksum did not fix")
	}
	// The CRC is CRC-32C: check one known value.
	if Checksum([]byte("123456789")) != 0xE3069283 {
		t.Errorf("Checksum is not CRC-32C")
	}
}

func TestDeterministicAndSparseWrite(t *testing.T) {
	im := logBase()
	im.Log = &Log{Deferred: []Deferred{{Target: "bat"}}}
	a, _ := mustBytes(t, im)
	b, _ := mustBytes(t, im)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds differ")
	}
	path := filepath.Join(t.TempDir(), "x.vhdx")
	// WriteFile truncates an existing longer file.
	if err := os.WriteFile(path, bytes.Repeat([]byte{1}, 20*MiB), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := im.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	c, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, c) {
		t.Fatal("WriteFile and Bytes differ")
	}
	// WriteTo only writes non-zero pages.
	var w countingWriter
	n, err := im.WriteTo(&w)
	if err != nil || n != int64(len(a)) {
		t.Fatalf("WriteTo = %d, %v", n, err)
	}
	if w.bytes >= int64(len(a))/2 {
		t.Errorf("WriteTo wrote %d of %d bytes", w.bytes, len(a))
	}
}

type countingWriter struct{ bytes int64 }

func (w *countingWriter) WriteAt(p []byte, off int64) (int, error) {
	w.bytes += int64(len(p))
	return len(p), nil
}

func TestValidation(t *testing.T) {
	for name, im := range map[string]*Image{
		"zero size":            {},
		"unaligned size":       {VirtualSize: MiB + 1},
		"size not 4K multiple": {VirtualSize: MiB + 512, LogicalSectorSize: 4096},
		"too big":              {VirtualSize: 64*TiB + MiB},
		"block size":           {VirtualSize: MiB, BlockSize: 3 * MiB},
		"small block size":     {VirtualSize: MiB, BlockSize: 512 * KiB},
		"sector size":          {VirtualSize: MiB, LogicalSectorSize: 1024},
		"physical":             {VirtualSize: MiB, PhysicalSectorSize: 520},
		"block out of range":   {VirtualSize: MiB, Blocks: map[uint64]Block{1: full(fill(1))}},
		"partial in dynamic":   {VirtualSize: MiB, Blocks: map[uint64]Block{0: {State: PayloadPartiallyPresent}}},
		"data too long":        {VirtualSize: MiB, Blocks: map[uint64]Block{0: {State: 6, Data: make([]byte, MiB+1)}}},
		"data and fill":        {VirtualSize: MiB, Blocks: map[uint64]Block{0: {State: 6, Data: []byte{1}, Fill: fill(1)}}},
		"bad fill":             {VirtualSize: MiB, Blocks: map[uint64]Block{0: {State: 6, Fill: &Fill{Pattern: "nope"}}}},
		"bad range":            {VirtualSize: MiB, Parent: &ParentLocator{}, Blocks: map[uint64]Block{0: {State: 7, Present: []SectorRange{{2040, 9}}}}},
		"log length":           {VirtualSize: MiB, LogLength: 4096},
		"creator":              {VirtualSize: MiB, Creator: strings.Repeat("x", 257)},
		"raw BAT index":        {VirtualSize: MiB, RawBAT: map[uint64]uint64{MiB / 8: 1}},
	} {
		if _, err := im.Bytes(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPayloadStateJSON(t *testing.T) {
	var b struct{ S []PayloadState }
	if err := json.Unmarshal([]byte(`{"S":[6,"ZERO","payload_block_partially_present","Unmapped"]}`), &b); err != nil {
		t.Fatal(err)
	}
	if want := []PayloadState{6, 2, 7, 3}; !slicesEqual(b.S, want) {
		t.Errorf("got %v", b.S)
	}
	for _, bad := range []string{`8`, `"FOO"`, `true`} {
		var s PayloadState
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if PayloadFullyPresent.String() != "FULLY_PRESENT" || PayloadState(4).String() != "4" {
		t.Error("String")
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
