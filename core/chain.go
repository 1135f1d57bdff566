package core

// Differencing chains (MS-VHDX 2.6.2.6): from any set of files to disks
// with their parents attached. Parents are matched by the DataWriteGuid the
// child's locator names (parent_linkage or parent_linkage2); the locator's
// paths are only hints, handed to Options.Lookup.

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// File is one file given to Open (as a parent) or OpenFiles.
type File struct {
	Name string
	R    io.ReaderAt
	Size int64
}

// Options configure Open and OpenFiles. The zero value opens single files.
type Options struct {
	// Name is the opened file's name (Open), used in reports.
	Name string
	// Parents are candidate parents for Open, in any order.
	Parents []File
	// Lookup, when set, is asked for more candidates when no file given is
	// a differencing disk's parent. paths are the locator's paths in the
	// order the spec tries them (relative_path, volume_path,
	// absolute_win32_path); the CLI looks for them on disk.
	Lookup func(child string, paths []string) []File
	// Partial opens a chain whose parent is missing as far as its files
	// go: Info says which parent is missing, and reads that need it fail
	// with ErrNoParent. Without it a missing parent is an error. A
	// differencing disk whose locator names no parent (no locator, an
	// unknown locator type, no valid parent_linkage) always opens as far
	// as it goes: no file could be matched as its parent, so none is
	// waited for; Info.MissingParent says why (it matches ErrFormat).
	Partial bool
}

// Skipped is a file OpenFiles did not use, and why.
type Skipped struct {
	Name string `json:"name"`
	// Err matches ErrNotVHDX for files that are no VHDX file at all.
	Err error `json:"-"`
	// Reason is Err's text, or why an opened file is not used.
	Reason string `json:"reason"`
}

// ChainError says why a differencing disk's parent could not be attached.
// It matches ErrNoParent when no file given is the parent, and ErrFormat
// when a file that claims to be it cannot be one (cycle, sector size) or
// the child's locator names no parent to match.
type ChainError struct {
	Child string `json:"child"` // the file whose parent is missing or wrong
	Level int    `json:"level"` // its level in the chain
	// ParentLevel is the chain level the parent would have (Level+1):
	// with a grandchild and its parent given, 2 is the missing base.
	ParentLevel int `json:"parent_level"`
	// ParentName is the parent's file name as the locator's first path
	// names it (relative_path, volume_path, absolute_win32_path), "" when
	// it has none: what to look for.
	ParentName string   `json:"parent_name,omitempty"`
	Linkages   []string `json:"linkages"` // the DataWriteGuids it accepts
	Paths      []string `json:"paths"`    // the locator's paths, as hints
	// Locator is every key of the child's parent locator (MS-VHDX
	// 2.6.2.6.3): parent_linkage, relative_path, volume_path, ...
	Locator map[string]string `json:"locator,omitempty"`
	Tried   []string          `json:"tried,omitempty"` // each candidate and why it is not the parent
	Msg     string            `json:"message"`
	// Unidentified: the child's locator names no parent to match (no
	// locator, an unknown locator type, no valid parent_linkage), so no
	// file can ever be attached as its parent.
	Unidentified bool `json:"unidentified,omitempty"`
	noParent     bool
}

func (e *ChainError) Error() string {
	s := "vhdx: " + e.Msg
	if len(e.Linkages) > 0 {
		s += " (parent_linkage " + e.Linkages[0] + ")"
	}
	for _, t := range e.Tried {
		s += "; " + t
	}
	return s
}

// Is makes errors.Is(err, ErrNoParent) true when the parent is missing.
func (e *ChainError) Is(target error) bool {
	return (e.noParent && target == ErrNoParent) || (!e.noParent && target == ErrFormat)
}

// Open reads and checks a VHDX file of the given size through r. Nothing is
// ever written to r; a dirty log is replayed in memory. A differencing
// disk's parent is looked for among opts.Parents and through opts.Lookup;
// without either it opens alone, and reads that need the parent fail with
// ErrNoParent.
func Open(ctx context.Context, r io.ReaderAt, size int64, opts *Options) (*Image, error) {
	if opts == nil {
		opts = &Options{}
	}
	img, err := openFile(ctx, r, size, opts.Name, 0)
	if err != nil {
		return nil, err
	}
	if !img.meta.FileParameters.HasParent {
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
// read once, the leaves (files no other file names as its parent) are found
// and their parents attached. It returns one *Image per disk, the longest
// chain first (a differencing disk before plain ones of the same length), and
// the files it did not use. Files that are no VHDX file
// are skipped when others open; it fails when none does, or when a chain
// cannot be completed and opts.Partial is false.
func OpenFiles(ctx context.Context, files []File, opts *Options) ([]*Image, []Skipped, error) {
	if opts == nil {
		opts = &Options{}
	}
	p := &pool{ctx: ctx, lookup: opts.Lookup}
	var skipped []Skipped
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
			skipped = append(skipped, Skipped{Name: f.Name, Err: err, Reason: detail(err)})
			c.used = true
			continue
		}
		for _, o := range p.cands[:len(p.cands)-1] {
			if o.img != nil && !o.used && o.img.identity() == c.img.identity() && o.file.Size == f.Size {
				skipped = append(skipped, Skipped{Name: f.Name, Reason: "the same disk as " + o.file.Name})
				c.used = true
				break
			}
		}
	}
	named := map[uuid.UUID]bool{}
	for _, c := range p.cands {
		// As parentOf matches: a locator of another type names no parent.
		if c.img != nil && !c.used && c.img.meta.ParentLocator != nil && c.img.meta.ParentLocator.LocatorType == locatorTypeVHDX {
			for _, l := range c.img.meta.ParentLocator.Linkages() {
				if l != c.img.identity() {
					named[l] = true
				}
			}
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
	// The longest chain first; among equals, a differencing disk first
	// (with its parent missing, it is still what the user opened).
	sort.SliceStable(images, func(i, j int) bool {
		a, b := images[i], images[j]
		if la, lb := len(a.Chain()), len(b.Chain()); la != lb {
			return la > lb
		}
		return a.meta.FileParameters.HasParent && !b.meta.FileParameters.HasParent
	})
	for _, c := range p.cands {
		if c.img != nil && !c.used {
			skipped = append(skipped, Skipped{Name: c.file.Name, Reason: "not a parent of any disk given"})
		}
	}
	return images, skipped, nil
}

// pool holds the candidate files, each opened at most once.
type pool struct {
	ctx    context.Context
	cands  []*candidate
	lookup func(child string, paths []string) []File
	looked map[string]bool // names Lookup already offered
}

type candidate struct {
	file File
	img  *Image // nil until opened, or when it failed
	err  error
	done bool
	used bool // a leaf or attached somewhere
}

func (p *pool) add(f File) *candidate {
	c := &candidate{file: f}
	p.cands = append(p.cands, c)
	return c
}

func (c *candidate) open(ctx context.Context) error {
	if !c.done {
		c.done = true
		c.img, c.err = openFile(ctx, c.file.R, c.file.Size, c.file.Name, 0)
	}
	return c.err
}

// attach links img's parents, level by level.
func (p *pool) attach(img *Image, partial bool) error {
	seen := map[uuid.UUID]bool{img.identity(): true}
	for child := img; child.meta.FileParameters.HasParent; child = child.parent {
		parent, err := p.parentOf(child, seen)
		if err == nil && seen[parent.identity()] {
			err = &ChainError{Child: child.describe(), Level: child.level, ParentLevel: child.level + 1, Msg: fmt.Sprintf("%s: chain has a cycle (%s appears twice)", child.describe(), parent.describe())}
		}
		if err != nil {
			ce, ok := err.(*ChainError)
			if ok && (ce.noParent && partial || ce.Unidentified) {
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

// parentOf finds child's parent among the candidates, then through Lookup.
// inChain holds the identities of the chain's images so far (child and
// the disks below it): such a candidate is not listed in Tried as a file
// that is not the parent, which would blame the right files.
func (p *pool) parentOf(child *Image, inChain map[uuid.UUID]bool) (*Image, error) {
	loc := child.meta.ParentLocator
	ce := &ChainError{Child: child.describe(), Level: child.level, ParentLevel: child.level + 1}
	if loc == nil {
		ce.Msg = ce.Child + ": differencing disk without a parent locator, so its parent cannot be identified"
		ce.Unidentified = true
		return nil, ce
	}
	want := loc.Linkages()
	for _, l := range want {
		ce.Linkages = append(ce.Linkages, l.String())
	}
	for _, kv := range loc.Paths() {
		ce.Paths = append(ce.Paths, kv.Value)
		if ce.ParentName == "" {
			ce.ParentName = baseName(kv.Value)
		}
	}
	ce.Locator = make(map[string]string, len(loc.Entries))
	for _, kv := range loc.Entries {
		ce.Locator[kv.Key] = kv.Value
	}
	switch {
	case loc.LocatorType != locatorTypeVHDX:
		ce.Msg = fmt.Sprintf("%s: unknown parent locator type %s, so its parent cannot be identified", ce.Child, loc.LocatorType)
		ce.Unidentified = true
		return nil, ce
	case len(want) == 0:
		ce.Msg = ce.Child + ": parent locator has no valid parent_linkage, so its parent cannot be identified"
		ce.Unidentified = true
		return nil, ce
	case child.level+1 >= maxChainDepth:
		ce.Msg = fmt.Sprintf("%s: chain deeper than %d levels", ce.Child, maxChainDepth)
		return nil, ce
	}
	try := func(c *candidate) *Image {
		if c.open(p.ctx) != nil {
			ce.Tried = append(ce.Tried, c.file.Name+": "+detail(c.err))
			return nil
		}
		dwg := c.img.identity()
		for _, l := range want {
			if l == dwg {
				return c.img
			}
		}
		if c.img != child && !inChain[dwg] {
			ce.Tried = append(ce.Tried, fmt.Sprintf("%s: its DataWriteGuid %s is not the parent_linkage %s", c.file.Name, dwg, want[0]))
		}
		return nil
	}
	found := func() *Image {
		for _, c := range p.cands {
			if c.used && c.img == nil {
				continue // skipped: not VHDX, or a duplicate
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
	parent := found
	if parent.level != 0 || parent.parent != nil || parent.missing != nil {
		cp := *found
		cp.parent, cp.missing = nil, nil
		parent = &cp
	}
	parent.level = child.level + 1
	if parent.geom.LogicalSectorSize != child.geom.LogicalSectorSize {
		ce.Msg = fmt.Sprintf("%s: its parent %s has logical sector size %d, the child %d", ce.Child, parent.describe(),
			parent.geom.LogicalSectorSize, child.geom.LogicalSectorSize)
		return nil, ce
	}
	return parent, nil
}

// baseName is the last element of a locator path (Windows or slash
// separated): the parent's file name.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// String lists the chain error's parts for logs.
func (s Skipped) String() string { return s.Name + ": " + strings.TrimPrefix(s.Reason, "vhdx: ") }
