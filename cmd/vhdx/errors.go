package main

// Errors at the CLI boundary. Most errors are about the user's files and
// say so in one line: a damaged or unsupported structure (core's typed
// errors name the structure and its offset, volume's name the volume), an
// I/O error at an input or the output, an interrupt. Anything else is a bug
// in this program; where the CLI first meets such an error it attaches a
// stack trace (github.com/pkg/errors), which `vhdx --debug` prints.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	pkgerrors "github.com/pkg/errors"

	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/volume"
)

// stackTracer is implemented by pkg/errors' errors that carry a stack.
// userError is a mistake in what the user asked (the wrong files), said
// plainly.
type userError string

func (e userError) Error() string { return string(e) }

type stackTracer interface {
	StackTrace() pkgerrors.StackTrace
}

// unexpected returns err with a stack trace attached unless it is one of
// the errors a user can act on (see isUserError) or already has one.
func unexpected(err error) error {
	var st stackTracer
	if err == nil || isUserError(err) || errors.As(err, &st) {
		return err
	}
	return pkgerrors.WithStack(err)
}

// isUserError reports whether err is about the user's files or the user's
// request rather than a bug.
func isUserError(err error) bool {
	var (
		formatErr *core.FormatError
		blockErr  *core.BlockError
		chainErr  *core.ChainError
		fsErr     *volume.FSError
		pathErr   *fs.PathError // an input or output file, opened, read or written by os
		outErr    *outputError
		ioErr     *core.IOError // the image file could not be read
		usrErr    userError
	)
	if errors.As(err, &formatErr) || errors.As(err, &blockErr) || errors.As(err, &chainErr) ||
		errors.As(err, &fsErr) || errors.As(err, &pathErr) || errors.As(err, &outErr) || errors.As(err, &ioErr) || errors.As(err, &usrErr) {
		return true
	}
	for _, target := range []error{core.ErrFormat, core.ErrUnsupported, core.ErrNoParent,
		volume.ErrUnsupportedFS, volume.ErrNotFound, volume.ErrNotDir, volume.ErrIsDir, volume.ErrDamaged,
		volume.ErrTruncated, context.Canceled} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// fail prints err as one line on stderr and returns exitFail. An error
// with a stack trace is an internal one: it says so, and with --debug its
// stack follows the line.
func (c *cli) fail(err error) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(c.stderr, "vhdx: interrupted")
		return exitFail
	}
	var st stackTracer
	if !errors.As(err, &st) {
		fmt.Fprintln(c.stderr, prefixed(err))
		return exitFail
	}
	if !c.debug {
		fmt.Fprintf(c.stderr, "vhdx: internal error: %s (--debug prints where)\n", oneLine(err))
		return exitFail
	}
	fmt.Fprintf(c.stderr, "vhdx: internal error: %s\n", oneLine(err))
	fmt.Fprintln(c.stderr, strings.TrimPrefix(fmt.Sprintf("%+v", st.StackTrace()), "\n"))
	return exitFail
}

// prefixed is err on one line, starting "vhdx" (or "volume") so the user
// sees which program speaks.
func prefixed(err error) string {
	s := oneLine(err)
	if strings.HasPrefix(s, "vhdx") || strings.HasPrefix(s, "volume:") {
		return s
	}
	return "vhdx: " + s
}
