package volume

// The io/fs face of FS: fs.FS, fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS.

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path"
	"strings"
	"time"
)

// The io/fs interfaces FS implements.
var (
	_ iofs.ReadDirFS  = (*FS)(nil)
	_ iofs.StatFS     = (*FS)(nil)
	_ iofs.ReadLinkFS = (*FS)(nil)
)

// maxLinks bounds the symbolic links one path may go through (Linux's
// limit).
const maxLinks = 40

var errLinkLoop = errors.New("too many levels of symbolic links")

// Open opens a file or directory (fs.FS). Names follow io/fs: unrooted,
// slash-separated, "." for the root (see fs.ValidPath); others fail with
// fs.ErrInvalid. Symbolic links are followed, on the way and at the end:
// a relative target from the link's directory, an absolute one from the
// volume's root (the volume's mount point is unknown), ".." stopping at
// the root. On NTFS, "dir/file:name" opens an alternate data stream, and
// names are matched case-insensitively, as Windows does.
//
// A regular file or stream opens as a *File; a directory as an
// fs.ReadDirFile whose ReadDir gives what FS.ReadDir does; a device,
// FIFO or socket (ext) as an empty *File. Errors are *fs.PathError values
// whose Err is an *FSError naming the volume.
func (f *FS) Open(name string) (iofs.File, error) {
	if !iofs.ValidPath(name) {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: iofs.ErrInvalid}
	}
	var file iofs.File
	err := f.call("", "", func(ctx context.Context) error {
		e, p, err := f.follow(ctx, absPath(name))
		if err != nil {
			return err
		}
		info := &fileInfo{e: e, name: path.Base(name)}
		switch e.Type {
		case "dir":
			file = &dirFile{fs: f, name: name, info: info}
			return nil
		case "other":
			file = &File{fs: f, impl: &memFile{}, path: p, name: info.name, info: info}
			return nil
		}
		fi, err := f.v.impl.open(ctx, p)
		if err != nil {
			return err
		}
		file = &File{fs: f, impl: fi, path: p, name: info.name, info: info}
		return nil
	})
	if err != nil {
		return nil, f.pathError("open", name, err)
	}
	return file, nil
}

// ReadDir lists a directory (fs.ReadDirFS): its live entries sorted by
// name, each with its fs.FileInfo at hand (Info costs nothing; Sys() is
// the *Entry). Deleted entries are left out (List has them). Names and
// links as in Open. A directory of more than MaxEntries entries gives its
// first ones and an error wrapping ErrTruncated.
func (f *FS) ReadDir(name string) ([]iofs.DirEntry, error) {
	if !iofs.ValidPath(name) {
		return nil, &iofs.PathError{Op: "readdir", Path: name, Err: iofs.ErrInvalid}
	}
	var es []Entry
	err := f.call("", "", func(ctx context.Context) error {
		e, p, err := f.follow(ctx, absPath(name))
		if err != nil {
			return err
		}
		if !e.IsDir {
			return ErrNotDir
		}
		es, err = f.v.impl.readDir(ctx, p)
		return err
	})
	if err != nil && !errors.Is(err, ErrTruncated) {
		return nil, f.pathError("readdir", name, err)
	}
	sortEntries(es)
	out := make([]iofs.DirEntry, 0, len(es))
	for i, e := range es {
		// Live entries sort before deleted ones of the same name; a name
		// is listed once even on a damaged volume that has it twice.
		if e.Deleted || i > 0 && es[i-1].Name == e.Name {
			continue
		}
		out = append(out, dirEntry{&fileInfo{e: e, name: e.Name}})
	}
	if err != nil {
		return out, f.pathError("readdir", name, err)
	}
	return out, nil
}

// Stat describes a file or directory (fs.StatFS), following symbolic
// links as Open does. Its Sys() is the *Entry.
func (f *FS) Stat(name string) (iofs.FileInfo, error) {
	return f.stat("stat", name, true)
}

// Lstat describes a file or directory without following a symbolic link
// at the end of name (fs.ReadLinkFS).
func (f *FS) Lstat(name string) (iofs.FileInfo, error) {
	return f.stat("lstat", name, false)
}

// ReadLink returns a symbolic link's target as stored (fs.ReadLinkFS).
func (f *FS) ReadLink(name string) (string, error) {
	fi, err := f.stat("readlink", name, false)
	if err != nil {
		return "", err
	}
	e := fi.Sys().(*Entry)
	if e.Type != "symlink" {
		return "", &iofs.PathError{Op: "readlink", Path: name, Err: fmt.Errorf("%w: not a symbolic link", iofs.ErrInvalid)}
	}
	return e.Target, nil
}

func (f *FS) stat(op, name string, followLast bool) (iofs.FileInfo, error) {
	if !iofs.ValidPath(name) {
		return nil, &iofs.PathError{Op: op, Path: name, Err: iofs.ErrInvalid}
	}
	var e Entry
	err := f.call("", "", func(ctx context.Context) (err error) {
		p := absPath(name)
		if followLast {
			e, _, err = f.follow(ctx, p)
			return err
		}
		if p == "/" {
			e, err = f.v.impl.stat(ctx, p)
			return err
		}
		// Links on the way are followed, the last component is not.
		dir, base := path.Split(p)
		d, dp, err := f.follow(ctx, path.Clean(dir))
		if err != nil {
			return err
		}
		if !d.IsDir {
			return ErrNotDir
		}
		e, err = f.v.impl.stat(ctx, joinPath(dp, base))
		return err
	})
	if err != nil {
		return nil, f.pathError(op, name, err)
	}
	return &fileInfo{e: e, name: path.Base(name)}, nil
}

// absPath turns a valid io/fs name into the readers' absolute path.
func absPath(name string) string {
	if name == "." {
		return "/"
	}
	return "/" + name
}

// follow looks up p (absolute, clean), following symbolic links on the
// way and at its end, and returns the entry and the path it resolved to.
// Most paths hold no links and cost one lookup; a lookup that meets a
// non-directory on the way retries component by component.
func (f *FS) follow(ctx context.Context, p string) (Entry, string, error) {
	links := 0
	link := func(at string, e Entry) (string, error) {
		if links++; links > maxLinks {
			return "", errLinkLoop
		}
		if e.Target == "" {
			return "", fmt.Errorf("%w: symbolic link %s: target unreadable", ErrDamaged, at)
		}
		t := e.Target
		if e.Reparse == "symbolic link" || e.Reparse == "junction" {
			// Windows targets: "\" separates; one with a drive or a
			// server ("C:\Users", "\\srv\share") names a place this volume
			// cannot resolve (it does not know its own drive letter).
			if len(t) >= 2 && t[1] == ':' || strings.HasPrefix(t, `\\`) {
				return "", fmt.Errorf("%w: %s %s points to %s, outside what the volume alone can resolve", ErrNotFound, e.Reparse, at, t)
			}
			t = strings.ReplaceAll(t, `\`, "/")
		}
		if t[0] == '/' {
			return path.Clean(t), nil
		}
		return path.Join(path.Dir(at), t), nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return Entry{}, p, err
		}
		e, err := f.v.impl.stat(ctx, p)
		switch {
		case err == nil && e.Type != "symlink":
			return e, p, nil
		case err == nil:
			if p, err = link(p, e); err != nil {
				return Entry{}, p, err
			}
			continue
		case !errors.Is(err, ErrNotDir):
			return Entry{}, p, err
		}
		// A component on the way is not a directory: find it; if it is a
		// link, replace it with its target.
		parts := splitPath(p)
		replaced := false
		for i := 1; i < len(parts) && !replaced; i++ {
			q := "/" + path.Join(parts[:i]...)
			c, err := f.v.impl.stat(ctx, q)
			switch {
			case err != nil:
				return Entry{}, p, err
			case c.Type == "symlink":
				t, err := link(q, c)
				if err != nil {
					return Entry{}, p, err
				}
				p, replaced = path.Join(append([]string{t}, parts[i:]...)...), true
			case !c.IsDir:
				return Entry{}, p, ErrNotDir
			}
		}
		if !replaced {
			return Entry{}, p, ErrNotDir
		}
	}
}

// pathError makes err an *fs.PathError, as io/fs asks, whose Err is an
// *FSError naming the volume (but not the op and path again).
func (f *FS) pathError(op, name string, err error) error {
	fe := &FSError{FS: f.v.kind, Offset: f.v.off, Err: err}
	var in *FSError
	if errors.As(err, &in) {
		fe.Err = in.Err
	}
	return &iofs.PathError{Op: op, Path: name, Err: fe}
}

// fileInfo is an Entry as an fs.FileInfo.
type fileInfo struct {
	e    Entry
	name string // the base of the name it was asked by ("." for the root)
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.e.Size }
func (fi *fileInfo) ModTime() time.Time { return fi.e.ModTime }
func (fi *fileInfo) IsDir() bool        { return fi.e.IsDir }
func (fi *fileInfo) Sys() any           { return &fi.e }

// Mode: the volume is read-only, so no write bits; ext's own permission
// bits are not kept in Entry.
func (fi *fileInfo) Mode() iofs.FileMode {
	switch {
	case fi.e.IsDir:
		return iofs.ModeDir | 0o555
	case fi.e.Type == "symlink":
		return iofs.ModeSymlink | 0o777
	case fi.e.Type == "other":
		return iofs.ModeIrregular | 0o444
	}
	return 0o444
}

// dirEntry is an fs.DirEntry with its FileInfo already read.
type dirEntry struct{ fi *fileInfo }

func (d dirEntry) Name() string                 { return d.fi.name }
func (d dirEntry) IsDir() bool                  { return d.fi.IsDir() }
func (d dirEntry) Type() iofs.FileMode          { return d.fi.Mode().Type() }
func (d dirEntry) Info() (iofs.FileInfo, error) { return d.fi, nil }
func (d dirEntry) String() string               { return iofs.FormatDirEntry(d) }

// dirFile is a directory opened by Open. It lists the directory on the
// first ReadDir.
type dirFile struct {
	fs      *FS
	name    string
	info    *fileInfo
	entries []iofs.DirEntry
	read    bool
	err     error // of the listing, given once the entries are used up
}

func (d *dirFile) Stat() (iofs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error                 { return nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &iofs.PathError{Op: "read", Path: d.name, Err: ErrIsDir}
}

// ReadDir returns the next n entries (all the rest when n <= 0), as
// fs.ReadDirFile says.
func (d *dirFile) ReadDir(n int) ([]iofs.DirEntry, error) {
	if !d.read {
		d.entries, d.err = d.fs.ReadDir(d.name)
		d.read = true
	}
	if n <= 0 || n >= len(d.entries) {
		es := d.entries
		d.entries = nil
		if err := d.err; err != nil {
			d.err = nil
			return es, err
		}
		if n > 0 && len(es) == 0 {
			return nil, io.EOF
		}
		return es, nil
	}
	es := d.entries[:n:n]
	d.entries = d.entries[n:]
	return es, nil
}
