package main

import (
	"bytes"
	"compress/gzip"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const repo = "../../.."

// The policy has one source, index.html; the server sends it, and the
// engine tests' page (web/test/harness.html) declares the same.
func TestCSPHasOneSource(t *testing.T) {
	csp, err := pageCSP(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"default-src 'self'", "'wasm-unsafe-eval'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("index.html's policy %q lacks %q", csp, want)
		}
	}
	srv := httptest.NewServer(handler(repo, csp))
	defer srv.Close()
	for _, p := range []string{"/", "/web/worker.js", "/sw.js"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") != csp {
			t.Errorf("%s: %d, policy %q, want %q", p, res.StatusCode, res.Header.Get("Content-Security-Policy"), csp)
		}
	}
	if res, err := http.Get(srv.URL + "/go.mod"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("/go.mod served: %v %v", res.StatusCode, err)
	}
	b, err := os.ReadFile(filepath.Join(repo, "web/test/harness.html"))
	if err != nil {
		t.Fatal(err)
	}
	m := cspMeta.FindAllSubmatch(b, -1)
	if len(m) != 1 || html.UnescapeString(string(m[0][1])) != csp {
		t.Fatalf("web/test/harness.html's policy differs from index.html's:\n%s\n%s", m, csp)
	}
}

func TestPageCSPNeedsOneTag(t *testing.T) {
	dir := t.TempDir()
	for _, page := range []string{
		`<!doctype html><title>x</title>`,
		`<meta http-equiv="Content-Security-Policy" content="a"><meta http-equiv="Content-Security-Policy" content="b">`,
	} {
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		if csp, err := pageCSP(dir); err == nil {
			t.Errorf("%s: policy %q, want an error", page, csp)
		}
	}
}

// TestCompressed: a client that accepts gzip gets the page's files
// compressed, with the same bytes inside; others, and range requests, get
// them as they are.
func TestCompressed(t *testing.T) {
	csp, err := pageCSP(repo)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler(repo, csp))
	defer srv.Close()
	want, err := os.ReadFile(filepath.Join(repo, "web/vhdxview.js"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(hdr map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", srv.URL+"/web/vhdxview.js", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		// A Transport that does not ask for gzip itself, so that the body
		// comes as the server sent it.
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	res, body := get(map[string]string{"Accept-Encoding": "br, gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") ||
		res.Header.Get("Content-Security-Policy") != csp || len(body) >= len(want) {
		t.Fatalf("with gzip: %v, %d bytes of %d", res.Header, len(body), len(want))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("decompressed body differs (%v)", err)
	}
	for _, hdr := range []map[string]string{{}, {"Accept-Encoding": "gzip;q=0"}, {"Accept-Encoding": "gzip", "Range": "bytes=0-99"}} {
		res, body := get(hdr)
		if res.Header.Get("Content-Encoding") != "" {
			t.Errorf("%v: compressed", hdr)
		}
		if hdr["Range"] != "" {
			want := want[:100]
			if res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want) {
				t.Errorf("range: %d, %d bytes", res.StatusCode, len(body))
			}
		} else if !bytes.Equal(body, want) {
			t.Errorf("%v: body differs", hdr)
		}
	}
	if !compressible("/web/vhdxview.wasm") || compressible("/web/samples/sample.vhdx.gz") {
		t.Error("compressible: the engine must be, the gzipped sample must not")
	}
}
