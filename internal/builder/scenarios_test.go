package builder

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/uuid"
)

// logBase is the image the dirty-log scenarios start from: an 8 MiB
// dynamic disk with data, zero and unmapped blocks.
func logBase() *Image {
	return &Image{VirtualSize: 8 * MiB, Blocks: map[uint64]Block{
		0: {State: PayloadFullyPresent, Fill: &Fill{Pattern: FillIndex, Value: 1}},
		3: {State: PayloadFullyPresent, Fill: &Fill{Pattern: FillByte, Value: 0xAB}},
		5: {State: PayloadZero},
		6: {State: PayloadUnmapped, Fill: &Fill{Pattern: FillByte, Value: 0xEE}},
		7: {State: PayloadFullyPresent, Data: []byte("last block")},
	}}
}

func u32p(v uint32) *uint32 { return &v }

// logScenario is a dirty image whose replayed form must equal logBase().
type logScenario struct {
	name string
	// qemu is false for scenarios qemu 7.2 cannot replay (entries with
	// more than 126 descriptors).
	qemu bool
	// log builds the dirty log; final and lay describe logBase().
	log func(t *testing.T, final []byte, lay *Layout) *Log
	// entries is the expected number of entries in the active sequence.
	entries int
	// logLength is set on both the clean and the dirty image, so that
	// their layouts agree.
	logLength uint32
}

var logScenarios = []logScenario{
	{name: "bat-page", qemu: true, entries: 1,
		log: func(t *testing.T, final []byte, lay *Layout) *Log {
			return &Log{Deferred: []Deferred{{Target: "bat-page", Index: 3}}}
		}},
	{name: "bat+metadata+region-table,zero-descriptors", qemu: true, entries: 1,
		log: func(t *testing.T, final []byte, lay *Layout) *Log {
			junk := bytes.Repeat([]byte{0xEE}, 4096)
			return &Log{ZeroDescriptors: true, Deferred: []Deferred{
				{Target: "bat"}, {Target: "metadata"}, {Target: "region-table"},
				// A free metadata page holding junk that the log zeroes.
				{FileOffset: uint64(lay.Metadata.Offset) + 512*KiB, Length: 8192, Stale: junk},
			}}
		}},
	{name: "split-into-entries", qemu: true, entries: 7,
		log: func(t *testing.T, final []byte, lay *Layout) *Log {
			return &Log{MaxDescriptors: 5, Sequence: 1000, Deferred: []Deferred{
				{FileOffset: uint64(lay.Metadata.Offset), Length: 128 * KiB},
				{Target: "bat-page", Index: 3},
			}}
		}},
	{name: "sequence-wraps-between-entries", qemu: true, entries: 2, logLength: MiB,
		log: func(t *testing.T, final []byte, lay *Layout) *Log {
			L := uint32(MiB)
			mt := uint64(lay.Metadata.Offset)
			return &Log{Entries: []LogEntry{{
				Sequence: 41, At: u32p(L - 8192),
				Writes: []LogWrite{{FileOffset: mt, Data: final[mt : mt+4096]}},
			}}, Deferred: []Deferred{{Target: "bat-page", Index: 3}}}
		}},
	{name: "entry-wraps", qemu: true, entries: 1, logLength: MiB,
		log: func(t *testing.T, final []byte, lay *Layout) *Log {
			L := uint32(MiB)
			return &Log{AllowEntryWrap: true, At: u32p(L - 4096), Sequence: 7,
				Deferred: []Deferred{{Target: "bat-page", Index: 3}, {Target: "metadata-table"}}}
		}},
	{name: "stale-and-damaged-entries", qemu: true, entries: 1,
		log: func(t *testing.T, final []byte, lay *Layout) *Log {
			// A wrong BAT page: block 3 points at block 0's data.
			page := lay.PayloadEntryOffset(3) &^ 4095
			wrong := bytes.Clone(final[page : page+4096])
			copy(wrong[lay.PayloadEntryOffset(3)-page:], final[lay.PayloadEntryOffset(0):lay.PayloadEntryOffset(0)+8])
			w := []LogWrite{{FileOffset: uint64(page), Data: wrong}}
			other := uuid.MustParse("0badbeef-0000-4000-8000-000000000000")
			return &Log{Sequence: 10, At: u32p(256 * KiB),
				Entries: []LogEntry{
					// An older complete sequence (seq 1-2) with the wrong page.
					{Sequence: 1, At: u32p(0), Writes: w},
					{Sequence: 2, Writes: w},
					// A newer entry with a bad checksum.
					{Sequence: 20, At: u32p(512 * KiB), Writes: w, CorruptChecksum: true},
					// A newer entry from another log session (other LogGuid),
					// placed right after the active entry with the next
					// sequence number.
					{Sequence: 11, At: u32p(256*KiB + 8192), Writes: w, LogGUID: &other},
					{Sequence: 30, At: u32p(768 * KiB), Writes: w, LogGUID: &other},
				},
				Deferred: []Deferred{{Target: "bat-page", Index: 3}},
			}
		}},
	{name: "127-descriptors", entries: 1, logLength: 2 * MiB,
		log: func(t *testing.T, final []byte, lay *Layout) *Log {
			return &Log{Deferred: []Deferred{{Target: "bat-page", Index: 3},
				{FileOffset: uint64(lay.Metadata.Offset), Length: 126 * 4096}}}
		}},
	{name: "300-descriptors", entries: 1, logLength: 2 * MiB,
		log: func(t *testing.T, final []byte, lay *Layout) *Log {
			return &Log{Deferred: []Deferred{{Target: "bat-page", Index: 3},
				{FileOffset: uint64(lay.Metadata.Offset), Length: 299 * 4096}}}
		}},
}

// buildScenario returns the final (clean) image bytes, the dirty image and
// its bytes and layout.
func buildScenario(t *testing.T, sc logScenario) (final []byte, dirty *Image, dirtyBytes []byte, lay *Layout) {
	t.Helper()
	base := logBase()
	base.LogLength = sc.logLength
	final, err := base.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	flay, err := base.Layout()
	if err != nil {
		t.Fatal(err)
	}
	dirty = logBase()
	dirty.LogLength = sc.logLength
	dirty.Log = sc.log(t, final, flay)
	dirtyBytes, err = dirty.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	lay, err = dirty.Layout()
	if err != nil {
		t.Fatal(err)
	}
	return final, dirty, dirtyBytes, lay
}

// diffOutside compares a and b, ignoring the two headers and the given
// extents, and describes the first difference.
func diffOutside(a, b []byte, skip ...Extent) error {
	skip = append(skip, Extent{64 * KiB, 4096}, Extent{128 * KiB, 4096})
	n := max(len(a), len(b))
	at := func(x []byte, i int) byte {
		if i < len(x) {
			return x[i]
		}
		return 0
	}
outer:
	for i := 0; i < n; i++ {
		for _, s := range skip {
			if int64(i) >= s.Offset && int64(i) < s.End() {
				i = int(s.End()) - 1
				continue outer
			}
		}
		if at(a, i) != at(b, i) {
			return fmt.Errorf("first difference at %#x: %#02x vs %#02x (sizes %d, %d)", i, at(a, i), at(b, i), len(a), len(b))
		}
	}
	return nil
}
