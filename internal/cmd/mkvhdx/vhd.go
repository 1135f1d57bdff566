package main

// -vhd: the description is an internal/vhdbuilder.Image, written as a VHD
// (v1) file, for browser tests of VHD chains (qemu-img cannot make a
// differencing VHD). Field names are the Go ones, matched as encoding/json
// does (case-insensitively); byte strings are base64:
//
//	{"Type": 4, "Size": 10485760, "UniqueID": "...",
//	 "Parent": {"ID": "...", "Name": "base.vhd",
//	            "Locators": [{"Code": "W2ru", "Data": "<UTF-16LE path, base64>"}]},
//	 "Blocks": {"2": {"Data": "...", "Present": [{"Start": 0, "Count": 8}]}}}

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/vhdxview/vhdxview/internal/vhdbuilder"
)

// writeVHD decodes a vhdbuilder.Image from path ("-" = stdin) and writes
// it to out.
func writeVHD(path string, stdin io.Reader, out string) error {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var im vhdbuilder.Image
	if err := dec.Decode(&im); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	b, err := im.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
