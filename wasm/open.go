//go:build js && wasm

package main

// open and reopen: from one or more Blobs to an open disk. Package disk
// names each file by signature and opens VHDX and VHD chains (the leaf is
// the file no other file names as its parent; parents are matched by
// identity) and raw disks; raw: true reads any file as a raw disk.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall/js"

	"github.com/vhdxview/vhdxview/bridge"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
)

// file is one Blob/File given to open (or read back from the store).
type file struct {
	blob    js.Value
	r       *bridge.BlobReader
	name    string
	size    int64
	mod     int64 // File.lastModified, ms; 0 for a plain Blob
	fromIDB bool  // the Blob came from the store

	hash, key string // fingerprint (store.go), set by fingerprint()
}

// session is an open disk.
type session struct {
	id    int
	img   *disk.Disk
	files []*file // files[k] is chain level k
	// missing is set when the chain's last disk has no parent attached
	// (partial: true, or a locator that names no parent), for the summary
	// and read errors.
	missing *disk.Missing
	// used[k] is the index, in the files given to open, of chain level
	// k's file; skipped are the other files given, each with why.
	used    []int
	skipped []skippedFile
	// vol is what the inside-the-disk ops have read (volume.go).
	vol volumes
}

func (sess *session) key() string { return sess.files[0].key }

// skippedFile is a file given to open that is not part of the opened
// disk: index is its place in the files given, err says why (it names the
// file).
type skippedFile struct {
	index int
	err   error
}

// Summary is the short description of an open image: what the page shows
// first and what the store keeps as the record's summary.
type Summary struct {
	Name               string         `json:"name"`
	Format             string         `json:"format"` // vhdx | vhd | raw
	Type               string         `json:"type"`   // fixed | dynamic | differencing | raw
	VirtualSize        int64          `json:"virtual_size"`
	BlockSize          int64          `json:"block_size"`
	LogicalSectorSize  int64          `json:"logical_sector_size"`
	PhysicalSectorSize int64          `json:"physical_sector_size"`
	PayloadBlocks      int64          `json:"payload_blocks"`
	FileSize           int64          `json:"file_size"`
	VirtualDiskID      string         `json:"virtual_disk_id"`     // VHDX
	UniqueID           string         `json:"unique_id,omitempty"` // VHD
	DataWriteGUID      string         `json:"data_write_guid"`
	Creator            string         `json:"creator"`
	LogReplayed        bool           `json:"log_replayed"`
	Chain              []SummaryLevel `json:"chain"`
	// ParentMissing names the parent not attached: its chain level and
	// file name, the disk that names it (child, level), the locator's
	// linkages and paths, why each other file given is not it (tried),
	// and unidentified when the child names no parent to match.
	ParentMissing *disk.Missing `json:"parent_missing,omitempty"`
}

// SummaryLevel is one file of the chain; level 0 is the image itself.
type SummaryLevel struct {
	Level       int    `json:"level"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	FileSize    int64  `json:"file_size"`
	Key         string `json:"key,omitempty"` // store key of the file
	LogReplayed bool   `json:"log_replayed"`
}

// summary describes chain level k of sess.
func (sess *session) summary(k int) *Summary {
	f := sess.img.Facts(k)
	sum := &Summary{
		Name: f.Name, Format: f.Format, Type: f.Type, VirtualSize: f.VirtualSize, BlockSize: f.BlockSize,
		LogicalSectorSize: f.LogicalSectorSize, PhysicalSectorSize: f.PhysicalSectorSize,
		PayloadBlocks: f.Blocks, FileSize: f.FileSize, DataWriteGUID: f.DataWriteGUID, Creator: f.Creator, LogReplayed: f.LogReplayed,
	}
	if f.Format == disk.FormatVHD {
		sum.UniqueID = f.ID
	} else {
		sum.VirtualDiskID = f.ID
	}
	for j := k; j < sess.img.Levels(); j++ {
		lvl := sess.img.Facts(j)
		sum.Chain = append(sum.Chain, SummaryLevel{Level: j - k, Name: lvl.Name, Type: lvl.Type, FileSize: lvl.FileSize,
			Key: sess.files[j].key, LogReplayed: lvl.LogReplayed})
	}
	if k == 0 && sess.missing != nil {
		sum.ParentMissing = sess.missing
	}
	return sum
}

// open: {files, partial?, raw?, store?, keep_bytes?} → {image, key, summary, files, used, skipped?, store_error?}
//
// store: false remembers nothing; keep_bytes: false remembers the image
// (its record: summary, verify verdict, user state) but not its bytes,
// which is what a page does until its user agrees to keep copies.
func (r *request) open() (reply, error) {
	a := args{r.args}
	partial, err := a.bool("partial", false)
	if err != nil {
		return reply{}, err
	}
	raw, err := a.bool("raw", false)
	if err != nil {
		return reply{}, err
	}
	remember, err := a.bool("store", true)
	if err != nil {
		return reply{}, err
	}
	keepBytes, err := a.bool("keep_bytes", true)
	if err != nil {
		return reply{}, err
	}
	list := a.value("files")
	if !absent(list) && list.Type() == js.TypeObject && list.Get("length").Type() != js.TypeNumber {
		list = js.Global().Get("Array").Call("of", list) // one File
	}
	if absent(list) || list.Type() != js.TypeObject {
		return reply{}, argErrorf("files must be a File, an array of Files or a FileList")
	}
	n := list.Get("length").Int()
	if n == 0 || n > MaxFiles {
		return reply{}, argErrorf("files must hold 1 to %d files, not %d", MaxFiles, n)
	}
	var files []*file
	for i := 0; i < n; i++ {
		f, err := r.s.newFile(list.Index(i), i, false)
		if err != nil {
			return reply{}, err
		}
		files = append(files, f)
	}
	return r.openFiles(files, openOpts{partial: partial, raw: raw}, storeChoice{record: remember, bytes: keepBytes})
}

// openOpts are open's (and reopen's) choices of how to open the files.
type openOpts struct{ partial, raw bool }

// storeChoice is what an open keeps in the image store: the records of
// the chain's files, and (only with record) their bytes.
type storeChoice struct{ record, bytes bool }

// newFile wraps a Blob (or File) in a reader.
func (s *Server) newFile(b js.Value, i int, fromIDB bool) (*file, error) {
	rd, err := bridge.NewBlobReader(b, s.readerOpts...)
	if err != nil {
		return nil, argErrorf("files[%d] is not a File or Blob: %v", i, err)
	}
	f := &file{blob: b, r: rd, size: rd.Size(), fromIDB: fromIDB}
	if v := b.Get("name"); v.Type() == js.TypeString && v.String() != "" {
		f.name = v.String()
	} else {
		f.name = fmt.Sprintf("image-%d.vhdx", i+1)
	}
	if v := b.Get("lastModified"); v.Type() == js.TypeNumber {
		f.mod = int64(v.Float())
	}
	return f, nil
}

// openFiles opens the leaf of files with the others as parent candidates,
// registers the session and remembers the chain's files in the store.
func (r *request) openFiles(files []*file, o openOpts, keep storeChoice) (reply, error) {
	sess, err := r.s.openChain(r.ctx, files, o)
	if err != nil {
		return reply{}, err
	}
	for _, f := range sess.files {
		if err := f.fingerprint(); err != nil {
			return reply{}, &fileError{f.name, err}
		}
	}
	r.s.mu.Lock()
	r.s.nextImg++
	sess.id = r.s.nextImg
	r.s.images[sess.id] = sess
	r.s.mu.Unlock()

	var storeErr error
	var after func()
	if keep.record && r.s.storeEnabled() {
		storeErr = r.s.remember(r.ctx, sess)
		if storeErr == nil && keep.bytes {
			after = func() { r.s.storeBytes(sess) }
		}
	}
	res, err := r.sessionValue(sess)
	if err != nil {
		return reply{}, err
	}
	if storeErr != nil {
		res.Set("store_error", errorValue(storeErr))
	}
	return reply{v: res, after: after}, nil
}

// sessionValue is the result of open and reopen.
func (r *request) sessionValue(sess *session) (js.Value, error) {
	sum, err := jsonValue(sess.summary(0))
	if err != nil {
		return js.Undefined(), err
	}
	res := newObject()
	res.Set("image", sess.id)
	if k := sess.key(); k != "" && r.s.storeEnabled() {
		res.Set("key", k)
	} else {
		res.Set("key", js.Null())
	}
	res.Set("summary", sum)
	blobs := make([]any, len(sess.files))
	for i, f := range sess.files {
		blobs[i] = f.blob
	}
	res.Set("files", blobs)
	used := make([]any, len(sess.used))
	for k, i := range sess.used {
		used[k] = i
	}
	res.Set("used", used)
	if len(sess.skipped) > 0 {
		res.Set("skipped", skippedValue(sess.skipped))
	}
	return res, nil
}

// skippedValue lists skipped files as error objects, each with the file's
// name (file) and its index in the files given (index).
func skippedValue(list []skippedFile) []any {
	var out []any
	for _, sk := range list {
		v := errorValue(sk.err)
		v.Set("index", sk.index)
		out = append(out, v)
	}
	return out
}

// openChain opens the disk among files with disk.OpenFiles: it finds the
// leaf, attaches the parents it is given and skips what it cannot open.
func (s *Server) openChain(ctx context.Context, files []*file, o openOpts) (*session, error) {
	given := make([]core.File, len(files))
	for i, f := range files {
		given[i] = core.File{Name: f.name, R: f.r, Size: f.size}
	}
	disks, skipped, err := disk.OpenFiles(ctx, given, &disk.Options{Options: core.Options{Partial: o.partial}, Raw: o.raw})
	// Each skipped file by its index among the files given (names may
	// repeat: the first index not yet taken).
	taken := make([]bool, len(files))
	indexOf := func(match func(f *file) bool) int {
		for i, f := range files {
			if !taken[i] && match(f) {
				taken[i] = true
				return i
			}
		}
		return -1
	}
	var skippedFiles []skippedFile
	for _, sk := range skipped {
		why := sk.Err
		if why == nil {
			why = &protoError{name: "UnusedFileError", msg: sk.Reason}
		}
		skippedFiles = append(skippedFiles, skippedFile{indexOf(func(f *file) bool { return f.name == sk.Name }), &fileError{sk.Name, why}})
	}
	if err != nil {
		if len(files) == 1 && errors.Is(err, core.ErrFormat) {
			fe := &fileError{files[0].name, err}
			if in, _ := disk.Inspect(ctx, given[0]); in != nil && ctx.Err() == nil {
				return nil, &inspectedError{fe, in}
			}
			return nil, fe
		}
		if len(skippedFiles) > 0 && disk.MissingOf(err) != nil {
			// The parent panel lists what else was given and why it is
			// not used (a PNG dropped with a child).
			return nil, &withSkipped{err: err, skipped: skippedFiles}
		}
		return nil, err
	}
	// Several disks: a differencing chain among them is what the user
	// opened (with a stray disk dropped along); the others are listed as
	// skipped. Separate plain disks are an error naming them.
	if len(disks) > 1 && !preferred(disks) {
		var names []any
		var s []string
		for _, d := range disks {
			names = append(names, d.Facts(0).Name)
			s = append(s, d.Facts(0).Name)
		}
		return nil, &protoError{name: "MultipleImagesError", fields: map[string]any{"files": names},
			msg: fmt.Sprintf("%d of the files are separate disks, not one differencing chain (%s); open them one at a time", len(disks), strings.Join(s, ", "))}
	}
	sess := &session{img: disks[0], missing: disks[0].Facts(0).Missing, skipped: skippedFiles}
	for k := range sess.img.Levels() {
		rd, _, _ := sess.img.File(k)
		if i := indexOf(func(f *file) bool { return rd == io.ReaderAt(f.r) }); i >= 0 {
			sess.files = append(sess.files, files[i])
			sess.used = append(sess.used, i)
		}
	}
	if len(sess.files) != sess.img.Levels() {
		return nil, &internalError{msg: "chain files do not match the chain"}
	}
	separate := "a separate disk, not part of this chain; open it on its own"
	if m := sess.missing; m != nil && m.Unidentified {
		// The chain's end names no parent: say why this disk is not it.
		separate = fmt.Sprintf("a separate disk: %s names no parent it could be matched with (%s), so none is attached; open it on its own",
			m.Child, strings.TrimPrefix(strings.TrimPrefix(m.Message, "vhdx: "), m.Child+": "))
	}
	for _, other := range disks[1:] {
		for k := range other.Levels() {
			rd, _, _ := other.File(k)
			i := indexOf(func(f *file) bool { return rd == io.ReaderAt(f.r) })
			name := other.Facts(k).Name
			var why error = &protoError{name: "SeparateDiskError", msg: separate}
			if k > 0 {
				why = &protoError{name: "UnusedFileError", msg: fmt.Sprintf("chain level %d of %s, a separate disk", k, other.Facts(0).Name)}
			}
			sess.skipped = append(sess.skipped, skippedFile{i, &fileError{name, why}})
		}
	}
	return sess, nil
}

// preferred says whether the first of several disks is clearly the one
// meant: a longer chain than the next, or a differencing disk beside plain
// ones.
func preferred(disks []*disk.Disk) bool {
	a, b := disks[0], disks[1]
	return a.Levels() > b.Levels() || (a.Facts(0).Type == "differencing" && b.Facts(0).Type != "differencing")
}
