package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
)

// openImage opens the disk among paths (a differencing chain's files in any
// order, or one file) read-only: VHDX, VHD or raw (package disk decides by
// signature; raw forces raw). Parents not given are looked for where the
// child's locator says: --parent paths first (nearest parent first), then
// the locator's relative_path against the child's folder, then its absolute
// paths, then the parent's bare file name in the child's folder. partial
// opens a chain whose parent is not found as far as its files go (info
// and check describe it; reads need the whole chain).
func openImage(ctx context.Context, paths, parents []string, raw, partial bool, warn io.Writer) (*disk.Disk, func(), error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	open := func(p string) (core.File, error) {
		f, err := os.Open(p) // O_RDONLY: the CLI never writes to an image
		if err != nil {
			return core.File{}, err
		}
		st, err := f.Stat()
		if err == nil && !st.Mode().IsRegular() {
			err = &fs.PathError{Op: "open", Path: p, Err: errors.New("not a regular file")}
		}
		if err != nil {
			f.Close()
			return core.File{}, err
		}
		files = append(files, f)
		return core.File{Name: p, R: f, Size: st.Size()}, nil
	}
	var given []core.File
	for _, p := range paths {
		f, err := open(p)
		if err != nil {
			return nil, closeAll, fmt.Errorf("vhdx: %s: %w", p, err)
		}
		given = append(given, f)
	}
	level := map[string]int{} // name → chain level, from the names Lookup returned
	lookup := func(child string, locPaths []string) []core.File {
		var cands []core.File
		seen := map[string]bool{}
		try := func(p string) {
			if p == "" || seen[p] {
				return
			}
			seen[p] = true
			if c, err := open(p); err == nil {
				level[p] = level[child] + 1
				cands = append(cands, c)
			}
		}
		if l := level[child]; l < len(parents) {
			try(parents[l])
		}
		dir := filepath.Dir(child)
		for i, p := range locPaths {
			if i == 0 && !filepath.IsAbs(winPath(p)) && !strings.Contains(p, ":") {
				try(filepath.Join(dir, winPath(p))) // relative_path
			} else {
				try(winPath(p))
			}
		}
		for _, p := range locPaths {
			try(filepath.Join(dir, winBase(p)))
		}
		return cands
	}
	images, skipped, err := disk.OpenFiles(ctx, given, &disk.Options{Options: core.Options{Lookup: lookup, Partial: partial}, Raw: raw})
	if err != nil {
		var ke *disk.KindError
		if errors.As(err, &ke) {
			return nil, closeAll, userError("vhdx: " + ke.Error() + " (--raw reads any file as a raw disk)")
		}
		if m := disk.MissingOf(err); m != nil && errors.Is(err, core.ErrNoParent) {
			return nil, closeAll, userError("vhdx: " + missingLine(m))
		}
		return nil, closeAll, err
	}
	if len(images) > 1 {
		var names []string
		for _, img := range images {
			names = append(names, img.Facts(0).Name)
		}
		return nil, closeAll, userError(fmt.Sprintf("vhdx: the files are %d separate disks, not one chain (%s); give one disk at a time", len(images), strings.Join(names, ", ")))
	}
	for _, s := range skipped {
		fmt.Fprintf(warn, "vhdx: skipped %s\n", s)
	}
	if m := images[0].Facts(0).Missing; m != nil {
		fmt.Fprintf(warn, "vhdx: %s\n", missingLine(m))
	}
	return images[0], closeAll, nil
}

// missingLine says which chain level is missing, its file and whose
// parent it is, and the engine's reason (with why each file given is
// not it), as the page's Summary and Checks do.
func missingLine(m *disk.Missing) string {
	name := m.ParentName
	if name == "" {
		name = "(no file named)"
	}
	return fmt.Sprintf("chain level %d, %s, the parent of %s, is not attached: %s", m.ParentLevel, name, m.Child,
		strings.TrimPrefix(strings.TrimPrefix(m.Message, "vhdx: "), "vhd: "))
}

// winPath turns a Windows path from a locator into a local one: the \\?\
// prefix goes, backslashes become slashes.
func winPath(p string) string {
	p = strings.TrimPrefix(p, `\\?\`)
	return filepath.FromSlash(strings.ReplaceAll(p, `\`, "/"))
}

func winBase(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// parseSize parses 123, 0x7b, 4K, 16M, 1G, 2T (powers of 1024).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	if n := len(s); n > 0 {
		switch strings.ToUpper(s[n-1:]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		case "T":
			mult = 1 << 40
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}
