package volume

// File: a file's (or NTFS stream's) contents, as io/fs's fs.File and as
// an io.ReaderAt with extents.

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
)

// File is an open regular file or NTFS stream: an fs.File (Read, Stat,
// Close), an io.ReaderAt and io.Seeker, with its extents when the file
// system can tell them. Nothing is read until asked, so a large file is
// streamed in whatever chunks the caller asks for.
//
// Every method may be called concurrently (reads are serialised with the
// volume's other calls) except Read and Seek, which share an offset.
// Reads run under the context of the FS that opened the file; WithContext
// gives a copy under another one. A long read stops between chunks when
// that context is cancelled.
type File struct {
	fs   *FS
	impl fileImpl
	path string    // absolute, as in Entry.Path
	name string    // the name it was opened by, for Stat
	info *fileInfo // set by FS.Open, which has looked the file up already
	pos  int64     // Read and Seek
}

// readChunk is how much one ReadAt reads between checks of the context
// (and holds the volume's lock).
const readChunk = 4 << 20

// WithContext returns a copy of f whose reads and mapping run under ctx.
// The copy starts at f's Read offset and then keeps its own. ctx must not
// be nil.
func (f *File) WithContext(ctx context.Context) *File {
	c := *f
	c.fs = f.fs.WithContext(ctx)
	return &c
}

// Size is the file's size in bytes.
func (f *File) Size() int64 { return f.impl.Size() }

// ReadAt reads len(p) bytes at off, as io.ReaderAt does: fewer only at
// the end of the file (with io.EOF) or on an error, which is an *FSError
// (wrapping the context's error when cancelled).
func (f *File) ReadAt(p []byte, off int64) (n int, err error) {
	if off < 0 {
		return 0, &FSError{FS: f.fs.v.kind, Offset: f.fs.v.off, Op: "read", Path: f.path, Err: errors.New("negative offset")}
	}
	size := f.impl.Size()
	if off >= size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > size-off {
		p = p[:size-off]
	}
	for n < len(p) {
		q := p[n:min(len(p), n+readChunk)]
		var k int
		err = f.fs.call("read", f.path, func(context.Context) (err error) {
			k, err = f.impl.ReadAt(q, off+int64(n))
			switch {
			case err == io.EOF && k == len(q):
				err = nil
			case err == io.EOF:
				err = io.ErrUnexpectedEOF // the file ends at Size, not before
			}
			return err
		})
		n += k
		if err != nil {
			return n, err
		}
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// Read reads from the file's offset (fs.File, io.Reader).
func (f *File) Read(p []byte) (int, error) {
	if f.pos >= f.Size() {
		return 0, io.EOF
	}
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Seek sets the offset of the next Read (io.Seeker).
func (f *File) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.Size()
	default:
		return 0, &iofs.PathError{Op: "seek", Path: f.name, Err: iofs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &iofs.PathError{Op: "seek", Path: f.name, Err: fmt.Errorf("%w: negative offset", iofs.ErrInvalid)}
	}
	f.pos = offset
	return offset, nil
}

// Stat describes the file (fs.File); its Sys() is the file's *Entry.
func (f *File) Stat() (iofs.FileInfo, error) {
	if f.info != nil {
		return f.info, nil
	}
	e, err := f.fs.Lookup(f.path)
	if err != nil {
		return nil, f.fs.pathError("stat", f.name, err)
	}
	return &fileInfo{e: e, name: f.name}, nil
}

// Close does nothing: a File holds no resources (fs.File).
func (f *File) Close() error { return nil }

// Extents returns where the file's bytes are on its volume, if the file
// system can tell (FAT and ext files, NTFS streams that are not resident,
// compressed or encrypted). The slice is shared: do not modify it.
func (f *File) Extents() ([]Extent, bool) {
	if x, ok := f.impl.(interface{ extents() []Extent }); ok {
		return x.extents(), true
	}
	return nil, false
}

// Resident is where an NTFS stream kept inside its MFT record (a resident
// value, which has no extents) lies on the disk OpenFS read the volume
// from: Length bytes at Offset, inside MFT record Record. On disk the last
// two bytes of each of the record's 512-byte sectors hold the update
// sequence number, not the value's bytes.
type Resident struct {
	Record uint64 `json:"record"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
}

// Resident says where a resident NTFS stream's bytes are (see Resident);
// false for every other file, when $MFT's runs do not map its record, and
// when the FS's context has ended.
func (f *File) Resident() (Resident, bool) {
	x, ok := f.impl.(interface {
		resident(context.Context) (uint64, int64, bool)
	})
	if !ok {
		return Resident{}, false
	}
	var rec uint64
	var at int64
	// $MFT's runs are read under the volume's lock, as reads are.
	err := f.fs.call("resident", f.path, func(ctx context.Context) error {
		rec, at, ok = x.resident(ctx)
		return nil
	})
	if err != nil || !ok {
		return Resident{}, false
	}
	return Resident{Record: rec, Offset: f.fs.v.off + at, Length: f.Size()}, true
}

// MapRange says where file bytes [off, off+n) are on the disk OpenFS read
// the volume from, for a caller that moves the bytes itself (the browser
// worker turns them into a plan of the virtual disk and downloads Blob
// slices). It calls emit in file order with pieces that cover the window
// exactly (clipped to the file's size): length bytes at file offset
// fileOff are at byte diskOff of the disk, or read as zeros when diskOff
// is -1 (holes, gaps between extents, bytes past an NTFS stream's valid
// data length). Neighbouring zero pieces are merged.
//
// Errors: ErrNoExtents when Extents has none, ErrDamaged when an extent
// lies outside the volume, the context's error when it is cancelled (it
// is checked before each piece), each wrapped in an *FSError; otherwise
// the first error emit returns, as it is.
func (f *File) MapRange(off, n int64, emit func(fileOff, diskOff, length int64) error) error {
	v := f.fs.v
	fail := func(err error) error { return &FSError{FS: v.kind, Offset: v.off, Op: "map", Path: f.path, Err: err} }
	ext, ok := f.Extents()
	if !ok {
		return fail(ErrNoExtents)
	}
	if off < 0 || n < 0 {
		return fail(errors.New("negative offset or length"))
	}
	size := f.Size()
	off = min(off, size)
	n = min(n, size-off)
	ctx := f.fs.ctx
	var emitErr error
	err := mapExtents(ext, v.size, off, n, func(fileOff, volOff, length int64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		disk := int64(-1)
		if volOff >= 0 {
			disk = v.off + volOff
		}
		emitErr = emit(fileOff, disk, length)
		return emitErr
	})
	switch {
	case err == nil:
		return nil
	case emitErr != nil && err == emitErr:
		return err
	}
	return fail(err)
}
