package scan

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/vhdxview/vhdxview/core"
)

func TestHashMatchesStdlib(t *testing.T) {
	d := plantedDisk()
	src := &memSource{data: d, bs: 4096}
	for _, r := range [][2]int64{{0, int64(len(d))}, {5, 9000}, {4096, 4096}, {0, 0}, {int64(len(d)), 0}} {
		b := d[r[0] : r[0]+r[1]]
		s256, s1, m5 := sha256.Sum256(b), sha1.Sum(b), md5.Sum(b)
		got, err := Hash(context.Background(), src, r[0], r[1], []string{"md5", "sha256", "sha1"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got["sha256"] != hex.EncodeToString(s256[:]) || got["sha1"] != hex.EncodeToString(s1[:]) || got["md5"] != hex.EncodeToString(m5[:]) || len(got) != 3 {
			t.Errorf("range %v: %v", r, got)
		}
	}
	got, err := Hash(context.Background(), src, 0, -1, []string{"sha1"}, nil)
	if s1 := sha1.Sum(d); err != nil || len(got) != 1 || got["sha1"] != hex.EncodeToString(s1[:]) {
		t.Errorf("sha1 alone: %v %v", got, err)
	}
	if _, err := Hash(context.Background(), src, 0, -1, []string{"crc32"}, nil); err == nil {
		t.Error("unknown algorithm accepted")
	}
	if _, err := Hash(context.Background(), src, 10, int64(len(d)), nil, nil); !errors.Is(err, ErrRange) {
		t.Errorf("range past the end: %v", err)
	}
}

func TestParseAlgorithms(t *testing.T) {
	for in, want := range map[string]string{"": "sha256", "SHA-256,md5,sha256": "sha256 md5", " sha1 ": "sha1"} {
		got, err := ParseAlgorithms(in)
		if err != nil || join(got) != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	if _, err := ParseAlgorithms("sha512"); err == nil {
		t.Error("sha512 accepted")
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// zeroSource is a huge disk of zeros: one zero run, nothing to read.
type zeroSource struct{ size int64 }

func (z *zeroSource) Size() int64 { return z.size }
func (z *zeroSource) ReadAt(p []byte, off int64) (int, error) {
	panic("a zero run was read")
}
func (z *zeroSource) Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error {
	return emit(core.Run{Kind: core.RunZero, Offset: off, Length: n})
}

// TestCancel: hashing a 1 TiB run of zeros stops at once when cancelled
// from the progress callback, and so does a search of it.
func TestCancel(t *testing.T) {
	src := &zeroSource{size: 1 << 40}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Hash(ctx, src, 0, -1, nil, func(done, total int64) {
		if calls++; done >= 64<<20 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || calls > 80 {
		t.Errorf("hash: %v after %d progress calls", err, calls)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := Search(ctx, src, []byte{0}, 0, -1, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("search: %v", err)
	}
}
