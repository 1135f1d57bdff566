//go:build !js

package main

import "os"

// openSource reads the image through an os.File, as cmd/vhdx does.
func openSource(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &source{r: f, size: st.Size(), what: "native os.File", close: func() { f.Close() }}, nil
}
