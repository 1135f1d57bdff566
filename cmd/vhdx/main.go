// Command vhdx inspects and reads VHDX files: the native face of the same
// engine the browser viewer runs. It never writes to an image.
//
//	vhdx info [--json] [--parent P]... IMAGE
//	vhdx check [--json] [--parent P]... IMAGE   exit 0 clean, 1 problems, 2 unreadable
//	vhdx cat [--offset N] [--length N] [-o OUT] [--parent P]... IMAGE
//	vhdx map [--json] [--parent P]... IMAGE
//	vhdx parts [--json] [--parent P]... IMAGE
//	vhdx ls [--json] [--parent P]... IMAGE [PARTITION] [PATH]
//	vhdx get [-o OUT] [--parent P]... IMAGE PARTITION [PATH]
//
// Numbers take 0x prefixes and K, M, G, T suffixes (powers of 1024).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vhdxview/vhdxview/core"
)

const usage = `usage:
  vhdx info  [--json] [--parent PATH]... IMAGE
  vhdx check [--json] [--parent PATH]... IMAGE
  vhdx cat   [--offset N] [--length N] [-o OUT] [--parent PATH]... IMAGE
  vhdx map   [--json] [--parent PATH]... IMAGE
` + volumeUsage + `
--parent names parent files of a differencing chain, nearest first; without
it the locator's relative_path, absolute paths and the bare file name next to
the image are tried.`

// exit codes
const (
	exitOK       = 0
	exitProblems = 1
	exitFail     = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type size int64

func (s *size) String() string { return fmt.Sprint(int64(*s)) }
func (s *size) Set(v string) error {
	n, err := parseSize(v)
	*s = size(n)
	return err
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitFail
	}
	cmd := args[0]
	switch cmd {
	case "parts", "ls", "get":
		return runVolume(cmd, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("vhdx "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		asJSON  = fs.Bool("json", false, "print JSON")
		parents stringList
		offset  size
		length  = size(-1)
		out     = fs.String("o", "", "write to `file` instead of standard output")
	)
	fs.Var(&parents, "parent", "parent `file` of a differencing disk (repeat, nearest first)")
	if cmd == "cat" {
		fs.Var(&offset, "offset", "virtual disk offset to start at")
		fs.Var(&length, "length", "bytes to read (default: to the end)")
	}
	switch cmd {
	case "info", "check", "cat", "map":
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "vhdx: unknown command %q\n%s\n", cmd, usage)
		return exitFail
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitFail
	}
	if fs.NArg() < 1 {
		fmt.Fprintln(stderr, usage)
		return exitFail
	}
	img, closeAll, err := openImage(context.Background(), fs.Args(), parents)
	if err != nil {
		fmt.Fprintln(stderr, oneLine(err))
		return exitFail
	}
	defer closeAll()

	switch cmd {
	case "info":
		return cmdInfo(img, *asJSON, stdout, stderr)
	case "check":
		return cmdCheck(img, *asJSON, stdout, stderr)
	case "cat":
		return cmdCat(img, int64(offset), int64(length), *out, stdout, stderr)
	default:
		return cmdMap(img, *asJSON, stdout, stderr)
	}
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

func cmdCheck(img *core.Image, asJSON bool, stdout, stderr io.Writer) int {
	rep := img.Verify(context.Background(), nil)
	code := exitOK
	if rep.Verdict != "clean" {
		code = exitProblems
	}
	if asJSON {
		return printJSON(stdout, stderr, rep, code)
	}
	for _, c := range rep.Checks {
		lvl := ""
		if c.Level > 0 {
			lvl = fmt.Sprintf("[parent %d] ", c.Level)
		}
		fmt.Fprintf(stdout, "%-7s %s%s at 0x%x: %s\n", c.Status, lvl, c.Structure, c.Offset, c.Message)
	}
	fmt.Fprintf(stdout, "verdict: %s (%d errors, %d warnings)\n", rep.Verdict, rep.Errors, rep.Warnings)
	return code
}

// printJSON writes v as indented JSON and returns code, or exitFail when
// it cannot be written.
func printJSON(stdout, stderr io.Writer, v any, code int) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, "vhdx:", err)
		return exitFail
	}
	return code
}

func cmdCat(img *core.Image, off, n int64, out string, stdout, stderr io.Writer) int {
	if off < 0 || off > img.Size() {
		fmt.Fprintf(stderr, "vhdx: offset %d outside the virtual disk (size %d)\n", off, img.Size())
		return exitFail
	}
	if n < 0 || off+n > img.Size() {
		n = img.Size() - off
	}
	var w io.Writer = stdout
	var f *os.File
	if out != "" {
		var err error
		if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
			fmt.Fprintln(stderr, "vhdx:", err)
			return exitFail
		}
		w = f
	}
	if err := copyRange(w, f, img, off, n); err != nil {
		fmt.Fprintln(stderr, oneLine(err))
		if f != nil {
			f.Close()
		}
		return exitFail
	}
	if f != nil {
		if err := f.Close(); err != nil {
			fmt.Fprintln(stderr, "vhdx:", err)
			return exitFail
		}
	}
	return exitOK
}

// copyRange writes [off, off+n) of the virtual disk to w. When the output is
// a regular file (f != nil) chunks are copied by several workers with
// WriteAt, and runs of zeros become holes; otherwise a reader goroutine
// stays one chunk ahead of the writer.
func copyRange(w io.Writer, f *os.File, img *core.Image, off, n int64) error {
	if f != nil {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return copyToFile(f, img, off, n)
		}
	}
	type chunk struct {
		b   []byte
		err error
	}
	const size = 8 << 20
	ch := make(chan chunk, 2)
	free := make(chan []byte, 3)
	for i := 0; i < 3; i++ {
		free <- make([]byte, size)
	}
	go func() {
		defer close(ch)
		for done := int64(0); done < n; {
			k := min(size, n-done)
			b := (<-free)[:k]
			if _, err := img.ReadAt(b, off+done); err != nil && !(errors.Is(err, io.EOF) && done+k == n) {
				ch <- chunk{err: err}
				return
			}
			ch <- chunk{b: b}
			done += k
		}
	}()
	var werr error
	for c := range ch {
		if c.err != nil {
			return c.err
		}
		if werr == nil {
			_, werr = w.Write(c.b)
		}
		free <- c.b[:cap(c.b)]
	}
	return werr
}

// copyToFile copies with parallel workers, each taking the next chunk.
func copyToFile(f *os.File, img *core.Image, off, n int64) error {
	const size = 4 << 20
	workers := max(2, min(8, runtime.NumCPU()*2))
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, size)
			for !failed() {
				start := next.Add(size) - size
				if start >= n {
					return
				}
				k := min(size, n-start)
				err := copyChunk(f, img, off+start, start, buf[:k])
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return f.Truncate(n)
}

// copyChunk copies one chunk unless it reads as zeros (left as a hole).
func copyChunk(f *os.File, img *core.Image, voff, fileOff int64, buf []byte) error {
	zero := true
	if err := img.Plan(context.Background(), voff, int64(len(buf)), func(r core.Run) error {
		zero = zero && r.Kind == core.RunZero
		return nil
	}); err != nil {
		return err
	}
	if zero {
		return nil
	}
	if _, err := img.ReadAt(buf, voff); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	_, err := f.WriteAt(buf, fileOff)
	return err
}

// blockJSON is one payload block in `map --json`.
type blockJSON struct {
	Index      int64  `json:"index"`
	State      string `json:"state"`
	FileOffset int64  `json:"file_offset,omitempty"`
	Error      string `json:"error,omitempty"`
}

func cmdMap(img *core.Image, asJSON bool, stdout, stderr io.Writer) int {
	g := img.Info()
	code := exitOK
	if asJSON {
		enc := json.NewEncoder(stdout)
		fmt.Fprintf(stdout, "{\"block_size\":%d,\"payload_blocks\":%d,\"blocks\":[", g.BlockSize, g.PayloadBlocks)
		for b := int64(0); b < g.PayloadBlocks; b++ {
			blk, err := img.Block(b)
			j := blockJSON{Index: b, State: blk.State.String(), FileOffset: blk.FileOffset}
			if err != nil {
				j.Error, code = err.Error(), exitProblems
			}
			if b > 0 {
				fmt.Fprint(stdout, ",")
			}
			enc.Encode(j)
		}
		fmt.Fprintln(stdout, "]}")
		return code
	}
	// Text: runs of blocks with the same state (and consecutive offsets).
	type run struct {
		first, last int64
		state       core.PayloadState
		off         int64
		err         string
	}
	var cur *run
	flush := func() {
		if cur == nil {
			return
		}
		s := fmt.Sprintf("blocks %d-%d %s", cur.first, cur.last, cur.state)
		if cur.off != 0 {
			s += fmt.Sprintf(" at file 0x%x", cur.off)
		}
		if cur.err != "" {
			s += " ERROR: " + cur.err
		}
		fmt.Fprintln(stdout, s)
	}
	for b := int64(0); b < g.PayloadBlocks; b++ {
		blk, err := img.Block(b)
		es := ""
		if err != nil {
			es, code = err.Error(), exitProblems
		}
		if cur != nil && es == "" && cur.err == "" && blk.State == cur.state &&
			(cur.off == 0 && blk.FileOffset == 0 || cur.off+(b-cur.first)*g.BlockSize == blk.FileOffset) {
			cur.last = b
			continue
		}
		flush()
		cur = &run{first: b, last: b, state: blk.State, off: blk.FileOffset, err: es}
	}
	flush()
	return code
}

type tw struct {
	w   io.Writer
	err error
}

func (t *tw) kv(k, v string) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, "%-18s %s\n", k+":", v)
	}
}

func (t *tw) code() int {
	if t.err != nil {
		return exitFail
	}
	return exitOK
}

func human(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.4g %s", f, units[i])
}
