// Command mkvhdx writes a VHDX test image from a JSON description, using
// package internal/builder. It lets tests outside Go (e.g. browser tests)
// generate images.
//
// Usage:
//
//	mkvhdx -o out.vhdx [-layout] [-expected out.raw] [-parent parent.raw] desc.json
//	mkvhdx -vhd -o out.vhd desc.json    (a VHD v1 file; see vhd.go)
//
// desc.json may be "-" for standard input. -layout prints the builder's
// Layout (where each structure went) as JSON on standard output. -expected
// writes the virtual disk a correct reader must return (a sparse raw file);
// for a differencing image the parent's contents come from the raw file
// given with -parent (zeros without it). -expected reads the whole virtual
// disk, so keep it for small disks.
//
// # JSON description
//
// The description is a builder.Image. Unknown fields are rejected. Sizes
// are in bytes; GUIDs are strings ("83ed0ec3-24c8-49a6-a959-5e4bf1288bfb");
// byte strings ("data", "stale", ...) are base64. Only virtualSize is
// required:
//
//	{
//	  "virtualSize": 8388608,          // multiple of logicalSectorSize, <= 64 TiB
//	  "blockSize": 1048576,            // default 1 MiB; power of two, 1-256 MiB
//	  "logicalSectorSize": 512,        // 512 (default) or 4096
//	  "physicalSectorSize": 512,       // 512 (default) or 4096
//	  "creator": "my test",            // UTF-16 in the file type identifier
//	  "virtualDiskId": "...", "dataWriteGuid": "...", "fileWriteGuid": "...",
//	                                   // default: fixed builder GUIDs
//	  "fixed": false,                  // every block allocated, FULLY_PRESENT
//	  "leaveBlocksAllocated": false,
//	  "blocks": {                      // keyed by payload block index
//	    "0": {"state": "FULLY_PRESENT", "fill": {"pattern": "index", "value": 1}},
//	    "3": {"state": 6, "data": "aGVsbG8="},           // zero-padded
//	    "4": {"state": "ZERO"},
//	    "5": {"state": "PARTIALLY_PRESENT", "fill": {"pattern": "byte", "value": 171},
//	          "present": [{"start": 0, "count": 8}],     // sectors within the block
//	          "presentBitmap": "AQ=="}                   // bit n = sector n
//	  },
//	  "parent": {"entries": [                            // makes a differencing image
//	    {"key": "parent_linkage", "value": "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}"},
//	    {"key": "relative_path", "value": "parent.vhdx"}]},
//	  "absentSectorFill": "WA==",      // marker in absent sectors of partial blocks
//	  "logLength": 1048576,            // default: 1 MiB, grown to fit the log
//	  "log": {                         // makes the log dirty
//	    "guid": "...",
//	    "deferred": [{"target": "bat-page", "index": 3}, {"target": "metadata-table"},
//	                 {"fileOffset": 2097152, "length": 4096, "stale": "..."}],
//	    "sequence": 10, "at": 0, "maxDescriptors": 0, "zeroDescriptors": false,
//	    "allowEntryWrap": false,
//	    "entries": [{"sequence": 5, "at": 4096, "tail": 4096,
//	                 "writes": [{"fileOffset": 3145728, "data": "..."},
//	                            {"fileOffset": 3149824, "zeroLength": 4096}],
//	                 "flushedFileOffset": 0, "lastFileOffset": 0,
//	                 "logGuid": "...", "corruptChecksum": false}]
//	  },
//	  "headers": [{"sequence": 1}, {"sequence": 2, "corruptChecksum": true,
//	               "omit": false, "logGuid": "...", "dataWriteGuid": "...",
//	               "version": 1, "logVersion": 0, "logOffset": 1048576, "logLength": 1048576}],
//	  "regionTables": [{}, {"omit": true, "corruptChecksum": false}],
//	  "extraRegions": [{"guid": "...", "fileOffset": 0, "length": 1048576, "required": 1, "data": "..."}],
//	  "omitRegions": ["8b7ca206-4790-4b9a-b8fe-575f050f886e"],
//	  "replaceMetadata": [{"id": "caa16737-fa36-4d43-b3b6-33f0aa44e76b", "isRequired": true, "data": "AAAQAAAAAAA="}],
//	  "omitMetadata": ["cda348c7-445d-4471-9cc9-e9885251c556"],
//	  "extraMetadata": [{"id": "...", "isUser": true, "isVirtualDisk": false, "isRequired": true,
//	                     "data": "...", "offset": 0}],
//	  "rawBat": {"1": 6},              // BAT entry index -> raw 64-bit value
//	  "patches": [{"fileOffset": 65536, "data": "..."}]
//	}
//
// (The comments above are explanations; JSON itself has none.)
//
// Block states are numbers (0 NOT_PRESENT, 1 UNDEFINED, 2 ZERO, 3 UNMAPPED,
// 6 FULLY_PRESENT, 7 PARTIALLY_PRESENT) or those names. Fill patterns:
// "index" fills every 512-byte unit with 64 little-endian uint64 words,
// even words the unit's virtual sector number (virtual offset / 512), odd
// words "value"; "byte" fills every byte with "value". Deferred targets are
// "bat", "bat-page" (index = payload block), "metadata", "metadata-table",
// "region-table", "region-table-2", "sector-bitmap" (index = chunk), or a
// raw range given by fileOffset/length. See package builder for the exact
// meaning of every field.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vhdxview/vhdxview/internal/builder"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mkvhdx:", err)
		os.Exit(1)
	}
}

// run is the command without process globals, for tests.
func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("mkvhdx", flag.ContinueOnError)
	out := fs.String("o", "", "output VHDX `file` (required)")
	showLayout := fs.Bool("layout", false, "print the layout as JSON on standard output")
	expectedPath := fs.String("expected", "", "write the expected virtual disk to this raw `file`")
	parentPath := fs.String("parent", "", "raw `file` with the parent's virtual disk (for -expected)")
	asVHD := fs.Bool("vhd", false, "the description is a vhdbuilder.Image: write a VHD (v1) file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		fs.Usage()
		return errors.New("need -o and exactly one description file")
	}
	if *asVHD {
		return writeVHD(fs.Arg(0), stdin, *out)
	}
	im, err := readDescription(fs.Arg(0), stdin)
	if err != nil {
		return err
	}
	lay, err := im.WriteFile(*out)
	if err != nil {
		return err
	}
	if *expectedPath != "" {
		if err := writeExpected(im, *expectedPath, *parentPath); err != nil {
			return err
		}
	}
	if *showLayout {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(lay); err != nil {
			return fmt.Errorf("writing layout: %w", err)
		}
	}
	return nil
}

// readDescription decodes the JSON description from path ("-" = stdin).
func readDescription(path string, stdin io.Reader) (*builder.Image, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var im builder.Image
	if err := dec.Decode(&im); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decoding %s: trailing data after the description", path)
	}
	return &im, nil
}

// writeExpected writes the expected virtual disk, skipping zero chunks so
// the file stays sparse.
func writeExpected(im *builder.Image, path, parentPath string) (err error) {
	var parent io.ReaderAt
	if parentPath != "" {
		pf, err := os.Open(parentPath)
		if err != nil {
			return err
		}
		defer pf.Close()
		parent = pf
	}
	exp, err := im.Expected(parent)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < exp.Size(); off += int64(len(buf)) {
		n := min(int64(len(buf)), exp.Size()-off)
		if _, err := exp.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if !isZero(buf[:n]) {
			if _, err := f.WriteAt(buf[:n], off); err != nil {
				return err
			}
		}
	}
	return f.Truncate(exp.Size())
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
