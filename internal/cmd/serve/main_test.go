package main

import (
	"html"
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
