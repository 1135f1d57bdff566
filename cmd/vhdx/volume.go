package main

// The commands that look inside the virtual disk: partitions and files.
//
//	vhdx parts [--json] [--parent P]... IMAGE
//	vhdx ls    [--json] [--parent P]... IMAGE [PARTITION] [PATH]
//	vhdx get   [-o OUT] [--deleted [--id N]] [--parent P]... IMAGE PARTITION [PATH]
//
// PARTITION is the number `parts` shows (0 for a disk without a partition
// table); it may be left out of `ls` when the disk has one volume. `get`
// without PATH writes the raw partition.

import (
	"context"
	"errors"
	"fmt"
	"io"
	gopath "path"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vhdxview/vhdxview/disk"
	"github.com/vhdxview/vhdxview/volume"
)

func (c *cli) runVolume(ctx context.Context, cmd string, o *options, pos []string) int {
	stdout, stderr := c.stdout, c.stderr
	asJSON, out, parents := &o.json, &o.out, o.parents
	cp, ok := volume.CodePage(o.codePage)
	if !ok {
		fmt.Fprintf(stderr, "vhdx: code page %q: not one of %s\n", o.codePage, strings.Join(volume.CodePages(), ", "))
		return exitFail
	}
	fsOpts := &volume.FSOptions{CodePage: cp}
	img, closeAll, err := openImage(ctx, pos[:1], parents, o.raw, false, c.stderr)
	if err != nil {
		return c.fail(unexpected(err))
	}
	defer closeAll()
	ss := int(img.Facts(0).LogicalSectorSize)
	tab, err := volume.Partitions(ctx, img, img.Size(), ss)
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	switch cmd {
	case "parts":
		return cmdParts(ctx, img, tab, fsOpts, *asJSON, stdout, stderr)
	case "ls", "list", "stat":
		// ls IMAGE [PARTITION] [PATH]: a lone argument is a partition if it
		// is a number, else a path. stat IMAGE [PARTITION] PATH: a lone
		// argument is the path.
		part, path := "", "/"
		switch rest := pos[1:]; len(rest) {
		case 1:
			if _, err := strconv.Atoi(rest[0]); err == nil && cmd != "stat" {
				part = rest[0]
			} else {
				path = rest[0]
			}
		case 2:
			part, path = rest[0], rest[1]
		}
		p, err := pickPartition(tab, part)
		if err != nil {
			fmt.Fprintln(stderr, "vhdx:", err)
			return exitFail
		}
		switch cmd {
		case "list":
			return c.cmdList(ctx, img, tab, fsOpts, p, path, o)
		case "stat":
			return cmdStat(ctx, img, tab, fsOpts, p, path, *asJSON, stdout, stderr)
		}
		return cmdLs(ctx, img, tab, fsOpts, p, path, *asJSON, stdout, stderr)
	default:
		p, err := pickPartition(tab, pos[1])
		if err != nil {
			fmt.Fprintln(stderr, "vhdx:", err)
			return exitFail
		}
		if len(pos) == 2 && o.deleted {
			fmt.Fprintln(stderr, "vhdx: get --deleted: name the deleted file's PATH")
			return exitFail
		}
		if len(pos) == 2 {
			return c.cmdCat(ctx, img, p.Offset, p.Size, *out, false)
		}
		if o.deleted {
			return c.cmdGetDeleted(ctx, img, tab, fsOpts, p, pos[2], uint64(o.id), *out)
		}
		return c.cmdGet(ctx, img, tab, fsOpts, p, pos[2], *out)
	}
}

// pickPartition finds a partition by number; with no number, the disk's
// only volume.
func pickPartition(tab *volume.Table, s string) (volume.Partition, error) {
	if s == "" {
		var data []volume.Partition
		for _, p := range tab.Partitions {
			if !p.Extended && p.Size > 0 {
				data = append(data, p)
			}
		}
		if len(data) == 1 {
			return data[0], nil
		}
		return volume.Partition{}, fmt.Errorf("the disk has %d partitions: name one (see vhdx parts)", len(data))
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return volume.Partition{}, fmt.Errorf("partition %q: want a number (see vhdx parts)", s)
	}
	for _, p := range tab.Partitions {
		if p.Index == n {
			if p.Size == 0 {
				return p, fmt.Errorf("%s: %s", p, p.Problem)
			}
			return p, nil
		}
	}
	return volume.Partition{}, fmt.Errorf("no partition %d (see vhdx parts)", n)
}

// partJSON is a partition in `parts --json`: the table entry plus what
// opening its file system says.
type partJSON struct {
	volume.Partition
	Label   string `json:"label,omitempty"`
	FSError string `json:"fs_error,omitempty"`
	// Journal: an ext3/ext4 journal that needed recovery, replayed in
	// memory or not (and why).
	Journal *volume.JournalReplay `json:"journal,omitempty"`
}

func cmdParts(ctx context.Context, img *disk.Disk, tab *volume.Table, fsOpts *volume.FSOptions, asJSON bool, stdout, stderr io.Writer) int {
	parts := make([]partJSON, len(tab.Partitions))
	for i, p := range tab.Partitions {
		parts[i].Partition = p
		if p.Extended || p.Size == 0 {
			continue
		}
		fsys, err := volume.OpenFSWith(img, p.Offset, p.Size, tab.SectorSize, fsOpts)
		if err != nil {
			parts[i].FSError = err.Error()
			continue
		}
		parts[i].Label = fsys.WithContext(ctx).Label()
		parts[i].Journal = fsys.Journal()
	}
	if asJSON {
		v := struct {
			*volume.Table
			Partitions []partJSON `json:"partitions"`
		}{tab, parts}
		return printJSON(stdout, stderr, v, exitOK)
	}
	head := fmt.Sprintf("scheme: %s, %d-byte sectors, disk %s", tab.Scheme, tab.SectorSize, human(tab.DiskSize))
	if tab.DiskGUID != "" {
		head += ", disk id " + tab.DiskGUID // the GPT disk GUID or the MBR disk signature
	}
	fmt.Fprintln(stdout, head)
	for _, h := range tab.GPTHeaders {
		s := "valid"
		if !h.Valid {
			s = "DAMAGED: " + h.Error
		}
		if h.Used {
			s += " (used)"
		}
		fmt.Fprintf(stdout, "%s GPT header at LBA %d: %s\n", h.Which, h.LBA, s)
	}
	for _, p := range tab.Problems {
		fmt.Fprintln(stdout, "problem:", p)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "#\tfirst LBA\tlast LBA\tsize\ttype\tname\tfile system\tlabel")
	for _, p := range parts {
		typ := p.TypeName
		if p.Logical {
			typ += " (logical)"
		}
		if p.Bootable {
			typ += " *"
		}
		fsname := p.FileSystem
		switch {
		case p.Extended:
			fsname = "-"
		case p.FSError != "" && fsname == "":
			fsname = "unrecognised"
		case p.FSError != "":
			fsname += " (not readable: " + strings.TrimPrefix(errTail(p.FSError), "unsupported file system: ") + ")"
		}
		fmt.Fprintf(w, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Index, p.FirstLBA, p.LastLBA, human(p.Size), typ, p.Name, fsname, p.Label)
	}
	if err := w.Flush(); err != nil {
		return exitFail
	}
	for _, p := range parts {
		if p.Journal != nil {
			fmt.Fprintf(stdout, "partition %d: %s\n", p.Index, p.Journal.Note())
		}
	}
	return exitOK
}

// errTail drops the "volume: ntfs at 0x...: open: " prefix of an FSError.
func errTail(s string) string {
	if i := strings.Index(s, ": open: "); i >= 0 {
		return s[i+len(": open: "):]
	}
	return s
}

func openVolume(ctx context.Context, img *disk.Disk, tab *volume.Table, fsOpts *volume.FSOptions, p volume.Partition) (*volume.FS, error) {
	fsys, err := volume.OpenFSWith(img, p.Offset, p.Size, tab.SectorSize, fsOpts)
	if err != nil {
		hint := ""
		if errors.Is(err, volume.ErrUnsupportedFS) || errors.Is(err, volume.ErrDamaged) {
			hint = fmt.Sprintf(" (the raw partition: vhdx get IMAGE %d -o FILE)", p.Index)
		}
		return nil, fmt.Errorf("%s: %v%s", p, err, hint)
	}
	return fsys.WithContext(ctx), nil
}

func cmdLs(ctx context.Context, img *disk.Disk, tab *volume.Table, fsOpts *volume.FSOptions, p volume.Partition, path string, asJSON bool, stdout, stderr io.Writer) int {
	fsys, err := openVolume(ctx, img, tab, fsOpts, p)
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	code := exitOK
	if j := fsys.Journal(); j != nil && j.Replayed {
		fmt.Fprintln(stderr, "vhdx:", j.Note())
	} else if j != nil {
		// The listing is what was last checkpointed: never let it pass
		// for the volume's contents.
		fmt.Fprintln(stderr, "vhdx: warning:", j.Note())
		code = exitProblems
	}
	e, err := fsys.Lookup(path)
	var es []volume.Entry
	if err == nil && e.IsDir {
		es, err = fsys.List(path)
		switch {
		case errors.Is(err, volume.ErrTruncated):
			fmt.Fprintln(stderr, "vhdx:", oneLine(err))
			err, code = nil, exitProblems
		case errors.Is(err, volume.ErrIncomplete):
			// Some entries could not be read: list the others, and
			// never let the listing pass for the whole directory.
			fmt.Fprintf(stderr, "vhdx: warning: %d entries listed, the listing is incomplete: %s\n", len(es), oneLine(err))
			err, code = nil, exitProblems
		}
	} else if err == nil {
		es = []volume.Entry{e}
	}
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	if asJSON {
		if es == nil {
			es = []volume.Entry{}
		}
		return printJSON(stdout, stderr, es, code)
	}
	for _, e := range es {
		kind := map[string]string{"dir": "d", "symlink": "l", "other": "?"}[e.Type]
		if kind == "" {
			kind = "-"
		}
		name := e.Name
		if e.Type == "symlink" && e.Target != "" {
			name += " -> " + e.Target
		}
		switch {
		case e.Deleted && e.Recoverable:
			name += "  [deleted, recoverable: vhdx get --deleted]"
		case e.Deleted:
			name += "  [deleted]"
		}
		if e.Metadata {
			name += "  [NTFS metadata]"
		}
		mt := ""
		if !e.ModTime.IsZero() {
			mt = e.ModTime.UTC().Format(time.DateTime)
		}
		if _, err := fmt.Fprintf(stdout, "%s %12d %19s %s\n", kind, e.Size, mt, name); err != nil {
			return exitFail
		}
		for _, s := range e.Streams {
			sname := e.Name + ":" + s.Name
			if e.Metadata {
				sname += "  [NTFS metadata]"
			}
			fmt.Fprintf(stdout, "%s %12d %19s %s\n", "s", s.Size, "", sname)
		}
	}
	return code
}

func (c *cli) cmdGet(ctx context.Context, img *disk.Disk, tab *volume.Table, fsOpts *volume.FSOptions, p volume.Partition, path, out string) int {
	stderr := c.stderr
	fsys, err := openVolume(ctx, img, tab, fsOpts, p)
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	f, err := fsys.OpenFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	// Streamed in chunks (the file is never held whole in memory), to a
	// sparse file or standard output like cat.
	if err := c.writeOut(ctx, source{r: f, n: f.Size()}, out); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// cmdGetDeleted writes what a deleted file still has on the volume: the
// deleted entry of PATH's directory named PATH (and numbered id when not
// 0). A warning on stderr says the bytes are recovered data.
func (c *cli) cmdGetDeleted(ctx context.Context, img *disk.Disk, tab *volume.Table, fsOpts *volume.FSOptions, p volume.Partition, path string, id uint64, out string) int {
	stderr := c.stderr
	fsys, err := openVolume(ctx, img, tab, fsOpts, p)
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	want := gopath.Clean("/" + path)
	es, err := fsys.List(gopath.Dir(want))
	if err != nil && !errors.Is(err, volume.ErrTruncated) && !errors.Is(err, volume.ErrIncomplete) {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	var found []volume.Entry
	for _, e := range es {
		if e.Deleted && e.Path == want && (id == 0 || e.ID == id) {
			found = append(found, e)
		}
	}
	switch {
	case len(found) == 0:
		fmt.Fprintf(stderr, "vhdx: %s: no deleted entry of that name (vhdx ls lists them, marked [deleted])\n", want)
		return exitFail
	case len(found) > 1:
		ids := make([]string, len(found))
		for i, e := range found {
			ids[i] = strconv.FormatUint(e.ID, 10)
		}
		fmt.Fprintf(stderr, "vhdx: %s: %d deleted entries of that name (IDs %s): choose one with --id\n", want, len(found), strings.Join(ids, ", "))
		return exitFail
	}
	e := found[0]
	f, err := fsys.OpenDeleted(e)
	if err != nil {
		fmt.Fprintln(stderr, "vhdx:", oneLine(err))
		return exitFail
	}
	fmt.Fprintf(stderr, "vhdx: warning: %s is deleted: these are recovered bytes, which may have been overwritten since (%s)\n", want, e.RecoverNote)
	if err := c.writeOut(ctx, source{r: f, n: f.Size()}, out); err != nil {
		return c.fail(err)
	}
	return exitOK
}
