//go:build js && wasm && !nofs

package main

// The full engine: the ops of fsOps, served by volume.go, fileflows.go and
// scan.go.

func fsHandler(op string) handler {
	return map[string]handler{
		"parts":        (*request).parts,
		"ls":           (*request).ls,
		"stat":         (*request).stat,
		"ntfs_info":    (*request).ntfsInfo,
		"file_read":    (*request).fileRead,
		"file_plan":    (*request).filePlan,
		"listing":      (*request).listing,
		"file_extents": (*request).fileExtents,
		"file_preview": (*request).filePreview,
		"hash":         (*request).hash,
		"search":       (*request).search,
	}[op]
}

// hasFS tells whether this engine serves fsOps (the ready event says so).
const hasFS = true
