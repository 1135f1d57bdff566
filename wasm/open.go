//go:build js && wasm

package main

// open and reopen: from one or more Blobs to an open image. Each file is
// opened alone first; the leaf is the file no other file names as its
// parent, and it is opened again with the other files offered to the
// engine's parent resolver, which matches them by DataWriteGuid.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall/js"

	"github.com/vhdxview/vhdxview/bridge"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/sniff"
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

// session is an open image.
type session struct {
	id    int
	img   *core.Image
	files []*file // files[k] is chain level k
	// missing is set when the image was opened with partial: true and its
	// parent was not found (the chain error, for the summary).
	missing *core.ChainError
	// skipped are files given with others that are not VHDX at all.
	skipped []error
	// vol is what the inside-the-disk ops have read (volume.go).
	vol volumes
	// infos[k] is chain level k's Info, built once: the image does not
	// change after open, and map asks for its block count every page.
	infos []*core.Info
}

// info describes chain level k (0 = the image).
func (sess *session) info(k int) *core.Info { return sess.infos[k] }

func (sess *session) key() string { return sess.files[0].key }

// Summary is the short description of an open image: what the page shows
// first and what the store keeps as the record's summary.
type Summary struct {
	Name               string         `json:"name"`
	Type               string         `json:"type"`
	VirtualSize        int64          `json:"virtual_size"`
	BlockSize          int64          `json:"block_size"`
	LogicalSectorSize  int64          `json:"logical_sector_size"`
	PhysicalSectorSize int64          `json:"physical_sector_size"`
	PayloadBlocks      int64          `json:"payload_blocks"`
	FileSize           int64          `json:"file_size"`
	VirtualDiskID      string         `json:"virtual_disk_id"`
	DataWriteGUID      string         `json:"data_write_guid"`
	Creator            string         `json:"creator"`
	LogReplayed        bool           `json:"log_replayed"`
	Chain              []SummaryLevel `json:"chain"`
	ParentMissing      *MissingParent `json:"parent_missing,omitempty"`
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

// MissingParent names the parent that was not found (partial opens).
type MissingParent struct {
	Message  string    `json:"message"`
	Paths    []pathKey `json:"paths"`
	Linkages []string  `json:"linkages"`
}

// pathKey is one locator path with its key (relative_path, ...).
type pathKey struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// summary describes chain level k of sess.
func (sess *session) summary(k int) *Summary {
	in := sess.info(k)
	sum := &Summary{
		Name: in.Name, Type: in.Type, VirtualSize: in.VirtualSize, BlockSize: in.BlockSize,
		LogicalSectorSize: in.LogicalSectorSize, PhysicalSectorSize: in.PhysicalSectorSize,
		PayloadBlocks: in.PayloadBlocks, FileSize: in.FileSize, VirtualDiskID: in.VirtualDiskID,
		DataWriteGUID: in.DataWriteGUID, Creator: in.Creator, LogReplayed: in.LogReplayed,
	}
	for j, lvl := range in.Chain {
		sum.Chain = append(sum.Chain, SummaryLevel{Level: j, Name: lvl.Name, Type: lvl.Type, FileSize: lvl.FileSize,
			Key: sess.files[k+j].key, LogReplayed: lvl.LogReplayed})
	}
	if ce := in.MissingParent; ce != nil {
		mp := &MissingParent{Message: ce.Error(), Linkages: ce.Linkages}
		for _, p := range pathsValue(ce) {
			kv := p.(map[string]any)
			mp.Paths = append(mp.Paths, pathKey{Key: kv["key"].(string), Value: kv["value"].(string)})
		}
		sum.ParentMissing = mp
	}
	return sum
}

// open: {files, partial?, store?} → {image, key, summary, files, store_error?}
func (r *request) open() (reply, error) {
	a := args{r.args}
	partial, err := a.bool("partial", false)
	if err != nil {
		return reply{}, err
	}
	remember, err := a.bool("store", true)
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
	return r.openFiles(files, partial, remember)
}

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
func (r *request) openFiles(files []*file, partial, remember bool) (reply, error) {
	sess, err := r.s.openChain(r.ctx, files, partial)
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
	if remember && r.s.storeEnabled() {
		storeErr = r.s.remember(r.ctx, sess)
		if storeErr == nil {
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
	if len(sess.skipped) > 0 {
		var sk []any
		for _, e := range sess.skipped {
			sk = append(sk, errorValue(e))
		}
		res.Set("skipped", sk)
	}
	return res, nil
}

// openChain opens the disk among files with core.OpenFiles: it finds the
// leaf, attaches the parents it is given and skips what is not VHDX.
func (s *Server) openChain(ctx context.Context, files []*file, partial bool) (*session, error) {
	given := make([]core.File, len(files))
	for i, f := range files {
		given[i] = core.File{Name: f.name, R: f.r, Size: f.size}
	}
	images, skipped, err := core.OpenFiles(ctx, given, &core.Options{Partial: partial})
	if err != nil {
		var fe *core.FormatError
		if len(files) == 1 && errors.As(err, &fe) {
			return nil, &fileError{files[0].name, named(given[0], err)}
		}
		return nil, err
	}
	// Several disks: a differencing chain among them is what the user
	// opened (with a stray disk dropped along); the others are listed as
	// skipped. Separate plain disks are an error naming them.
	if len(images) > 1 && !preferred(images) {
		var names []any
		var s []string
		for _, img := range images {
			names = append(names, img.Info().Name)
			s = append(s, img.Info().Name)
		}
		return nil, &protoError{name: "MultipleImagesError", fields: map[string]any{"files": names},
			msg: fmt.Sprintf("%d of the files are separate disks, not one differencing chain (%s); open them one at a time", len(images), strings.Join(s, ", "))}
	}
	sess := &session{img: images[0]}
	for _, lvl := range sess.img.Chain() {
		sess.infos = append(sess.infos, lvl.Info())
	}
	for _, sk := range skipped {
		if sk.Err != nil {
			for _, f := range given {
				if f.Name == sk.Name {
					sk.Err = named(f, sk.Err)
				}
			}
			sess.skipped = append(sess.skipped, &fileError{sk.Name, sk.Err})
		}
	}
	for _, other := range images[1:] {
		name := other.Info().Name
		sess.skipped = append(sess.skipped, &fileError{name, &protoError{name: "SeparateDiskError",
			msg: "a separate disk, not part of this chain; open it on its own"}})
	}
	sess.missing = sess.info(0).MissingParent
	for k := range sess.img.Chain() {
		rd, _, _ := sess.img.File(k)
		for _, f := range files {
			if rd == io.ReaderAt(f.r) {
				sess.files = append(sess.files, f)
				break
			}
		}
	}
	if len(sess.files) != len(sess.img.Chain()) {
		return nil, &internalError{msg: "chain files do not match the chain"}
	}
	return sess, nil
}

// kindError is a file that is no VHDX, with what its signature says it is
// (sniff), so the page can name it: "a VMDK image", not "a damaged VHDX".
type kindError struct {
	err  error
	kind sniff.Kind
}

func (e *kindError) Error() string {
	return fmt.Sprintf("%s, not a VHDX image (%v)", e.kind.Name, e.err)
}
func (e *kindError) Unwrap() error { return e.err }

// named adds the file's kind to an error that says it is no VHDX.
func named(f core.File, err error) error {
	if !errors.Is(err, core.ErrNotVHDX) {
		return err
	}
	return &kindError{err: err, kind: sniff.Identify(f.R, f.Size)}
}

// preferred says whether the first of several disks is clearly the one
// meant: a longer chain than the next, or a differencing disk beside plain
// ones.
func preferred(images []*core.Image) bool {
	a, b := images[0].Info(), images[1].Info()
	return len(a.Chain) > len(b.Chain) || (a.Type == "differencing" && b.Type != "differencing")
}
