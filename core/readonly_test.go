package core

// The engine never writes: every kind of image (clean, fixed, dirty log,
// differencing chain, damaged) is opened, verified, summarised, planned
// and read in full through files opened O_RDONLY, and afterwards every
// file has the same content hash and modification time.

import (
	"context"
	"crypto/sha256"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vhdxview/vhdxview/internal/builder"
)

// onlyReaderAt hides every method but ReadAt, so nothing can type-assert
// its way to an *os.File.
type onlyReaderAt struct{ r io.ReaderAt }

func (o onlyReaderAt) ReadAt(p []byte, off int64) (int, error) { return o.r.ReadAt(p, off) }

type fileState struct {
	sum   [32]byte
	mtime time.Time
	size  int64
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{sha256.Sum256(b), st.ModTime(), st.Size()}
}

func openRO(t *testing.T, path string) (io.ReaderAt, int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return onlyReaderAt{f}, st.Size()
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	c3 := makeChain3(512)
	images := map[string]*builder.Image{
		"dynamic": damageBase(),
		"fixed":   {VirtualSize: 4 * mB, Fixed: true, Blocks: map[uint64]builder.Block{1: fullBlock(fillIdx(1))}},
		"dirty":   nil, // below
		"base":    c3.base, "child": c3.child, "grand": c3.grand,
		"damaged": nil, // below
	}
	_, dirty, _, _ := buildLogCase(t, logCases()[1])
	images["dirty"] = dirty
	dmg := damageBase()
	lay0, _ := dmg.Layout()
	dmg.RawBAT = map[uint64]uint64{batIndex(lay0, 2): builder.BATEntry(6, uint64(lay0.Metadata.Offset)), batIndex(lay0, 4): 5}
	dmg.Headers[0].CorruptChecksum = true
	dmg.RegionTables[0].CorruptChecksum = true
	images["damaged"] = dmg

	// Each file's modification time is set well in the past, so that a
	// write, if any happened, shows in it (without waiting for the clock
	// to move on).
	past := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	before := map[string]fileState{}
	for name, im := range images {
		p, _ := writeImage(t, dir, name, im)
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
		before[name] = stateOf(t, p)
		if !before[name].mtime.Equal(past) {
			t.Fatalf("%s: modification time %v, set to %v", name, before[name].mtime, past)
		}
	}

	var parents []File
	for _, n := range []string{"child", "base"} {
		r, size := openRO(t, filepath.Join(dir, n+".vhdx"))
		parents = append(parents, File{Name: n, R: r, Size: size})
	}
	for name := range images {
		r, size := openRO(t, filepath.Join(dir, name+".vhdx"))
		img, err := Open(context.Background(), r, size, &Options{Name: name, Parents: parents})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img.Verify(context.Background(), func(done, total int64) {})
		img.Info()
		img.Plan(context.Background(), 0, img.Size(), func(Run) error { return nil })
		buf := make([]byte, mB)
		for off := int64(0); off < img.Size(); off += mB {
			img.ReadAt(buf, off) // damaged blocks fail; that is fine here
		}
		img.States(nil, 0, img.geom.PayloadBlocks)
	}
	for name := range images {
		if after := stateOf(t, filepath.Join(dir, name+".vhdx")); after != before[name] {
			t.Errorf("%s changed: before %+v, after %+v", name, before[name], after)
		}
	}
}

// TestEngineHasNoWritePath: the engine's sources import no package that
// could write a file and call no writing method.
func TestEngineHasNoWritePath(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch p {
			case "os", "syscall", "io/fs", "unsafe", "syscall/js", "golang.org/x/sys/unix":
				t.Errorf("%s imports %s", f, p)
			}
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []string{".WriteAt(", ".Truncate(", ".WriteString("} {
			if strings.Contains(string(src), call) {
				t.Errorf("%s calls %s", f, call)
			}
		}
	}
}
