package volume

// NTFS. go-ntfs (www.velocidex.com/golang/go-ntfs) reads the boot sector,
// maps $MFT and decodes LZNT1 compression units. MFT records, attributes,
// attribute lists and run lists are decoded in ntfs_record.go and
// directory indexes walked in ntfs_index.go, so that an attribute spread
// over several records is read whole or reported as damaged. Added here:
// path resolution that keeps NTFS names as stored, listings that give each
// name once with its alternate data streams, deleted entries from index
// slack checked against the MFT, and size-checked stream readers. go-ntfs
// is not hardened against hostile input, so every call runs under
// safeFS's recover.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/vhdxview/vhdxview/internal/utf16le"
	"io"
	"strings"
	"time"

	"www.velocidex.com/golang/go-ntfs/parser"
)

type ntfsFS struct {
	ctx         *parser.NTFSContext
	disk        io.ReaderAt // the volume, large reads direct, small ones paged
	size        int64       // the volume's size in bytes
	clusterSize int64
	clusters    int64 // clusters in the volume
	recSize     int64 // bytes per MFT record
	records     uint64
}

func openNTFS(r io.ReaderAt, size int64) (*ntfsFS, error) {
	paged, err := parser.NewPagedReader(r, 0x1000, 4096) // 16 MiB of metadata pages
	if err != nil {
		return nil, err
	}
	disk := &bigReadsDirect{paged: paged, direct: r}
	ctx, err := parser.GetNTFSContext(disk, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	cs := ctx.ClusterSize
	if ctx.Boot.VolumeSize() > size+cs {
		return nil, fmt.Errorf("%w: boot sector claims %d bytes, the partition has %d", ErrDamaged, ctx.Boot.VolumeSize(), size)
	}
	n := &ntfsFS{ctx: ctx, disk: disk, size: size, clusterSize: cs, clusters: size / cs, recSize: ctx.GetRecordSize()}
	if n.recSize < 1024 || n.recSize > 64<<10 || n.recSize%ntfsSector != 0 {
		return nil, fmt.Errorf("%w: boot sector: MFT records of %d bytes", ErrDamaged, n.recSize)
	}
	// $MFT's own record says how many records there are: the size of its
	// $DATA, whose first piece is always in record 0.
	n.records = 1
	mft, err := n.record(0)
	if err != nil {
		return nil, err
	}
	for _, a := range mft.attrs {
		if a.typ == attrData && a.name == "" && !a.resident && a.lowVCN == 0 {
			n.records = uint64(a.size / n.recSize)
		}
	}
	if n.records <= 5 {
		return nil, fmt.Errorf("%w: $MFT of %d records", ErrDamaged, n.records)
	}
	root, err := n.file(context.TODO(), 5)
	if err != nil {
		return nil, fmt.Errorf("root directory: %w", err)
	}
	if !root.isDir() {
		return nil, fmt.Errorf("%w: root directory (MFT record 5) has no index", ErrDamaged)
	}
	return n, nil
}

// bigReadsDirect sends large reads (file data, read in the caller's
// chunks) straight to the volume and small ones (MFT records, index
// buffers) through go-ntfs's page cache. Without it every read, a 16 MiB
// download chunk included, is cut into 4 KiB page reads.
type bigReadsDirect struct {
	paged, direct io.ReaderAt
}

const directReadMin = 64 << 10

func (b *bigReadsDirect) ReadAt(p []byte, off int64) (int, error) {
	if len(p) >= directReadMin {
		return b.direct.ReadAt(p, off)
	}
	return b.paged.ReadAt(p, off)
}

func (n *ntfsFS) Type() string { return "ntfs" }

func (n *ntfsFS) Label() string {
	vol, err := n.file(context.TODO(), 3) // $Volume
	if err != nil {
		return ""
	}
	a := vol.attr(attrVolumeName, "")
	if a == nil || !a.resident {
		return ""
	}
	return utf16le.Decode(a.value[:len(a.value)&^1])
}

// splitStream splits "path:stream" (NTFS names cannot hold ':').
func splitStream(p string) (string, string) {
	i := strings.LastIndexByte(p, '/')
	if j := strings.IndexByte(p[i+1:], ':'); j >= 0 {
		return p[:i+1+j], p[i+2+j:]
	}
	return p, ""
}

// lookup resolves a path, comparing names case-insensitively as Windows
// does, and returns the file with its name as stored. A name missing from
// a directory whose index could not all be read says so.
func (n *ntfsFS) lookup(ctx context.Context, p string) (*mftFile, string, error) {
	cur, err := n.file(ctx, 5)
	if err != nil {
		return nil, "", err
	}
	name := "/"
	dir := "/"
	for _, comp := range splitPath(p) {
		if !cur.isDir() {
			return nil, "", ErrNotDir
		}
		var next uint64
		if fn, ok := n.findName(ctx, cur, comp); ok {
			next, name = fn.ref, fn.name
		} else {
			// Not found by descending the tree (or only in another
			// case): look at every name.
			idx, err := n.readIndex(ctx, cur, false)
			if err != nil {
				return nil, "", err
			}
			found := false
			for _, fn := range idx.names {
				if fn.space == nameDOS {
					continue
				}
				if strings.EqualFold(fn.name, comp) {
					next, name, found = fn.ref, fn.name, true
					if fn.name == comp {
						break
					}
				}
			}
			if !found {
				if len(idx.problems) > 0 {
					return nil, "", fmt.Errorf("%w (%s: %w: %s)", ErrNotFound, dir, ErrIncomplete, summarize(idx.problems))
				}
				return nil, "", ErrNotFound
			}
		}
		if cur, err = n.file(ctx, next); err != nil {
			return nil, "", fmt.Errorf("%s: %w", joinPath(dir, name), err)
		}
		dir = joinPath(dir, name)
	}
	return cur, name, nil
}

// maxIndexBytes caps a directory's $INDEX_ALLOCATION, which bounds the
// blocks an index walk reads. A million-entry directory needs about
// 150 MiB.
const maxIndexBytes = 256 << 20

// stat builds an Entry from an MFT record: times from
// $STANDARD_INFORMATION, the size of the unnamed $DATA stream, and the
// named streams.
func (n *ntfsFS) stat(ctx context.Context, p string) (Entry, error) {
	file, stream := splitStream(p)
	f, name, err := n.lookup(ctx, file)
	if err != nil {
		return Entry{}, err
	}
	e := n.entry(f, file, name)
	if stream != "" {
		for _, s := range e.Streams {
			if s.Name == stream {
				return Entry{Name: name + ":" + s.Name, Path: p, Type: "file", Size: s.Size, ID: e.ID, Metadata: e.Metadata,
					ModTime: e.ModTime, CreateTime: e.CreateTime, AccessTime: e.AccessTime}, nil
			}
		}
		return Entry{}, ErrNotFound
	}
	return e, nil
}

func (n *ntfsFS) entry(f *mftFile, p, name string) Entry {
	e := Entry{Name: name, Path: p, Type: "file", ID: f.num, Metadata: ntfsMetadata(f.num, p)}
	if f.isDir() {
		e.Type, e.IsDir = "dir", true
	}
	var attrs uint32 // FILE_ATTRIBUTE_* from $STANDARD_INFORMATION
	for _, a := range f.all {
		switch a.typ {
		case attrStandardInfo:
			if a.resident && len(a.value) >= 0x20 {
				v := a.value
				e.CreateTime = filetime(binary.LittleEndian.Uint64(v))
				e.ModTime = filetime(binary.LittleEndian.Uint64(v[0x08:]))
				e.AccessTime = filetime(binary.LittleEndian.Uint64(v[0x18:]))
				if len(v) >= 0x24 {
					attrs = binary.LittleEndian.Uint32(v[0x20:])
				}
			}
		case attrData:
			size := int64(len(a.value))
			if !a.resident {
				if a.lowVCN != 0 {
					continue // a later piece of a stream split over records
				}
				size = a.size
			}
			if a.name == "" {
				if !e.IsDir {
					e.Size = size
				}
			} else {
				e.Streams = append(e.Streams, Stream{Name: a.name, Size: size})
			}
		}
	}
	// Links show as links with their targets, like ext's: a symbolic link
	// or junction (a link to a folder) is not the empty file or folder its
	// record otherwise describes.
	rp, has, err := n.reparseOf(f)
	switch {
	case has && err != nil:
		e.Reparse = "damaged reparse point: " + err.Error()
	case has:
		e.Reparse = rp.kind
		if rp.link {
			e.Type, e.IsDir, e.Target = "symlink", false, rp.target
		}
	case !e.IsDir:
		if t, ok := n.interixTarget(f, attrs, e.Size); ok {
			e.Type, e.Target, e.Reparse = "symlink", t, "Interix symbolic link"
		}
	}
	return e
}

// filetime converts a FILETIME (100 ns units since 1601-01-01 UTC). It
// does not use go-ntfs's conversion, which computes in uint64 nanoseconds
// since 1970 and so wraps for 0 (unset, shown as 2185) and anything before
// 1677. 0 and times past year 9999 (which JSON cannot carry) are unset.
func filetime(ft uint64) time.Time {
	const toUnix = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	if ft == 0 {
		return time.Time{}
	}
	t := time.Unix(int64(ft/1e7)-toUnix, int64(ft%1e7)*100).UTC()
	if t.Year() > 9999 {
		return time.Time{}
	}
	return t
}

// readDir lists a directory: the names in its index, each with the
// details from its MFT record, then the deleted names its index slack
// still holds. Anything it cannot read makes the error wrap
// ErrIncomplete, with the entries it could read.
func (n *ntfsFS) readDir(ctx context.Context, p string) ([]Entry, error) {
	if _, s := splitStream(p); s != "" {
		return nil, ErrNotDir
	}
	dir, _, err := n.lookup(ctx, p)
	if err != nil {
		return nil, err
	}
	if !dir.isDir() {
		return nil, ErrNotDir
	}
	idx, err := n.readIndex(ctx, dir, true)
	if err != nil {
		return nil, err
	}
	problems := idx.problems
	var out []Entry
	live := map[string]bool{}
	type key struct {
		ref  uint64
		name string
	}
	seen := map[key]bool{}
	for _, fn := range idx.names {
		if fn.space == nameDOS || fn.name == "." || seen[key{fn.ref, fn.name}] {
			continue
		}
		seen[key{fn.ref, fn.name}] = true
		if len(out) >= MaxEntries {
			return out, ErrTruncated
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		live[strings.ToLower(fn.name)] = true
		path := joinPath(p, fn.name)
		child, err := n.file(ctx, fn.ref)
		if err != nil {
			// Still list the name, with what the index entry says.
			problems = append(problems, fmt.Sprintf("%s: %v", path, err))
			out = append(out, nameEntry(fn, path))
			continue
		}
		out = append(out, n.entry(child, path, fn.name))
	}
	if idx.truncated {
		return out, ErrTruncated
	}
	gone := map[string]bool{}
	for _, fn := range idx.slack {
		low := strings.ToLower(fn.name)
		if fn.space == nameDOS || fn.name == "." || live[low] || gone[low] || len(out) >= MaxEntries {
			continue
		}
		if !n.deleted(ctx, dir, fn) {
			continue
		}
		gone[low] = true
		e := nameEntry(fn, joinPath(p, fn.name))
		e.Deleted = true
		n.ntfsRecovery(ctx, dir, &e)
		out = append(out, e)
	}
	if len(problems) > 0 {
		return out, fmt.Errorf("%w: %s", ErrIncomplete, summarize(problems))
	}
	return out, nil
}

// nameEntry is an Entry from a $FILE_NAME alone (a deleted name, or one
// whose MFT record cannot be read).
func nameEntry(fn fileName, path string) Entry {
	e := Entry{Name: fn.name, Path: path, Type: "file", Size: fn.size, ID: refNum(fn.ref), Metadata: ntfsMetadata(refNum(fn.ref), path),
		CreateTime: filetime(fn.created), ModTime: filetime(fn.modified), AccessTime: filetime(fn.accessed)}
	if fn.isDir() {
		e.Type, e.IsDir, e.Size = "dir", true, 0
	}
	return e
}

// firstUserRecord: records below it are $MFT, $LogFile and the other
// system files, or reserved for them.
const firstUserRecord = 16

// ntfsMetadata tells whether the file of MFT record num at path p is one
// of NTFS's own: a record below firstUserRecord, or anything under
// $Extend (record 11), whose files ($ObjId, $Quota, $Reparse, $UsnJrnl,
// $RmMetadata and its contents) take ordinary record numbers. The root
// directory (record 5) is the tree itself, not an entry of it.
func ntfsMetadata(num uint64, p string) bool {
	return num < firstUserRecord && num != rootRecord || strings.HasPrefix(p, "/$Extend/")
}

// rootRecord is the MFT record of the root directory.
const rootRecord = 5

// deleted tells whether a name carved from dir's index slack is a deleted
// entry: it names dir as its parent, and the record it points to is free
// (the file was deleted) or still the same file (same sequence number)
// without that name in dir (the name was removed). Copies of live
// entries left behind by node splits, and names whose record has since
// been reused, are not.
func (n *ntfsFS) deleted(ctx context.Context, dir *mftFile, fn fileName) bool {
	if refNum(fn.parent) != dir.num || refSeq(fn.parent) != dir.seq {
		return false
	}
	num := refNum(fn.ref)
	if num < firstUserRecord || num >= n.records || fn.name == "" || strings.ContainsAny(fn.name, "/\x00") {
		return false
	}
	r, err := n.record(num)
	switch {
	case err != nil || r.base != 0:
		return false
	case r.flags&recordInUse == 0:
		return true
	case r.seq != refSeq(fn.ref):
		return false // reused by another file
	}
	f, err := n.file(ctx, fn.ref)
	if err != nil {
		return false
	}
	for _, a := range f.all {
		if a.typ == attrFileName && a.resident {
			if cur, err := parseFileName(a.value); err == nil && refNum(cur.parent) == dir.num && strings.EqualFold(cur.name, fn.name) {
				return false // still there: an index entry the walk did not reach
			}
		}
	}
	return true
}

func (n *ntfsFS) open(ctx context.Context, p string) (fileImpl, error) {
	file, name := splitStream(p)
	f, _, err := n.lookup(ctx, file)
	if err != nil {
		return nil, err
	}
	if name == "" {
		// A link has no bytes of its own to give, and a WOF file's
		// unnamed $DATA is a sparse placeholder: its bytes are compressed
		// in the WofCompressedData stream, in a format not decoded here.
		rp, has, err := n.reparseOf(f)
		switch {
		case has && err != nil:
			return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
		case has && rp.link:
			return nil, fmt.Errorf("a %s to %s, not a regular file", rp.kind, rp.target)
		case has && rp.tag == reparseTagWOF:
			return nil, fmt.Errorf("%w: %s: its bytes are in the stream %s:WofCompressedData (%d bytes), compressed in a format vhdxview does not decode", ErrUnsupported, rp.kind, file, n.streamSize(f, "WofCompressedData"))
		}
	}
	s, ok := n.stream(f, attrData, name)
	if !ok {
		switch {
		case name == "" && f.isDir():
			return nil, ErrIsDir
		case name == "":
			// A file without an unnamed $DATA ($Secure, $Extend's view
			// indexes) has no bytes; it opens empty, as listed.
			return &ntfsFile{r: bytes.NewReader(nil)}, nil
		}
		return nil, ErrNotFound
	}
	return n.streamFile(f, s, name)
}

// streamFile is a reader over stream name of f, as gathered by stream.
func (n *ntfsFS) streamFile(f *mftFile, s *ntfsStream, name string) (fileImpl, error) {
	if err := s.damage(); err != nil {
		return nil, err
	}
	if s.resident {
		return &ntfsFile{r: bytes.NewReader(s.value), size: int64(len(s.value)), valid: int64(len(s.value)),
			fs: n, record: s.record, valueAt: s.valueAt}, nil
	}
	size, valid := s.size, min(s.init, s.size)
	if s.flags&attrCompressedMask != 0 {
		// LZNT1 compression units are decoded by go-ntfs, given the runs
		// of all pieces.
		if s.compUnit == 0 || s.compUnit > 16 {
			return nil, fmt.Errorf("%w: MFT record %d: compressed stream with compression unit 2^%d clusters", ErrDamaged, f.num, s.compUnit)
		}
		runs := make([]*parser.Run, len(s.runs))
		for i, r := range s.runs {
			runs[i] = &parser.Run{Offset: max(r.lcn, 0), RelativeUrnOffset: r.lcn + 1, Length: r.n} // RelativeUrnOffset 0: sparse
		}
		rr := parser.NewCompressedRangeReader(runs, n.clusterSize, n.disk, 1<<s.compUnit)
		return &ntfsFile{r: rr, size: size, valid: valid}, nil
	}
	cs := n.clusterSize
	var ext []Extent
	for _, r := range s.runs {
		off := r.vcn * cs
		if off >= size {
			break
		}
		disk := int64(-1)
		if r.lcn >= 0 {
			disk = r.lcn * cs
		}
		ext = appendExtent(ext, off, min(r.n*cs, size-off), disk)
	}
	if end := runsEnd(s.runs, 0) * cs; end < size {
		return nil, fmt.Errorf("%w: MFT record %d: the runs of stream %q end at byte %d of %d", ErrDamaged, f.num, name, end, size)
	}
	ef := &extentFile{r: n.disk, size: size, ext: clipValid(ext, valid)}
	if s.flags&attrEncrypted != 0 {
		// EFS ciphertext: read as it is, but not offered as extents.
		return &ntfsFile{r: ef, size: size, valid: size}, nil
	}
	return ef, nil
}

// clipValid turns everything at and past valid into a hole.
func clipValid(ext []Extent, valid int64) []Extent {
	var out []Extent
	for _, e := range ext {
		switch {
		case e.DiskOffset < 0 || e.Offset+e.Length <= valid:
			out = appendExtent(out, e.Offset, e.Length, e.DiskOffset)
		case e.Offset >= valid:
			out = appendExtent(out, e.Offset, e.Length, -1)
		default:
			k := valid - e.Offset
			out = appendExtent(out, e.Offset, k, e.DiskOffset)
			out = appendExtent(out, valid, e.Length-k, -1)
		}
	}
	return out
}

// ntfsFile reads a stream, zero-filling past its last run (go-ntfs returns
// short reads there) up to the stream's size.
type ntfsFile struct {
	r     io.ReaderAt
	size  int64
	valid int64 // the valid data length: bytes from here on read as zeros
	// A resident value: its MFT record and where in it the value starts
	// (fs nil otherwise). Its place on the volume is looked up only when
	// asked (File.Resident), not on every open.
	fs      *ntfsFS
	record  uint64
	valueAt int64
}

func (f *ntfsFile) resident(ctx context.Context) (uint64, int64, bool) {
	if f.fs == nil {
		return 0, 0, false
	}
	ro := f.fs.recordOffset(ctx, f.record)
	return f.record, ro + f.valueAt, ro >= 0
}

func (f *ntfsFile) Size() int64 { return f.size }

func (f *ntfsFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(len(p)) > f.size-off {
		p = p[:f.size-off]
	}
	// Past the valid data length the clusters hold whatever was there
	// before; NTFS reads zeros.
	if v := max(f.valid-off, 0); int64(len(p)) > v {
		clear(p[v:])
		p = p[:v]
	}
	done := 0
	for done < len(p) {
		k, err := f.r.ReadAt(p[done:], off+int64(done))
		done += k
		if err != nil && !errors.Is(err, io.EOF) {
			return done, err
		}
		if k == 0 {
			clear(p[done:]) // past the runs: not allocated, reads as zeros
			done = len(p)
		}
	}
	done = min(want, int(f.size-off))
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// streamSize is the size of f's $DATA stream name, -1 if it has none.
func (n *ntfsFS) streamSize(f *mftFile, name string) int64 {
	s, ok := n.stream(f, attrData, name)
	switch {
	case !ok:
		return -1
	case s.resident:
		return int64(len(s.value))
	}
	return s.size
}
