// Command serve serves the viewer (the repository root) on localhost with
// the headers the page needs: application/wasm for .wasm, and a
// Content-Security-Policy that allows only the page's own origin.
//
// The policy is the one in index.html's <meta http-equiv> tag, read at
// start: index.html is its one source. The header repeats it because a
// worker does not get the page's <meta> policy, only its own response's.
package main

import (
	"flag"
	"fmt"
	"html"
	"log"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// cspMeta matches the policy's <meta> tag (attributes in this order, as
// index.html writes them).
var cspMeta = regexp.MustCompile(`(?i)<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"`)

// pageCSP returns the Content-Security-Policy of the page in dir
// (index.html's <meta> tag).
func pageCSP(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		return "", err
	}
	m := cspMeta.FindAllSubmatch(b, -1)
	if len(m) != 1 {
		return "", fmt.Errorf("%s: want one <meta http-equiv=\"Content-Security-Policy\" content=\"…\"> tag, found %d", filepath.Join(dir, "index.html"), len(m))
	}
	return html.UnescapeString(string(m[0][1])), nil
}

// handler serves the viewer's files under root with the policy csp.
func handler(root, csp string) http.Handler {
	fs := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only the viewer's files are served, not the source tree.
		p := r.URL.Path
		if p != "/" && p != "/index.html" && !strings.HasPrefix(p, "/web/") && !strings.HasPrefix(p, "/docs/") && p != "/sw.js" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		fs.ServeHTTP(w, r)
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	root := flag.String("root", ".", "directory to serve")
	flag.Parse()
	mime.AddExtensionType(".wasm", "application/wasm")
	mime.AddExtensionType(".js", "text/javascript")
	mime.AddExtensionType(".mjs", "text/javascript")
	csp, err := pageCSP(*root)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("vhdxview: serving %s on http://%s/", *root, *addr)
	log.Fatal(http.ListenAndServe(*addr, handler(*root, csp)))
}
