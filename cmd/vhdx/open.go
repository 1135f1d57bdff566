package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vhdxview/vhdxview/core"
)

// openImage opens path read-only and resolves its parent chain: --parent
// paths first (nearest parent first), then the locator's relative_path
// against the child's folder, then its absolute paths, then the parent's
// bare file name in the child's folder.
func openImage(path string, parents []string) (*core.Image, func(), error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	open := func(p string) (core.ParentFile, bool) {
		f, err := os.Open(p) // O_RDONLY: the CLI never writes to an image
		if err != nil {
			return core.ParentFile{}, false
		}
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			f.Close()
			return core.ParentFile{}, false
		}
		files = append(files, f)
		return core.ParentFile{Name: p, R: f, Size: st.Size()}, true
	}
	root, ok := open(path)
	if !ok {
		_, err := os.Stat(path)
		if err == nil {
			err = fmt.Errorf("not a regular file")
		}
		return nil, closeAll, fmt.Errorf("vhdx: %s: %v", path, err)
	}
	resolver := core.ParentResolverFunc(func(child *core.Image) ([]core.ParentFile, error) {
		var cands []core.ParentFile
		seen := map[string]bool{}
		try := func(p string) {
			if p == "" || seen[p] {
				return
			}
			seen[p] = true
			if c, ok := open(p); ok {
				cands = append(cands, c)
			}
		}
		if child.Level < len(parents) {
			try(parents[child.Level])
		}
		dir := filepath.Dir(child.Name)
		loc := child.Metadata.ParentLocator
		for _, kv := range loc.Paths() {
			p := winPath(kv.Value)
			if kv.Key == "relative_path" {
				try(filepath.Join(dir, p))
			} else {
				try(p)
			}
		}
		for _, kv := range loc.Paths() {
			try(filepath.Join(dir, winBase(kv.Value)))
		}
		return cands, nil
	})
	img, err := core.Open(root.R, root.Size, &core.Options{Name: path, Parent: resolver})
	if err != nil {
		return nil, closeAll, err
	}
	return img, closeAll, nil
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
