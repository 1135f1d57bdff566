package builder

// External readers used to cross-check the builder: qemu-img (qemu-utils)
// and libvhdi's Python bindings (python3-libvhdi). They may still be being
// installed when the tests start, so a missing tool is polled for every
// 30 s for up to 10 minutes. A tool that never appears fails the test,
// unless VHDXVIEW_ALLOW_MISSING_TOOLS=1, in which case the test is skipped
// with a message.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const pythonPath = "/usr/bin/python3"

type tool struct {
	once sync.Once
	err  error
	find func() error
}

var (
	qemuTool = &tool{find: func() error {
		if _, err := exec.LookPath("qemu-img"); err != nil {
			return err
		}
		return nil
	}}
	pyvhdiTool = &tool{find: func() error {
		out, err := exec.Command(pythonPath, "-c", "import pyvhdi").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s -c 'import pyvhdi': %v: %s", pythonPath, err, out)
		}
		return nil
	}}
)

func (tl *tool) require(t *testing.T, name string) {
	t.Helper()
	tl.once.Do(func() {
		deadline := time.Now().Add(10 * time.Minute)
		for {
			tl.err = tl.find()
			if tl.err == nil || time.Now().After(deadline) {
				return
			}
			fmt.Fprintf(os.Stderr, "waiting for %s (%v); retrying in 30 s\n", name, tl.err)
			time.Sleep(30 * time.Second)
		}
	})
	if tl.err != nil {
		if os.Getenv("VHDXVIEW_ALLOW_MISSING_TOOLS") == "1" {
			t.Skipf("%s missing (VHDXVIEW_ALLOW_MISSING_TOOLS=1): %v", name, tl.err)
		}
		t.Fatalf("%s is required (set VHDXVIEW_ALLOW_MISSING_TOOLS=1 to skip): %v", name, tl.err)
	}
}

func requireQemu(t *testing.T)   { qemuTool.require(t, "qemu-img") }
func requirePyvhdi(t *testing.T) { pyvhdiTool.require(t, "python3-libvhdi") }

// run runs a command and returns its combined output, failing on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(name, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

func runErr(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return buf.String(), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, buf.String())
	}
	return buf.String(), nil
}

// qemuCheck runs qemu-img check and fails unless it reports no errors.
func qemuCheck(t *testing.T, path string) {
	t.Helper()
	out := run(t, "qemu-img", "check", "-f", "vhdx", path)
	if !strings.Contains(out, "No errors were found") {
		t.Fatalf("qemu-img check %s:\n%s", path, out)
	}
}

// qemuRaw converts the image to raw with qemu-img and returns the path.
func qemuRaw(t *testing.T, path string) string {
	t.Helper()
	raw := path + ".qemu.raw"
	run(t, "qemu-img", "convert", "-f", "vhdx", "-O", "raw", path, raw)
	return raw
}

// pyvhdiScript reads a chain of images (base first) through libvhdi and
// writes the virtual disk of the last one to the output file.
const pyvhdiScript = `
import sys, pyvhdi
out, paths = sys.argv[1], sys.argv[2:]
files = []
for p in paths:
    f = pyvhdi.file()
    f.open(p)
    if files:
        f.set_parent(files[-1])
    files.append(f)
top = files[-1]
size = top.get_media_size()
with open(out, "wb") as w:
    off = 0
    while off < size:
        n = min(8 << 20, size - off)
        b = top.read_buffer_at_offset(n, off)
        if len(b) != n:
            raise SystemExit("short read at %d: %d of %d" % (off, len(b), n))
        w.write(b)
        off += n
print(size)
`

// pyvhdiRaw reads the chain (base first) with libvhdi into a raw file and
// returns its path.
func pyvhdiRaw(t *testing.T, chain ...string) string {
	t.Helper()
	raw := chain[len(chain)-1] + ".libvhdi.raw"
	run(t, pythonPath, append([]string{"-c", pyvhdiScript, raw}, chain...)...)
	return raw
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
