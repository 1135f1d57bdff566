package main

// vhdx info: the image's facts, then core's structure list as an indented
// tree. Every offset, name and state printed here comes from core.Info.

import (
	"fmt"
	"io"
	"strings"

	"github.com/vhdxview/vhdxview/core"
)

func cmdInfo(img *core.Image, asJSON bool, stdout, stderr io.Writer) int {
	in := img.Info()
	if asJSON {
		return printJSON(stdout, stderr, in, exitOK)
	}
	w := &tw{w: stdout}
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
	if m := in.MissingParent; m != nil {
		w.kv("missing parent", m.Msg)
	}
	var b strings.Builder
	for _, s := range in.Structures {
		writeStructure(&b, s, "")
	}
	if _, err := io.WriteString(stdout, "\n"+b.String()); err != nil {
		w.err = err
	}
	return w.code()
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
