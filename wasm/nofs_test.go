//go:build js && wasm && nofs

package main

import (
	"strings"
	"testing"
)

// The core engine opens and reads, and answers each file-system op with an
// UnsupportedOpError that says where to send it.
func TestCoreEngineRefusesFSOps(t *testing.T) {
	c := newClient(t)
	ti := dynamicImage(t)
	img, _ := c.open(newFile(t, ti.name, ti.file, 1))
	c.checkReads(img, ti.expected)
	for _, op := range fsOps {
		e := c.fail(op, map[string]any{"image": img, "partition": 1, "path": "/"}, "UnsupportedOpError")
		if msg := e.Get("message").String(); !strings.Contains(msg, op) || !strings.Contains(msg, "full engine") {
			t.Errorf("%s: message %q names neither the op nor the full engine", op, msg)
		}
	}
}
