// Command serve serves the viewer (the repository root) on localhost with
// the headers the page needs: application/wasm for .wasm, and a
// Content-Security-Policy that allows only the page's own origin.
package main

import (
	"flag"
	"log"
	"mime"
	"net/http"
	"strings"
)

// CSP is the policy the page is served with (it repeats the <meta> tag in
// index.html so that workers get it too).
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	root := flag.String("root", ".", "directory to serve")
	flag.Parse()
	mime.AddExtensionType(".wasm", "application/wasm")
	mime.AddExtensionType(".js", "text/javascript")
	mime.AddExtensionType(".mjs", "text/javascript")
	fs := http.FileServer(http.Dir(*root))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only the viewer's files are served, not the source tree.
		p := r.URL.Path
		if p != "/" && p != "/index.html" && !strings.HasPrefix(p, "/web/") && !strings.HasPrefix(p, "/docs/") && p != "/sw.js" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", CSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		fs.ServeHTTP(w, r)
	})
	log.Printf("vhdxview: serving %s on http://%s/", *root, *addr)
	log.Fatal(http.ListenAndServe(*addr, h))
}
