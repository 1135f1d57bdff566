package main

// Command-line parsing for every command in one place, so that they all
// behave alike: flags may come before, between or after the positional
// arguments (`vhdx info d.vhdx --json`), "--" ends the flags, -h and --help
// print the command's usage on standard output and exit 0, and a bad flag
// exits 2 with one line and the command's usage on standard error.

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/vhdxview/vhdxview/volume"
)

// flagSet says which flags a command takes.
type flagSet uint16

const (
	takesJSON     flagSet = 1 << iota // --json
	takesParent                       // --parent PATH (repeatable)
	takesRange                        // --offset N, --length N
	takesOut                          // -o OUT
	takesCodePage                     // --codepage NAME
	takesScan                         // hash and search: --part, --path and their own (scan.go)
	takesList                         // list: --bodyfile, --hash (list.go)
	takesDeleted                      // get: --deleted, --id
	takesZeroBad                      // cat: --zero-bad
)

// command is one `vhdx` subcommand.
type command struct {
	name     string
	synopsis string // what follows "vhdx NAME" in the usage line
	about    string
	flags    flagSet
	min, max int // positional arguments
}

// maxImages bounds the files of one chain given on the command line (the
// engine's chain depth).
const maxImages = 256

var commands = []command{
	{"info", "[--json] [--parent PATH]... IMAGE...",
		"Print the image's summary and every structure of its file with its offset,\nstate and fields. IMAGE... may be a differencing chain's files in any order.\nA VHDX file that does not open gets the structures read before the damage,\nthen the error (exit 2).",
		takesJSON | takesParent, 1, maxImages},
	{"check", "[--json] [--parent PATH]... IMAGE...",
		"Check every structure. Exit 0 clean, 1 problems, 2 unreadable (a VHDX file that\ndoes not open gets a check of each structure read before the damage).",
		takesJSON | takesParent, 1, maxImages},
	{"cat", "[--offset N] [--length N] [-o OUT] [--zero-bad] [--parent PATH]... IMAGE...",
		"Write the virtual disk's bytes (all of them, or --length bytes from --offset).\nA block whose BAT entry is damaged stops the copy unless --zero-bad writes\nzeros in its place; the ranges filled are then listed on standard error.",
		takesRange | takesOut | takesParent | takesZeroBad, 1, maxImages},
	{"map", "[--json] [--parent PATH]... IMAGE...",
		"Print each payload block's state and file offset.",
		takesJSON | takesParent, 1, maxImages},
	{"parts", "[--json] [--codepage NAME] [--parent PATH]... IMAGE",
		"Print the partition table and each volume's file system and label.",
		takesJSON | takesParent | takesCodePage, 1, 1},
	{"ls", "[--json] [--codepage NAME] [--parent PATH]... IMAGE [PARTITION] [PATH]",
		"List a directory (or one file) of a partition; PARTITION may be left out\nwhen the disk has one volume.",
		takesJSON | takesParent | takesCodePage, 1, 3},
	{"stat", "[--json] [--codepage NAME] [--parent PATH]... IMAGE [PARTITION] PATH",
		"Print one file's entry; on NTFS also its MFT record: number and disk offset,\nattributes (type, name, resident or not, sizes, flags, runs, first cluster),\nDOS attribute bits, the $STANDARD_INFORMATION and $FILE_NAME times and the\nalternate data streams. PARTITION may be left out when the disk has one volume.",
		takesJSON | takesParent | takesCodePage, 2, 3},
	{"list", "[--bodyfile] [--hash LIST] [-o OUT] [--codepage NAME] [--parent PATH]... IMAGE [PARTITION] [PATH]",
		"Write the recursive listing of a partition (or of its directory PATH) as CSV:\npath, type, size, times (UTC ISO 8601), deleted, inode or MFT record, the\n--hash digests (md5, sha256, sha1) and any problem; with --bodyfile as The Sleuth\nKit's body file, for mactime. PARTITION may be left out when the disk has one volume.",
		takesOut | takesParent | takesCodePage | takesList, 1, 3},
	{"get", "[-o OUT] [--deleted [--id N]] [--codepage NAME] [--parent PATH]... IMAGE PARTITION [PATH]",
		"Write a file's bytes; without PATH, the raw partition. With --deleted, the\nbytes a deleted file (as ls lists it) still has on the volume, if the file\nsystem still says where they are: recovered data that may have been overwritten.",
		takesOut | takesParent | takesCodePage | takesDeleted, 2, 3},
	{"hash", "[--json] [--algo LIST] [--offset N] [--length N] [--part N] [--path P] [--parent PATH]... IMAGE...",
		"Print the SHA-256 (or --algo sha256,sha1,md5) of the virtual disk, of --length\nbytes from --offset, of partition --part or of its file --path.",
		takesJSON | takesRange | takesScan | takesParent, 1, maxImages},
	{"search", "[--json] (--hex HEX | --text STR [--utf16]) [--limit N] [--offset N] [--length N]\n            [--part N] [--path P] [--parent PATH]... IMAGE...",
		"Print every offset where the bytes start, in the disk, a range of it, partition\n--part or its file --path. Exit 0 found, 1 not found, 2 error.",
		takesJSON | takesRange | takesScan | takesParent, 1, maxImages},
}

func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// options holds every flag's value; each command defines only its own.
type options struct {
	json     bool
	parents  stringList
	offset   size
	length   size
	out      string
	codePage string
	debug    bool
	raw      bool
	scan     scanOptions
	bodyfile bool   // list
	hash     string // list
	deleted  bool
	id       size
	zeroBad  bool // cat
}

// define registers the command's flags on fs, bound to o.
func (c *command) define(fs *flag.FlagSet, o *options) {
	o.length = -1
	if c.flags&takesJSON != 0 {
		fs.BoolVar(&o.json, "json", false, "print JSON")
	}
	if c.flags&takesRange != 0 {
		what, verb := "virtual disk offset", "write"
		if c.flags&takesScan != 0 {
			what, verb = "offset in the disk, partition or file", c.name
		}
		fs.Var(&o.offset, "offset", what+" to start at (default 0)")
		fs.Var(&o.length, "length", "bytes to "+verb+" (default: to the end)")
	}
	if c.flags&takesScan != 0 {
		defineScan(fs, c, o)
	}
	if c.flags&takesList != 0 {
		fs.BoolVar(&o.bodyfile, "bodyfile", false, "write The Sleuth Kit's body file (MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime)")
		fs.StringVar(&o.hash, "hash", "", "digests of every file to add, comma-separated: md5, sha256, sha1 (reads every byte)")
	}
	if c.flags&takesOut != 0 && c.flags&takesList != 0 {
		fs.StringVar(&o.out, "o", "", "write to `OUT` instead of standard output (- is standard output)")
	} else if c.flags&takesOut != 0 {
		fs.StringVar(&o.out, "o", "", "write to `OUT` instead of standard output (- is standard output);\n"+
			"a regular file gets holes where the bytes are zeros")
	}
	if c.flags&takesDeleted != 0 {
		fs.BoolVar(&o.deleted, "deleted", false, "PATH is a deleted entry: write what is left of its bytes")
		fs.Var(&o.id, "id", "with --deleted, the entry's `N` (inode, MFT record or first cluster, as\nls --json gives it) when several deleted entries have PATH's name")
	}
	if c.flags&takesZeroBad != 0 {
		fs.BoolVar(&o.zeroBad, "zero-bad", false, "write zeros for blocks whose BAT entries are damaged, and list\nthose ranges on standard error, instead of stopping")
	}
	if c.flags&takesCodePage != 0 {
		fs.StringVar(&o.codePage, "codepage", "cp437", "the OEM code page of FAT 8.3 `NAME`s ("+strings.Join(volume.CodePages(), ", ")+")")
	}
	if c.flags&takesParent != 0 {
		fs.Var(&o.parents, "parent", "a parent `PATH` of a differencing disk (repeat, nearest parent first)")
	}
	fs.BoolVar(&o.raw, "raw", false, "read IMAGE as a raw disk (the file is the disk), whatever its signature")
	fs.BoolVar(&o.debug, "debug", false, "print a stack trace with an internal error")
}

// usage writes the command's usage and flags to w.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: vhdx %s %s\n\n%s\n", c.name, c.synopsis, c.about)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.define(fs, &options{})
	fmt.Fprintln(w, "\nflags (before or after the arguments; -- ends them):")
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if len(f.Name) == 1 {
			name = "-" + f.Name
		}
		if arg == "value" {
			arg = "N"
		}
		if arg != "" {
			name += " " + arg
		}
		fmt.Fprintf(w, "  %-14s %s\n", name, strings.ReplaceAll(text, "\n", "\n"+strings.Repeat(" ", 17)))
	})
	if c.flags&takesRange != 0 {
		fmt.Fprintln(w, "\nNumbers take 0x prefixes and K, M, G, T suffixes (powers of 1024).")
	}
}

// mainUsage is `vhdx --help`.
func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: vhdx [--debug] COMMAND [FLAGS] ARGS\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  vhdx %-5s %s\n", c.name, c.synopsis)
	}
	fmt.Fprint(w, `
Flags may come before or after the arguments; -- ends them. -o - is standard
output. Numbers take 0x prefixes and K, M, G, T suffixes (powers of 1024).
--parent names parent files of a differencing chain, nearest first; without
it the locator's relative_path, absolute paths and the bare file name next to
the image are tried. --debug prints a stack trace with an internal error.
'vhdx help COMMAND' or 'vhdx COMMAND --help' describes one command.
`)
}

// parseArgs sets the flags in args on fs and returns the positional
// arguments. A flag is -name or --name, with its value after "=" or as the
// next argument (bool flags take only "="); -h and --help give
// flag.ErrHelp; "-" alone is a positional
// argument and everything after "--" is too. The FlagSet only holds the
// definitions: flag.FlagSet.Parse stops at the first positional argument.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimPrefix(a[1:], "-")
		value, hasValue := "", false
		if k := strings.IndexByte(name, '='); k >= 0 {
			name, value, hasValue = name[:k], name[k+1:], true
		}
		if name == "" || name[0] == '-' || name[0] == '=' {
			return nil, fmt.Errorf("bad flag syntax: %s", a)
		}
		if name == "h" || name == "help" {
			return nil, flag.ErrHelp
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil, fmt.Errorf("unknown flag: %s", strings.SplitN(a, "=", 2)[0])
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 == len(args) {
				return nil, fmt.Errorf("flag needs a value: %s", a)
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, fmt.Errorf("invalid value %q for %s: %v", value, strings.SplitN(a, "=", 2)[0], err)
		}
	}
	return pos, nil
}
