package disk

// OpenFiles: from any set of files to disks. Each file is named by its
// signature first (package sniff reads a few KiB at fixed offsets); VHDX
// files then go to core.OpenFiles and VHD files to vhd.OpenFiles, which
// find the leaves and attach parents by identity, and files with a
// partition table or a file system at their start become raw disks.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/sniff"
	"github.com/vhdxview/vhdxview/vhd"
)

// Options configure OpenFiles. Lookup and Partial are core's and serve
// VHDX and VHD chains alike; Name and Parents are not used.
type Options struct {
	core.Options
	// Raw opens every file as a raw disk, whatever its signature says
	// (a VHDX file's container bytes then read as disk bytes).
	Raw bool
}

// ErrNotDisk: a file is none of the formats vhdxview reads, by its
// signature. The error is a *KindError, which also matches core.ErrFormat.
var ErrNotDisk = errors.New("disk: not a VHDX, VHD or raw disk image")

// KindError is a file that is no disk vhdxview reads unless asked to
// read it as raw, named by what its signature says it is.
type KindError struct {
	File string     // the file's name
	Kind sniff.Kind // what it is: "vmdk", "png", "unknown", ...
	// Err is what the format the file's name claims (.vhdx, .vhd) found
	// wrong, e.g. core's FormatError for the file type identifier: a
	// damaged image's signature may be what is damaged.
	Err error
}

func (e *KindError) Error() string {
	s := fmt.Sprintf("%s is %s; vhdxview reads VHDX, VHD and raw disk images", e.File, e.Kind.Name)
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrNotDisk) and errors.Is(err, core.ErrFormat)
// true.
func (e *KindError) Is(target error) bool { return target == ErrNotDisk || target == core.ErrFormat }

// Unwrap returns the named format's finding, if any.
func (e *KindError) Unwrap() error { return e.Err }

// claimed opens f as the format its name claims, when it claims one, for
// the structure and offset that format's reader finds wrong.
func claimed(ctx context.Context, f core.File) error {
	name := strings.ToLower(f.Name)
	switch {
	case strings.HasSuffix(name, ".vhdx") || strings.HasSuffix(name, ".avhdx"):
		_, err := core.Open(ctx, f.R, f.Size, &core.Options{Name: f.Name})
		return err
	case strings.HasSuffix(name, ".vhd") || strings.HasSuffix(name, ".avhd"):
		_, err := vhd.Open(ctx, f.R, f.Size, &vhd.Options{Name: f.Name})
		return err
	}
	return nil
}

// OpenFiles opens the disks among files, given in any order, read-only:
// a differencing chain's files (VHDX or VHD, never both in one chain),
// plain disks, raw images. It returns one *Disk per disk, the longest
// chain first (a differencing disk before plain ones of the same length),
// and the files it did not use, each with why. As core.OpenFiles does, it
// skips files it cannot open when others open, fails when none does, and
// fails when a chain cannot be completed unless opts.Partial is set.
func OpenFiles(ctx context.Context, files []core.File, opts *Options) ([]*Disk, []core.Skipped, error) {
	if opts == nil {
		opts = &Options{}
	}
	if len(files) == 0 {
		return nil, nil, errors.New("disk: no files to open")
	}
	var vhdxFiles, vhdFiles, rawFiles []core.File
	var skipped []core.Skipped
	var firstErr error
	skip := func(f core.File, err error) {
		if firstErr == nil {
			firstErr = err
		}
		skipped = append(skipped, core.Skipped{Name: f.Name, Err: err, Reason: reason(err)})
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if opts.Raw {
			rawFiles = append(rawFiles, f)
			continue
		}
		switch k := sniff.Identify(f.R, f.Size); {
		case k.ID == "vhdx":
			vhdxFiles = append(vhdxFiles, f)
		case k.ID == "vhd":
			vhdFiles = append(vhdFiles, f)
		case k.Disk:
			rawFiles = append(rawFiles, f)
		default:
			err := &KindError{File: f.Name, Kind: k, Err: claimed(ctx, f)}
			if len(files) == 1 {
				return nil, nil, err
			}
			skip(f, err)
		}
	}

	var disks []*Disk
	// group opens one format's files; a failure is the whole call's when
	// it is about a chain, a cancel, or the only files given.
	group := func(given, others []core.File, otherFormat string, open func() ([]Image, []core.Skipped, error)) error {
		if len(given) == 0 {
			return nil
		}
		images, sk, err := open()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if MissingOf(err) != nil || len(given) == len(files) {
				if len(others) > 0 && errors.Is(err, core.ErrNoParent) {
					err = &mixedError{err: err, other: otherFormat, names: names(others)}
				}
				return err
			}
			// Files that are damaged beyond opening, beside others.
			if len(sk) == 0 {
				for _, f := range given {
					skip(f, err)
				}
			} else {
				for _, s := range sk {
					skip(core.File{Name: s.Name}, s.Err)
				}
			}
			return nil
		}
		for _, img := range images {
			disks = append(disks, newDisk(img))
		}
		skipped = append(skipped, sk...)
		return nil
	}
	err := group(vhdxFiles, vhdFiles, "VHD", func() ([]Image, []core.Skipped, error) {
		images, sk, err := core.OpenFiles(ctx, vhdxFiles, &opts.Options)
		return asImages(images), sk, err
	})
	if err != nil {
		return nil, skipped, err
	}
	err = group(vhdFiles, vhdxFiles, "VHDX", func() ([]Image, []core.Skipped, error) {
		images, sk, err := vhd.OpenFiles(ctx, vhdFiles, &opts.Options)
		return asImages(images), sk, err
	})
	if err != nil {
		return nil, skipped, err
	}
	for _, f := range rawFiles {
		disks = append(disks, newDisk(NewRaw(f.R, f.Size, f.Name)))
	}
	if len(disks) == 0 {
		return nil, skipped, firstErr
	}
	sort.SliceStable(disks, func(i, j int) bool {
		a, b := disks[i], disks[j]
		if a.Levels() != b.Levels() {
			return a.Levels() > b.Levels()
		}
		return a.Facts(0).Type == "differencing" && b.Facts(0).Type != "differencing"
	})
	return disks, skipped, nil
}

func asImages[T Image](images []T) []Image {
	out := make([]Image, len(images))
	for i, img := range images {
		out[i] = img
	}
	return out
}

// mixedError is a chain's missing parent when files of the other format
// were given too: they can never be its parent, and the error says so.
type mixedError struct {
	err   error
	other string
	names []string
}

func (e *mixedError) Error() string {
	return fmt.Sprintf("%v (%s is %s, and VHDX and VHD files never chain with each other)", e.err, strings.Join(e.names, ", "), e.other)
}
func (e *mixedError) Unwrap() error { return e.err }

func names(files []core.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

// chainError returns err's *core.ChainError or *vhd.ChainError, or nil.
func chainError(err error) error {
	var ce *core.ChainError
	if errors.As(err, &ce) {
		return ce
	}
	var ve *vhd.ChainError
	if errors.As(err, &ve) {
		return ve
	}
	return nil
}

// reason is err's text without the package prefix, for Skipped.Reason.
func reason(err error) string {
	s := err.Error()
	for _, p := range []string{"vhdx: ", "vhd: ", "disk: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}
