package vhd

// Damaged files: each case breaks one structure of a builder image and
// says what Open must do (open, and with what note, or fail naming the
// structure, offset and field), what Verify reports and how reads behave.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

// damageBase is a dynamic disk with 64 KiB blocks: blocks 0, 2 and 5
// allocated, in the file in the order 5, 0, 2.
func damageBase() *vhdbuilder.Image {
	return &vhdbuilder.Image{Type: vhdbuilder.Dynamic, Size: 512 * kB, BlockSize: 64 * kB, UniqueID: id(1), Order: []int64{5, 0, 2},
		Blocks: map[int64]vhdbuilder.Block{0: {Data: pattern(1, 64*kB)}, 2: {Data: pattern(2, 1000)}, 5: {Data: pattern(5, 64*kB)}}}
}

func put32(b []byte, off int64, v uint32) { binary.BigEndian.PutUint32(b[off:], v) }
func put64(b []byte, off int64, v uint64) { binary.BigEndian.PutUint64(b[off:], v) }

// fixFooters recomputes the checksums of both footers and the header.
func fixAll(b *vhdbuilder.Built) {
	vhdbuilder.FixFooter(b.Bytes[b.FooterOffset:])
	vhdbuilder.FixFooter(b.Bytes[:512])
	vhdbuilder.FixHeader(b.Bytes[b.HeaderOffset : b.HeaderOffset+1024])
}

func TestDamageOpenFails(t *testing.T) {
	cases := []struct {
		name   string
		damage func(b *vhdbuilder.Built) []byte
		is     []error // errors.Is must hold
		isNot  []error
		want   string // in the message
	}{
		{"not a VHD", func(b *vhdbuilder.Built) []byte { return bytes.Repeat([]byte("raw disk "), 1000) },
			[]error{ErrNotVHD, ErrFormat}, nil, `not "conectix" at the end of the file nor at its start`},
		{"shorter than a footer", func(b *vhdbuilder.Built) []byte { return b.Bytes[:100] },
			[]error{ErrNotVHD, ErrFormat}, nil, "shorter than a footer"},
		{"both footers' checksums", func(b *vhdbuilder.Built) []byte {
			b.Bytes[b.FooterOffset+30]++
			b.Bytes[30]++
			return b.Bytes
		}, []error{ErrFormat}, []error{ErrNotVHD}, "footer at 0x30e40: Checksum: does not match the footer's bytes (stored 0xfffff7ce, computed 0xfffff7cd); footer copy at 0x40: Checksum"},
		{"deprecated disk type", func(b *vhdbuilder.Built) []byte {
			put32(b.Bytes, b.FooterOffset+60, 5)
			put32(b.Bytes, 60, 5)
			fixAll(b)
			return b.Bytes
		}, []error{ErrUnsupported}, []error{ErrFormat}, "Disk Type: deprecated disk type (5)"},
		{"unknown format version", func(b *vhdbuilder.Built) []byte {
			put32(b.Bytes, b.FooterOffset+12, 0x00020000)
			put32(b.Bytes, 12, 0x00020000)
			fixAll(b)
			return b.Bytes
		}, []error{ErrUnsupported}, nil, "File Format Version: unknown major version"},
		{"current size over 64 TiB", func(b *vhdbuilder.Built) []byte {
			put64(b.Bytes, b.FooterOffset+48, 1<<50)
			put64(b.Bytes, 48, 1<<50)
			fixAll(b)
			return b.Bytes
		}, []error{ErrFormat}, nil, "Current Size: larger than 64 TiB"},
		{"data offset past the end", func(b *vhdbuilder.Built) []byte {
			put64(b.Bytes, b.FooterOffset+16, 1<<40)
			put64(b.Bytes, 16, 1<<40)
			fixAll(b)
			return b.Bytes
		}, []error{ErrFormat}, nil, "Data Offset: the dynamic header it points at is not inside the file"},
		{"header cookie", func(b *vhdbuilder.Built) []byte {
			b.Bytes[b.HeaderOffset] = 'X'
			return b.Bytes
		}, []error{ErrFormat}, nil, `dynamic header at 0x200: Cookie: not "cxsparse"`},
		{"header checksum", func(b *vhdbuilder.Built) []byte {
			b.Bytes[b.HeaderOffset+100]++
			return b.Bytes
		}, []error{ErrFormat}, nil, "dynamic header at 0x224: Checksum: does not match"},
		{"block size not a power of two", func(b *vhdbuilder.Built) []byte {
			put32(b.Bytes, b.HeaderOffset+32, 3*512)
			fixAll(b)
			return b.Bytes
		}, []error{ErrFormat}, nil, "Block Size: not a power of two from 512 bytes to 256 MiB (1536)"},
		{"block size 512 MiB", func(b *vhdbuilder.Built) []byte {
			put32(b.Bytes, b.HeaderOffset+32, 512<<20)
			fixAll(b)
			return b.Bytes
		}, []error{ErrFormat}, nil, "Block Size"},
		{"too few table entries", func(b *vhdbuilder.Built) []byte {
			put32(b.Bytes, b.HeaderOffset+28, 7)
			fixAll(b)
			return b.Bytes
		}, []error{ErrFormat}, nil, "Max Table Entries: too few for the disk's 8 blocks (7)"},
		{"BAT of 2^32-1 entries", func(b *vhdbuilder.Built) []byte {
			put32(b.Bytes, b.HeaderOffset+28, 0xFFFFFFFF)
			fixAll(b)
			return b.Bytes
		}, []error{ErrFormat}, nil, "Table Offset: the BAT it points at is not inside the file"},
		{"BAT past the end", func(b *vhdbuilder.Built) []byte {
			put64(b.Bytes, b.HeaderOffset+16, uint64(len(b.Bytes)))
			fixAll(b)
			return b.Bytes
		}, []error{ErrFormat}, nil, "Table Offset"},
		{"BAT over the header", func(b *vhdbuilder.Built) []byte {
			put64(b.Bytes, b.HeaderOffset+16, uint64(b.HeaderOffset+512))
			fixAll(b)
			return b.Bytes
		}, []error{ErrFormat}, nil, "the BAT overlaps the dynamic header"},
		{"fixed disk larger than its file", func(b *vhdbuilder.Built) []byte {
			f := mustBuild(t, &vhdbuilder.Image{Type: vhdbuilder.Fixed, Size: 64 * kB})
			put64(f.Bytes, f.FooterOffset+48, 64*kB+512)
			vhdbuilder.FixFooter(f.Bytes[f.FooterOffset:])
			return f.Bytes
		}, []error{ErrFormat}, nil, "Current Size: larger than the data before the footer"},
		{"fixed disk's footer", func(b *vhdbuilder.Built) []byte {
			f := mustBuild(t, &vhdbuilder.Image{Type: vhdbuilder.Fixed, Size: 64 * kB})
			f.Bytes[f.FooterOffset+70]++ // no copy to fall back on
			return f.Bytes
		}, []error{ErrFormat}, nil, "footer at 0x10040: Checksum: does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := c.damage(mustBuild(t, damageBase()))
			_, err := openBytes(file, nil)
			if err == nil {
				t.Fatal("opened")
			}
			for _, e := range c.is {
				if !errors.Is(err, e) {
					t.Errorf("%v: does not match %v", err, e)
				}
			}
			for _, e := range c.isNot {
				if errors.Is(err, e) {
					t.Errorf("%v: matches %v", err, e)
				}
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("%T is no *FormatError", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "vhd: ") {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestDamageFooterCopies(t *testing.T) {
	want := model(damageBase(), nil, specPresent)
	cases := []struct {
		name    string
		damage  func(b *vhdbuilder.Built) []byte
		footer  string // Info.Footer
		warning string // the one warning Verify gives
	}{
		{"end footer checksum", func(b *vhdbuilder.Built) []byte {
			b.Bytes[b.FooterOffset+40]++
			return b.Bytes
		}, "the copy at offset 0: the footer at the end is damaged", "footer at 0x30e40: Checksum: does not match the footer's bytes (stored"},
		{"end footer gone", func(b *vhdbuilder.Built) []byte {
			return b.Bytes[:b.FooterOffset]
		}, "the copy at offset 0: there is no footer at the end of the file", "no footer at the end of the file"},
		{"end footer zeroed", func(b *vhdbuilder.Built) []byte {
			clear(b.Bytes[b.FooterOffset:])
			return b.Bytes
		}, "the copy at offset 0: there is no footer at the end of the file", "no footer at the end of the file"},
		{"copy checksum", func(b *vhdbuilder.Built) []byte {
			b.Bytes[40]++
			return b.Bytes
		}, "the footer at the end", "footer copy at 0x40: Checksum: does not match the footer's bytes (stored"},
		{"copy differs", func(b *vhdbuilder.Built) []byte {
			put32(b.Bytes, 24, 12345)
			fixAll(b)
			return b.Bytes
		}, "the footer at the end", "differs from the footer at the end: Time Stamp"},
		{"features reserved bit clear", func(b *vhdbuilder.Built) []byte {
			put32(b.Bytes, b.FooterOffset+8, 0)
			put32(b.Bytes, 8, 0)
			fixAll(b)
			return b.Bytes
		}, "the footer at the end", "the reserved bit 0x2 the spec says is always set is clear"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := mustOpen(t, c.damage(mustBuild(t, damageBase())), nil)
			if !strings.HasPrefix(img.Info().Footer, c.footer) {
				t.Errorf("footer %q, want %q", img.Info().Footer, c.footer)
			}
			if d := firstDiff(readAll(t, img), want); d != "" {
				t.Error(d)
			}
			rep := img.Verify(t.Context(), nil)
			var warns []string
			for _, ch := range rep.Checks {
				if ch.Status != core.StatusOK {
					warns = append(warns, ch.Message)
				}
			}
			if rep.Errors != 0 || rep.Warnings != 1 || !strings.Contains(warns[0], c.warning) {
				t.Errorf("verify: %d errors, warnings %q; want one saying %q", rep.Errors, warns, c.warning)
			}
		})
	}
}

// BAT entries that cannot be used: the disk opens, reads of other blocks
// work, reads of the bad block fail naming it, Verify lists it.
func TestDamageBAT(t *testing.T) {
	good := model(damageBase(), nil, specPresent)
	cases := []struct {
		name   string
		damage func(b *vhdbuilder.Built)
		block  int64 // the block reads fail in, or -1
		bad    int64 // bad entries Verify counts
		want   string
	}{
		{"past the end", func(b *vhdbuilder.Built) { put32(b.Bytes, b.BATOffset+2*4, uint32(len(b.Bytes)/512+10)) },
			2, 1, "BAT entry 2, file offset 0x32400): lies past the end of the data area (0x30e00)"},
		{"into the footer", func(b *vhdbuilder.Built) { put32(b.Bytes, b.BATOffset+2*4, uint32(b.FooterOffset/512-1)) },
			2, 1, "lies past the end of the data area"},
		{"onto the header", func(b *vhdbuilder.Built) { put32(b.Bytes, b.BATOffset+2*4, 1) },
			2, 1, "overlaps the dynamic header"},
		{"onto the BAT", func(b *vhdbuilder.Built) { put32(b.Bytes, b.BATOffset+2*4, uint32(b.BATOffset/512)) },
			2, 1, "overlaps the BAT"},
		{"two blocks at one offset", func(b *vhdbuilder.Built) {
			put32(b.Bytes, b.BATOffset+7*4, uint32(b.BlockOffsets[0]/512))
		}, -1, 1, "block 7 (file offset 0x10a00) overlaps block 0 (file offset 0x10a00)"},
		{"blocks half over each other", func(b *vhdbuilder.Built) {
			put32(b.Bytes, b.BATOffset+7*4, uint32((b.BlockOffsets[0]+32*kB)/512))
		}, -1, 2, "block 7 (file offset 0x18a00) overlaps block 0 (file offset 0x10a00)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustBuild(t, damageBase())
			c.damage(b)
			img := mustOpen(t, b.Bytes, nil)
			for blk := int64(0); blk < 8; blk++ {
				buf := make([]byte, 64*kB)
				_, err := img.ReadAt(buf, blk*64*kB)
				if blk == c.block {
					var be *core.BlockError
					if !errors.As(err, &be) || be.Block != blk || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
						t.Errorf("block %d: %v, want a BlockError saying %q", blk, err, c.want)
					}
					continue
				}
				if err != nil {
					t.Errorf("block %d: %v", blk, err)
				} else if c.block >= 0 && !bytes.Equal(buf, good[blk*64*kB:(blk+1)*64*kB]) {
					t.Errorf("block %d reads wrong", blk)
				}
			}
			rep := img.Verify(t.Context(), nil)
			found := false
			for _, ch := range rep.Checks {
				found = found || (ch.Status == core.StatusError && strings.Contains(ch.Message, c.want))
			}
			if !found || rep.BAT[0].BadEntries != c.bad || rep.Verdict != "problems" {
				t.Errorf("verify does not report %q: %+v", c.want, rep)
			}
		})
	}
}

func TestDamageLocators(t *testing.T) {
	child := &vhdbuilder.Image{Type: vhdbuilder.Differencing, Size: 1 * mB, UniqueID: id(2), Parent: &vhdbuilder.Parent{ID: id(1), Name: "base.vhd",
		Locators: []vhdbuilder.Locator{vhdbuilder.W2ru("base.vhd"), vhdbuilder.W2ku(`D:\base.vhd`), {Code: "Wi2k", Data: []byte(`D:\old.vhd` + "\x00")},
			{Code: "MacX", Data: []byte("file://localhost/Users/me/base.vhd")}, {Code: "Mac ", Data: []byte{1, 2, 3}}, {Code: "XXXX", Data: []byte("?")}}}}
	b := mustBuild(t, child)
	loc := func(k int) int64 { return b.HeaderOffset + 576 + int64(24*k) }
	put64(b.Bytes, loc(1)+16, 1<<40) // W2ku data past the end
	fixAll(b)
	img := mustOpen(t, b.Bytes, nil)
	mp := img.Info().MissingParent
	want := []string{"base.vhd", `D:\old.vhd`, "/Users/me/base.vhd"}
	if mp == nil || strings.Join(mp.Paths, "|") != strings.Join(want, "|") {
		t.Errorf("paths %q, want %q", mp.Paths, want)
	}
	rep := img.Verify(t.Context(), nil)
	var msgs []string
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.Structure, "parent locator") {
			msgs = append(msgs, string(c.Status)+": "+c.Message)
		}
	}
	wantMsgs := []string{
		"ok: W2ru (relative Windows path): base.vhd",
		"warning: parent locator 2 at 0x468: Platform Data Offset: the data is not inside the file (0x10000000000+0x16, data ends at 0x",
		`ok: Wi2k (absolute Windows path (deprecated)): D:\old.vhd`,
		"ok: MacX (file URL): /Users/me/base.vhd",
		"ok: Mac (Mac OS alias (not decoded)): ",
		`warning: parent locator 6 at 0x4b8: Platform Code: unknown platform code ("XXXX"); not used as a hint`,
	}
	if len(msgs) != len(wantMsgs) {
		t.Fatalf("locator checks %q", msgs)
	}
	for i := range msgs {
		if !strings.HasPrefix(msgs[i], wantMsgs[i]) {
			t.Errorf("locator %d: %q, want %q", i+1, msgs[i], wantMsgs[i])
		}
	}
}

// Hostile sizes and counts must not make Open, Verify or a read allocate
// much: here the BAT claims every byte after it (its entries are then
// block bytes, pointing anywhere) and blocks are 256 MiB, for a 12 TiB
// disk in a 200 KB file.
func TestDamageAllocations(t *testing.T) {
	b := mustBuild(t, damageBase())
	entries := (int64(b.FooterOffset) - b.BATOffset) / 4
	put32(b.Bytes, b.HeaderOffset+28, uint32(entries))
	put32(b.Bytes, b.HeaderOffset+32, 256<<20)
	put64(b.Bytes, b.FooterOffset+48, uint64(entries)<<28)
	put64(b.Bytes, 48, uint64(entries)<<28)
	fixAll(b)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	img, err := openBytes(b.Bytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := img.Verify(t.Context(), nil)
	for blk := int64(0); blk < entries; blk += 997 {
		img.ReadAt(make([]byte, 4096), blk<<28+(256<<20)-2048) // across the block's end
	}
	runtime.ReadMemStats(&after)
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d bytes", n)
	if n > 2*mB {
		t.Errorf("open+verify+reads of a %d-byte file allocated %d bytes", len(b.Bytes), n)
	}
	if rep.BAT[0].Entries != entries || rep.Errors == 0 {
		t.Errorf("verify: %d entries, %d errors", rep.BAT[0].Entries, rep.Errors)
	}
}

// errReader fails every read past a point.
type errReader struct {
	r     io.ReaderAt
	after int64
}

var errMedium = errors.New("medium error")

func (e errReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > e.after {
		return 0, errMedium
	}
	return e.r.ReadAt(p, off)
}

func TestReaderErrors(t *testing.T) {
	b := mustBuild(t, damageBase())
	// Failing in the footer, the header, the BAT and in block data.
	for _, after := range []int64{int64(len(b.Bytes)) - 1, b.HeaderOffset + 10, b.BATOffset + 1, b.BlockOffsets[0] + 600} {
		r := errReader{bytes.NewReader(b.Bytes), after}
		img, err := Open(context.Background(), r, int64(len(b.Bytes)), nil)
		if err == nil {
			_, err = img.ReadAt(make([]byte, 64*kB), 0)
		}
		var ie *core.IOError
		if !errors.As(err, &ie) || !errors.Is(err, errMedium) {
			t.Errorf("failing after 0x%x: %v, want an IOError", after, err)
		}
	}
}
