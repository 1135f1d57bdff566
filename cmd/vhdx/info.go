package main

// vhdx info: the disk's facts, then its file's structure list as an
// indented tree. Every offset, name and state printed here comes from the
// format's Info (core.Info, vhd.Info, disk.RawInfo).

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
	"github.com/vhdxview/vhdxview/vhd"
)

func cmdInfo(img *disk.Disk, asJSON bool, stdout, stderr io.Writer) int {
	info := img.Info()
	done := exitOK
	if img.Facts(0).Missing != nil {
		done = exitProblems // described, but a parent is missing
	}
	if asJSON {
		return printJSON(stdout, stderr, info, done)
	}
	w := &tw{w: stdout}
	w.kv("format", strings.ToUpper(img.Format()))
	switch in := info.(type) {
	case *core.Info:
		w.kv("type", in.Type)
		w.kv("virtual size", fmt.Sprintf("%d (%s)", in.VirtualSize, human(in.VirtualSize)))
		w.kv("block size", human(in.BlockSize))
		w.kv("sector size", fmt.Sprintf("logical %d, physical %d", in.LogicalSectorSize, in.PhysicalSectorSize))
		w.kv("virtual disk id", in.VirtualDiskID)
		w.kv("creator", fmt.Sprintf("%q", in.Creator))
		w.kv("file size", fmt.Sprintf("%d (%s)", in.FileSize, human(in.FileSize)))
		w.kv("log", in.Log)
		for _, c := range in.Chain {
			w.kv(fmt.Sprintf("chain level %d", c.Level), fmt.Sprintf("%s (%s, DataWriteGuid %s)", c.Name, c.Type, c.DataWriteGUID))
		}
		if m := img.Facts(0).Missing; m != nil {
			w.kv("missing parent", missingLine(m))
		}
	case *vhd.Info:
		w.kv("type", in.Type)
		w.kv("virtual size", fmt.Sprintf("%d (%s)", in.VirtualSize, human(in.VirtualSize)))
		if in.BlockSize > 0 {
			w.kv("block size", human(in.BlockSize))
		}
		w.kv("sector size", "512")
		w.kv("geometry", fmt.Sprintf("C/H/S %d/%d/%d (%s)", in.Geometry.Cylinders, in.Geometry.Heads, in.Geometry.SectorsPerTrack, human(in.Geometry.Size)))
		w.kv("unique id", in.UniqueID)
		w.kv("creator", in.Creator)
		w.kv("created", in.Created)
		w.kv("file size", fmt.Sprintf("%d (%s)", in.FileSize, human(in.FileSize)))
		w.kv("footer", in.Footer)
		if in.ParentID != "" {
			w.kv("parent", fmt.Sprintf("%s (unique id %s)", in.ParentName, in.ParentID))
		}
		for _, c := range in.Chain {
			w.kv(fmt.Sprintf("chain level %d", c.Level), fmt.Sprintf("%s (%s, unique id %s)", c.Name, c.Type, c.UniqueID))
		}
		if m := img.Facts(0).Missing; m != nil {
			w.kv("missing parent", missingLine(m))
		}
	case *disk.RawInfo:
		w.kv("type", "raw disk image (no container)")
		w.kv("virtual size", fmt.Sprintf("%d (%s)", in.VirtualSize, human(in.VirtualSize)))
		w.kv("sector size", fmt.Sprint(in.LogicalSectorSize))
		w.kv("signature", in.Signature)
	}
	var b strings.Builder
	for _, s := range img.Structures() {
		writeStructure(&b, s, "")
	}
	if _, err := io.WriteString(stdout, "\n"+b.String()); err != nil {
		w.err = err
	}
	return max(w.code(), done)
}

// writeStructure prints s and its parts, indented by depth.
func writeStructure(b *strings.Builder, s core.Structure, indent string) {
	fmt.Fprintf(b, "%s%s at 0x%x, %s: %s", indent, s.Name, s.Offset, human(s.Length), s.Status)
	if len(s.Tags) > 0 {
		fmt.Fprintf(b, " [%s]", strings.Join(s.Tags, ", "))
	}
	fmt.Fprintln(b)
	if s.Note != "" {
		fmt.Fprintf(b, "%s    %s\n", indent, s.Note)
	}
	for _, f := range s.Fields {
		fmt.Fprintf(b, "%s    %s: %s\n", indent, f.Name, f.Value)
	}
	for _, c := range s.Children {
		writeStructure(b, c, indent+"  ")
	}
}

// printInspection prints, for `info` and `check` of a VHDX file that does
// not open, what was read of it before the damage (core.Inspect): info the
// structure tree, check a line per structure; with --json the inspection
// (info) or its report (check). The caller prints the error after it.
func (c *cli) printInspection(ctx context.Context, name, path string, asJSON bool) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return
	}
	in, openErr := disk.Inspect(ctx, core.File{Name: path, R: f, Size: st.Size()})
	if in == nil || openErr == nil {
		return
	}
	if asJSON {
		if name == "check" {
			printJSON(c.stdout, c.stderr, in.Report, exitFail)
			return
		}
		printJSON(c.stdout, c.stderr, struct {
			*core.Inspection
			Error string `json:"error"`
		}{in, openErr.Error()}, exitFail)
		return
	}
	if name == "check" {
		printChecks(c.stdout, in.Report)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %s\n", "format:", "VHDX (does not open; what was read before the damage:)")
	fmt.Fprintf(&b, "%-18s %d (%s)\n\n", "file size:", in.FileSize, human(in.FileSize))
	for _, s := range in.Structures {
		writeStructure(&b, s, "")
	}
	io.WriteString(c.stdout, b.String())
}
