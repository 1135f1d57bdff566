package scan

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
)

// Algorithms are the hash names Hash knows, in the order they are listed.
var Algorithms = []string{"sha256", "sha1", "md5"}

// ParseAlgorithms takes a comma-separated list of hash names ("sha256,md5",
// any case, duplicates dropped); an empty list is SHA-256 alone.
func ParseAlgorithms(list string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(list, ",") {
		a = strings.ToLower(strings.TrimSpace(a))
		a = strings.ReplaceAll(a, "-", "")
		if a == "" || slices.Contains(out, a) {
			continue
		}
		if !slices.Contains(Algorithms, a) {
			return nil, fmt.Errorf("scan: unknown hash %q (want %s)", a, strings.Join(Algorithms, ", "))
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		out = []string{"sha256"}
	}
	return out, nil
}

func newHash(name string) hash.Hash {
	switch name {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	}
	return sha256.New()
}

// Sums maps a hash name to its digest in lowercase hex.
type Sums map[string]string

// Hash computes the named hashes (Algorithms; nil is SHA-256 alone) of
// [off, off+n) of src in one pass (n < 0: to the end). Zero runs are fed
// from a zero buffer without reading.
func Hash(ctx context.Context, src Source, off, n int64, algorithms []string, progress Progress) (Sums, error) {
	n, err := span(off, n, src.Size())
	if err != nil {
		return nil, err
	}
	if len(algorithms) == 0 {
		algorithms = []string{"sha256"}
	}
	hs := make([]hash.Hash, len(algorithms))
	ws := make([]io.Writer, len(algorithms))
	for i, a := range algorithms {
		if !slices.Contains(Algorithms, a) {
			return nil, fmt.Errorf("scan: unknown hash %q (want %s)", a, strings.Join(Algorithms, ", "))
		}
		hs[i] = newHash(a)
		ws[i] = hs[i]
	}
	w := io.MultiWriter(ws...)
	buf := make([]byte, ChunkSize)
	var zeros []byte // a chunk of zeros, made at the first zero run
	done := int64(0)
	err = walk(ctx, src, off, n, buf, func(p piece) error {
		if p.data != nil {
			w.Write(p.data) // hash.Hash never fails
			done += int64(len(p.data))
		} else {
			if zeros == nil {
				zeros = make([]byte, ChunkSize)
			}
			for left := p.zeros; left > 0; {
				if err := ctx.Err(); err != nil {
					return err
				}
				k := min(left, ChunkSize)
				w.Write(zeros[:k])
				left -= k
				done += k
				if progress != nil {
					progress(done, n)
				}
			}
		}
		if progress != nil {
			progress(done, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(n, n)
	}
	sums := Sums{}
	for i, a := range algorithms {
		sums[a] = hex.EncodeToString(hs[i].Sum(nil))
	}
	return sums, nil
}
