package listing

// Walk: the recursive walk of a volume's tree, pre-order, in List's
// (name) order, resumable from a Cursor.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/scan"
	"github.com/vhdxview/vhdxview/volume"
)

// MaxDepth bounds how deep a walk goes. A damaged ext volume can make a
// directory its own descendant; the walk also refuses a directory whose
// number is already on its path, and this bounds what that check cannot
// see (FAT directories, whose numbers are first clusters).
const MaxDepth = 256

// Row is one line of a listing: an entry of the volume, or one NTFS
// alternate data stream of a file (Stream set, Entry being the file's).
type Row struct {
	volume.Entry
	// Stream is the NTFS alternate data stream this row is about ("" for
	// the entry itself); its size is in Size.
	Stream string
	// Sums are the digests asked for (Options.Hash), lowercase hex, for
	// live regular files and streams.
	Sums scan.Sums
	// Problem says what could not be read about the row: a directory
	// listed in part or not at all, a file that could not be hashed. The
	// walk goes on past it.
	Problem string
}

// FullPath is the row's path, "file:stream" for a stream.
func (r *Row) FullPath() string {
	if r.Stream != "" {
		return r.Path + ":" + r.Stream
	}
	return r.Path
}

// Kind is the row's type: "file", "dir", "symlink", "other" or "stream".
func (r *Row) Kind() string {
	if r.Stream != "" {
		return "stream"
	}
	return r.Type
}

// Options say what a walk computes besides the entries.
type Options struct {
	// Hash lists digests to compute of each live file and stream (names
	// of scan.Algorithms); empty for none. Hashing reads every byte.
	Hash []string
	// Disk is the disk the volume was opened from, for hashing files
	// through its plan (zero runs are not read); nil reads them through
	// the file system.
	Disk scan.Source
	// Progress, when set, is called as bytes are hashed (the current
	// file's done and total).
	Progress func(done, total int64)
	// List, when set, lists a directory instead of the FS's List (which
	// it must behave as). A caller that pages a walk keeps the listings
	// of the directories on the way down to its cursor, so that resuming
	// in a directory of a million entries does not read it again for
	// every page (ListCache).
	List func(path string) ([]volume.Entry, error)
}

// ListCache keeps the listings of the directories on the way to a walk's
// cursor between pages: Lister lists through it, Keep drops all but the
// directories above a path. It holds at most one listing per level.
type ListCache struct {
	dirs map[string]cachedList
}

type cachedList struct {
	es  []volume.Entry
	err error
}

// NewListCache makes an empty cache.
func NewListCache() *ListCache { return &ListCache{dirs: map[string]cachedList{}} }

// Lister lists with fsys, from the cache when it has the directory.
func (c *ListCache) Lister(fsys *volume.FS) func(string) ([]volume.Entry, error) {
	return func(p string) ([]volume.Entry, error) {
		if l, ok := c.dirs[p]; ok {
			return l.es, l.err
		}
		es, err := fsys.List(p)
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			c.dirs[p] = cachedList{es, err}
		}
		return es, err
	}
}

// Keep drops the listings of directories that are not p or above it.
func (c *ListCache) Keep(p string) {
	for d := range c.dirs {
		if !(d == p || d == "/" || strings.HasPrefix(p, d+"/")) {
			delete(c.dirs, d)
		}
	}
}

// Cursor says where a walk stopped: the index of the last row's entry in
// its directory's listing, for each level below the walk's root. The
// listings are read again on resume, so a cursor is only good for the same
// volume.
type Cursor []int

// String is the cursor as "i/j/k", "" for the start.
func (c Cursor) String() string {
	s := make([]string, len(c))
	for i, n := range c {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, "/")
}

// ParseCursor reads what Cursor.String wrote.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > MaxDepth {
		return nil, fmt.Errorf("listing: cursor %.40q… is deeper than %d levels", s, MaxDepth)
	}
	c := make(Cursor, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n >= volume.MaxEntries {
			return nil, fmt.Errorf("listing: cursor %q: %q is not an entry index", s, p)
		}
		c[i] = n
	}
	return c, nil
}

// Stop, returned by fn, ends Walk without an error.
var Stop = errors.New("listing: stop")

// Walk lists the directory root of fsys and everything under it, in
// pre-order, each directory in List's order (by name, deleted entries
// too), starting after cursor (nil: from the start). fn gets each row and
// the cursor to resume after it; the rows of a file's streams follow its
// own row and carry the same cursor. A directory's row comes once it has
// been listed, with the listing's problem if any. Deleted directories
// and symbolic links are not entered.
//
// fn's error ends the walk and is returned, except Stop, which ends it
// with nil. A cancelled context ends it with the context's error.
func Walk(ctx context.Context, fsys *volume.FS, root string, cursor Cursor, opts Options, fn func(Row, Cursor) error) error {
	fsys = fsys.WithContext(ctx)
	w := &walker{ctx: ctx, fsys: fsys, opts: opts, fn: fn}
	e, err := fsys.Lookup(root)
	if err != nil {
		return err
	}
	if !e.IsDir {
		if cursor != nil {
			return nil // the one row was given already
		}
		err = w.emitEntry(e, "", Cursor{})
	} else {
		var es []volume.Entry
		var why string
		if es, why, err = w.list(e.Path); err == nil {
			if why != "" && len(es) == 0 {
				return fmt.Errorf("listing %s: %s", e.Path, why)
			}
			if why != "" && cursor == nil {
				// The root has no row of its own: its problem gets one.
				err = w.fn(Row{Entry: e, Problem: why}, nil)
			}
			if err == nil {
				err = w.children(es, []uint64{e.ID}, cursor, Cursor{})
			}
		}
	}
	if err == Stop {
		return nil
	}
	return err
}

type walker struct {
	ctx  context.Context
	fsys *volume.FS
	opts Options
	fn   func(Row, Cursor) error
}

// list reads directory p: its entries, and what could not be read ("" if
// nothing; the entries are then what could be). It fails only when the
// context ends.
func (w *walker) list(p string) ([]volume.Entry, string, error) {
	if err := w.ctx.Err(); err != nil {
		return nil, "", err
	}
	list := w.fsys.List
	if w.opts.List != nil {
		list = w.opts.List
	}
	es, err := list(p)
	if err != nil {
		if cerr := w.ctx.Err(); cerr != nil {
			return nil, "", cerr
		}
		return es, err.Error(), nil
	}
	return es, "", nil
}

// children walks the entries es of a directory. ids are the numbers of
// the directories on the way down; from is the part of the resume cursor
// below the directory (nil: all of it); at is the directory's own cursor.
func (w *walker) children(es []volume.Entry, ids []uint64, from Cursor, at Cursor) error {
	start := 0
	if len(from) > 0 {
		start = from[0]
	}
	for i := start; i < len(es); i++ {
		e := es[i]
		here := append(at[:len(at):len(at)], i)
		// The cursor's own entry was given on an earlier page: only what
		// is under it (if anything) is left.
		resumed := i == start && len(from) > 0
		enter := e.Type == "dir" && e.IsDir && !e.Deleted
		var why string
		switch {
		case !enter:
		case len(here) >= MaxDepth:
			enter, why = false, fmt.Sprintf("deeper than %d levels: not entered", MaxDepth)
		case e.ID != 0 && contains(ids, e.ID):
			enter, why = false, fmt.Sprintf("directory %d is its own ancestor (a damaged file system): not entered", e.ID)
		}
		var kids []volume.Entry
		if enter {
			var err error
			if kids, why, err = w.list(e.Path); err != nil {
				return err
			}
		}
		if !resumed {
			if err := w.emitEntry(e, why, here); err != nil {
				return err
			}
		}
		if !enter {
			continue
		}
		var below Cursor
		if resumed {
			below = from[1:] // empty when the cursor's row was this directory: all of it
		}
		if err := w.children(kids, append(ids[:len(ids):len(ids)], e.ID), below, here); err != nil {
			return err
		}
	}
	return nil
}

func contains(ids []uint64, id uint64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// emitEntry gives the row of e (hashed if asked, with problem) and of its
// streams.
func (w *walker) emitEntry(e volume.Entry, problem string, at Cursor) error {
	r := Row{Entry: e, Problem: problem}
	w.hash(&r)
	if err := w.fn(r, at); err != nil {
		return err
	}
	if e.Deleted {
		return nil
	}
	for _, s := range e.Streams {
		sr := Row{Entry: e, Stream: s.Name}
		sr.Size = s.Size
		w.hash(&sr)
		if err := w.fn(sr, at); err != nil {
			return err
		}
	}
	return w.ctx.Err()
}

// hash fills r.Sums, or r.Problem when the file cannot be read.
func (w *walker) hash(r *Row) {
	if len(w.opts.Hash) > 0 {
		HashRow(w.ctx, w.fsys, w.opts.Disk, r, w.opts.Hash, w.opts.Progress)
	}
}

// HashRow fills r.Sums with the digests algos of the row's file or
// stream, read from fsys (through disk's plan when disk is not nil), or
// sets r.Problem when it cannot be read; it returns the context's error
// when ctx ends. Rows that are not live files or streams are left alone.
// Walk calls it for Options.Hash; a caller that pages a walk calls it
// itself, so that the row it stops at is not hashed for nothing.
func HashRow(ctx context.Context, fsys *volume.FS, disk scan.Source, r *Row, algos []string, progress func(done, total int64)) error {
	if r.Deleted || (r.Type != "file" && r.Stream == "") || len(algos) == 0 {
		return nil
	}
	f, err := fsys.WithContext(ctx).OpenFile(r.FullPath())
	if err == nil {
		var src scan.Source = fsFile{f}
		if disk != nil {
			src = scan.File{Disk: disk, F: f}
		}
		r.Sums, err = scan.Hash(ctx, src, 0, f.Size(), algos, progress)
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		r.Sums = nil
		r.Problem = "not hashed: " + err.Error()
	}
	return nil
}

// fsFile is a file as a scan.Source read through its file system (no
// disk to plan through).
type fsFile struct{ *volume.File }

func (f fsFile) Plan(ctx context.Context, off, n int64, emit func(core.Run) error) error {
	off = min(off, f.Size())
	n = min(n, f.Size()-off)
	if n <= 0 {
		return nil
	}
	return emit(core.Run{Kind: core.RunFile, Offset: off, Length: n})
}
