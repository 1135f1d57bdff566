package volume

// The file system interface shared by the NTFS, FAT and ext readers, and
// OpenFS, which detects the file system and wraps its reader so that a
// damaged volume yields error values, never panics.

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors for errors.Is.
var (
	// ErrUnsupportedFS: the volume holds a file system OpenFS does not read
	// (or none it recognises). The *FSError names what was detected.
	ErrUnsupportedFS = errors.New("unsupported file system")
	// ErrNotFound: no such file or directory (it is fs.ErrNotExist).
	ErrNotFound = iofs.ErrNotExist
	// ErrNotDir: a path component or ReadDir's argument is not a directory.
	ErrNotDir = errors.New("not a directory")
	// ErrIsDir: Open was given a directory.
	ErrIsDir = errors.New("is a directory")
	// ErrDamaged: a structure of the file system is inconsistent.
	ErrDamaged = errors.New("damaged file system")
	// ErrTruncated: ReadDir stopped at MaxEntries; the entries returned
	// are the first ones.
	ErrTruncated = errors.New("directory listing truncated")
	// ErrIncomplete: ReadDir could not read all of a directory (part of
	// its index is damaged or missing); the entries returned are those it
	// could read, and the error says what is missing. Lookups of names
	// not found in such a directory wrap it too, next to ErrNotFound.
	ErrIncomplete = errors.New("directory listing incomplete")
)

// MaxEntries caps one directory listing.
const MaxEntries = 1_000_000

// FSError says which volume, operation and path an error is about.
type FSError struct {
	FS     string // detected file system, e.g. "ntfs" or "exfat"
	Offset int64  // volume's byte offset on the disk
	Op     string // "open", "readdir", "stat", "read"
	Path   string
	Err    error
}

func (e *FSError) Error() string {
	s := fmt.Sprintf("volume: %s at 0x%x: %s", orUnknown(e.FS), e.Offset, e.Op)
	if e.Path != "" {
		s += " " + e.Path
	}
	return s + ": " + e.Err.Error()
}

func (e *FSError) Unwrap() error { return e.Err }

func orUnknown(s string) string {
	if s == "" {
		return "unknown file system"
	}
	return s
}

// FS is a read-only file system. Paths are slash-separated and absolute
// ("/" is the root; a missing leading slash is added). On NTFS,
// "path:name" names the alternate data stream name of path.
type FS interface {
	Type() string  // "ntfs", "fat12", "fat16", "fat32", "ext2", "ext3", "ext4"
	Label() string // volume label, "" if none
	// ReadDir lists a directory (without "." and ".."), sorted by name.
	// Deleted entries the file system still shows are included, marked.
	ReadDir(path string) ([]Entry, error)
	Stat(path string) (Entry, error)
	// Open returns a reader over a file's contents; nothing is read until
	// ReadAt is called, so a large file is streamed in whatever chunks the
	// caller asks for.
	Open(path string) (File, error)
}

// File is the contents of a file (or NTFS stream).
type File interface {
	io.ReaderAt
	Size() int64
}

// Extent maps a piece of a file onto its volume: Length bytes at file
// offset Offset are at volume offset DiskOffset, or read as zeros when
// DiskOffset is -1. A file's extents are in file order and do not
// overlap; gaps between them are holes, and the last ones may run past
// the file's size (whole clusters or blocks). A browser can turn extents (shifted by the partition
// offset) into disk plans and build a download without passing the bytes
// through the engine.
type Extent struct {
	Offset     int64 `json:"offset"`
	Length     int64 `json:"length"`
	DiskOffset int64 `json:"disk_offset"`
}

// Extents returns the extents of f if its file system can tell them (FAT
// and ext files; not NTFS, whose compressed and resident streams have
// none).
func Extents(f File) ([]Extent, bool) {
	if s, ok := f.(*safeFile); ok {
		f = s.f
	}
	if x, ok := f.(interface{ extents() []Extent }); ok {
		return x.extents(), true
	}
	return nil, false
}

// Entry describes a directory entry.
type Entry struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	Type       string    `json:"type"` // "file", "dir", "symlink" or "other"
	IsDir      bool      `json:"is_dir"`
	Size       int64     `json:"size"`
	ModTime    time.Time `json:"mod_time,omitzero"`
	CreateTime time.Time `json:"create_time,omitzero"`
	AccessTime time.Time `json:"access_time,omitzero"`
	// Deleted marks an entry the file system has removed but still shows
	// (FAT 0xE5 entries, ext directory slack, NTFS index slack). Its data
	// may be gone or reused; Open does not reach it.
	Deleted bool `json:"deleted,omitempty"`
	// Streams are the NTFS alternate data streams of a file, each opened
	// as "path:name".
	Streams []Stream `json:"streams,omitempty"`
	Target  string   `json:"target,omitempty"` // symlink target
	// ID is the file's number in its file system: inode (ext), MFT record
	// (NTFS), first cluster (FAT).
	ID uint64 `json:"id,omitempty"`
}

// Stream is an NTFS alternate data stream.
type Stream struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// fsImpl is what each reader implements; paths are already cleaned.
type fsImpl interface {
	Type() string
	Label() string
	readDir(p string) ([]Entry, error)
	stat(p string) (Entry, error)
	open(p string) (File, error)
}

// OpenFS opens the file system at [off, off+size) of r (a virtual disk);
// sectorSize is the disk's logical sector size. It detects the file system
// by signature; one it does not read gives an *FSError wrapping
// ErrUnsupportedFS that names it, and the caller can still offer the raw
// partition.
func OpenFS(r io.ReaderAt, off, size int64, sectorSize int) (f FS, err error) {
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
	sr := io.NewSectionReader(r, off, size)
	var impl fsImpl
	switch kind {
	case "ntfs":
		impl, err = openNTFS(sr, size)
	case "fat12", "fat16", "fat32":
		impl, err = openFAT(sr, size)
	default:
		impl, err = openExt(sr, size)
	}
	if err != nil {
		return nil, fail(err)
	}
	return &safeFS{impl: impl, kind: kind, off: off}, nil
}

// safeFS serialises calls into a reader, cleans paths, sorts listings and
// turns panics into errors naming the volume.
type safeFS struct {
	mu   sync.Mutex
	impl fsImpl
	kind string
	off  int64
}

func (s *safeFS) Type() string { return s.kind }

func (s *safeFS) Label() (l string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if recover() != nil {
			l = ""
		}
	}()
	return s.impl.Label()
}

func (s *safeFS) guard(op, p string, err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("%w: %w: %v", ErrDamaged, errPanic, v)
	}
	if *err != nil {
		var fe *FSError
		if !errors.As(*err, &fe) {
			*err = &FSError{FS: s.kind, Offset: s.off, Op: op, Path: p, Err: *err}
		}
	}
}

func (s *safeFS) ReadDir(p string) (es []Entry, err error) {
	p = cleanPath(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.guard("readdir", p, &err)
	es, err = s.impl.readDir(p)
	if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrIncomplete) {
		return nil, err
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Name != es[j].Name {
			return es[i].Name < es[j].Name
		}
		return !es[i].Deleted && es[j].Deleted
	})
	return es, err
}

func (s *safeFS) Stat(p string) (e Entry, err error) {
	p = cleanPath(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.guard("stat", p, &err)
	return s.impl.stat(p)
}

func (s *safeFS) Open(p string) (f File, err error) {
	p = cleanPath(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.guard("open", p, &err)
	f, err = s.impl.open(p)
	if err != nil {
		return nil, err
	}
	return &safeFile{f: f, fs: s, path: p}, nil
}

// safeFile serialises reads (the NTFS reader keeps caches) and clips them
// to the file size.
type safeFile struct {
	f    File
	fs   *safeFS
	path string
}

func (f *safeFile) Size() int64 { return f.f.Size() }

func (f *safeFile) ReadAt(p []byte, off int64) (n int, err error) {
	if off < 0 {
		return 0, errors.New("volume: negative offset")
	}
	size := f.f.Size()
	if off >= size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > size-off {
		p = p[:size-off]
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	defer f.fs.guard("read", f.path, &err)
	n, err = f.f.ReadAt(p, off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	if err == nil && n < want {
		err = io.EOF
	}
	return n, err
}

// cleanPath makes p absolute and clean.
func cleanPath(p string) string {
	return path.Clean("/" + strings.ReplaceAll(p, `\`, "/"))
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

// pageCache reads a volume's metadata in 64 KiB pages and keeps at most
// maxPages of them, so that walking FAT chains, inode tables and index
// blocks does not cost one small read of the virtual disk each.
type pageCache struct {
	r     io.ReaderAt
	size  int64
	pages map[int64][]byte
}

const (
	pageSize = 64 << 10
	maxPages = 256 // 16 MiB
)

func newPageCache(r io.ReaderAt, size int64) *pageCache {
	return &pageCache{r: r, size: size, pages: map[int64][]byte{}}
}

// readAt fills b from offset off, which must lie inside the volume.
func (c *pageCache) readAt(b []byte, off int64) error {
	if off < 0 || off+int64(len(b)) > c.size {
		return fmt.Errorf("%w: read of %d bytes at 0x%x outside the volume (0x%x bytes)", ErrDamaged, len(b), off, c.size)
	}
	for len(b) > 0 {
		pn := off / pageSize
		pg, ok := c.pages[pn]
		if !ok {
			if len(c.pages) >= maxPages {
				clear(c.pages)
			}
			n := min(pageSize, c.size-pn*pageSize)
			pg = make([]byte, n)
			if _, err := readFull(c.r, c.size, pg, pn*pageSize); err != nil {
				return err
			}
			c.pages[pn] = pg
		}
		k := copy(b, pg[off-pn*pageSize:])
		b, off = b[k:], off+int64(k)
	}
	return nil
}

// extentFile is a File over a list of extents of a volume (FAT and ext).
type extentFile struct {
	r    io.ReaderAt
	size int64
	ext  []Extent // sorted by Offset, covering [0, size) with holes allowed
}

func (f *extentFile) Size() int64       { return f.size }
func (f *extentFile) extents() []Extent { return f.ext }

func (f *extentFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(len(p)) > f.size-off {
		p = p[:f.size-off]
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		i := sort.Search(len(f.ext), func(i int) bool { return f.ext[i].Offset+f.ext[i].Length > pos })
		disk, end := int64(-1), f.size // a gap between extents is a hole
		if i < len(f.ext) {
			if e := f.ext[i]; e.Offset <= pos {
				end = e.Offset + e.Length
				if e.DiskOffset >= 0 {
					disk = e.DiskOffset + pos - e.Offset
				}
			} else {
				end = e.Offset
			}
		}
		k := int(min(int64(len(p)-done), end-pos))
		if disk < 0 {
			clear(p[done : done+k])
		} else if _, err := readFull(f.r, 1<<62, p[done:done+k], disk); err != nil {
			return done, err
		}
		done += k
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// appendExtent adds [off, off+n) at disk (or a hole when disk < 0),
// merging with the previous extent when contiguous.
func appendExtent(ext []Extent, off, n, disk int64) []Extent {
	if k := len(ext); k > 0 {
		last := &ext[k-1]
		if last.Offset+last.Length == off && ((disk < 0 && last.DiskOffset < 0) || (disk >= 0 && last.DiskOffset >= 0 && last.DiskOffset+last.Length == disk)) {
			last.Length += n
			return ext
		}
	}
	return append(ext, Extent{Offset: off, Length: n, DiskOffset: disk})
}
