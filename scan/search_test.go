package scan

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// plantedDisk is 64 KiB in 4 KiB blocks: random bytes in a few blocks,
// zeros (sparse) elsewhere, and the needles at block edges, inside zero
// runs' neighbours and at the very end.
func plantedDisk() []byte {
	d := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range []int{1, 2, 7} {
		for i := b << 12; i < (b+1)<<12; i++ {
			d[i] = byte(rng.IntN(200) + 1)
		}
	}
	for _, at := range []int{100, 4096 - 3, 3*4096 - 2, 10 * 4096, len(d) - 6} {
		copy(d[at:], "NEEDLE")
	}
	copy(d[5*4096:], "\x00\x00\x00AB")   // reaches back into zero block 4
	copy(d[6*4096-5:], "AB\x00\x00\x00") // reaches into zero block 6
	copy(d[12*4096-2:], "AB")            // zero blocks 12 to 15 follow
	return d
}

func TestSearchMatchesNaive(t *testing.T) {
	d := plantedDisk()
	patterns := [][]byte{[]byte("NEEDLE"), []byte("N"), []byte("\x00\x00\x00AB"), []byte("AB\x00\x00\x00"),
		{0}, {0, 0, 0, 0}, bytes.Repeat([]byte{0}, 5000), []byte("absent pattern")}
	ranges := [][2]int64{{0, int64(len(d))}, {101, 40000}, {4096, 8192}, {int64(len(d)) - 6, 6}, {int64(len(d)) - 5, 5}, {0, 0}}
	for _, bs := range []int64{4096, 512} {
		src := &memSource{data: d, bs: bs}
		for _, chunk := range []int64{1 << 20, 1000, 7} {
			for _, p := range patterns {
				for _, r := range ranges {
					want := naive(d, p, r[0], r[1])
					got, err := search(context.Background(), src, p, r[0], r[1], 0, nil, chunk)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got.Hits, want) || got.Next != -1 {
						t.Errorf("bs %d chunk %d pattern %q range %v: got %d hits (next %d), want %d\ngot  %v\nwant %v",
							bs, chunk, p[:min(len(p), 8)], r, len(got.Hits), got.Next, len(want), head(got.Hits), head(want))
					}
				}
			}
		}
	}
}

func head(h []int64) []int64 { return h[:min(len(h), 10)] }

// TestSearchPages steps through hits with a limit, as the page does.
func TestSearchPages(t *testing.T) {
	d := plantedDisk()
	src := &memSource{data: d, bs: 4096}
	for _, p := range [][]byte{[]byte("NEEDLE"), {0, 0}} {
		want := naive(d, p, 0, int64(len(d)))
		var got []int64
		off := int64(0)
		for pages := 0; ; pages++ {
			r, err := search(context.Background(), src, p, off, int64(len(d))-off, 2, nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Hits) > 2 || (r.Next >= 0 && len(r.Hits) != 2) {
				t.Fatalf("page at %d: %d hits, next %d", off, len(r.Hits), r.Next)
			}
			got = append(got, r.Hits...)
			if r.Next < 0 {
				break
			}
			off = r.Next
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: paged hits %v, want %v", p, head(got), head(want))
		}
	}
}

func TestSearchErrors(t *testing.T) {
	src := &memSource{data: make([]byte, 100), bs: 10}
	ctx := context.Background()
	if _, err := Search(ctx, src, nil, 0, -1, 0, nil); !errors.Is(err, ErrPattern) {
		t.Errorf("empty pattern: %v", err)
	}
	if _, err := Search(ctx, src, make([]byte, MaxPattern+1), 0, -1, 0, nil); !errors.Is(err, ErrPattern) {
		t.Errorf("long pattern: %v", err)
	}
	for _, r := range [][2]int64{{-1, 1}, {101, 0}, {50, 51}} {
		if _, err := Search(ctx, src, []byte("x"), r[0], r[1], 0, nil); !errors.Is(err, ErrRange) {
			t.Errorf("range %v: %v", r, err)
		}
	}
	// An all-zero pattern on a zero disk stops at MaxHits, with next.
	big := &zeroSource{size: 1 << 40}
	r, err := Search(ctx, big, []byte{0}, 0, -1, 0, nil)
	if err != nil || len(r.Hits) != MaxHits || r.Next != MaxHits || r.Hits[MaxHits-1] != MaxHits-1 {
		t.Errorf("zero disk: %d hits, next %d, %v", len(r.Hits), r.Next, err)
	}
}

func FuzzSearch(f *testing.F) {
	f.Add([]byte("hello\x00\x00\x00\x00\x00\x00\x00\x00world hello"), []byte("lo"), uint8(4), uint8(3), uint8(0))
	f.Add(make([]byte, 64), []byte{0, 0}, uint8(8), uint8(5), uint8(1))
	f.Add([]byte("aaaaaaaaaaaaaaaa"), []byte("aaa"), uint8(3), uint8(1), uint8(3))
	f.Fuzz(func(t *testing.T, data, pattern []byte, bs, chunk, limit uint8) {
		if len(pattern) == 0 || len(pattern) > 64 || len(data) > 1<<14 {
			return
		}
		src := &memSource{data: data, bs: int64(bs%32) + 1}
		want := naive(data, pattern, 0, int64(len(data)))
		lim := int(limit % 8)
		got, err := search(context.Background(), src, pattern, 0, -1, lim, nil, int64(chunk%16)+1)
		if err != nil {
			t.Fatal(err)
		}
		if lim > 0 && len(want) > lim {
			if got.Next != want[lim-1]+1 && !(got.Next == -1 && want[lim-1]+1 >= int64(len(data))) {
				t.Fatalf("next %d after %d hits, want %d", got.Next, lim, want[lim-1]+1)
			}
			want = want[:lim]
		}
		if !slices.Equal(got.Hits, want) {
			t.Fatalf("hits %v, want %v", got.Hits, want)
		}
	})
}
