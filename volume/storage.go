package volume

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/diskfs/go-diskfs/backend"
)

// errReadOnly is what the go-diskfs adapter answers to any request for
// write access or an OS file: the viewer never writes and has no file.
var errReadOnly = errors.New("volume: read-only view")

// storage adapts an io.ReaderAt of known size to go-diskfs's
// backend.Storage: reads only, with a seek position for the few library
// paths that Seek (the GPT backup lookup seeks to the end to learn the
// disk size).
type storage struct {
	r    io.ReaderAt
	size int64
	pos  int64
}

var _ backend.Storage = (*storage)(nil)

func newStorage(r io.ReaderAt, size int64) *storage { return &storage{r: r, size: size} }

func (s *storage) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("volume: negative offset")
	}
	if off >= s.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > s.size-off {
		n = int(s.size - off)
	}
	m, err := s.r.ReadAt(p[:n], off)
	if err == nil && m < len(p) {
		err = io.EOF
	}
	if errors.Is(err, io.EOF) && m == len(p) {
		err = nil
	}
	return m, err
}

func (s *storage) Read(p []byte) (int, error) {
	n, err := s.ReadAt(p, s.pos)
	s.pos += int64(n)
	return n, err
}

func (s *storage) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += s.pos
	case io.SeekEnd:
		off += s.size
	default:
		return 0, errors.New("volume: bad whence")
	}
	if off < 0 {
		return 0, errors.New("volume: negative seek")
	}
	s.pos = off
	return off, nil
}

func (s *storage) Stat() (fs.FileInfo, error)              { return sizeInfo(s.size), nil }
func (s *storage) Close() error                            { return nil }
func (s *storage) Sys() (*os.File, error)                  { return nil, errReadOnly }
func (s *storage) Writable() (backend.WritableFile, error) { return nil, errReadOnly }
func (s *storage) Path() string                            { return "" }

// sizeInfo is the fs.FileInfo of a storage: a regular file of that size.
type sizeInfo int64

func (n sizeInfo) Name() string       { return "disk" }
func (n sizeInfo) Size() int64        { return int64(n) }
func (n sizeInfo) Mode() fs.FileMode  { return 0o444 }
func (n sizeInfo) ModTime() time.Time { return time.Time{} }
func (n sizeInfo) IsDir() bool        { return false }
func (n sizeInfo) Sys() any           { return nil }
