//go:build js && wasm

package main

// A damaged image, as far as it can be read: the structures of a VHDX file
// that does not open (sent with open's error), and downloads past blocks
// whose table entries are damaged (plan with zero_bad, bad_ranges).

import (
	"errors"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
)

// inspectedError is an open's error with what was read of the file before
// the damage (core.Inspect): errorValue adds its structures and report.
type inspectedError struct {
	err error
	in  *core.Inspection
}

func (e *inspectedError) Error() string { return e.err.Error() }
func (e *inspectedError) Unwrap() error { return e.err }

// setInspection adds {structures, report} to an error object when err
// carries an inspection.
func setInspection(o interface{ Set(string, any) }, err error) {
	var ie *inspectedError
	if !errors.As(err, &ie) {
		return
	}
	if v, jerr := jsonValue(ie.in.Structures); jerr == nil {
		o.Set("structures", v)
	}
	if v, jerr := jsonValue(ie.in.Report); jerr == nil {
		o.Set("report", v)
	}
}

// badRangeLimit bounds the ranges bad_ranges lists; the count of blocks
// goes on past it.
const badRangeLimit = 1000

// badSpan is how much of the disk bad_ranges walks between progress
// reports (and looks at a cancel).
const badSpan = 64 << 30

// bad_ranges: {image, offset?, length?} → {blocks, ranges: [{offset,
// length, level, block, blocks, message}], listed_all}: the ranges of
// [offset, offset+length) whose blocks cannot be read (damaged table
// entries), which a plan with zero_bad fills with zeros. Progress
// {done, total} counts virtual bytes walked.
func (r *request) badRanges() (reply, error) {
	sess, err := r.image()
	if err != nil {
		return reply{}, err
	}
	pg, err := r.planPage("bad_ranges", sess.img.Size())
	if err != nil {
		return reply{}, err
	}
	var ranges []disk.BadRange
	var blocks int64
	for done := int64(0); done < pg.n; {
		k := min(pg.n-done, badSpan)
		l, b, err := sess.img.BadRanges(r.ctx, pg.off+done, k, badRangeLimit+1)
		if err != nil {
			return reply{}, sess.annotate(err)
		}
		blocks += b
		for _, x := range l {
			// A range cut at a span's end goes on in the next span.
			if n := len(ranges); n > 0 {
				p := &ranges[n-1]
				if p.Offset+p.Length == x.Offset && p.Level == x.Level && x.Block <= p.Block+p.Blocks {
					p.Length += x.Length
					p.Blocks = x.Block + x.Blocks - p.Block
					continue
				}
			}
			ranges = append(ranges, x)
		}
		done += k
		r.progress(done, pg.n)
	}
	all := len(ranges) <= badRangeLimit
	ranges = ranges[:min(len(ranges), badRangeLimit)]
	if ranges == nil {
		ranges = []disk.BadRange{}
	}
	rv, err := jsonValue(ranges)
	if err != nil {
		return reply{}, err
	}
	res := newObject()
	res.Set("blocks", float64(blocks))
	res.Set("ranges", rv)
	res.Set("listed_all", all)
	return reply{v: res}, nil
}
