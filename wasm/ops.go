//go:build js && wasm

package main

// The ops on an open image: info, verify, read, map, plan, close.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall/js"

	"github.com/vhdxview/vhdxview/core"
)

// info: {image} → the format's Info (what `vhdx info --json` prints):
// core.Info, vhd.Info or disk.RawInfo, told apart by "format".
func (r *request) info() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	v, err := jsonValue(sess.img.Info())
	return reply{v: v}, err
}

// verify: {image} → core.Report, with progress {done, total} in BAT
// entries. The report is kept in the image's store record.
func (r *request) verify() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	rep := sess.img.Verify(r.ctx, r.progress)
	if err := r.ctx.Err(); err != nil {
		return reply{}, err
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return reply{}, err
	}
	v := parseJSON(string(b))
	if k := sess.key(); k != "" && r.s.storeEnabled() {
		if err := r.s.saveVerify(r.ctx, k, string(b)); err != nil {
			v.Set("store_error", errorValue(err))
		}
	}
	return reply{v: v}, nil
}

// read: {image, offset, length} → ArrayBuffer (transferred) of the virtual
// disk bytes; shorter than length at the end of the disk.
func (r *request) read() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	off, n, err := r.readWindow("read", sess.img.Size())
	if err != nil {
		return reply{}, err
	}
	return r.readToJS(sess, off, n)
}

// readToJS answers a read with the bytes of [off, off+n) of the virtual
// disk composed in JS from its plan: file runs read from the image's
// Blobs straight into ArrayBuffers, zero runs left as the new array's
// zeros, replayed log pages copied from Go. The payload never passes
// through Go's memory (a copy in and a copy out), and a range inside one
// file run is the browser's own ArrayBuffer, transferred untouched.
func (r *request) readToJS(sess *session, off, n int64) (reply, error) {
	var runs []core.Run
	err := sess.img.Plan(r.ctx, off, n, func(run core.Run) error {
		runs = append(runs, run)
		return r.ctx.Err()
	})
	if err != nil {
		return reply{}, sess.annotate(err)
	}
	fileBytes := func(run core.Run) (js.Value, error) {
		return sess.files[run.Level].r.ArrayBuffer(run.FileOffset, run.Length)
	}
	if len(runs) == 1 && runs[0].Kind == core.RunFile && runs[0].Length == n {
		ab, err := fileBytes(runs[0])
		if err != nil {
			return reply{}, err
		}
		return reply{v: ab, transfer: []any{ab}}, nil
	}
	u8 := js.Global().Get("Uint8Array")
	out := u8.New(n)
	for _, run := range runs {
		at := run.Offset - off
		switch run.Kind {
		case core.RunFile:
			ab, err := fileBytes(run)
			if err != nil {
				return reply{}, err
			}
			out.Call("set", u8.New(ab), at)
		case core.RunBytes:
			if int64(len(run.Data)) != run.Length {
				return reply{}, fmt.Errorf("vhdx: plan: bytes run of %d bytes holds %d", run.Length, len(run.Data))
			}
			js.CopyBytesToJS(out.Call("subarray", at, at+run.Length), run.Data)
		}
		if err := r.ctx.Err(); err != nil {
			return reply{}, err
		}
	}
	ab := out.Get("buffer")
	return reply{v: ab, transfer: []any{ab}}, nil
}

// readWindow takes args {offset, length} of a read of something size
// bytes long: length at most MaxRead, clipped at the end.
func (r *request) readWindow(op string, size int64) (off, n int64, err error) {
	a := args{r.args}
	if off, err = a.required("offset"); err != nil {
		return 0, 0, err
	}
	if n, err = a.required("length"); err != nil {
		return 0, 0, err
	}
	if n > MaxRead {
		return 0, 0, argErrorf("%s: length %d is over the %d-byte limit of one request", op, n, MaxRead)
	}
	return off, min(n, size-min(off, size)), nil
}

// bufferReply transfers buf to the page as an ArrayBuffer.
func bufferReply(buf []byte) reply {
	ab := uint8Array(buf).Get("buffer")
	return reply{v: ab, transfer: []any{ab}}
}

// map: {image, first?, count?, level?} → {format, first, count, blocks,
// level, states: Uint8Array}. states[i] is the raw BAT state of payload
// block first+i (MS-VHDX 2.5.1.1: 0 NOT_PRESENT, 1 UNDEFINED, 2 ZERO, 3
// UNMAPPED, 6 FULLY_PRESENT, 7 PARTIALLY_PRESENT; others are damaged
// entries). A VHD's blocks come in the same numbers (disk.Disk.States:
// 0 not in the file, 6 in it, 7 in a differencing disk's file); a raw
// disk and a fixed VHD have no blocks (blocks: 0).
func (r *request) mapStates() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	a := args{r.args}
	level, err := a.int("level", 0)
	if err != nil {
		return reply{}, err
	}
	if level >= int64(sess.img.Levels()) {
		return reply{}, argErrorf("map: level %d, but the chain has %d levels", level, sess.img.Levels())
	}
	total := sess.img.Facts(int(level)).Blocks
	first, err := a.int("first", 0)
	if err != nil {
		return reply{}, err
	}
	count, err := a.int("count", MaxMapBlocks)
	if err != nil {
		return reply{}, err
	}
	first = min(first, total)
	count = min(count, MaxMapBlocks, total-first)
	states, err := sess.img.States(make([]core.PayloadState, 0, count), int(level), first, count)
	if err != nil {
		return reply{}, sess.annotate(err)
	}
	b := make([]byte, len(states))
	for i, st := range states {
		b[i] = byte(st)
	}
	u := uint8Array(b)
	res := newObject()
	res.Set("format", sess.img.Format())
	res.Set("first", float64(first))
	res.Set("count", float64(count))
	res.Set("blocks", float64(total))
	res.Set("level", level)
	res.Set("states", u)
	return reply{v: res, transfer: []any{u.Get("buffer")}}, nil
}

// planRun is a core.Run as the page sees it.
type planRun struct {
	Kind       string    `json:"kind"` // "zero" | "file" | "bytes"
	Offset     int64     `json:"offset"`
	Length     int64     `json:"length"`
	Level      *int      `json:"level,omitempty"`       // file
	FileOffset *int64    `json:"file_offset,omitempty"` // file
	Bad        *badBlock `json:"bad,omitempty"`         // zero, with zero_bad: the block it fills
}

// badBlock is why a zero_bad plan's zero run stands in for a block.
type badBlock struct {
	Message string `json:"message"`
	Level   int    `json:"level"`
	Block   int64  `json:"block"`
}

// errEnough stops a plan walk at the page's run limit.
var errEnough = errors.New("enough runs")

// plan: {image, offset?, length?, limit?, zero_bad?} → {offset, end, next,
// runs}. runs cover [offset, end); next is end, or null when the range is
// done. A "bytes" run carries data (Uint8Array, transferred). With
// zero_bad: true a block whose table entry is damaged is a "zero" run with
// bad: {message, level, block} instead of a BlockError.
func (r *request) plan() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	pg, err := r.planPage("plan", sess.img.Size())
	if err != nil {
		return reply{}, err
	}
	zeroBad, err := args{r.args}.bool("zero_bad", false)
	if err != nil {
		return reply{}, err
	}
	img := sess.img
	if zeroBad {
		img = img.ZeroBad()
	}
	return r.planReply(sess, newObject(), pg, func(emit func(core.Run) error) error {
		return img.Plan(r.ctx, pg.off, pg.n, emit)
	})
}

// planPage is one page of a plan: [off, off+n), at most limit runs.
type planPage struct{ off, n, limit int64 }

// planPage takes args {offset?, length?, limit?} of a plan of something
// size bytes long, clipped to it.
func (r *request) planPage(op string, size int64) (pg planPage, err error) {
	a := args{r.args}
	if pg.off, err = a.int("offset", 0); err != nil {
		return pg, err
	}
	if pg.n, err = a.int("length", max(size-pg.off, 0)); err != nil {
		return pg, err
	}
	if pg.limit, err = a.int("limit", DefaultRuns); err != nil {
		return pg, err
	}
	if pg.limit < 1 || pg.limit > MaxRuns {
		return pg, argErrorf("%s: limit must be from 1 to %d", op, MaxRuns)
	}
	pg.off = min(pg.off, size)
	pg.n = min(pg.n, size-pg.off)
	return pg, nil
}

// planReply runs walk, which emits the runs of pg in order, keeps the
// first pg.limit of them and sets {offset, end, next, runs} on res: runs
// cover [offset, end); next is end, or null when the page reached the end
// of the range. A "bytes" run carries data (Uint8Array, transferred).
func (r *request) planReply(sess *session, res js.Value, pg planPage, walk func(emit func(core.Run) error) error) (reply, error) {
	var runs []core.Run
	end := pg.off
	err := walk(func(run core.Run) error {
		if len(runs) >= int(pg.limit) {
			return errEnough
		}
		if err := r.ctx.Err(); err != nil {
			return err
		}
		runs = append(runs, run)
		end = run.Offset + run.Length
		return nil
	})
	if err != nil && err != errEnough {
		return reply{}, sess.annotate(err)
	}
	rv, transfer, err := runsValue(runs)
	if err != nil {
		return reply{}, err
	}
	res.Set("offset", float64(pg.off))
	res.Set("end", float64(end))
	if end < pg.off+pg.n {
		res.Set("next", float64(end))
	} else {
		res.Set("next", js.Null())
	}
	res.Set("runs", rv)
	return reply{v: res, transfer: transfer}, nil
}

// close: {image} → {}. The image's readers drop their caches.
func (r *request) close() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	r.s.mu.Lock()
	delete(r.s.images, sess.id)
	r.s.mu.Unlock()
	for _, f := range sess.files {
		f.r.Close()
	}
	return reply{}, nil
}

// annotate adds to a missing-parent error from a read or plan the
// locator paths of the level whose parent is missing.
func (sess *session) annotate(err error) error {
	if !errors.Is(err, core.ErrNoParent) || sess.missing == nil {
		return err
	}
	return &protoError{name: "MissingParentError", msg: err.Error(), fields: missingFields(sess.missing)}
}

// runsValue turns plan runs into their page form, with the data of bytes
// runs to transfer.
func runsValue(runs []core.Run) (js.Value, []any, error) {
	prs := make([]planRun, 0, len(runs))
	for _, run := range runs {
		pr := planRun{Kind: run.Kind.String(), Offset: run.Offset, Length: run.Length}
		if run.Bad != nil {
			pr.Bad = &badBlock{Message: strings.TrimPrefix(run.Bad.Error(), "vhdx: "), Level: run.Bad.Level, Block: run.Bad.Block}
		}
		switch run.Kind {
		case core.RunFile:
			lvl, fo := run.Level, run.FileOffset
			pr.Level, pr.FileOffset = &lvl, &fo
		case core.RunBytes:
			if int64(len(run.Data)) != run.Length {
				return js.Value{}, nil, fmt.Errorf("vhdx: plan: bytes run of %d bytes holds %d", run.Length, len(run.Data))
			}
		}
		prs = append(prs, pr)
	}
	rv, err := jsonValue(prs)
	if err != nil {
		return js.Value{}, nil, err
	}
	var transfer []any
	for i, run := range runs {
		if run.Kind == core.RunBytes {
			d := uint8Array(run.Data)
			rv.Index(i).Set("data", d)
			transfer = append(transfer, d.Get("buffer"))
		}
	}
	return rv, transfer, nil
}
