// Command wasmsize prints how many bytes of a Go WebAssembly binary's code
// each package takes, largest first: what to cut to make the engine smaller
// (issue #15: web/vhdxview.wasm against its 1 MB brotli goal).
//
//	GOOS=js GOARCH=wasm go build -trimpath -o /tmp/engine.wasm ./wasm
//	go run ./internal/cmd/wasmsize [-n 40] /tmp/engine.wasm
//
// The binary must keep its "name" custom section (no -ldflags=-s). Function
// bodies are counted from the code section (WebAssembly core spec 5.5.13)
// and named from the name section's function names (spec appendix 7.4);
// Go names a function "import_path.Name" with the path's '/' and '.' turned
// into '_', so the package is the name up to its first '.' after a host
// such as "github.com_". Data (the data section) is reported as one total.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	n := flag.Int("n", 40, "packages to list")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-n N] file.wasm")
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err == nil {
		err = report(os.Stdout, b, *n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
}

// sizes are a module's function body sizes by package, and its data
// section's size.
type sizes struct {
	code, data int
	byPkg      map[string]int
}

func report(w io.Writer, b []byte, n int) error {
	s, err := measure(b)
	if err != nil {
		return err
	}
	type row struct {
		pkg  string
		size int
	}
	var rows []row
	for p, k := range s.byPkg {
		rows = append(rows, row{p, k})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].size != rows[j].size {
			return rows[i].size > rows[j].size
		}
		return rows[i].pkg < rows[j].pkg
	})
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "code %d bytes, data %d bytes\n", s.code, s.data)
	for i, r := range rows {
		if i == n {
			break
		}
		fmt.Fprintf(bw, "%9d  %s\n", r.size, r.pkg)
	}
	return bw.Flush()
}

// reader walks a byte slice; every read is bounds-checked.
type reader struct {
	b   []byte
	off int
}

var errShort = errors.New("truncated module")

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errShort
	}
	r.off++
	return r.b[r.off-1], nil
}

// u32 reads an unsigned LEB128 number of at most 32 bits.
func (r *reader) u32() (int, error) {
	v := 0
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= int(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 number over 32 bits")
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, errShort
	}
	r.off += n
	return r.b[r.off-n : r.off], nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	return string(b), err
}

func measure(b []byte) (sizes, error) {
	s := sizes{byPkg: map[string]int{}}
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return s, errors.New("not a WebAssembly module")
	}
	r := &reader{b: b, off: 8}
	imports := 0
	var bodies []int
	names := map[int]string{}
	for r.off < len(b) {
		id, err := r.byte()
		if err != nil {
			return s, err
		}
		n, err := r.u32()
		if err != nil {
			return s, err
		}
		body, err := r.bytes(n)
		if err != nil {
			return s, fmt.Errorf("section %d: %w", id, err)
		}
		sec := &reader{b: body}
		switch id {
		case 2: // imports: function imports come first in the index space
			if imports, err = countFuncImports(sec); err != nil {
				return s, fmt.Errorf("import section: %w", err)
			}
		case 10: // code
			count, err := sec.u32()
			if err != nil {
				return s, err
			}
			for i := 0; i < count; i++ {
				k, err := sec.u32()
				if err != nil {
					return s, err
				}
				if _, err := sec.bytes(k); err != nil {
					return s, fmt.Errorf("code section, body %d: %w", i, err)
				}
				bodies = append(bodies, k)
			}
		case 11:
			s.data = n
		case 0:
			if nm, err := sec.name(); err == nil && nm == "name" {
				if err := functionNames(sec, names); err != nil {
					return s, fmt.Errorf("name section: %w", err)
				}
			}
		}
	}
	for i, k := range bodies {
		s.code += k
		s.byPkg[pkgOf(names[imports+i])] += k
	}
	return s, nil
}

func countFuncImports(r *reader) (int, error) {
	count, err := r.u32()
	if err != nil {
		return 0, err
	}
	funcs := 0
	for i := 0; i < count; i++ {
		if _, err := r.name(); err != nil {
			return 0, err
		}
		if _, err := r.name(); err != nil {
			return 0, err
		}
		kind, err := r.byte()
		if err != nil {
			return 0, err
		}
		switch kind {
		case 0: // func: type index
			funcs++
			_, err = r.u32()
		case 1: // table: reftype, limits
			if _, err = r.byte(); err == nil {
				err = skipLimits(r)
			}
		case 2: // memory: limits
			err = skipLimits(r)
		case 3: // global: valtype, mutability
			_, err = r.bytes(2)
		default:
			err = fmt.Errorf("import kind %d", kind)
		}
		if err != nil {
			return 0, err
		}
	}
	return funcs, nil
}

func skipLimits(r *reader) error {
	flag, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.u32(); err != nil {
		return err
	}
	if flag&1 != 0 {
		_, err = r.u32()
	}
	return err
}

// functionNames reads subsection 1 (function names) of a name section.
func functionNames(r *reader, names map[int]string) error {
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return err
		}
		n, err := r.u32()
		if err != nil {
			return err
		}
		body, err := r.bytes(n)
		if err != nil {
			return err
		}
		if id != 1 {
			continue
		}
		sub := &reader{b: body}
		count, err := sub.u32()
		if err != nil {
			return err
		}
		for i := 0; i < count; i++ {
			idx, err := sub.u32()
			if err != nil {
				return err
			}
			if names[idx], err = sub.name(); err != nil {
				return err
			}
		}
	}
	return nil
}

// pkgOf is the package of a Go function name as the wasm linker writes it.
func pkgOf(fn string) string {
	if fn == "" {
		return "(unnamed)"
	}
	rest, host := fn, ""
	for _, h := range []string{"github.com_", "golang.org_", "gopkg.in_", "www.velocidex.com_"} {
		if strings.HasPrefix(fn, h) {
			host, rest = h, fn[len(h):]
			break
		}
	}
	if i := strings.IndexByte(rest, '.'); i > 0 {
		rest = rest[:i]
	}
	return host + rest
}
