//go:build js && wasm && !nofs

package main

// The ops inside the disk: parts, ls, stat, file_read, file_plan. They
// read the virtual disk through volume, the same code as `vhdx parts`,
// `ls` and `get`. Each image keeps its partition table, the file systems
// it has opened and its last few open files until it is closed.

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall/js"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
	"github.com/vhdxview/vhdxview/volume"
)

// openFiles is how many open files (or streams) an image keeps, so that a
// download read in 16 MiB chunks looks its path up once.
const openFiles = 8

// volumes is an image's view of its partitions.
type volumes struct {
	mu    sync.Mutex
	table *volume.Table
	fs    map[int]*volume.FS // by partition index; failures are not kept (a read error may pass)
	files []openFile         // most recently used last
	walk  *walkCache         // the last paged listing's directories (fileflows.go)
}

type openFile struct {
	part    int
	path    string
	deleted bool   // opened by OpenDeleted: the deleted entry path, id
	id      uint64 // the deleted entry's id
	f       *volume.File
}

// partTable reads the partition table once.
func (sess *session) partTable(ctx context.Context) (*volume.Table, error) {
	v := &sess.vol
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.table != nil {
		return v.table, nil
	}
	t, err := volume.Partitions(ctx, sess.img, sess.img.Size(), int(sess.img.Facts(0).LogicalSectorSize))
	if err != nil {
		return nil, sess.annotate(err)
	}
	v.table = t
	return t, nil
}

// partition returns the partition args.partition names.
func (r *request) partition(sess *session) (*volume.Table, volume.Partition, error) {
	t, err := sess.partTable(r.ctx)
	if err != nil {
		return nil, volume.Partition{}, err
	}
	idx, err := args{r.args}.required("partition")
	if err != nil {
		return nil, volume.Partition{}, err
	}
	for _, p := range t.Partitions {
		if int64(p.Index) == idx {
			if p.Extended {
				return nil, p, argErrorf("partition %d is an extended partition, a container of logical ones", idx)
			}
			return t, p, nil
		}
	}
	return nil, volume.Partition{}, argErrorf("no partition %d on this disk", idx)
}

// fileSystem opens (once) the file system of the partition args names,
// as a view under the request's context.
func (r *request) fileSystem() (*session, volume.Partition, *volume.FS, error) {
	sess, err := r.image()
	if err != nil {
		return nil, volume.Partition{}, nil, err
	}
	t, p, err := r.partition(sess)
	if err != nil {
		return nil, p, nil, err
	}
	v := &sess.vol
	v.mu.Lock()
	defer v.mu.Unlock()
	if fsys := v.fs[p.Index]; fsys != nil {
		return sess, p, fsys.WithContext(r.ctx), nil
	}
	fsys, err := volume.OpenFS(sess.img, p.Offset, p.Size, t.SectorSize)
	if err != nil {
		return nil, p, nil, sess.annotate(err)
	}
	if v.fs == nil {
		v.fs = map[int]*volume.FS{}
	}
	v.fs[p.Index] = fsys
	return sess, p, fsys.WithContext(r.ctx), nil
}

// pathArg returns args.path, "/" when absent.
func (r *request) pathArg(required bool) (string, error) {
	a := args{r.args}
	p, err := a.string("path")
	if err != nil {
		return "", err
	}
	if p == "" {
		if required {
			return "", argErrorf("path is required")
		}
		p = "/"
	}
	return p, nil
}

// fsPath is fileSystem plus args.path (required, or "/" when absent).
func (r *request) fsPath(required bool) (*session, volume.Partition, *volume.FS, string, error) {
	sess, p, fsys, err := r.fileSystem()
	if err != nil {
		return nil, p, nil, "", err
	}
	path, err := r.pathArg(required)
	if err != nil {
		return nil, p, nil, "", err
	}
	return sess, p, fsys, path, nil
}

// openedFile is the file args {image, partition, path} name, opened,
// reading under the request's context.
type openedFile struct {
	sess *session
	part volume.Partition
	path string
	*volume.File
}

// With args.deleted true, path and args.id name a deleted entry as ls
// lists it, and the file is what volume.FS.OpenDeleted recovers of it.
func (r *request) file() (*openedFile, error) {
	sess, p, fsys, path, err := r.fsPath(true)
	if err != nil {
		return nil, err
	}
	a := args{r.args}
	deleted, err := a.bool("deleted", false)
	if err != nil {
		return nil, err
	}
	var id int64
	if deleted {
		if id, err = a.int("id", 0); err != nil {
			return nil, err
		}
		if id < 0 {
			return nil, argErrorf("id %d is negative", id)
		}
	}
	f, err := sess.openFile(p, fsys, openFile{part: p.Index, path: path, deleted: deleted, id: uint64(id)})
	if err != nil {
		return nil, err
	}
	return &openedFile{sess, p, path, f.WithContext(r.ctx)}, nil
}

// openFile opens the file key names (f unset) on the partition, or takes
// it from the image's recently opened files.
func (sess *session) openFile(p volume.Partition, fsys *volume.FS, key openFile) (*volume.File, error) {
	v := &sess.vol
	v.mu.Lock()
	for i, of := range v.files {
		if of.part == key.part && of.path == key.path && of.deleted == key.deleted && of.id == key.id {
			v.files = append(append(v.files[:i:i], v.files[i+1:]...), of)
			v.mu.Unlock()
			return of.f, nil
		}
	}
	v.mu.Unlock()
	var f *volume.File
	var err error
	if key.deleted {
		f, err = fsys.OpenDeleted(volume.Entry{Path: key.path, ID: key.id})
	} else {
		f, err = fsys.OpenFile(key.path)
	}
	if err != nil {
		return nil, sess.annotate(err)
	}
	v.mu.Lock()
	if len(v.files) >= openFiles {
		v.files = v.files[1:]
	}
	key.f = f
	v.files = append(v.files, key)
	v.mu.Unlock()
	return f, nil
}

// partsValue is a partition as the page sees it: the table's entry plus
// whether ls can read its file system.
type partsValue struct {
	volume.Partition
	Supported bool `json:"supported"`
}

// parts: {image} → the partition table, each partition with `supported`.
func (r *request) parts() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	t, err := sess.partTable(r.ctx)
	if err != nil {
		return reply{}, err
	}
	type table struct {
		*volume.Table
		Partitions []partsValue `json:"partitions"`
	}
	out := table{Table: t, Partitions: []partsValue{}}
	for _, p := range t.Partitions {
		out.Partitions = append(out.Partitions, partsValue{p, !p.Extended && volume.Supported(p.FileSystem)})
	}
	v, err := jsonValue(out)
	return reply{v: v}, err
}

// journalValue is an ext journal's replay as the page sees it, with the
// sentence to show.
type journalValue struct {
	*volume.JournalReplay
	Note string `json:"note"`
}

// ls: {image, partition, path?} → {partition, path, fs: {type, name, label,
// journal?}, entries, truncated?, incomplete?}.
func (r *request) ls() (reply, error) {
	sess, p, fsys, path, err := r.fsPath(false)
	if err != nil {
		return reply{}, err
	}
	entries, err := fsys.List(path)
	truncated := errors.Is(err, volume.ErrTruncated)
	incomplete := "" // what could not be read
	if errors.Is(err, volume.ErrIncomplete) {
		incomplete = err.Error()
	} else if err != nil && !truncated {
		return reply{}, sess.annotate(err)
	}
	if entries == nil {
		entries = []volume.Entry{}
	}
	res := struct {
		Partition  int            `json:"partition"`
		Path       string         `json:"path"`
		FS         map[string]any `json:"fs"`
		Entries    []volume.Entry `json:"entries"`
		Truncated  bool           `json:"truncated,omitempty"`
		Incomplete string         `json:"incomplete,omitempty"`
	}{p.Index, path, map[string]any{"type": fsys.Type(), "name": volume.FSName(fsys.Type()), "label": fsys.Label()}, entries, truncated, incomplete}
	if j := fsys.Journal(); j != nil {
		res.FS["journal"] = journalValue{j, j.Note()}
	}
	v, err := jsonValue(res)
	return reply{v: v}, err
}

// stat: {image, partition, path} → the path's entry.
func (r *request) stat() (reply, error) {
	sess, _, fsys, path, err := r.fsPath(true)
	if err != nil {
		return reply{}, err
	}
	e, err := fsys.Lookup(path)
	if err != nil {
		return reply{}, sess.annotate(err)
	}
	v, err := jsonValue(e)
	return reply{v: v}, err
}

// ntfsInfo: {image, partition, path} → what the MFT record of path's
// file holds (volume.NTFSFile): record number and disk offset, attributes,
// DOS attribute bits, times, streams. NTFS only.
func (r *request) ntfsInfo() (reply, error) {
	sess, _, fsys, path, err := r.fsPath(true)
	if err != nil {
		return reply{}, err
	}
	info, err := fsys.NTFSFile(path)
	if err != nil {
		return reply{}, sess.annotate(err)
	}
	v, err := jsonValue(info)
	return reply{v: v}, err
}

// fileRead: {image, partition, path, offset, length} → ArrayBuffer of the
// file's bytes, shorter at its end.
func (r *request) fileRead() (reply, error) {
	f, err := r.file()
	if err != nil {
		return reply{}, err
	}
	off, n, err := r.readWindow("file_read", f.Size())
	if err != nil {
		return reply{}, err
	}
	buf := make([]byte, n)
	if n > 0 {
		if k, err := f.ReadAt(buf, off); err != nil && !(err == io.EOF && int64(k) == n) {
			return reply{}, f.sess.annotate(err)
		}
	}
	return bufferReply(buf), nil
}

// filePlan: {image, partition, path, offset?, length?, limit?} → {size,
// mapped, offset, end, next, runs}: plan runs in file coordinates.
func (r *request) filePlan() (reply, error) {
	f, err := r.file()
	if err != nil {
		return reply{}, err
	}
	pg, err := r.planPage("file_plan", f.Size())
	if err != nil {
		return reply{}, err
	}
	res := newObject()
	res.Set("size", float64(f.Size()))
	_, mapped := f.Extents()
	res.Set("mapped", mapped)
	if !mapped {
		res.Set("offset", float64(pg.off))
		res.Set("end", float64(pg.off))
		res.Set("next", js.Null())
		res.Set("runs", newArray())
		return reply{v: res}, nil
	}
	return r.planReply(f.sess, res, pg, func(emit func(core.Run) error) error {
		return fileRuns(r.ctx, f.sess.img, f.File, pg.off, pg.n, emit)
	})
}

// fileRuns emits the plan of file bytes [off, off+n) in file coordinates:
// the file system's zero pieces as zero runs, the rest as the disk's own
// plan of where the piece lies, shifted to file offsets.
func fileRuns(ctx context.Context, img disk.Image, f *volume.File, off, n int64, emit func(core.Run) error) error {
	return f.MapRange(off, n, func(fileOff, diskOff, length int64) error {
		if diskOff < 0 {
			return emit(core.Run{Kind: core.RunZero, Offset: fileOff, Length: length})
		}
		shift := fileOff - diskOff
		return img.Plan(ctx, diskOff, length, func(run core.Run) error {
			run.Offset += shift
			return emit(run)
		})
	})
}
