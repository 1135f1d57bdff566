//go:build js && wasm

package main

// Errors as messages: {name, message, ...fields}. The name says what kind
// of problem it is (PROTOCOL.md lists them); the fields say where.
//
// An error of no kind the protocol names is a bug (not a damaged file, a
// bad argument or the browser refusing something): it is sent as an
// InternalError with a Go stack trace, so that a person can report it.
// The trace is the deepest one in the error's chain (github.com/pkg/errors
// records one where an error is made or wrapped with WithStack), else the
// one unexpected adds where the worker first sees the error, or for a
// panic the panicking goroutine's.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall/js"

	pkgerrors "github.com/pkg/errors"
	"github.com/vhdxview/vhdxview/bridge"
	"github.com/vhdxview/vhdxview/core"
	"github.com/vhdxview/vhdxview/disk"
	"github.com/vhdxview/vhdxview/vhd"
)

// protoError is an error this package makes, with its protocol name.
type protoError struct {
	name string
	msg  string
	// fields are added to the error object (js.ValueOf values).
	fields map[string]any
}

func (e *protoError) Error() string { return e.msg }

func argErrorf(format string, a ...any) error {
	return &protoError{name: "ArgumentError", msg: fmt.Sprintf(format, a...)}
}

// internalError is a recovered panic: a bug, reported rather than fatal.
type internalError struct{ msg, stack string }

func (e *internalError) Error() string { return "internal error: " + e.msg }

// stackTracer is what github.com/pkg/errors' errors with a stack have.
type stackTracer interface {
	StackTrace() pkgerrors.StackTrace
}

// unexpected gives err a stack trace if it is of no kind the protocol
// names and has none yet; other errors (and nil) are returned as they are.
// Use it where an error is first seen to be a bug: the trace then shows
// where.
func unexpected(err error) error {
	if err == nil {
		return nil
	}
	if name, _ := classify(err); name != "InternalError" || stackOf(err) != "" {
		return err
	}
	return pkgerrors.WithStack(err)
}

// stackOf is the stack trace an error carries: a panic's, or the deepest
// github.com/pkg/errors trace in its chain (the closest to where it was
// made); "" if none.
func stackOf(err error) string {
	var ie *internalError
	if errors.As(err, &ie) {
		return ie.stack
	}
	var deepest stackTracer
	for e := err; e != nil; e = errors.Unwrap(e) {
		if st, ok := e.(stackTracer); ok {
			deepest = st
		}
	}
	if deepest == nil {
		return ""
	}
	return fmt.Sprintf("%+v", deepest.StackTrace())
}

// fault: {kind: "panic" | "error"} → always an InternalError, from a
// panic or from an error of no known kind. For tests of how the page
// reports engine bugs; the page never sends it.
func (r *request) fault() (reply, error) {
	kind, err := args{r.args}.string("kind")
	if err != nil {
		return reply{}, err
	}
	switch kind {
	case "panic":
		var m map[string]int
		m["fault"]++ // a nil map: a real runtime panic
	case "error":
		return reply{}, faultError()
	}
	return reply{}, argErrorf("fault: kind must be \"panic\" or \"error\"")
}

// faultError is a bug's error, made where the bug is.
func faultError() error {
	return pkgerrors.New("fault: an unexpected error, on request")
}

// fileError says which file an error is about.
type fileError struct {
	file string
	err  error
}

func (e *fileError) Error() string {
	s := e.err.Error()
	if strings.HasPrefix(s, e.file+" ") { // already names the file (disk.KindError)
		return s
	}
	return e.file + ": " + s
}
func (e *fileError) Unwrap() error { return e.err }

// withSkipped is an open's failure (a missing parent) with the files
// given that were not used, each with why; errorValue adds them as
// skipped.
type withSkipped struct {
	err     error
	skipped []skippedFile
}

func (e *withSkipped) Error() string { return e.err.Error() }
func (e *withSkipped) Unwrap() error { return e.err }

// storeError wraps an IndexedDB failure so that it is told apart from a
// failure to read an image file.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// errorValue turns err into {name, message, ...}.
func errorValue(err error) js.Value {
	o := newObject()
	name, fields := classify(err)
	o.Set("name", name)
	o.Set("message", message(name, err))
	var fe *fileError
	if errors.As(err, &fe) {
		o.Set("file", fe.file)
	}
	var ke *disk.KindError
	if errors.As(err, &ke) {
		o.Set("kind", ke.Kind.ID)
		o.Set("kind_name", ke.Kind.Name)
		o.Set("raw_possible", true) // open again with raw: true to read it as a raw disk
	}
	for k, v := range fields {
		o.Set(k, v)
	}
	var ws *withSkipped
	if errors.As(err, &ws) {
		o.Set("skipped", skippedValue(ws.skipped))
	}
	setInspection(o, err)
	return o
}

func classify(err error) (string, map[string]any) {
	var (
		pe   *protoError
		ie   *internalError
		fe   *core.FormatError
		vfe1 *vhd.FormatError
		ke   *disk.KindError
		be   *core.BlockError
		jse  *bridge.JSError
	)
	fsFields, isFS := fsError(err)
	switch {
	case errors.As(err, &pe):
		return pe.name, pe.fields
	case errors.As(err, &ie):
		return "InternalError", map[string]any{"stack": ie.stack}
	case errors.Is(err, context.Canceled):
		return "CancelledError", nil
	case disk.MissingOf(err) != nil:
		m := disk.MissingOf(err)
		f := missingFields(m)
		var tried []any
		for _, t := range m.Tried {
			tried = append(tried, t)
		}
		f["tried"] = tried
		if errors.Is(err, core.ErrNoParent) {
			return "MissingParentError", f
		}
		return "ChainError", f
	case errors.As(err, &fe):
		return formatError(err, fe.Structure, fe.Offset, fe.Field, fe.Val)
	case errors.As(err, &vfe1):
		return formatError(err, vfe1.Structure, vfe1.Offset, vfe1.Field, vfe1.Val)
	case errors.As(err, &ke):
		return "FormatError", nil // errorValue adds kind and kind_name
	case isFS && fsFields["reason"] != "":
		return "FileSystemError", fsFields
	case errors.As(err, &be):
		return "BlockError", map[string]any{"structure": "BAT entry " + fmt.Sprint(be.Entry), "level": be.Level,
			"block": float64(be.Block), "entry": float64(be.Entry), "offset": float64(be.FileOffset)}
	case errors.Is(err, core.ErrNoParent):
		return "MissingParentError", nil
	case errors.Is(err, bridge.ErrQuota):
		return "QuotaError", nil
	case errors.Is(err, bridge.ErrTooLarge):
		return "TooLargeError", nil
	case errors.Is(err, bridge.ErrNotFound):
		return "NotFoundError", nil
	case errors.Is(err, bridge.ErrUnavailable):
		return "StorageUnavailableError", nil
	case isStoreError(err):
		return "StorageError", jsName(err)
	case errors.As(err, &jse), errors.Is(err, bridge.ErrShortRead), errors.Is(err, bridge.ErrClosed):
		return "ReadError", jsName(err)
	case isFS:
		// A file system error of no known kind: the library gave up on
		// what it read.
		fsFields["reason"] = "damaged"
		return "FileSystemError", fsFields
	}
	// None of the above: a bug.
	if st := stackOf(err); st != "" {
		return "InternalError", map[string]any{"stack": st}
	}
	return "InternalError", nil
}

// formatError is a damaged or unsupported structure of a VHDX or VHD file.
func formatError(err error, structure string, off int64, field string, val any) (string, map[string]any) {
	f := map[string]any{"structure": structure, "offset": float64(off)}
	if field != "" {
		f["field"] = field
	}
	if val != nil {
		f["value"] = fmt.Sprint(val)
	}
	if errors.Is(err, core.ErrUnsupported) {
		return "UnsupportedError", f
	}
	return "FormatError", f
}

func isStoreError(err error) bool {
	var se *storeError
	return errors.As(err, &se)
}

func jsName(err error) map[string]any {
	var jse *bridge.JSError
	if errors.As(err, &jse) && jse.Name != "" {
		return map[string]any{"js_name": jse.Name}
	}
	return nil
}

// message is err's text, with advice where the engine's text alone would
// leave the user wondering what to do.
func message(name string, err error) string {
	s := err.Error()
	switch name {
	case "QuotaError":
		return "not saved for later: the browser's storage quota is full (the image stays open; free space or forget other images). " + s
	case "TooLargeError":
		return "not saved for later: the image is larger than the store allows (the image stays open). " + s
	case "ReadError":
		return "cannot read the file (was it changed, moved or deleted since it was opened?): " + s
	case "StorageUnavailableError":
		return "this browser offers no IndexedDB here (private mode?), so images cannot be remembered: " + s
	}
	return s
}

// missingFields are a missing parent's facts as error fields: the child
// and its level, the missing parent's level and file name, the locator's
// linkages and paths.
func missingFields(m *disk.Missing) map[string]any {
	var links []any
	for _, l := range m.Linkages {
		links = append(links, l)
	}
	return map[string]any{"child": m.Child, "level": m.Level, "parent_level": m.ParentLevel, "parent_name": m.ParentName,
		"unidentified": m.Unidentified, "paths": pathsValue(m), "linkages": links}
}

// pathsValue lists the locator's paths as [{key, value}], in the order
// the spec tries them.
func pathsValue(m *disk.Missing) []any {
	out := []any{}
	for _, p := range m.Paths {
		out = append(out, map[string]any{"key": p.Key, "value": p.Value})
	}
	return out
}
