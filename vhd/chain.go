package vhd

// Differencing chains (VHD spec, "Differencing Hard Disk Image"): from any
// set of files to disks with their parents attached. A parent is the file
// whose footer Unique Id is the child's Parent Unique ID; the parent
// locators and the parent name are only hints, handed to Options.Lookup.

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/google/uuid"
	"github.com/vhdxview/vhdxview/core"
)

// Options configure Open and OpenFiles: core's, so one value serves both
// formats. Name is the opened file's name, Parents candidate parents for
// Open, Lookup is asked for more candidates with the locators' paths
// (relative first, then absolute, then the parent name), and Partial
// opens a chain whose parent is missing (reads that need it fail with
// ErrNoParent).
type Options = core.Options

// maxChainDepth bounds differencing chains (the opened file is level 0).
const maxChainDepth = 256

// Open reads and checks a VHD file of the given size through r; nothing
// is ever written to r. A differencing disk's parent is looked for among
// opts.Parents and through opts.Lookup; without either it opens alone,
// and reads that need the parent fail with ErrNoParent.
func Open(ctx context.Context, r io.ReaderAt, size int64, opts *Options) (*Image, error) {
	if opts == nil {
		opts = &Options{}
	}
	img, err := openFile(ctx, r, size, opts.Name)
	if err != nil {
		return nil, err
	}
	if !img.differencing() {
		return img, nil
	}
	p := &pool{ctx: ctx, lookup: opts.Lookup}
	for _, f := range opts.Parents {
		p.add(f)
	}
	alone := len(opts.Parents) == 0 && opts.Lookup == nil // Info says what is missing
	if err := p.attach(img, opts.Partial || alone); err != nil {
		return nil, err
	}
	return img, nil
}

// OpenFiles opens the disks among files, given in any order: each file is
// read once, the leaves (files no other file names as its parent) are
// found and their parents attached. It returns one *Image per disk, the
// longest chain first (a differencing disk before plain ones of the same
// length), and the files it did not use. Files that are no VHD file are
// skipped when others open; it fails when none does, or when a chain
// cannot be completed and opts.Partial is false.
func OpenFiles(ctx context.Context, files []core.File, opts *Options) ([]*Image, []core.Skipped, error) {
	if opts == nil {
		opts = &Options{}
	}
	p := &pool{ctx: ctx, lookup: opts.Lookup}
	var skipped []core.Skipped
	var firstErr error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		c := p.add(f)
		if err := c.open(ctx); err != nil {
			if len(files) == 1 {
				return nil, nil, err
			}
			if firstErr == nil {
				firstErr = err
			}
			skipped = append(skipped, core.Skipped{Name: f.Name, Err: err, Reason: detail(err)})
			c.used = true
			continue
		}
		for _, o := range p.cands[:len(p.cands)-1] {
			if o.img != nil && !o.used && o.img.identity() == c.img.identity() && o.file.Size == f.Size {
				skipped = append(skipped, core.Skipped{Name: f.Name, Reason: "the same disk as " + o.file.Name})
				c.used = true
				break
			}
		}
	}
	named := map[uuid.UUID]bool{}
	for _, c := range p.cands {
		if c.img != nil && !c.used && c.img.differencing() && c.img.hdr.ParentID != c.img.identity() {
			named[c.img.hdr.ParentID] = true
		}
	}
	var leaves []*candidate
	for _, c := range p.cands {
		if c.img != nil && !c.used && !named[c.img.identity()] {
			leaves = append(leaves, c)
		}
	}
	if len(leaves) == 0 {
		if firstErr != nil {
			return nil, skipped, firstErr
		}
		return nil, skipped, &ChainError{Msg: "the files name each other as parents (a cycle); no file is the child"}
	}
	var images []*Image
	for _, c := range leaves {
		c.used = true
		if err := p.attach(c.img, opts.Partial); err != nil {
			return nil, skipped, err
		}
		images = append(images, c.img)
	}
	sort.SliceStable(images, func(i, j int) bool {
		a, b := images[i], images[j]
		if la, lb := len(a.Chain()), len(b.Chain()); la != lb {
			return la > lb
		}
		return a.differencing() && !b.differencing()
	})
	for _, c := range p.cands {
		if c.img != nil && !c.used {
			skipped = append(skipped, core.Skipped{Name: c.file.Name, Reason: "not a parent of any disk given"})
		}
	}
	return images, skipped, nil
}

// pool holds the candidate files, each opened at most once.
type pool struct {
	ctx    context.Context
	cands  []*candidate
	lookup func(child string, paths []string) []core.File
	looked map[string]bool // names Lookup already offered
}

type candidate struct {
	file core.File
	img  *Image // nil until opened, or when it failed
	err  error
	done bool
	used bool // a leaf, attached somewhere, or skipped
}

func (p *pool) add(f core.File) *candidate {
	c := &candidate{file: f}
	p.cands = append(p.cands, c)
	return c
}

func (c *candidate) open(ctx context.Context) error {
	if !c.done {
		c.done = true
		c.img, c.err = openFile(ctx, c.file.R, c.file.Size, c.file.Name)
	}
	return c.err
}

// attach links img's parents, level by level, refusing cycles.
func (p *pool) attach(img *Image, partial bool) error {
	seen := map[uuid.UUID]bool{img.identity(): true}
	for child := img; child.differencing(); child = child.parent {
		parent, err := p.parentOf(child)
		if err == nil && seen[parent.identity()] {
			err = &ChainError{Child: child.describe(), Level: child.level,
				Msg: fmt.Sprintf("%s: chain has a cycle (%s, unique ID %s, appears twice)", child.describe(), parent.describe(), parent.identity())}
		}
		if err != nil {
			if ce, ok := err.(*ChainError); ok && ce.noParent && partial {
				img.missing = ce
				return nil
			}
			return err
		}
		seen[parent.identity()] = true
		child.parent = parent
	}
	return nil
}

// chainError describes child's parent link, for errors and Info.
func (child *Image) chainError() *ChainError {
	h := child.hdr
	ce := &ChainError{Child: child.describe(), Level: child.level, Linkages: []string{h.ParentID.String()}, ParentName: h.ParentName}
	ce.Paths, ce.Locator = h.hints()
	return ce
}

// parentOf finds child's parent among the candidates, then through Lookup.
func (p *pool) parentOf(child *Image) (*Image, error) {
	ce := child.chainError()
	want := child.hdr.ParentID
	if child.level+1 >= maxChainDepth {
		ce.Msg = fmt.Sprintf("%s: chain deeper than %d levels", ce.Child, maxChainDepth)
		return nil, ce
	}
	try := func(c *candidate) *Image {
		if c.open(p.ctx) != nil {
			ce.Tried = append(ce.Tried, c.file.Name+": "+detail(c.err))
			return nil
		}
		if c.img.identity() == want {
			return c.img
		}
		if c.img != child {
			ce.Tried = append(ce.Tried, fmt.Sprintf("%s: its unique ID %s is not the parent unique ID %s", c.file.Name, c.img.identity(), want))
		}
		return nil
	}
	found := func() *Image {
		for _, c := range p.cands {
			if c.used && c.img == nil {
				continue // skipped: not VHD, or a duplicate
			}
			if parent := try(c); parent != nil {
				c.used = true
				return parent
			}
		}
		if p.lookup == nil {
			return nil
		}
		if p.looked == nil {
			p.looked = map[string]bool{}
		}
		for _, f := range p.lookup(child.name, ce.Paths) {
			if p.looked[f.Name] {
				continue
			}
			p.looked[f.Name] = true
			c := p.add(f)
			if parent := try(c); parent != nil {
				c.used = true
				return parent
			}
		}
		return nil
	}()
	if found == nil {
		ce.noParent = true
		ce.Msg = ce.Child + ": parent not found"
		if len(ce.Tried) > 0 {
			ce.Msg = ce.Child + ": none of the other files is its parent"
		}
		return nil, ce
	}
	// A parent already at another level of another chain is shared: give
	// this chain its own copy of the (read-only) image so levels differ.
	// The copy shares the BAT cache, which has its own lock.
	parent := found
	if parent.level != 0 || parent.parent != nil || parent.missing != nil {
		cp := *found
		cp.parent, cp.missing = nil, nil
		parent = &cp
	}
	parent.level = child.level + 1
	return parent, nil
}
