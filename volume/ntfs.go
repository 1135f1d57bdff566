package volume

// NTFS through www.velocidex.com/golang/go-ntfs. The library parses the
// boot sector, MFT records (with fixups and attribute lists), $I30 indexes
// and data runs (sparse and LZNT1-compressed). Added here: path resolution
// that keeps NTFS names as stored, listings that give each name once with
// its alternate data streams, deleted entries from index slack (go-ntfs's
// ScanSlack) marked as such, and size-checked stream readers. go-ntfs is not
// hardened against hostile input, so every call runs under safeFS's
// recover.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vhdxview/vhdxview/internal/utf16le"
	"www.velocidex.com/golang/go-ntfs/parser"
)

type ntfsFS struct {
	ctx  *parser.NTFSContext
	size int64 // the volume's size in bytes
}

func openNTFS(r io.ReaderAt, size int64) (*ntfsFS, error) {
	paged, err := parser.NewPagedReader(r, 0x1000, 4096) // 16 MiB of metadata pages
	if err != nil {
		return nil, err
	}
	ctx, err := parser.GetNTFSContext(&bigReadsDirect{paged: paged, direct: r}, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if ctx.Boot.VolumeSize() > size+int64(ctx.Boot.ClusterSize()) {
		return nil, fmt.Errorf("%w: boot sector claims %d bytes, the partition has %d", ErrDamaged, ctx.Boot.VolumeSize(), size)
	}
	if _, err := ctx.GetMFT(5); err != nil {
		return nil, fmt.Errorf("%w: root directory (MFT record 5): %v", ErrDamaged, err)
	}
	return &ntfsFS{ctx: ctx, size: size}, nil
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
	vol, err := n.ctx.GetMFT(3) // $Volume
	if err != nil {
		return ""
	}
	a, err := vol.GetAttribute(n.ctx, 0x60, -1, "") // $VOLUME_NAME
	if err != nil {
		return ""
	}
	size := a.DataSize()
	if size <= 0 || size > 512 {
		return ""
	}
	b := make([]byte, size)
	k, _ := a.Data(n.ctx).ReadAt(b, 0)
	return utf16le.DecodeZ(b[:k])
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
// does, and returns the MFT record with the name as stored.
func (n *ntfsFS) lookup(ctx context.Context, p string) (*parser.MFT_ENTRY, string, error) {
	cur, err := n.ctx.GetMFT(5)
	if err != nil {
		return nil, "", err
	}
	name := "/"
	for _, comp := range splitPath(p) {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		if !isDirMFT(n.ctx, cur) {
			return nil, "", ErrNotDir
		}
		nodes, err := n.dirNodes(cur)
		if err != nil {
			return nil, "", err
		}
		var next int64 = -1
		for _, rec := range records(n.ctx, nodes) {
			fn := rec.File()
			if fn.NameType().Name == "DOS" {
				continue
			}
			if nm := fn.Name(); strings.EqualFold(nm, comp) {
				next, name = int64(rec.MftReference()), nm
				if nm == comp {
					break
				}
			}
		}
		if next < 0 {
			return nil, "", ErrNotFound
		}
		if cur, err = n.ctx.GetMFT(next); err != nil {
			return nil, "", fmt.Errorf("%w: MFT record %d: %v", ErrDamaged, next, err)
		}
	}
	return cur, name, nil
}

// maxIndexBytes caps a directory's $INDEX_ALLOCATION: go-ntfs walks it in
// 4 KiB steps up to the size the attribute claims, holding every node in
// memory, and scans each node's slack byte by byte up to the size its
// header claims. A million-entry directory needs about 150 MiB.
const maxIndexBytes = 256 << 20

// dirNodes returns a directory's index nodes after checking the sizes
// go-ntfs would loop over.
func (n *ntfsFS) dirNodes(m *parser.MFT_ENTRY) ([]*parser.INDEX_NODE_HEADER, error) {
	for _, a := range m.EnumerateAttributes(n.ctx) {
		if a.Type().Value == parser.ATTR_TYPE_INDEX_ALLOCATION && (a.DataSize() < 0 || a.DataSize() > maxIndexBytes) {
			return nil, fmt.Errorf("%w: MFT record %d: index of %d bytes", ErrDamaged, m.Record_number(), a.DataSize())
		}
	}
	return m.DirNodes(n.ctx), nil
}

// records returns the live index entries of a directory's nodes.
func records(ctx *parser.NTFSContext, nodes []*parser.INDEX_NODE_HEADER) []*parser.INDEX_RECORD_ENTRY {
	var out []*parser.INDEX_RECORD_ENTRY
	for _, node := range nodes {
		out = append(out, node.GetRecords(ctx)...)
	}
	return out
}

// isDirMFT: the record's "has a $I30 index" flag. go-ntfs's IsDir also
// counts view indexes ($O, $Q, $R of $Extend's $ObjId, $Quota, $Reparse),
// which hold no file names.
func isDirMFT(ctx *parser.NTFSContext, m *parser.MFT_ENTRY) bool {
	return m.Flags().IsSet("DIRECTORY")
}

// stat builds an Entry from an MFT record: times from
// $STANDARD_INFORMATION, the size of the unnamed $DATA stream, and the
// named streams.
func (n *ntfsFS) stat(ctx context.Context, p string) (Entry, error) {
	file, stream := splitStream(p)
	m, name, err := n.lookup(ctx, file)
	if err != nil {
		return Entry{}, err
	}
	e := n.entry(m, file, name)
	if stream != "" {
		for _, s := range e.Streams {
			if s.Name == stream {
				return Entry{Name: name + ":" + s.Name, Path: p, Type: "file", Size: s.Size, ID: e.ID,
					ModTime: e.ModTime, CreateTime: e.CreateTime, AccessTime: e.AccessTime}, nil
			}
		}
		return Entry{}, ErrNotFound
	}
	return e, nil
}

func (n *ntfsFS) entry(m *parser.MFT_ENTRY, p, name string) Entry {
	e := Entry{Name: name, Path: p, Type: "file", ID: uint64(m.Record_number())}
	if isDirMFT(n.ctx, m) {
		e.Type, e.IsDir = "dir", true
	}
	for _, a := range m.EnumerateAttributes(n.ctx) {
		switch a.Type().Value {
		case parser.ATTR_TYPE_STANDARD_INFORMATION:
			si := n.ctx.Profile.STANDARD_INFORMATION(a.Data(n.ctx), 0)
			pr := si.Profile
			e.CreateTime = filetimeAt(si.Reader, si.Offset+pr.Off_STANDARD_INFORMATION_Create_time)
			e.ModTime = filetimeAt(si.Reader, si.Offset+pr.Off_STANDARD_INFORMATION_File_altered_time)
			e.AccessTime = filetimeAt(si.Reader, si.Offset+pr.Off_STANDARD_INFORMATION_File_accessed_time)
		case parser.ATTR_TYPE_DATA:
			if !a.IsResident() && a.Runlist_vcn_start() != 0 {
				continue // a later piece of a stream split over records
			}
			if nm := a.Name(); nm == "" {
				if !e.IsDir {
					e.Size = a.DataSize()
				}
			} else {
				e.Streams = append(e.Streams, Stream{Name: nm, Size: a.DataSize()})
			}
		}
	}
	return e
}

// filetimeAt reads a FILETIME (100 ns units since 1601-01-01 UTC). It does
// not use go-ntfs's conversion, which computes in uint64 nanoseconds since
// 1970 and so wraps for 0 (unset, shown as 2185) and anything before 1677.
// 0 and times past year 9999 (which JSON cannot carry) are unset.
func filetimeAt(r io.ReaderAt, off int64) time.Time {
	var b [8]byte
	if n, _ := r.ReadAt(b[:], off); n < len(b) {
		return time.Time{}
	}
	return filetime(binary.LittleEndian.Uint64(b[:]))
}

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

func (n *ntfsFS) readDir(ctx context.Context, p string) ([]Entry, error) {
	if _, s := splitStream(p); s != "" {
		return nil, ErrNotDir
	}
	m, _, err := n.lookup(ctx, p)
	if err != nil {
		return nil, err
	}
	if !isDirMFT(n.ctx, m) {
		return nil, ErrNotDir
	}
	var out []Entry
	live := map[string]bool{}
	type key struct {
		ref  uint64
		name string
	}
	seen := map[key]bool{}
	nodes, err := n.dirNodes(m)
	if err != nil {
		return nil, err
	}
	for _, node := range nodes {
		for _, rec := range node.GetRecords(n.ctx) {
			fn := rec.File()
			if fn.NameType().Name == "DOS" {
				continue
			}
			name, ref := fn.Name(), rec.MftReference()
			if name == "." || name == "" || seen[key{ref, name}] {
				continue
			}
			seen[key{ref, name}] = true
			if len(out) >= MaxEntries {
				return out, ErrTruncated
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			child, err := n.ctx.GetMFT(int64(ref))
			if err != nil {
				return nil, fmt.Errorf("%w: %s: MFT record %d: %v", ErrDamaged, joinPath(p, name), ref, err)
			}
			live[strings.ToLower(name)] = true
			out = append(out, n.entry(child, joinPath(p, name), name))
		}
	}
	// Deleted entries: index records left in the slack of index nodes.
	gone := map[string]bool{}
	for _, node := range nodes {
		if a := node.SizeOfEntriesAlloc(); a < 0 || a > 64<<10 {
			continue // a damaged node header: ScanSlack would crawl its claimed size
		}
		for _, rec := range node.ScanSlack(n.ctx) {
			fn := rec.File()
			name := fn.Name()
			low := strings.ToLower(name)
			if fn.NameType().Name == "DOS" || name == "" || name == "." || live[low] || gone[low] || len(out) >= MaxEntries {
				continue
			}
			gone[low] = true
			isDir := fn.Flags().IsSet("DIRECTORY")
			e := Entry{Name: name, Path: joinPath(p, name), Type: "file", IsDir: isDir, Deleted: true,
				Size: int64(fn.FilenameSize()), ID: rec.MftReference(),
				CreateTime: filetimeAt(fn.Reader, fn.Offset+fn.Profile.Off_FILE_NAME_Created),
				ModTime:    filetimeAt(fn.Reader, fn.Offset+fn.Profile.Off_FILE_NAME_File_modified),
				AccessTime: filetimeAt(fn.Reader, fn.Offset+fn.Profile.Off_FILE_NAME_File_accessed)}
			if isDir {
				e.Type, e.Size = "dir", 0
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func (n *ntfsFS) open(ctx context.Context, p string) (fileImpl, error) {
	file, stream := splitStream(p)
	m, _, err := n.lookup(ctx, file)
	if err != nil {
		return nil, err
	}
	var size, valid int64 = -1, -1
	for _, a := range m.EnumerateAttributes(n.ctx) {
		if a.Type().Value == parser.ATTR_TYPE_DATA && a.Name() == stream && (a.IsResident() || a.Runlist_vcn_start() == 0) {
			size, valid = a.DataSize(), a.DataSize()
			if !a.IsResident() {
				valid = min(int64(a.Initialized_size()), size)
			}
			break
		}
	}
	if size < 0 {
		switch {
		case stream != "":
			return nil, ErrNotFound
		case isDirMFT(n.ctx, m):
			return nil, ErrIsDir
		}
		// No unnamed $DATA (system files such as $Secure and $Extend's
		// view indexes): empty, as stat's size 0 says.
		return &memFile{}, nil
	}
	name := stream
	if name == "" {
		name = parser.WILDCARD_STREAM_NAME // the unnamed stream is picked first
	}
	rr, err := parser.OpenStream(n.ctx, m, parser.ATTR_TYPE_DATA, parser.WILDCARD_STREAM_ID, name)
	if err != nil {
		return nil, err
	}
	f := &ntfsFile{r: rr, size: size, valid: valid}
	if ext, ok := n.extents(parser.GetAllVCNs(n.ctx, m, parser.ATTR_TYPE_DATA, parser.WILDCARD_STREAM_ID, name), size, valid); ok {
		return &ntfsMappedFile{f, ext}, nil
	}
	return f, nil
}

// NTFS attribute flags (the attribute header's Flags field).
const (
	ntfsCompressed = 0x0001
	ntfsEncrypted  = 0x4000
)

// extents maps a non-resident, uncompressed, unencrypted stream onto the
// volume from its run lists (one per VCN range of the attribute), so that
// its bytes can be planned like a FAT or ext file's. Sparse runs and the
// bytes past the valid data length are holes. Anything unexpected (a
// resident or compressed stream, VCN ranges that do not follow each
// other, a run outside the volume) gives ok false, and the file is read
// through go-ntfs instead.
func (n *ntfsFS) extents(vcns []*parser.NTFS_ATTRIBUTE, size, valid int64) (ext []Extent, ok bool) {
	defer func() {
		if recover() != nil { // go-ntfs on damaged records
			ext, ok = nil, false
		}
	}()
	cs := n.ctx.ClusterSize
	if len(vcns) == 0 || cs <= 0 {
		return nil, false
	}
	var vcn int64 // next cluster of the file
	for _, a := range vcns {
		if a.IsResident() || int64(a.Runlist_vcn_start()) != vcn || uint16(*a.Flags())&(ntfsCompressed|ntfsEncrypted) != 0 {
			return nil, false
		}
		for _, r := range a.RunList() {
			if r.Length <= 0 || r.Length > n.size/cs+1 {
				return nil, false
			}
			off, length := vcn*cs, r.Length*cs
			vcn += r.Length
			if off >= size {
				break
			}
			length = min(length, size-off)
			disk := int64(-1)
			if r.RelativeUrnOffset != 0 { // no offset: a sparse run
				disk = r.Offset * cs
				if disk < 0 || disk+length > n.size {
					return nil, false
				}
			}
			ext = appendExtent(ext, off, length, disk)
		}
	}
	if vcn*cs < size {
		return nil, false // the runs do not cover the file
	}
	return clipValid(ext, valid), true
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

// ntfsMappedFile is an NTFS stream whose extents are known. Its bytes are
// still read through go-ntfs, so the two ways of reading it check each
// other in tests.
type ntfsMappedFile struct {
	*ntfsFile
	ext []Extent
}

func (f *ntfsMappedFile) extents() []Extent { return f.ext }

// ntfsFile reads a stream, zero-filling past its last run (go-ntfs returns
// short reads there) up to the stream's size.
type ntfsFile struct {
	r     io.ReaderAt
	size  int64
	valid int64 // the valid data length: bytes from here on read as zeros
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
