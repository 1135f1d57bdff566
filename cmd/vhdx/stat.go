package main

// vhdx stat: one file's entry, and on NTFS what its MFT record holds
// (volume.FS.NTFSFile).
//
//	vhdx stat [--json] [--codepage NAME] [--parent P]... IMAGE [PARTITION] PATH

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vhdxview/vhdxview/disk"
	"github.com/vhdxview/vhdxview/volume"
)

// statJSON is `stat --json`: the entry as ls gives it, and the MFT
// record's facts on NTFS.
type statJSON struct {
	Entry volume.Entry     `json:"entry"`
	NTFS  *volume.NTFSFile `json:"ntfs,omitempty"`
}

func cmdStat(ctx context.Context, img *disk.Disk, tab *volume.Table, fsOpts *volume.FSOptions, p volume.Partition, path string, asJSON bool, stdout, stderr io.Writer) int {
	fsys, err := openVolume(ctx, img, tab, fsOpts, p)
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	e, err := fsys.Lookup(path)
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	out := statJSON{Entry: e}
	if fsys.Type() == "ntfs" {
		if out.NTFS, err = fsys.NTFSFile(path); err != nil && !errors.Is(err, volume.ErrUnsupportedFS) {
			fmt.Fprintln(stderr, "vhdx:", oneLine(err))
			return exitFail
		}
	}
	if asJSON {
		return printJSON(stdout, stderr, out, exitOK)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%s:\t%s\n", k, fmt.Sprintf(format, a...)) }
	row("path", "%s", e.Path)
	row("type", "%s", e.Type)
	if !e.IsDir {
		row("size", "%d bytes", e.Size)
	}
	if e.Target != "" {
		row("target", "%s", e.Target)
	}
	if e.Reparse != "" {
		row("stored as", "%s", e.Reparse)
	}
	for _, t := range []struct {
		k string
		v time.Time
	}{{"modified", e.ModTime}, {"created", e.CreateTime}, {"accessed", e.AccessTime}} {
		if !t.v.IsZero() {
			row(t.k, "%s", statTime(t.v))
		}
	}
	if e.ID != 0 && out.NTFS == nil {
		row("id", "%d", e.ID)
	}
	if n := out.NTFS; n != nil {
		var what []string
		if n.Directory {
			what = append(what, "directory")
		}
		if n.Metadata {
			what = append(what, "NTFS metadata")
		}
		where := "not mapped by $MFT's runs"
		if n.Offset >= 0 {
			where = fmt.Sprintf("at disk offset 0x%x", n.Offset)
		}
		row("MFT record", "%d (sequence %d), %s, %d bytes%s", n.Record, n.Sequence, where, n.RecordSize, paren(strings.Join(what, ", ")))
		if len(n.ExtensionRecords) > 0 {
			row("extension records", "%s", joinNums(n.ExtensionRecords))
		}
		row("hard links", "%d", n.HardLinks)
		row("DOS attributes", "0x%08x%s", n.DOSAttributes, paren(strings.Join(n.DOSFlags, ", ")))
		row("$STANDARD_INFORMATION", "%s", statTimes(n.Times))
		for _, nm := range n.Names {
			row("$FILE_NAME", "%q (%s) in record %d: %s; size %d, allocated %d", nm.Name, nm.Namespace, nm.Parent, statTimes(nm.Times), nm.Size, nm.Allocated)
		}
		for _, s := range n.Streams {
			row("stream", "%s:%s, %d bytes", e.Name, s.Name, s.Size)
		}
		for _, pr := range n.Problems {
			row("problem", "%s", pr)
		}
	}
	if err := w.Flush(); err != nil {
		return exitFail
	}
	if n := out.NTFS; n != nil {
		fmt.Fprintln(stdout, "\nattributes:")
		w = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "  type\tname\tstored\tsize\tallocated\tflags\truns\tfirst cluster\trecords")
		for _, a := range n.Attributes {
			stored, runs, first := "resident", "", ""
			if !a.Resident {
				stored, runs, first = "non-resident", fmt.Sprint(a.Runs), "-"
				if a.FirstCluster >= 0 {
					first = fmt.Sprint(a.FirstCluster)
				}
			}
			var flags []string
			for _, f := range []struct {
				on   bool
				name string
			}{{a.Compressed, "compressed"}, {a.Sparse, "sparse"}, {a.Encrypted, "encrypted"}} {
				if f.on {
					flags = append(flags, f.name)
				}
			}
			fl := strings.Join(flags, ",")
			if fl == "" {
				fl = "-"
			}
			recs := "-"
			if len(a.Records) > 0 {
				recs = joinNums(a.Records)
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", a.TypeName, a.Name, stored, a.Size, a.Allocated, fl, runs, first, recs)
			if a.Problem != "" {
				fmt.Fprintf(w, "  \tproblem: %s\n", a.Problem)
			}
		}
		if err := w.Flush(); err != nil {
			return exitFail
		}
	}
	return exitOK
}

func statTime(t time.Time) string {
	if t.IsZero() {
		return "unset"
	}
	return t.UTC().Format("2006-01-02 15:04:05.0000000 UTC")
}

func statTimes(ts volume.NTFSTimes) string {
	return fmt.Sprintf("created %s, modified %s, record changed %s, accessed %s", statTime(ts.Created), statTime(ts.Modified), statTime(ts.Changed), statTime(ts.Accessed))
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func joinNums(ns []uint64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
