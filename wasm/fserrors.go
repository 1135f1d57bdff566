//go:build js && wasm && !nofs

package main

import (
	"errors"

	"github.com/vhdxview/vhdxview/volume"
)

// fsError gives the fields of a FileSystemError when err holds a
// *volume.FSError: reason is "" when the error is not the file system's own
// (a BlockError, a missing parent or an unreadable file that an FSError
// merely carries keeps its own name; classify in errors.go).
func fsError(err error) (fields map[string]any, ok bool) {
	var fe *volume.FSError
	if !errors.As(err, &fe) {
		return nil, false
	}
	return map[string]any{"fs": fe.FS, "offset": float64(fe.Offset), "op": fe.Op, "path": fe.Path, "reason": fsReason(err)}, true
}

// fsReason names what an *volume.FSError is about, for FileSystemError.
func fsReason(err error) string {
	switch {
	case errors.Is(err, volume.ErrUnsupportedFS):
		return "unsupported"
	case errors.Is(err, volume.ErrNotFound):
		return "not_found"
	case errors.Is(err, volume.ErrNotDir):
		return "not_a_directory"
	case errors.Is(err, volume.ErrIsDir):
		return "is_a_directory"
	case errors.Is(err, volume.ErrDamaged):
		return "damaged"
	case errors.Is(err, volume.ErrNotRecoverable):
		return "not_recoverable"
	}
	return ""
}
