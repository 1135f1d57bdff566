package main

// The recursive listing of a partition (package listing).
//
//	vhdx list [--bodyfile] [--hash md5,sha256] [-o OUT] [--parent P]... IMAGE [PARTITION] [PATH]
//
// CSV by default; --bodyfile writes The Sleuth Kit's body file. A
// directory that could not be listed (in full) is a row with its problem,
// and the exit code is then 1, as for a hash that could not be made.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/vhdxview/vhdxview/disk"
	"github.com/vhdxview/vhdxview/listing"
	"github.com/vhdxview/vhdxview/scan"
	"github.com/vhdxview/vhdxview/volume"
)

func (c *cli) cmdList(ctx context.Context, img *disk.Disk, tab *volume.Table, fsOpts *volume.FSOptions, p volume.Partition, path string, o *options) int {
	var algos []string
	if o.hash != "" {
		var err error
		if algos, err = scan.ParseAlgorithms(o.hash); err != nil {
			fmt.Fprintln(c.stderr, "vhdx list:", err)
			return exitFail
		}
	}
	format := "csv"
	if o.bodyfile {
		format = "bodyfile"
	}
	fsys, err := openVolume(ctx, img, tab, fsOpts, p)
	if err != nil {
		fmt.Fprintln(c.stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	code := exitOK
	if j := fsys.Journal(); j != nil && !j.Replayed {
		fmt.Fprintln(c.stderr, "vhdx: warning:", j.Note())
		code = exitProblems
	}
	var out io.Writer = c.stdout
	if o.out != "" && o.out != "-" {
		if err := c.notAnInput(o.out); err != nil {
			return c.fail(err)
		}
		f, err := os.Create(o.out)
		if err != nil {
			return c.fail(err)
		}
		defer f.Close()
		out = f
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	w := listing.NewWriter(format, bw, algos)
	if err := w.Header(); err != nil {
		return c.fail(&outputError{err})
	}
	problems := 0
	err = listing.Walk(ctx, fsys, path, nil, listing.Options{Hash: algos, Disk: img}, func(r listing.Row, _ listing.Cursor) error {
		if r.Problem != "" {
			problems++
			fmt.Fprintf(c.stderr, "vhdx: %s: %s\n", r.FullPath(), r.Problem)
		}
		if err := w.Row(&r); err != nil {
			return &outputError{err}
		}
		return nil
	})
	if err == nil {
		if err = w.Flush(); err == nil {
			err = bw.Flush()
		}
		if err != nil {
			err = &outputError{err}
		}
	}
	if err != nil {
		return c.fail(err)
	}
	if problems > 0 {
		code = exitProblems
	}
	return code
}

// notAnInput refuses to write over one of the command's input files.
func (c *cli) notAnInput(out string) error {
	st, err := os.Stat(out)
	if err != nil {
		return nil
	}
	for _, in := range c.inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return fmt.Errorf("vhdx: %s: refusing to overwrite the input %s", out, in)
		}
	}
	return nil
}
