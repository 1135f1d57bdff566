package main

// Hashing and searching the virtual disk, a range of it, a partition or a
// file of a partition (package scan).
//
//	vhdx hash   [--json] [--algo sha256,sha1,md5] [--offset N] [--length N]
//	            [--part N [--path P]] [--parent P]... IMAGE...
//	vhdx search [--json] (--hex HEX | --text STR [--utf16]) [--limit N]
//	            [--offset N] [--length N] [--part N [--path P]] [--parent P]... IMAGE...
//
// --offset and --length are within what is hashed or searched: the disk,
// the partition --part names, or its file --path names. search exits 0
// when it found the pattern, 1 when it did not, 2 on an error (as grep).

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/vhdxview/vhdxview/disk"
	"github.com/vhdxview/vhdxview/scan"
	"github.com/vhdxview/vhdxview/volume"
)

// scanOptions are the flags of hash and search.
type scanOptions struct {
	algo   string
	part   int
	path   string
	hex    string
	text   string
	utf16  bool
	limit  int
	target bool // --part or --path given
}

// defineScan registers the flags of hash and search.
func defineScan(fs *flag.FlagSet, c *command, o *options) {
	s := &o.scan
	s.part = -1
	if c.name == "hash" {
		fs.StringVar(&s.algo, "algo", "sha256", "hashes to compute, comma-separated: sha256, sha1, md5")
	} else {
		fs.StringVar(&s.hex, "hex", "", "the bytes to find, in hex (spaces allowed)")
		fs.StringVar(&s.text, "text", "", "the text to find (ASCII/UTF-8 bytes)")
		fs.BoolVar(&s.utf16, "utf16", false, "find --text as UTF-16LE")
		fs.IntVar(&s.limit, "limit", 0, "stop after N hits (default: all)")
	}
	fs.IntVar(&s.part, "part", -1, "the partition `N` (see vhdx parts) instead of the whole disk")
	fs.StringVar(&s.path, "path", "", "a file `P` of the partition (--part may be left out when the disk has one volume)")
}

// scanTarget is what hash and search read: the disk, a partition's bytes
// or a file of it, as a Source, and its name for messages.
func scanTarget(ctx context.Context, img *disk.Disk, o *scanOptions) (scan.Source, string, error) {
	if o.part < 0 && o.path == "" {
		return img, "the disk", nil
	}
	tab, err := volume.Partitions(ctx, img, img.Size(), int(img.Facts(0).LogicalSectorSize))
	if err != nil {
		return nil, "", err
	}
	part := ""
	if o.part >= 0 {
		part = strconv.Itoa(o.part)
	}
	p, err := pickPartition(tab, part)
	if err != nil {
		return nil, "", userError("vhdx: " + err.Error())
	}
	if p.Extended {
		return nil, "", userError(fmt.Sprintf("vhdx: partition %d is an extended partition, a container of logical ones", p.Index))
	}
	if o.path == "" {
		return &scan.Window{Src: img, Off: p.Offset, Len: p.Size}, p.String(), nil
	}
	fsys, err := openVolume(ctx, img, tab, nil, p)
	if err != nil {
		return nil, "", err
	}
	f, err := fsys.OpenFile(o.path)
	if err != nil {
		return nil, "", err
	}
	return scan.File{Disk: img, F: f}, o.path, nil
}

// scanRange is the --offset/--length window of src.
func scanRange(src scan.Source, name string, o *options) (int64, int64, error) {
	off, n := int64(o.offset), int64(o.length)
	if off < 0 || off > src.Size() {
		return 0, 0, userError(fmt.Sprintf("vhdx: offset %d outside %s (size %d)", off, name, src.Size()))
	}
	if n < 0 || n > src.Size()-off {
		n = src.Size() - off
	}
	return off, n, nil
}

func (c *cli) cmdHash(ctx context.Context, img *disk.Disk, o *options) int {
	algos, err := scan.ParseAlgorithms(o.scan.algo)
	if err != nil {
		return c.fail(userError("vhdx: " + strings.TrimPrefix(err.Error(), "scan: ")))
	}
	src, name, err := scanTarget(ctx, img, &o.scan)
	if err != nil {
		return c.fail(unexpected(err))
	}
	off, n, err := scanRange(src, name, o)
	if err != nil {
		return c.fail(err)
	}
	sums, err := scan.Hash(ctx, src, off, n, algos, nil)
	if err != nil {
		return c.fail(unexpected(err))
	}
	if o.json {
		return printJSON(c.stdout, c.stderr, sums, exitOK)
	}
	for _, a := range algos {
		if _, err := fmt.Fprintf(c.stdout, "%s  %s\n", sums[a], a); err != nil {
			return exitFail
		}
	}
	return exitOK
}

// searchPattern is the bytes --hex or --text (with --utf16) give.
func searchPattern(o *scanOptions) ([]byte, error) {
	switch {
	case (o.hex == "") == (o.text == ""):
		return nil, userError("vhdx search: give one of --hex HEX and --text STR")
	case o.hex != "":
		if o.utf16 {
			return nil, userError("vhdx search: --utf16 goes with --text")
		}
		h := strings.NewReplacer(" ", "", ":", "", "0x", "").Replace(o.hex)
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, userError(fmt.Sprintf("vhdx search: --hex %q: %v", o.hex, err))
		}
		return b, nil
	case o.utf16:
		var b []byte
		for _, u := range utf16.Encode([]rune(o.text)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b, nil
	}
	return []byte(o.text), nil
}

func (c *cli) cmdSearch(ctx context.Context, img *disk.Disk, o *options) int {
	pat, err := searchPattern(&o.scan)
	if err != nil {
		return c.fail(err)
	}
	if len(pat) > scan.MaxPattern {
		return c.fail(userError(fmt.Sprintf("vhdx search: the pattern is %d bytes; at most %d", len(pat), scan.MaxPattern)))
	}
	src, name, err := scanTarget(ctx, img, &o.scan)
	if err != nil {
		return c.fail(unexpected(err))
	}
	off, n, err := scanRange(src, name, o)
	if err != nil {
		return c.fail(err)
	}
	// Pages of hits are printed as they come: memory stays at one page
	// (scan.MaxHits) whatever the count.
	w := &tw{w: c.stdout}
	count, end := 0, off+n
	if o.json {
		w.printf("{\"hits\": [")
	}
	next := int64(-1)
	for pos := off; ; {
		lim := scan.MaxHits
		if o.scan.limit > 0 {
			lim = min(lim, o.scan.limit-count)
		}
		r, err := scan.Search(ctx, src, pat, pos, end-pos, lim, nil)
		if err != nil {
			return c.fail(unexpected(err))
		}
		for _, h := range r.Hits {
			switch {
			case o.json && count > 0:
				w.printf(", %d", h)
			case o.json:
				w.printf("%d", h)
			default:
				w.printf("%d\t0x%x\n", h, h)
			}
			count++
		}
		if w.err != nil {
			return exitFail
		}
		if r.Next < 0 {
			break
		}
		if o.scan.limit > 0 && count >= o.scan.limit {
			next = r.Next
			break
		}
		pos = r.Next
	}
	if o.json {
		if next >= 0 {
			w.printf("], \"next\": %d}\n", next)
		} else {
			w.printf("]}\n")
		}
	} else if next >= 0 {
		fmt.Fprintf(c.stderr, "vhdx: stopped after %d hits (--limit); the search goes on at --offset %d\n", count, next)
	}
	if w.err != nil {
		return exitFail
	}
	if count == 0 {
		return exitProblems
	}
	return exitOK
}

func (t *tw) printf(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, a...)
	}
}
