package volume

// Recovering deleted files: the bytes a file system still maps for an
// entry it has removed. Each reader says, cheaply while listing, whether
// a deleted entry can be recovered and what to beware of (Entry.
// Recoverable, Entry.RecoverNote), and maps its bytes when opened:
//
//   - FAT: deleting clears the cluster chain but keeps the first cluster
//     and size in the 0xE5 entry; the bytes are read from the clusters
//     that follow it, the usual recovery assumption (a file written to a
//     volume with room to spare is contiguous).
//   - ext: debugfs and old kernels leave a freed inode's block map or
//     extents in place (dtime set, no links); Linux's ext4 (for ext2 and
//     ext3 too) sets the size to 0 and clears them, and then nothing
//     says where the bytes were.
//   - NTFS: a freed MFT record keeps its attributes; the unnamed $DATA's
//     run list (or resident value) still says where the bytes are.
//
// The clusters or blocks are free, so anything written since may have
// reused them: recovered bytes are evidence, not the file.

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// ErrNotRecoverable: OpenDeleted cannot map the deleted entry's bytes;
// the error says why (as Entry.RecoverNote does).
var ErrNotRecoverable = errors.New("deleted file not recoverable")

// deletedOpener is what a reader implements to recover deleted entries
// that its readDir listed, with Recoverable and RecoverNote set. dir is
// the entry's directory.
type deletedOpener interface {
	openDeleted(ctx context.Context, dir string, e Entry) (fileImpl, error)
}

// notRecoverable is the error for a reason why not.
func notRecoverable(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrNotRecoverable, fmt.Sprintf(format, a...))
}

// setRecovery records on a deleted entry whether it can be recovered:
// note is what to beware of when ok, why not otherwise.
func (e *Entry) setRecovery(ok bool, note string) {
	e.Recoverable, e.RecoverNote = ok, note
}

// OpenDeleted opens the bytes a deleted entry (as List gives it, with
// Recoverable set) still has on the volume, read under f's context. They
// are recovered data: the file system has freed them, so they may have
// been overwritten since, and the entry's RecoverNote says what else to
// beware of (on FAT, that the file's clusters are assumed contiguous).
// Only e.Path and e.ID are used: the entry is looked up again in its
// directory, so an Entry made up by the caller opens nothing that List
// would not show. The File's Stat gives the listed entry.
//
// Errors, in an *FSError: ErrNotFound when the directory has no such
// deleted entry, ErrNotRecoverable (saying why) when its bytes cannot be
// mapped: a directory, an inode or MFT record reused by another file,
// ext4 having cleared the extents, a FAT first cluster in use again.
func (f *FS) OpenDeleted(e Entry) (*File, error) {
	p := cleanPath(e.Path)
	var fi fileImpl
	var listed Entry
	err := f.call("open deleted", p, func(ctx context.Context) (err error) {
		if p == "/" {
			return ErrNotFound
		}
		dir := path.Dir(p)
		es, err := f.v.impl.readDir(ctx, dir)
		if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrIncomplete) {
			return err
		}
		i := slices.IndexFunc(es, func(c Entry) bool { return c.Deleted && c.Path == p && c.ID == e.ID })
		if i < 0 {
			return fmt.Errorf("%w: no deleted entry %s with ID %d", ErrNotFound, p, e.ID)
		}
		listed = es[i]
		d, ok := f.v.impl.(deletedOpener)
		switch {
		case !ok:
			return notRecoverable("%s does not keep deleted files' bytes", f.v.kind)
		case !listed.Recoverable:
			return notRecoverable("%s", listed.RecoverNote)
		}
		fi, err = d.openDeleted(ctx, dir, listed)
		return err
	})
	if err != nil {
		return nil, err
	}
	name := path.Base(p)
	return &File{fs: f, impl: fi, path: p, name: name, info: &fileInfo{e: listed, name: name}}, nil
}

// fatRecovery says whether a deleted FAT entry's bytes can be found: its
// first cluster must be a data cluster that is free.
func (f *fatFS) fatRecovery(e fatEntry) (bool, string) {
	switch {
	case e.IsDir:
		return false, "a deleted directory: its entries may be listed, it has no bytes to recover"
	case e.Size == 0:
		return true, "an empty file"
	case !f.validCluster(e.cluster):
		return false, fmt.Sprintf("its first cluster (%d) is not a data cluster of this volume", e.cluster)
	}
	v, err := f.next(e.cluster)
	switch {
	case err != nil:
		return false, fmt.Sprintf("the FAT entry of its first cluster %d cannot be read: %v", e.cluster, err)
	case v != 0:
		return false, fmt.Sprintf("its first cluster (%d) is in use again by another file", e.cluster)
	}
	return true, "FAT forgets a deleted file's cluster chain: its clusters are assumed contiguous from the first, and they are free, so they may have been overwritten"
}

// openDeleted maps a deleted FAT file onto the clusters that follow its
// first, up to its size or the end of the volume.
func (f *fatFS) openDeleted(ctx context.Context, dir string, e Entry) (fileImpl, error) {
	if e.Size == 0 {
		return &extentFile{r: f.r}, nil
	}
	first := uint32(e.ID)
	avail := int64(f.b.clusters+2-first) * f.clusBytes // validCluster held when listed
	// A size past the volume's end is cut there.
	size := min(e.Size, avail)
	ext := []Extent{{Offset: 0, Length: (size + f.clusBytes - 1) / f.clusBytes * f.clusBytes, DiskOffset: f.dataOff + int64(first-2)*f.clusBytes}}
	return &extentFile{r: f.r, size: size, ext: ext}, nil
}

// extRecovery says whether a deleted ext entry's inode still maps its
// bytes: it must be free (no links, dtime set), a regular file, with a
// size and a block map or extents left in place.
func (f *extFS) extRecovery(ci *inode, isDir bool) (bool, string) {
	switch {
	case isDir:
		return false, "a deleted directory: it has no bytes to recover"
	case ci == nil:
		return false, "its inode cannot be read"
	case ci.links != 0 || ci.dtime == 0:
		return false, fmt.Sprintf("inode %d was reused: it belongs to a live file now", ci.num)
	case !ci.isReg():
		return false, fmt.Sprintf("inode %d is not a regular file (mode 0%o)", ci.num, ci.mode)
	case ci.flags&extFlagInlineData != 0:
		return true, "its bytes are inline in the inode, which is free and may be reused"
	}
	cleared := ci.size == 0
	if ci.flags&extFlagExtents != 0 {
		if entries := uint16(ci.block[2]) | uint16(ci.block[3])<<8; entries == 0 {
			return false, "ext4 cleared its extents when it was deleted"
		}
	} else if ci.block == [60]byte{} {
		return false, "its block map was cleared when it was deleted"
	}
	if cleared {
		return false, "its size was set to 0 when it was deleted"
	}
	return true, "its inode still maps its blocks; they are free, so they may have been overwritten"
}

// openDeleted maps a free inode's blocks as its block map or extents left
// them.
func (f *extFS) openDeleted(ctx context.Context, dir string, e Entry) (fileImpl, error) {
	ci, err := f.readInode(e.ID)
	if err != nil {
		return nil, err
	}
	if ok, why := f.extRecovery(ci, e.IsDir); !ok {
		return nil, notRecoverable("%s", why)
	}
	fi, err := f.contents(ctx, ci)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, notRecoverable("its block map: %v", err)
	}
	if x, ok := fi.(*extentFile); ok && !slices.ContainsFunc(x.ext, func(e Extent) bool { return e.DiskOffset >= 0 }) {
		return nil, notRecoverable("its block map maps no blocks")
	}
	return fi, nil
}

// ntfsDeleted gathers the unnamed $DATA of MFT record num, which a
// deleted entry named name in dir points to. The record is still the
// file's when it is in use (the file lives on under another name) or,
// free, still holds that name in dir; a free record that holds other
// names was reused since.
func (n *ntfsFS) ntfsDeleted(ctx context.Context, dir *mftFile, num uint64, name string) (*mftFile, *ntfsStream, string, error) {
	r, err := n.record(num)
	if err != nil {
		return nil, nil, "", notRecoverable("%v", err)
	}
	if r.base != 0 {
		return nil, nil, "", notRecoverable("MFT record %d was reused: it is part of record %d now", num, refNum(r.base))
	}
	var f *mftFile
	note := "its MFT record is free but still holds its run list; the clusters are free, so they may have been overwritten"
	if r.flags&recordInUse != 0 {
		if f, err = n.file(ctx, uint64(num)); err != nil {
			return nil, nil, "", notRecoverable("%v", err)
		}
		note = fmt.Sprintf("the file still exists under another name (MFT record %d): these are its current bytes", num)
	} else {
		named := false
		for _, a := range r.attrs {
			if a.typ == attrFileName && a.resident {
				if fn, err := parseFileName(a.value); err == nil && refNum(fn.parent) == dir.num && strings.EqualFold(fn.name, name) {
					named = true
				}
			}
		}
		if !named {
			return nil, nil, "", notRecoverable("MFT record %d was reused by another file", num)
		}
		for _, a := range r.attrs {
			if a.typ == attrAttributeList {
				return nil, nil, "", notRecoverable("its attributes were spread over several MFT records (an attribute list), freed with it")
			}
		}
		f = &mftFile{mftRecord: r, all: slices.Clone(r.attrs)}
	}
	s, ok := n.stream(f, attrData, "")
	if !ok {
		return nil, nil, "", notRecoverable("MFT record %d has no unnamed $DATA", num)
	}
	if err := s.damage(); err != nil {
		return nil, nil, "", notRecoverable("%v", err)
	}
	if s.resident {
		note = "its bytes are resident in its MFT record, which is free and may be reused"
	}
	return f, s, note, nil
}

// ntfsRecovery sets whether deleted entry e of dir can be recovered.
func (n *ntfsFS) ntfsRecovery(ctx context.Context, dir *mftFile, e *Entry) {
	if e.IsDir {
		e.setRecovery(false, "a deleted directory: it has no bytes to recover")
		return
	}
	_, _, note, err := n.ntfsDeleted(ctx, dir, e.ID, e.Name)
	if err != nil {
		e.setRecovery(false, strings.TrimPrefix(err.Error(), ErrNotRecoverable.Error()+": "))
		return
	}
	e.setRecovery(true, note)
}

// openDeleted reads a deleted file's unnamed $DATA.
func (n *ntfsFS) openDeleted(ctx context.Context, dir string, e Entry) (fileImpl, error) {
	d, _, err := n.lookup(ctx, dir)
	if err != nil {
		return nil, err
	}
	f, s, _, err := n.ntfsDeleted(ctx, d, e.ID, e.Name)
	if err != nil {
		return nil, err
	}
	return n.streamFile(f, s, "")
}
