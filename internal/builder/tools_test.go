package builder

// External readers used to cross-check the builder: qemu-img (qemu-utils)
// and libvhdi's Python bindings (python3-libvhdi), through internal/reftool.
// A missing one fails the test unless VHDXVIEW_ALLOW_MISSING_TOOLS=1, which
// skips it.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vhdxview/vhdxview/internal/reftool"
)

func requireQemu(t *testing.T)   { reftool.Require(t, "qemu-img") }
func requirePyvhdi(t *testing.T) { reftool.Require(t, reftool.Pyvhdi) }

var (
	run       = reftool.Run
	qemuRaw   = reftool.QemuRaw
	pyvhdiRaw = reftool.PyvhdiRaw
)

// runErr: see internal/reftool.
var runErr = reftool.Output

// qemuCheck runs qemu-img check and fails unless it reports no errors.
func qemuCheck(t *testing.T, path string) {
	t.Helper()
	out := run(t, "qemu-img", "check", "-f", "vhdx", path)
	if !strings.Contains(out, "No errors were found") {
		t.Fatalf("qemu-img check %s:\n%s", path, out)
	}
}

// compareRaw compares a raw file with the expected virtual disk.
func compareRaw(t *testing.T, rawPath string, want io.ReaderAt, size int64) {
	t.Helper()
	f, err := os.Open(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != size {
		t.Fatalf("%s: %d bytes, want %d", filepath.Base(rawPath), st.Size(), size)
	}
	const chunk = 1 << 20
	got, exp := make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		if _, err := f.ReadAt(got[:n], off); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if _, err := want.ReadAt(exp[:n], off); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:n], exp[:n]) {
			i := 0
			for got[i] == exp[i] {
				i++
			}
			t.Fatalf("%s: virtual byte %#x is %#02x, want %#02x", filepath.Base(rawPath), off+int64(i), got[i], exp[i])
		}
	}
}
