// Command vhdx inspects and reads VHDX, VHD and raw disk images: the
// native face of the same engine the browser viewer runs. It never writes
// to an image. --raw, on any command, reads IMAGE as a raw disk whatever
// its signature.
//
//	vhdx info  [--json] [--parent P]... IMAGE
//	vhdx check [--json] [--parent P]... IMAGE   exit 0 clean, 1 problems, 2 unreadable
//	vhdx cat   [--offset N] [--length N] [-o OUT] [--zero-bad] [--parent P]... IMAGE
//	vhdx map   [--json] [--parent P]... IMAGE
//	vhdx parts [--json] [--parent P]... IMAGE
//	vhdx ls    [--json] [--parent P]... IMAGE [PARTITION] [PATH]
//	vhdx stat  [--json] [--parent P]... IMAGE [PARTITION] PATH
//	vhdx list  [--bodyfile] [--hash LIST] [-o OUT] [--parent P]... IMAGE [PARTITION] [PATH]
//	vhdx get   [-o OUT] [--parent P]... IMAGE PARTITION [PATH]
//	vhdx hash  [--json] [--algo LIST] [--offset N] [--length N] [--part N] [--path P] IMAGE...
//	vhdx search [--json] (--hex HEX | --text STR [--utf16]) [--limit N] [--offset N] [--length N] [--part N] [--path P] IMAGE...
//
// Flags may come before or after the arguments (args.go); -o - is standard
// output; --debug, before or after the command, prints the stack trace of
// an internal error (errors.go). Numbers take 0x prefixes and K, M, G, T
// suffixes (powers of 1024).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
)

// exit codes
const (
	exitOK       = 0
	exitProblems = 1
	exitFail     = 2
)

func main() {
	// Ctrl-C cancels the long work (check, cat, get) through ctx; a second
	// one kills the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cli is one run of the command.
type cli struct {
	stdout, stderr io.Writer
	debug          bool
	inputs         []string // files `-o` must not overwrite
	// wrapSource, when set, wraps every reader a copy reads from; tests
	// count or fail reads through it.
	wrapSource func(io.ReaderAt) io.ReaderAt
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	return c.run(ctx, args)
}

func (c *cli) run(ctx context.Context, args []string) int {
	// Flags before the command: --debug, --help.
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' {
		switch strings.TrimLeft(args[0], "-") {
		case "debug":
			c.debug = true
		case "h", "help":
			mainUsage(c.stdout)
			return exitOK
		default:
			fmt.Fprintf(c.stderr, "vhdx: unknown flag: %s\n", args[0])
			mainUsage(c.stderr)
			return exitFail
		}
		args = args[1:]
	}
	if len(args) == 0 {
		mainUsage(c.stderr)
		return exitFail
	}
	name, args := args[0], args[1:]
	if name == "help" {
		if len(args) == 0 {
			mainUsage(c.stdout)
			return exitOK
		}
		name, args = args[0], []string{"--help"}
	}
	cmd := lookupCommand(name)
	if cmd == nil {
		fmt.Fprintf(c.stderr, "vhdx: unknown command %q\n", name)
		mainUsage(c.stderr)
		return exitFail
	}
	fs := flag.NewFlagSet("vhdx "+name, flag.ContinueOnError)
	var o options
	cmd.define(fs, &o)
	pos, err := parseArgs(fs, args)
	switch {
	case err == flag.ErrHelp:
		cmd.usage(c.stdout)
		return exitOK
	case err == nil && (len(pos) < cmd.min || len(pos) > cmd.max):
		err = fmt.Errorf("want %d to %d arguments, got %d", cmd.min, cmd.max, len(pos))
		if cmd.min == cmd.max {
			err = fmt.Errorf("want %d argument(s), got %d", cmd.min, len(pos))
		}
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "vhdx %s: %v\n", name, err)
		cmd.usage(c.stderr)
		return exitFail
	}
	c.debug = c.debug || o.debug
	c.inputs = append(append([]string{}, pos...), o.parents...)

	switch name {
	case "parts", "ls", "get", "list", "stat":
		return c.runVolume(ctx, name, &o, pos)
	}
	// info and check describe a chain whose parent is not found as far
	// as it goes; the others read the disk and need all of it.
	partial := name == "info" || name == "check"
	img, closeAll, err := openImage(ctx, pos, o.parents, o.raw, partial, c.stderr)
	if err != nil {
		if (name == "info" || name == "check") && len(pos) == 1 && !o.raw && errors.Is(err, core.ErrFormat) {
			c.printInspection(ctx, name, pos[0], o.json)
		}
		return c.fail(unexpected(err))
	}
	defer closeAll()

	switch name {
	case "info":
		return cmdInfo(img, o.json, c.stdout, c.stderr)
	case "check":
		return cmdCheck(ctx, img, o.json, c.stdout, c.stderr)
	case "cat":
		return c.cmdCat(ctx, img, int64(o.offset), int64(o.length), o.out, o.zeroBad)
	case "hash":
		return c.cmdHash(ctx, img, &o)
	case "search":
		return c.cmdSearch(ctx, img, &o)
	default:
		return cmdMap(ctx, img, o.json, c.stdout, c.stderr)
	}
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

func cmdCheck(ctx context.Context, img *disk.Disk, asJSON bool, stdout, stderr io.Writer) int {
	rep := img.Verify(ctx, nil)
	code := exitOK
	switch {
	case ctx.Err() != nil:
		// The partial report ends with a "stopped before the end" check.
		fmt.Fprintln(stderr, "vhdx: interrupted")
		code = exitFail
	case rep.Verdict != "clean":
		code = exitProblems
	}
	if asJSON {
		return printJSON(stdout, stderr, rep, code)
	}
	printChecks(stdout, rep)
	return code
}

// printChecks writes a line per check and the verdict.
func printChecks(stdout io.Writer, rep *core.Report) {
	for _, c := range rep.Checks {
		lvl := ""
		if c.Level > 0 {
			lvl = fmt.Sprintf("[parent %d] ", c.Level)
		}
		fmt.Fprintf(stdout, "%-7s %s%s at 0x%x: %s\n", c.Status, lvl, c.Structure, c.Offset, c.Message)
	}
	fmt.Fprintf(stdout, "verdict: %s (%d errors, %d warnings)\n", rep.Verdict, rep.Errors, rep.Warnings)
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

func (c *cli) cmdCat(ctx context.Context, img *disk.Disk, off, n int64, out string, zeroBad bool) int {
	if off < 0 || off > img.Size() {
		fmt.Fprintf(c.stderr, "vhdx: offset %d outside the virtual disk (size %d)\n", off, img.Size())
		return exitFail
	}
	if n < 0 || off+n > img.Size() {
		n = img.Size() - off
	}
	src := img
	if zeroBad {
		src = img.ZeroBad()
	}
	if err := c.writeOut(ctx, diskSource(ctx, src, off, n), out); err != nil {
		var be *core.BlockError
		if errors.As(err, &be) {
			fmt.Fprintln(c.stderr, prefixed(err)+" (--zero-bad writes zeros for such blocks and lists them)")
			return exitFail
		}
		return c.fail(err)
	}
	if zeroBad {
		return c.reportFilled(ctx, img, off, n)
	}
	return exitOK
}

// maxFilledListed bounds the filled ranges cat --zero-bad lists.
const maxFilledListed = 1000

// reportFilled lists on stderr the ranges of [off, off+n) a --zero-bad
// copy wrote as zeros: where, how many blocks, and why the first of them
// cannot be read. The output is complete; exit 1 says it holds fills.
func (c *cli) reportFilled(ctx context.Context, img *disk.Disk, off, n int64) int {
	ranges, blocks, err := img.BadRanges(ctx, off, n, maxFilledListed)
	if err != nil {
		return c.fail(unexpected(err))
	}
	if blocks == 0 {
		return exitOK
	}
	fmt.Fprintf(c.stderr, "vhdx: %s could not be read and %s written as zeros:\n",
		plural(blocks, "block", "blocks"), map[bool]string{true: "was", false: "were"}[blocks == 1])
	for _, r := range ranges {
		lvl := ""
		if r.Level > 0 {
			lvl = fmt.Sprintf(", parent level %d", r.Level)
		}
		fmt.Fprintf(c.stderr, "  filled 0x%x+0x%x (%s from block %d%s): %s\n", r.Offset, r.Length, plural(r.Blocks, "block", "blocks"), r.Block, lvl, r.Message)
	}
	if listed := int64(len(ranges)); listed == maxFilledListed {
		fmt.Fprintf(c.stderr, "  (only the first %d ranges are listed)\n", listed)
	}
	return exitProblems
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// blockJSON is one block in `map --json`.
type blockJSON struct {
	Index      int64  `json:"index"`
	State      string `json:"state"`
	FileOffset int64  `json:"file_offset,omitempty"`
	Error      string `json:"error,omitempty"`
}

// cmdMap prints the disk's block table: VHDX payload block states, VHD
// allocated and unallocated blocks. A raw disk and a fixed VHD have none.
func cmdMap(ctx context.Context, img *disk.Disk, asJSON bool, stdout, stderr io.Writer) int {
	g := img.Facts(0)
	code := exitOK
	if asJSON {
		enc := json.NewEncoder(stdout)
		fmt.Fprintf(stdout, "{\"format\":%q,\"block_size\":%d,\"payload_blocks\":%d,\"blocks\":[", g.Format, g.BlockSize, g.Blocks)
		for b := int64(0); b < g.Blocks; b++ {
			if ctx.Err() != nil {
				return mapFailed(ctx.Err(), stderr)
			}
			blk, err := img.Block(b)
			j := blockJSON{Index: b, State: blk.State, FileOffset: blk.FileOffset}
			if err != nil {
				j.Error, code = err.Error(), exitProblems
			}
			if b > 0 {
				fmt.Fprint(stdout, ",")
			}
			if err := enc.Encode(j); err != nil {
				return mapFailed(err, stderr)
			}
		}
		if _, err := fmt.Fprintln(stdout, "]}"); err != nil {
			return mapFailed(err, stderr)
		}
		return code
	}
	if g.Blocks == 0 {
		why := "a raw disk image has no block table: the file is the disk"
		if g.Format != disk.FormatRaw {
			why = fmt.Sprintf("a %s %s disk has no block table: the virtual disk is the file's first %d bytes", g.Type, strings.ToUpper(g.Format), g.VirtualSize)
		}
		if _, err := fmt.Fprintln(stdout, why); err != nil {
			return mapFailed(err, stderr)
		}
		return exitOK
	}
	// Text: runs of blocks with the same state (and consecutive offsets).
	type run struct {
		first, last int64
		state       string
		off         int64
		err         string
	}
	var cur *run
	var werr error
	flush := func() {
		if cur == nil || werr != nil {
			return
		}
		s := fmt.Sprintf("blocks %d-%d %s", cur.first, cur.last, cur.state)
		if cur.off != 0 {
			s += fmt.Sprintf(" at file 0x%x", cur.off)
		}
		if cur.err != "" {
			s += " ERROR: " + cur.err
		}
		_, werr = fmt.Fprintln(stdout, s)
	}
	// A VHD block's data follows its sector bitmap, so consecutive blocks
	// are a block and a bitmap apart in the file.
	stride := g.BlockSize
	if g.Format == disk.FormatVHD && g.Blocks > 1 {
		if b0, err := img.Block(0); err == nil && b0.FileOffset != 0 {
			stride = g.BlockSize + vhdBitmapBytes(g.BlockSize)
		}
	}
	for b := int64(0); b < g.Blocks; b++ {
		if werr != nil {
			return mapFailed(werr, stderr)
		}
		if ctx.Err() != nil {
			return mapFailed(ctx.Err(), stderr)
		}
		blk, err := img.Block(b)
		es := ""
		if err != nil {
			es, code = err.Error(), exitProblems
		}
		if cur != nil && es == "" && cur.err == "" && blk.State == cur.state &&
			(cur.off == 0 && blk.FileOffset == 0 || cur.off+(b-cur.first)*stride == blk.FileOffset) {
			cur.last = b
			continue
		}
		flush()
		cur = &run{first: b, last: b, state: blk.State, off: blk.FileOffset, err: es}
	}
	flush()
	if werr != nil {
		return mapFailed(werr, stderr)
	}
	return code
}

// vhdBitmapBytes is a VHD block's sector bitmap, padded to whole sectors
// (VHD spec, "Block Allocation Table (BAT) and Data Blocks").
func vhdBitmapBytes(blockSize int64) int64 {
	return ((blockSize/512+7)/8 + 511) / 512 * 512
}

// mapFailed ends `map` early: interrupted, or its output cannot be written.
func mapFailed(err error, stderr io.Writer) int {
	if err == context.Canceled {
		fmt.Fprintln(stderr, "vhdx: interrupted")
	} else {
		fmt.Fprintln(stderr, "vhdx: writing output:", err)
	}
	return exitFail
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
