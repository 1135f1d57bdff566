//go:build js && wasm && !nofs

package main

// The scan ops: hash and search of the virtual disk, a range of it, a
// partition or a file of a partition (package scan, like `vhdx hash` and
// `vhdx search`).
//
// Hashing runs in hash-wasm's hashers when the worker loaded them
// (worker.js offers them as vhdxviewEngine.newHasher): Go's crypto in wasm
// has no assembly and is about half as fast. The engine still walks the
// plan, so zero runs are fed from a zero buffer and file runs are read by
// the worker straight from the image's Blob, never copied through Go.
// Without hash-wasm (Node tests, a build without it) scan.Hash does it.

import (
	"fmt"
	"io"
	"syscall/js"

	"github.com/vhdxview/vhdxview/bridge"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/scan"
)

// hashChunk is how many bytes a hash hands the worker's hasher at a time:
// the progress and cancel granularity. Larger reads cost fewer trips
// through the worker's event loop; two are in memory at once.
const hashChunk = 16 << 20

// scanTarget is what args {image, partition?, path?} name: the disk, a
// partition's range of it, or a file of the partition.
type scanTarget struct {
	sess *session
	src  scan.Source
	// direct: the source's file runs carry (Level, FileOffset) of the
	// image's files, so their bytes can be read from the Blobs.
	direct bool
}

func (r *request) scanTarget() (*scanTarget, error) {
	a := args{r.args}
	if absent(a.value("partition")) {
		if !absent(a.value("path")) {
			return nil, argErrorf("path needs partition")
		}
		sess, err := r.image()
		if err != nil {
			return nil, err
		}
		return &scanTarget{sess, sess.img, true}, nil
	}
	if absent(a.value("path")) {
		sess, err := r.image()
		if err != nil {
			return nil, err
		}
		_, p, err := r.partition(sess)
		if err != nil {
			return nil, err
		}
		return &scanTarget{sess, &scan.Window{Src: sess.img, Off: p.Offset, Len: p.Size}, true}, nil
	}
	f, err := r.file()
	if err != nil {
		return nil, err
	}
	_, mapped := f.Extents()
	return &scanTarget{f.sess, scan.File{Disk: f.sess.img, F: f.File}, mapped}, nil
}

// window takes args {offset?, length?} within size: the rest by default.
func (r *request) window(size int64) (off, n int64, err error) {
	a := args{r.args}
	if off, err = a.int("offset", 0); err != nil {
		return 0, 0, err
	}
	if off > size {
		return 0, 0, argErrorf("offset %d is past the end (%d bytes)", off, size)
	}
	if n, err = a.int("length", size-off); err != nil {
		return 0, 0, err
	}
	return off, min(n, size-off), nil
}

// hash: {image, partition?, path?, offset?, length?, algorithms?, via?} →
// {sha256?, sha1?, md5?} (lowercase hex), with progress {done, total} in
// bytes. algorithms defaults to ["sha256"]; via "go" hashes with Go's
// crypto even when hash-wasm is there (benchmarks).
func (r *request) hash() (reply, error) {
	a := args{r.args}
	var algos []string
	if v := a.value("algorithms"); !absent(v) {
		if v.Type() != js.TypeObject || v.Get("length").Type() != js.TypeNumber {
			return reply{}, argErrorf("algorithms must be an array of names (sha256, sha1, md5)")
		}
		list := ""
		for i := 0; i < v.Length(); i++ {
			if v.Index(i).Type() != js.TypeString {
				return reply{}, argErrorf("algorithms must be an array of names (sha256, sha1, md5)")
			}
			list += v.Index(i).String() + ","
		}
		var err error
		if algos, err = scan.ParseAlgorithms(list); err != nil {
			return reply{}, argErrorf("%v", err)
		}
	} else {
		algos = []string{"sha256"}
	}
	via, err := a.string("via")
	if err != nil {
		return reply{}, err
	}
	t, err := r.scanTarget()
	if err != nil {
		return reply{}, err
	}
	off, n, err := r.window(t.src.Size())
	if err != nil {
		return reply{}, err
	}
	var sums scan.Sums
	nh := js.Undefined()
	if e := js.Global().Get("vhdxviewEngine"); e.Type() == js.TypeObject {
		nh = e.Get("newHasher")
	}
	if via != "go" && nh.Type() == js.TypeFunction {
		sums, err = r.hashInWorker(t, nh, algos, off, n)
	} else {
		sums, err = scan.Hash(r.ctx, t.src, off, n, algos, r.progress)
	}
	if err != nil {
		return reply{}, t.sess.annotate(err)
	}
	res := newObject()
	for k, v := range sums {
		res.Set(k, v)
	}
	return reply{v: res}, nil
}

// hashInWorker walks the plan and feeds the worker's hasher: zero runs as
// counts, bytes runs as arrays, file runs as Blob ranges it reads itself
// (or, for a file the file system reads, bytes Go read).
func (r *request) hashInWorker(t *scanTarget, newHasher js.Value, algos []string, off, n int64) (sums scan.Sums, err error) {
	names := make([]any, len(algos))
	for i, a := range algos {
		names[i] = a
	}
	h, err := bridge.AwaitPromise(r.ctx, newHasher.Invoke(names))
	if err != nil {
		return nil, fmt.Errorf("starting the hashers: %w", err)
	}
	defer func() {
		if p := recover(); p != nil { // a js.Error from the hasher (a Blob that cannot be read)
			err = fmt.Errorf("hashing: %v", p)
		}
	}()
	done := int64(0)
	var buf []byte
	r.progress(0, n)
	step := func(k int64) error {
		done += k
		r.progress(done, n)
		return r.ctx.Err()
	}
	err = t.src.Plan(r.ctx, off, n, func(run core.Run) error {
		for k := int64(0); k < run.Length; {
			c := min(hashChunk, run.Length-k)
			// Each call queues its work and returns a promise of the work
			// queued before it: awaiting it keeps one range reading while
			// the one before is hashed (worker.js).
			var queued js.Value
			switch {
			case run.Kind == core.RunZero:
				queued = h.Call("zeros", float64(c))
			case run.Kind == core.RunBytes:
				queued = h.Call("bytes", uint8Array(run.Data[k:k+c]))
			case t.direct:
				fo := run.FileOffset + k
				queued = h.Call("blob", t.sess.files[run.Level].blob, float64(fo), float64(fo+c))
			default:
				if buf == nil {
					buf = make([]byte, hashChunk)
				}
				m, err := t.src.ReadAt(buf[:c], run.Offset+k)
				if int64(m) < c {
					if err == nil || err == io.EOF {
						err = io.ErrUnexpectedEOF
					}
					return err
				}
				queued = h.Call("bytes", uint8Array(buf[:c]))
			}
			if _, err := bridge.AwaitPromise(r.ctx, queued); err != nil {
				return fmt.Errorf("hashing: %w", err)
			}
			k += c
			if err := step(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d, err := bridge.AwaitPromise(r.ctx, h.Call("digest"))
	if err != nil {
		return nil, fmt.Errorf("hashing: %w", err)
	}
	sums = scan.Sums{}
	for _, a := range algos {
		sums[a] = d.Get(a).String()
	}
	return sums, nil
}

// search: {image, partition?, path?, pattern, offset?, length?, limit?} →
// {hits, next}: offsets where pattern (a Uint8Array, 1 to 65536 bytes)
// starts, at most limit (default and most 1048576) of them; next is where
// to go on, or null when the range is done. Progress {done, total} in
// bytes.
func (r *request) search() (reply, error) {
	a := args{r.args}
	pv := a.value("pattern")
	if absent(pv) || !pv.InstanceOf(js.Global().Get("Uint8Array")) {
		return reply{}, argErrorf("pattern must be a Uint8Array")
	}
	if l := pv.Length(); l < 1 || l > scan.MaxPattern {
		return reply{}, argErrorf("pattern must be 1 to %d bytes, not %d", scan.MaxPattern, l)
	}
	pat := make([]byte, pv.Length())
	js.CopyBytesToGo(pat, pv)
	limit, err := a.int("limit", scan.MaxHits)
	if err != nil {
		return reply{}, err
	}
	if limit < 1 || limit > scan.MaxHits {
		return reply{}, argErrorf("limit must be from 1 to %d", scan.MaxHits)
	}
	t, err := r.scanTarget()
	if err != nil {
		return reply{}, err
	}
	off, n, err := r.window(t.src.Size())
	if err != nil {
		return reply{}, err
	}
	res, err := scan.Search(r.ctx, t.src, pat, off, n, int(limit), r.progress)
	if err != nil {
		return reply{}, t.sess.annotate(err)
	}
	hits := make([]any, len(res.Hits))
	for i, h := range res.Hits {
		hits[i] = float64(h)
	}
	out := newObject()
	out.Set("hits", hits)
	if res.Next < 0 {
		out.Set("next", js.Null())
	} else {
		out.Set("next", float64(res.Next))
	}
	return reply{v: out}, nil
}
