package disk

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

// FuzzOpenFiles feeds one file, or the same bytes as two files (a chain's
// shape), to the dispatch and exercises whatever opens: Info, Verify, a
// read, a plan, the block states. Nothing may panic; errors are fine.
func FuzzOpenFiles(f *testing.F) {
	seed := func(b []byte) {
		f.Add(b, false, false)
		f.Add(b, true, false)
	}
	for _, im := range []*vhdbuilder.Image{
		{Type: vhdbuilder.Dynamic, Size: 64 << 10, BlockSize: 4 << 10, UniqueID: uuid.New(),
			Blocks: map[int64]vhdbuilder.Block{1: {Data: pattern(1024, 1)}}},
		{Type: vhdbuilder.Fixed, Size: 8 << 10, Data: pattern(1024, 2)},
	} {
		b, err := im.Bytes()
		if err != nil {
			f.Fatal(err)
		}
		seed(b)
	}
	seed(gptDisk(16<<10, 512))
	seed(append([]byte("KDMV"), make([]byte, 600)...))
	seed(pattern(4096, 5))
	f.Add([]byte{}, false, true)
	f.Fuzz(func(t *testing.T, b []byte, twice, raw bool) {
		files := []core.File{fileOf("a", b)}
		if twice {
			files = append(files, fileOf("b", b))
		}
		disks, _, err := OpenFiles(t.Context(), files, &Options{Raw: raw, Options: core.Options{Partial: true}})
		if err != nil {
			return
		}
		for _, d := range disks {
			if _, err := json.Marshal(d.Info()); err != nil {
				t.Fatal(err)
			}
			d.Verify(t.Context(), nil)
			p := make([]byte, min(d.Size(), 1<<16))
			d.ReadAt(p, 0)
			runs := 0
			d.Plan(t.Context(), 0, min(d.Size(), 1<<24), func(core.Run) error {
				if runs++; runs > 1000 {
					return errStop
				}
				return nil
			})
			for k := 0; k < d.Levels(); k++ {
				d.States(nil, k, 0, min(d.Facts(k).Blocks, 64))
			}
			if d.Facts(0).Blocks > 0 {
				d.Block(0)
			}
		}
	})
}

type stopErr struct{}

func (stopErr) Error() string { return "stop" }

var errStop = stopErr{}
