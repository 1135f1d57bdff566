// Command serve serves the viewer (the repository root) on localhost with
// the headers the page needs: application/wasm for .wasm, and a
// Content-Security-Policy that allows only the page's own origin.
//
// The policy is the one in index.html's <meta http-equiv> tag, read at
// start: index.html is its one source. The header repeats it because a
// worker does not get the page's <meta> policy, only its own response's.
//
// Text and wasm files go out gzip-compressed to clients that accept it, as
// any static host sends them (the engine is about 7 MB, 2 MB compressed).
package main

import (
	"compress/gzip"
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
		if !compressible(p) || r.Header.Get("Range") != "" || !acceptsGzip(r) {
			fs.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Accept-Encoding")
		gw := &gzipWriter{ResponseWriter: w}
		defer gw.close()
		fs.ServeHTTP(gw, r)
	})
}

// compressible says whether the file at p is sent compressed: the page,
// its scripts, styles and data, and the engine (not the already
// compressed sample).
func compressible(p string) bool {
	if strings.HasSuffix(p, "/") {
		return true
	}
	switch filepath.Ext(p) {
	case ".html", ".js", ".mjs", ".css", ".json", ".svg", ".wasm", ".md":
		return true
	}
	return false
}

// acceptsGzip says whether the request's Accept-Encoding lists gzip
// (without q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// gzipWriter compresses a 200 response's body; other statuses (304, 404,
// redirects) pass unchanged.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	started bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if g.started {
		return
	}
	g.started = true
	if code == http.StatusOK {
		h := g.Header()
		h.Del("Content-Length") // the compressed length is not known yet
		h.Set("Content-Encoding", "gzip")
		g.gz, _ = gzip.NewWriterLevel(g.ResponseWriter, gzip.BestSpeed)
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	if g.gz != nil {
		return g.gz.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

func (g *gzipWriter) close() {
	if g.gz != nil {
		g.gz.Close()
	}
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
