package disk

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/builder"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

const mib = 1 << 20

func fileOf(name string, b []byte) core.File {
	return core.File{Name: name, R: bytes.NewReader(b), Size: int64(len(b))}
}

func openOne(t *testing.T, f core.File, opts *Options) *Disk {
	t.Helper()
	disks, skipped, err := OpenFiles(t.Context(), []core.File{f}, opts)
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	if len(disks) != 1 || len(skipped) != 0 {
		t.Fatalf("%s: %d disks, skipped %v", f.Name, len(disks), skipped)
	}
	return disks[0]
}

// pattern is n bytes that differ at every offset mod 251.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%251) ^ seed
	}
	return b
}

func vhdxBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	im := &builder.Image{VirtualSize: 4 * mib, Blocks: map[uint64]builder.Block{1: {State: builder.PayloadFullyPresent, Data: pattern(mib, 7)}}}
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(b)
	return buf.Bytes()
}

func vhdBytes(t *testing.T, im *vhdbuilder.Image) []byte {
	t.Helper()
	b, err := im.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gptDisk is a raw disk whose sector 1 holds a GPT header signature
// (sectorSize 512 or 4096) behind a protective MBR: what sniff and
// volume look for. Its other bytes are a pattern, so reads can be told
// apart.
func gptDisk(size int, sectorSize int) []byte {
	b := pattern(size, 3)
	clear(b[:2*sectorSize])
	b[446+4] = 0xee
	binary.LittleEndian.PutUint32(b[446+8:], 1)
	binary.LittleEndian.PutUint32(b[446+12:], uint32(size/sectorSize-1))
	b[510], b[511] = 0x55, 0xaa
	copy(b[sectorSize:], "EFI PART")
	return b
}

func TestDispatch(t *testing.T) {
	dyn := vhdBytes(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 4 * mib, UniqueID: uuid.New(),
		Blocks: map[int64]vhdbuilder.Block{1: {Data: pattern(2*mib, 9)}}})
	for _, c := range []struct {
		name, format, typ string
		b                 []byte
	}{
		{"a.vhdx", FormatVHDX, "dynamic", vhdxBytes(t)},
		{"a.vhd", FormatVHD, "dynamic", dyn},
		{"disk.img", FormatRaw, "raw", gptDisk(mib, 512)},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := openOne(t, fileOf(c.name, c.b), nil)
			f := d.Facts(0)
			if d.Format() != c.format || f.Format != c.format || f.Type != c.typ || f.Name != c.name {
				t.Fatalf("format %q, facts %+v; want %s %s", d.Format(), f, c.format, c.typ)
			}
			// Info is the format's, with its format named.
			j, err := json.Marshal(d.Info())
			if err != nil {
				t.Fatal(err)
			}
			var in struct {
				Format     string           `json:"format"`
				Structures []core.Structure `json:"structures"`
			}
			if err := json.Unmarshal(j, &in); err != nil {
				t.Fatal(err)
			}
			if in.Format != c.format || len(in.Structures) == 0 || len(d.Structures()) != len(in.Structures) {
				t.Fatalf("info: format %q, %d structures", in.Format, len(in.Structures))
			}
		})
	}
}

func TestDynamicVHDBytesAndStates(t *testing.T) {
	data := pattern(2*mib, 9)
	b := vhdBytes(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 6 * mib, UniqueID: uuid.New(),
		Blocks: map[int64]vhdbuilder.Block{1: {Data: data}}})
	d := openOne(t, fileOf("a.vhd", b), nil)
	if d.Size() != 6*mib {
		t.Fatalf("size %d", d.Size())
	}
	got := make([]byte, d.Size())
	if _, err := d.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 6*mib)
	copy(want[2*mib:], data)
	if !bytes.Equal(got, want) {
		t.Fatal("virtual disk bytes differ from the blocks written")
	}
	f := d.Facts(0)
	if f.Blocks != 3 || f.BlockSize != 2*mib || f.LogicalSectorSize != 512 {
		t.Fatalf("facts %+v", f)
	}
	st, err := d.States(nil, 0, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []core.PayloadState{core.PayloadNotPresent, core.PayloadFullyPresent, core.PayloadNotPresent}; !equal(st, want) {
		t.Fatalf("states %v, want %v", st, want)
	}
	if _, err := d.States(nil, 0, 2, 2); err == nil {
		t.Fatal("States past the end: no error")
	}
	blk, err := d.Block(1)
	if err != nil || blk.State != "allocated" || blk.FileOffset == 0 {
		t.Fatalf("block 1: %+v, %v", blk, err)
	}
	if rep := d.Verify(t.Context(), nil); rep.Verdict != "clean" {
		t.Fatalf("verify: %+v", rep)
	}
}

func equal(a, b []core.PayloadState) bool {
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

func vhdChain(t *testing.T) (parent, child []byte, want []byte) {
	t.Helper()
	pid := uuid.New()
	pdata, cdata := pattern(2*mib, 1), pattern(512, 2)
	parent = vhdBytes(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 4 * mib, UniqueID: pid,
		Blocks: map[int64]vhdbuilder.Block{0: {Data: pdata}}})
	child = vhdBytes(t, &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 4 * mib, UniqueID: uuid.New(),
		Parent: &vhdbuilder.Parent{ID: pid, Name: "base.vhd", Locators: []vhdbuilder.Locator{vhdbuilder.W2ru(`.\base.vhd`)}},
		Blocks: map[int64]vhdbuilder.Block{0: {Data: cdata, Present: []vhdbuilder.SectorRange{{Start: 0, Count: 1}}}}})
	want = make([]byte, 4*mib)
	copy(want, pdata)
	copy(want, cdata)
	return parent, child, want
}

func TestVHDChainAnyOrder(t *testing.T) {
	parent, child, want := vhdChain(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	disks, skipped, err := OpenFiles(t.Context(), []core.File{fileOf("base.vhd", parent), fileOf("notes.png", png), fileOf("child.vhd", child)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(disks) != 1 || disks[0].Levels() != 2 || disks[0].Facts(0).Name != "child.vhd" || disks[0].Facts(1).Name != "base.vhd" {
		t.Fatalf("%d disks; want the chain child.vhd → base.vhd", len(disks))
	}
	if len(skipped) != 1 || skipped[0].Name != "notes.png" || !errors.Is(skipped[0].Err, ErrNotDisk) || !strings.Contains(skipped[0].Reason, "a PNG image") {
		t.Fatalf("skipped %+v", skipped)
	}
	d := disks[0]
	got := make([]byte, d.Size())
	if _, err := d.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("chain bytes differ")
	}
	// The child's allocated block has a sector bitmap: partially here.
	st, err := d.States(nil, 0, 0, 2)
	if err != nil || st[0] != core.PayloadPartiallyPresent || st[1] != core.PayloadNotPresent {
		t.Fatalf("child states %v, %v", st, err)
	}
	if st, err := d.States(nil, 1, 0, 2); err != nil || st[0] != core.PayloadFullyPresent {
		t.Fatalf("parent states %v, %v", st, err)
	}
	// The parent reaches the plan as level 1.
	var levels []int
	if err := d.Plan(t.Context(), 0, 1024, func(r core.Run) error { levels = append(levels, r.Level); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(levels) != 2 || levels[0] != 0 || levels[1] != 1 {
		t.Fatalf("plan levels %v", levels)
	}
}

func TestVHDMissingParent(t *testing.T) {
	_, child, _ := vhdChain(t)
	_, _, err := OpenFiles(t.Context(), []core.File{fileOf("child.vhd", child)}, &Options{Options: core.Options{Lookup: func(string, []string) []core.File { return nil }}})
	if !errors.Is(err, core.ErrNoParent) {
		t.Fatalf("err %v, want ErrNoParent", err)
	}
	m := MissingOf(err)
	if m == nil || m.Child != "child.vhd" || len(m.Paths) == 0 || m.Paths[0].Key != "W2ru" || m.Paths[0].Value != `.\base.vhd` {
		t.Fatalf("missing %+v", m)
	}
	disks, _, err := OpenFiles(t.Context(), []core.File{fileOf("child.vhd", child)}, &Options{Options: core.Options{Partial: true}})
	if err != nil {
		t.Fatal(err)
	}
	if m := disks[0].Facts(0).Missing; m == nil || m.Linkages[0] == "" {
		t.Fatalf("partial open: missing %+v", m)
	}
}

// TestMissingLevelFacts: the missing parent's level and name, in the same
// words for VHDX and VHD: a VHDX grandchild given with its parent (level
// 2, base.vhdx, the parent of mid.avhdx) and a VHD child alone.
func TestMissingLevelFacts(t *testing.T) {
	g := func(n byte) uuid.UUID { return uuid.UUID{0xdd, 15: n} }
	mk := func(im *builder.Image) []byte {
		b, err := im.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mid := mk(&builder.Image{VirtualSize: 4 * mib, DataWriteGUID: g(2), Parent: builder.NewVHDXParent(g(1), `..\vms\base.vhdx`)})
	leaf := mk(&builder.Image{VirtualSize: 4 * mib, DataWriteGUID: g(3), Parent: builder.NewVHDXParent(g(2), `.\mid.avhdx`)})
	files := []core.File{fileOf("leaf.avhdx", leaf), fileOf("mid.avhdx", mid)}
	_, _, err := OpenFiles(t.Context(), files, nil)
	m := MissingOf(err)
	if m == nil || m.Child != "mid.avhdx" || m.Level != 1 || m.ParentLevel != 2 || m.ParentName != "base.vhdx" || m.Unidentified {
		t.Fatalf("error %v: missing %+v", err, m)
	}
	disks, _, err := OpenFiles(t.Context(), files, &Options{Options: core.Options{Partial: true}})
	if err != nil || disks[0].Levels() != 2 {
		t.Fatalf("partial: %v", err)
	}
	if m := disks[0].Facts(0).Missing; m == nil || m.ParentLevel != 2 || m.ParentName != "base.vhdx" {
		t.Fatalf("partial: missing %+v", m)
	}
	_, child, _ := vhdChain(t)
	disks, _, err = OpenFiles(t.Context(), []core.File{fileOf("child.vhd", child)}, &Options{Options: core.Options{Partial: true}})
	if err != nil {
		t.Fatal(err)
	}
	if m := disks[0].Facts(0).Missing; m == nil || m.ParentLevel != 1 || m.ParentName != "base.vhd" {
		t.Fatalf("VHD: missing %+v", m)
	}
	// A locator without parent_linkage: unidentified, opened without Partial.
	nolink := mk(&builder.Image{VirtualSize: 4 * mib, DataWriteGUID: g(4), Parent: &builder.ParentLocator{}})
	disks, _, err = OpenFiles(t.Context(), []core.File{fileOf("nolink.avhdx", nolink)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := disks[0].Facts(0).Missing; m == nil || !m.Unidentified || m.ParentLevel != 1 || m.ParentName != "" {
		t.Fatalf("no linkage: missing %+v", m)
	}
}

// A VHDX child's parent is never a VHD file: the error says why the VHD
// given beside it was not taken.
func TestMixedFormatsDoNotChain(t *testing.T) {
	pid := uuid.New()
	child, err := (&builder.Image{VirtualSize: 4 * mib, Parent: &builder.ParentLocator{Entries: []builder.KeyValue{
		{Key: "parent_linkage", Value: builder.LinkageValue(pid)}, {Key: "relative_path", Value: `.\base.vhd`}}}}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	parent := vhdBytes(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 4 * mib, UniqueID: pid})
	_, _, err = OpenFiles(t.Context(), []core.File{fileOf("child.vhdx", child), fileOf("base.vhd", parent)}, nil)
	if !errors.Is(err, core.ErrNoParent) || !strings.Contains(err.Error(), "base.vhd is VHD, and VHDX and VHD files never chain") {
		t.Fatalf("err %v", err)
	}
	if MissingOf(err) == nil {
		t.Fatal("MissingOf: nil for a wrapped chain error")
	}
}

func TestForeignFilesNamed(t *testing.T) {
	for _, c := range []struct {
		name, kind, says string
		b                []byte
	}{
		{"a.png", "png", "a PNG image", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 600)...)},
		{"a.vmdk", "vmdk", "a VMDK image (VMware)", append([]byte("KDMV"), make([]byte, 600)...)},
		{"a.qcow2", "qcow2", "a QCOW image (QEMU)", append([]byte("QFI\xfb"), make([]byte, 600)...)},
		{"random.bin", "unknown", "a file of unknown kind", pattern(64<<10, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := OpenFiles(t.Context(), []core.File{fileOf(c.name, c.b)}, nil)
			var ke *KindError
			if !errors.As(err, &ke) || ke.Kind.ID != c.kind || !errors.Is(err, ErrNotDisk) || !errors.Is(err, core.ErrFormat) {
				t.Fatalf("err %v, want a KindError of kind %s", err, c.kind)
			}
			if want := c.name + " is " + c.says + "; vhdxview reads VHDX, VHD and raw disk images"; err.Error() != want {
				t.Fatalf("message %q, want %q", err, want)
			}
			// Asked for, any file opens as raw, byte for byte.
			d := openOne(t, fileOf(c.name, c.b), &Options{Raw: true})
			got := make([]byte, len(c.b))
			if n, err := d.ReadAt(got, 0); n != len(c.b) || err != nil || !bytes.Equal(got, c.b) {
				t.Fatalf("raw read: %d, %v", n, err)
			}
			if in := d.Info().(*RawInfo); in.Signature != c.says {
				t.Fatalf("raw info signature %q", in.Signature)
			}
		})
	}
}

func TestRawForcedOverVHDX(t *testing.T) {
	b := vhdxBytes(t)
	d := openOne(t, fileOf("a.vhdx", b), &Options{Raw: true})
	if d.Format() != FormatRaw || d.Size() != int64(len(b)) {
		t.Fatalf("format %s size %d", d.Format(), d.Size())
	}
}

func TestRaw(t *testing.T) {
	b := gptDisk(mib+100, 512)
	r := NewRaw(bytes.NewReader(b), int64(len(b)), "disk.img")
	// ReadAt follows io.ReaderAt at the end.
	p := make([]byte, 300)
	n, err := r.ReadAt(p, int64(len(b))-100)
	if n != 100 || err != io.EOF || !bytes.Equal(p[:100], b[len(b)-100:]) {
		t.Fatalf("read at the end: %d, %v", n, err)
	}
	if _, err := r.ReadAt(p, int64(len(b))); err != io.EOF {
		t.Fatalf("read past the end: %v", err)
	}
	if _, err := r.ReadAt(p, -1); err == nil {
		t.Fatal("negative offset: no error")
	}
	var runs []core.Run
	if err := r.Plan(t.Context(), 1000, 1<<40, func(run core.Run) error { runs = append(runs, run); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Kind != core.RunFile || runs[0].Offset != 1000 || runs[0].Length != int64(len(b))-1000 || runs[0].FileOffset != 1000 || runs[0].Level != 0 {
		t.Fatalf("plan %+v", runs)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.Plan(ctx, 0, 10, func(core.Run) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled plan: %v", err)
	}
	rep := r.Verify(t.Context(), nil)
	if rep.Verdict != "clean" || len(rep.Checks) != 1 || rep.Checks[0].Status != core.StatusOK {
		t.Fatalf("verify %+v", rep)
	}
	if r.SectorSize() != 512 {
		t.Fatalf("sector size %d", r.SectorSize())
	}
	if fr, size, name := r.File(0); fr == nil || size != int64(len(b)) || name != "disk.img" {
		t.Fatal("File(0)")
	}
	if fr, _, _ := r.File(1); fr != nil {
		t.Fatal("File(1) of a raw disk")
	}
	d := newDisk(r)
	if _, err := d.Block(0); err == nil {
		t.Fatal("a raw disk has blocks")
	}
	if d.Facts(0).Blocks != 0 || d.Facts(0).BlockSize != 0 {
		t.Fatalf("raw facts %+v", d.Facts(0))
	}
	// A GPT written for 4 KiB sectors sets the sector size.
	b4 := gptDisk(mib, 4096)
	if s := NewRaw(bytes.NewReader(b4), int64(len(b4)), "").SectorSize(); s != 4096 {
		t.Fatalf("4K GPT: sector size %d", s)
	}
}

func TestSeveralDisksLongestChainFirst(t *testing.T) {
	parent, child, _ := vhdChain(t)
	disks, _, err := OpenFiles(t.Context(), []core.File{fileOf("disk.img", gptDisk(mib, 512)), fileOf("a.vhdx", vhdxBytes(t)),
		fileOf("child.vhd", child), fileOf("base.vhd", parent)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range disks {
		got = append(got, d.Format()+":"+d.Facts(0).Name)
	}
	if strings.Join(got, " ") != "vhd:child.vhd vhdx:a.vhdx raw:disk.img" {
		t.Fatalf("disks %v", got)
	}
}

// A damaged VHD beside a disk that opens is skipped, not fatal; alone it
// is the error.
func TestDamagedFileSkipped(t *testing.T) {
	bad := vhdBytes(t, &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 4 * mib, UniqueID: uuid.New()})
	bad[len(bad)-512+64] ^= 0xff // footer checksum
	copy(bad[0:8], "xxxxxxxx")   // and the copy's cookie
	disks, skipped, err := OpenFiles(t.Context(), []core.File{fileOf("bad.vhd", bad), fileOf("a.vhdx", vhdxBytes(t))}, nil)
	if err != nil || len(disks) != 1 || len(skipped) != 1 || skipped[0].Name != "bad.vhd" || !errors.Is(skipped[0].Err, core.ErrFormat) {
		t.Fatalf("disks %d, skipped %+v, err %v", len(disks), skipped, err)
	}
	if _, _, err := OpenFiles(t.Context(), []core.File{fileOf("bad.vhd", bad)}, nil); !errors.Is(err, core.ErrFormat) {
		t.Fatalf("alone: %v", err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := OpenFiles(ctx, []core.File{fileOf("a.vhdx", vhdxBytes(t))}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

// A file named .vhdx whose signature is gone is named by kind, with what
// the VHDX reader found: the structure and offset of the damage.
func TestClaimedFormatExplains(t *testing.T) {
	_, _, err := OpenFiles(t.Context(), []core.File{fileOf("junk.vhdx", make([]byte, 2*mib))}, nil)
	var fe *core.FormatError
	if !errors.Is(err, ErrNotDisk) || !errors.As(err, &fe) || fe.Structure != "file type identifier" || !strings.Contains(err.Error(), "file type identifier at 0x0") {
		t.Fatalf("err %v", err)
	}
	_, _, err = OpenFiles(t.Context(), []core.File{fileOf("zeros.bin", make([]byte, 2*mib))}, nil)
	if !errors.Is(err, ErrNotDisk) || errors.As(err, &fe) {
		t.Fatalf("a file claiming no format: %v", err)
	}
}
