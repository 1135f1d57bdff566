// Package reftool runs the independent readers the tests compare the
// engine with: qemu-img (Debian qemu-utils) and libvhdi's Python bindings
// (python3-libvhdi, "pyvhdi"), plus the other command-line tools tests
// build images with (mkfs.*, sgdisk, ntfscp, ...).
//
// A missing tool fails the test with the package to install, unless
// VHDXVIEW_ALLOW_MISSING_TOOLS=1, which skips it instead. ./build.sh test
// installs every tool before it runs a test, so nothing here waits for one.
package reftool

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Python is the interpreter that has pyvhdi (Debian's python3-libvhdi).
const Python = "/usr/bin/python3"

// Pyvhdi is the name Require takes for libvhdi's Python bindings.
const Pyvhdi = "pyvhdi"

var checks sync.Map // tool name → error (nil: present)

func find(name string) error {
	if name == Pyvhdi {
		if out, err := exec.Command(Python, "-c", "import pyvhdi").CombinedOutput(); err != nil {
			return fmt.Errorf("%s -c 'import pyvhdi' (Debian python3-libvhdi): %v: %s", Python, err, bytes.TrimSpace(out))
		}
		return nil
	}
	_, err := exec.LookPath(name)
	return err
}

// Require fails (or, with VHDXVIEW_ALLOW_MISSING_TOOLS=1, skips) t unless
// the tool is installed. Each tool is looked for once per process.
func Require(t testing.TB, name string) {
	t.Helper()
	v, ok := checks.Load(name)
	if !ok {
		v, _ = checks.LoadOrStore(name, find(name))
	}
	if err, _ := v.(error); err != nil {
		if os.Getenv("VHDXVIEW_ALLOW_MISSING_TOOLS") == "1" {
			t.Skipf("%s missing (VHDXVIEW_ALLOW_MISSING_TOOLS=1): %v", name, err)
		}
		t.Fatalf("%s is required (./build.sh test installs it; VHDXVIEW_ALLOW_MISSING_TOOLS=1 skips): %v", name, err)
	}
}

// Run runs a command (after Require) and returns its combined output,
// failing t when it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	return RunInput(t, "", name, args...)
}

// RunInput is Run with stdin as the command's standard input.
func RunInput(t testing.TB, stdin, name string, args ...string) string {
	t.Helper()
	return RunEnv(t, nil, stdin, name, args...)
}

// RunEnv is RunInput with env (KEY=value) added to the environment.
func RunEnv(t testing.TB, env []string, stdin, name string, args ...string) string {
	t.Helper()
	Require(t, name)
	out, err := output(env, stdin, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Output runs a command and returns its combined output, or an error that
// names the command and holds its output. It is for code that builds
// fixtures outside a test's goroutine (a sync.Once shared by tests).
func Output(name string, args ...string) (string, error) { return output(nil, "", name, args...) }

func output(env []string, stdin, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	// Messages the tests match are in English; env may override.
	cmd.Env = append(append(os.Environ(), "LC_ALL=C"), env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// QemuRaw converts a VHDX file to raw with qemu-img and returns the raw
// file's path (next to the image).
func QemuRaw(t testing.TB, path string) string {
	t.Helper()
	return QemuRawFormat(t, "vhdx", path)
}

// QemuRawFormat converts an image of qemu format format ("vhdx", "vpc"
// for VHD) to raw with qemu-img and returns the raw file's path (next to
// the image).
func QemuRawFormat(t testing.TB, format, path string) string {
	t.Helper()
	raw := path + ".qemu.raw"
	Run(t, "qemu-img", "convert", "-f", format, "-O", "raw", path, raw)
	return raw
}

// PyvhdiScript reads a chain of images through libvhdi and writes LENGTH
// bytes at OFFSET of the last one's virtual disk (LENGTH -1: to its end)
// to a file, 8 MiB at a time:
//
//	python3 -c PyvhdiScript OUT OFFSET LENGTH BASE [CHILD ...]
const PyvhdiScript = `
import sys, pyvhdi
out, off, n, paths = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
files = []
for p in paths:
    f = pyvhdi.file()
    f.open(p)
    if files:
        f.set_parent(files[-1])
    files.append(f)
top = files[-1]
end = top.get_media_size() if n < 0 else off + n
with open(out, "wb") as w:
    while off < end:
        k = min(8 << 20, end - off)
        b = top.read_buffer_at_offset(k, off)
        if len(b) != k:
            raise SystemExit("short read at %d: %d of %d" % (off, len(b), k))
        w.write(b)
        off += k
`

// PyvhdiRaw reads a chain (base first) of VHDX or VHD files with libvhdi
// into a raw file next to the last image and returns its path.
func PyvhdiRaw(t testing.TB, chain ...string) string {
	t.Helper()
	raw := chain[len(chain)-1] + ".libvhdi.raw"
	PyvhdiRange(t, raw, 0, -1, chain...)
	return raw
}

// PyvhdiRange writes n bytes at off of a chain's virtual disk (base first;
// n < 0: to the end), read with libvhdi, to the file out.
func PyvhdiRange(t testing.TB, out string, off, n int64, chain ...string) {
	t.Helper()
	Require(t, Pyvhdi)
	Run(t, Python, append([]string{"-c", PyvhdiScript, out, strconv.FormatInt(off, 10), strconv.FormatInt(n, 10)}, chain...)...)
}
