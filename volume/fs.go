package volume

// FS, the file system of one volume as both io/fs and the richer volume
// API, over the NTFS, FAT and ext readers; OpenFS, which detects the file
// system; the lock, panic guard and context that every call goes through.

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// Errors for errors.Is.
var (
	// ErrUnsupportedFS: the volume holds a file system OpenFS does not read
	// (or none it recognises). The *FSError names what was detected.
	ErrUnsupportedFS = errors.New("unsupported file system")
	// ErrNotFound: no such file or directory (it is fs.ErrNotExist).
	ErrNotFound = iofs.ErrNotExist
	// ErrNotDir: a path component or a listed path is not a directory.
	ErrNotDir = errors.New("not a directory")
	// ErrUnsupported: the file is stored in a way this package does not
	// decode (NTFS WOF compression); the error says how.
	ErrUnsupported = errors.New("unsupported file storage")
	// ErrIsDir: OpenFile was given a directory.
	ErrIsDir = errors.New("is a directory")
	// ErrDamaged: a structure of the file system is inconsistent.
	ErrDamaged = errors.New("damaged file system")
	// ErrTruncated: a listing stopped at MaxEntries; the entries returned
	// are the first ones.
	ErrTruncated = errors.New("directory listing truncated")
	// ErrNoExtents: the file system cannot say where a file's bytes are
	// (NTFS resident, compressed and encrypted streams); read them instead.
	ErrNoExtents = errors.New("file has no extents")
	// ErrIncomplete: ReadDir could not read all of a directory (part of
	// its index is damaged or missing); the entries returned are those it
	// could read, and the error says what is missing. Lookups of names
	// not found in such a directory wrap it too, next to ErrNotFound.
	ErrIncomplete = errors.New("directory listing incomplete")
)

// MaxEntries caps one directory listing.
const MaxEntries = 1_000_000

// FSError says which volume, operation and path an error is about. Inside
// an *fs.PathError (the errors of the io/fs methods), Op and Path are
// empty: the PathError carries them.
type FSError struct {
	FS     string // detected file system, e.g. "ntfs" or "exfat"
	Offset int64  // volume's byte offset on the disk
	Op     string // "open", "readdir", "stat", "read", "map"
	Path   string
	Err    error
}

// Error says "volume: FS at 0xOFFSET: OP PATH: cause".
func (e *FSError) Error() string {
	s := fmt.Sprintf("volume: %s at 0x%x", orUnknown(e.FS), e.Offset)
	if e.Op != "" {
		s += ": " + e.Op
		if e.Path != "" {
			s += " " + e.Path
		}
	}
	return s + ": " + e.Err.Error()
}

// Unwrap gives the cause, for errors.Is and errors.As.
func (e *FSError) Unwrap() error { return e.Err }

func orUnknown(s string) string {
	if s == "" {
		return "unknown file system"
	}
	return s
}

// Entry describes a directory entry. The io/fs methods give it as the
// Sys() of their fs.FileInfo values (a *Entry).
type Entry struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"` // absolute: "/dir/name"
	Type       string    `json:"type"` // "file", "dir", "symlink" or "other"
	IsDir      bool      `json:"is_dir"`
	Size       int64     `json:"size"`
	ModTime    time.Time `json:"mod_time,omitzero"`
	CreateTime time.Time `json:"create_time,omitzero"`
	AccessTime time.Time `json:"access_time,omitzero"`
	// Deleted marks an entry the file system has removed but still shows
	// (FAT 0xE5 entries, ext directory slack, NTFS index slack). The io/fs
	// methods do not list it and OpenFile does not open it; OpenDeleted
	// reads what is left of its bytes when Recoverable is set.
	Deleted bool `json:"deleted,omitempty"`
	// Recoverable (deleted entries only): the file system still says
	// where the bytes were, and OpenDeleted reads them.
	Recoverable bool `json:"recoverable,omitempty"`
	// RecoverNote (deleted entries only): when Recoverable, what to
	// beware of in the recovered bytes (they may have been overwritten;
	// FAT's are assumed contiguous); otherwise why they cannot be
	// recovered ("ext4 cleared its extents when it was deleted").
	RecoverNote string `json:"recover_note,omitempty"`
	// Streams are the NTFS alternate data streams of a file, each opened
	// as "path:name".
	Streams []Stream `json:"streams,omitempty"`
	Target  string   `json:"target,omitempty"` // symlink target, as stored
	// Reparse says what an NTFS reparse point or Interix link makes of the
	// file: "symbolic link", "junction", "WSL symbolic link", "Interix
	// symbolic link", "WOF-compressed (LZX)", or the tag of another kind.
	Reparse string `json:"reparse,omitempty"`
	// ID is the file's number in its file system: inode (ext), MFT record
	// (NTFS), first cluster (FAT).
	ID uint64 `json:"id,omitempty"`
	// Metadata marks an NTFS metadata file, as NTFS defines them: MFT
	// records 0 to 15 ($MFT, $MFTMirr, $LogFile, $Volume, $AttrDef,
	// $Bitmap, $Boot, $BadClus, $Secure, $UpCase, $Extend and the records
	// reserved after it) and everything under $Extend ($ObjId, $Quota,
	// $Reparse, $UsnJrnl, $RmMetadata...). It is a file like any other to
	// read; viewers may keep it apart from the user's files.
	Metadata bool `json:"metadata,omitempty"`
}

// Stream is an NTFS alternate data stream.
type Stream struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// fsImpl is what each reader implements. Paths are absolute and clean;
// calls are serialised by FS, and every loop that reads the disk checks
// ctx.
type fsImpl interface {
	Type() string
	Label() string
	readDir(ctx context.Context, p string) ([]Entry, error)
	stat(ctx context.Context, p string) (Entry, error)
	open(ctx context.Context, p string) (fileImpl, error)
}

// fileImpl is a reader's view of a file's contents. One with extents
// also has an extents() []Extent method.
type fileImpl interface {
	io.ReaderAt
	Size() int64
}

// FS is the read-only file system of one volume, opened by OpenFS.
//
// It has two faces. As an io/fs file system (fs.FS, fs.ReadDirFS,
// fs.StatFS and fs.ReadLinkFS: see Open) it works with fs.WalkDir,
// fs.ReadFile, fs.Sub, testing/fstest and http.FS. The volume API (List,
// Lookup, OpenFile) gives what a viewer needs besides: deleted entries,
// NTFS streams, creation and access times, symlinks not followed, and
// absolute paths as Entry.Path has them.
//
// Context: every method runs under the FS value's context, which is
// context.Background() from OpenFS. WithContext returns a view of the
// same volume under another context. Once it is cancelled, the call's
// reads of the disk fail (so even a walk inside go-ntfs stops at its next
// read), the walks that run on cached data (directory entries, cluster
// chains, extent trees) check it as they go, and the call returns an error
// wrapping ctx.Err() rather than a result made from the reads it refused.
//
// An FS serialises its calls (one lock per volume, shared by its views
// and files): open the volume again to read it in parallel. A call that
// waits for the lock also stops when its context is cancelled.
type FS struct {
	v   *vol
	ctx context.Context
}

// vol is the state the views of one volume share.
type vol struct {
	sem  chan struct{} // one slot: the lock that serialises calls into impl
	rd   *ctxReader    // the volume, as impl reads it; its ctx is the call's
	impl fsImpl
	kind string
	off  int64 // the volume's byte offset on the disk
	size int64 // its size
}

// ctxReader reads r while ctx lasts. FS.call sets ctx to the call's
// context while it holds the volume's lock, so every read a reader makes,
// in this package or inside a library, fails once the call is cancelled.
type ctxReader struct {
	r   io.ReaderAt
	ctx context.Context
}

func (c *ctxReader) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}

// OpenFS opens the file system at [off, off+size) of r (a virtual disk);
// sectorSize is the disk's logical sector size. It detects the file system
// by signature; one it does not read gives an *FSError wrapping
// ErrUnsupportedFS that names it, and the caller can still offer the raw
// partition. Opening reads a few fixed structures (boot sector,
// superblock, root MFT record), so it takes no context.
func OpenFS(r io.ReaderAt, off, size int64, sectorSize int) (*FS, error) {
	return OpenFSWith(r, off, size, sectorSize, nil)
}

// FSOptions are the choices OpenFSWith leaves to the caller.
type FSOptions struct {
	// CodePage decodes FAT 8.3 names and labels, which are bytes in the
	// OEM code page of the system that wrote them (long names are
	// UTF-16). Nil means IBM code page 437, the DOS and Windows default
	// in the US and most of Western Europe; see CodePage.
	CodePage *charmap.Charmap
}

// OpenFSWith is OpenFS with options; opts may be nil.
func OpenFSWith(r io.ReaderAt, off, size int64, sectorSize int, opts *FSOptions) (f *FS, err error) {
	if opts == nil {
		opts = &FSOptions{}
	}
	kind := Detect(r, off, size)
	fail := func(e error) error { return &FSError{FS: kind, Offset: off, Op: "open", Err: e} }
	if kind == "" {
		return nil, fail(fmt.Errorf("%w: no file system recognised", ErrUnsupportedFS))
	}
	if !Supported(kind) {
		return nil, fail(fmt.Errorf("%w: %s", ErrUnsupportedFS, kind))
	}
	defer func() {
		if v := recover(); v != nil {
			f, err = nil, fail(fmt.Errorf("%w: %w: %v", ErrDamaged, errPanic, v))
		}
	}()
	rd := &ctxReader{r: io.NewSectionReader(r, off, size), ctx: context.Background()}
	var impl fsImpl
	switch kind {
	case "ntfs":
		impl, err = openNTFS(rd, size)
	case "fat12", "fat16", "fat32":
		impl, err = openFAT(rd, size, opts.CodePage)
	default:
		impl, err = openExt(rd, size)
	}
	if err != nil {
		return nil, fail(err)
	}
	return newFS(impl, rd, kind, off, size), nil
}

func newFS(impl fsImpl, rd *ctxReader, kind string, off, size int64) *FS {
	v := &vol{sem: make(chan struct{}, 1), rd: rd, impl: impl, kind: kind, off: off, size: size}
	return &FS{v: v, ctx: context.Background()}
}

// WithContext returns a view of the same volume whose calls, and the
// reads of the files it opens, run under ctx. ctx must not be nil.
func (f *FS) WithContext(ctx context.Context) *FS {
	if ctx == nil {
		panic("volume: nil context")
	}
	return &FS{v: f.v, ctx: ctx}
}

// Type is the file system: "ntfs", "fat12", "fat16", "fat32", "ext2",
// "ext3" or "ext4".
func (f *FS) Type() string { return f.v.kind }

// Label is the volume label, "" if none (or if it cannot be read).
func (f *FS) Label() (l string) {
	f.call("label", "", func(context.Context) error {
		l = f.v.impl.Label()
		return nil
	})
	return l
}

// call runs fn with the volume to itself: it waits for the lock (or for
// the context to end), makes the volume's reads fail once the context
// ends, passes fn the context, turns a panic inside a reader into an
// error wrapping ErrDamaged, and wraps errors in an *FSError naming the
// volume, op and path. A call whose context ended returns the context's
// error whatever fn made of the refused reads (go-ntfs skips index nodes
// it cannot read, for one).
func (f *FS) call(op, p string, fn func(ctx context.Context) error) (err error) {
	ctx := f.ctx
	defer f.v.wrap(op, p, &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case f.v.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	f.v.rd.ctx = ctx
	defer func() {
		f.v.rd.ctx = context.Background()
		<-f.v.sem
	}()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %w: %v", ErrDamaged, errPanic, v)
		}
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = cerr
		}
	}()
	return fn(ctx)
}

// wrap makes *err an *FSError unless it already is one.
func (v *vol) wrap(op, p string, err *error) {
	if *err == nil {
		return
	}
	var fe *FSError
	if !errors.As(*err, &fe) {
		*err = &FSError{FS: v.kind, Offset: v.off, Op: op, Path: p, Err: *err}
	}
}

// List lists a directory (without "." and ".."), sorted by name, deleted
// entries (which the file system still shows) included and marked, each
// after a live entry of the same name. Paths are as in Entry.Path:
// slash-separated from the volume's root ("/dir"); a missing leading
// slash is added, "." and ".." are resolved; "\" is an ordinary character. Symbolic
// links are not followed. A directory of more than MaxEntries entries
// gives its first MaxEntries and an error wrapping ErrTruncated; one whose
// index is partly unreadable gives what could be read and an error wrapping
// ErrIncomplete.
func (f *FS) List(name string) (es []Entry, err error) {
	p := cleanPath(name)
	err = f.call("readdir", p, func(ctx context.Context) error {
		es, err = f.v.impl.readDir(ctx, p)
		return err
	})
	if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrIncomplete) {
		return nil, err
	}
	sortEntries(es)
	return es, err
}

// sortEntries sorts a listing by name, live entries first.
func sortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Name != es[j].Name {
			return es[i].Name < es[j].Name
		}
		return !es[i].Deleted && es[j].Deleted
	})
}

// Lookup returns the entry of a path (as in List), without following a
// symbolic link at its end or on the way. On NTFS "path:name" is the
// alternate data stream name of path.
func (f *FS) Lookup(name string) (e Entry, err error) {
	p := cleanPath(name)
	err = f.call("stat", p, func(ctx context.Context) error {
		e, err = f.v.impl.stat(ctx, p)
		return err
	})
	return e, err
}

// OpenFile opens a regular file, or on NTFS "path:name", an alternate
// data stream (paths as in List; symbolic links are not followed). Its
// extents (FAT, ext, most NTFS files) are mapped now; its bytes are read
// only when asked, so a large file streams in the caller's chunks. The
// file reads under f's context.
func (f *FS) OpenFile(name string) (*File, error) {
	p := cleanPath(name)
	var fi fileImpl
	err := f.call("open", p, func(ctx context.Context) (err error) {
		fi, err = f.v.impl.open(ctx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &File{fs: f, impl: fi, path: p, name: path.Base(p)}, nil
}

// cleanPath makes p absolute and clean. Only "/" separates names: a
// backslash is an ordinary character of an ext name ("back\slash" is one
// file), and no volume we read stores "/" inside a name.
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// splitPath returns the components of a clean absolute path.
func splitPath(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// joinPath joins a directory path and a name.
func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
