package listing

// The two text forms of a listing: CSV for spreadsheets and scripts, and
// The Sleuth Kit's body file for mactime timelines.

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// Writer writes rows in one of the formats.
type Writer interface {
	// Header writes what comes before the first row (CSV's column names;
	// nothing for a body file).
	Header() error
	Row(r *Row) error
	// Flush writes out what is buffered and reports a write error.
	Flush() error
}

// Formats are the names NewWriter knows.
var Formats = []string{"csv", "bodyfile"}

// NewWriter writes format ("csv" or "bodyfile") to w; hash lists the
// digest columns (CSV) or, for a body file, whether MD5 is there. It
// returns nil for an unknown format.
func NewWriter(format string, w io.Writer, hash []string) Writer {
	switch format {
	case "csv":
		return &csvWriter{w: csv.NewWriter(w), hash: hash}
	case "bodyfile":
		return &bodyWriter{w: w}
	}
	return nil
}

// CSV: one row per entry, times UTC ISO 8601 (RFC 3339) with the
// fractions the file system keeps, empty when it keeps none.
type csvWriter struct {
	w    *csv.Writer
	hash []string
}

// CSVColumns are the CSV columns before the digest columns and problem.
var CSVColumns = []string{"path", "type", "size", "modified", "accessed", "created", "deleted", "id"}

func (c *csvWriter) Header() error {
	h := append(append(append([]string{}, CSVColumns...), c.hash...), "problem")
	return c.w.Write(h)
}

func (c *csvWriter) Row(r *Row) error {
	rec := make([]string, 0, len(CSVColumns)+len(c.hash)+1)
	id := ""
	if r.ID != 0 {
		id = strconv.FormatUint(r.ID, 10)
	}
	size := ""
	if r.Kind() != "dir" {
		size = strconv.FormatInt(r.Size, 10)
	}
	rec = append(rec, r.FullPath(), r.Kind(), size, isoTime(r.ModTime), isoTime(r.AccessTime), isoTime(r.CreateTime),
		strconv.FormatBool(r.Deleted), id)
	for _, h := range c.hash {
		rec = append(rec, r.Sums[h])
	}
	rec = append(rec, r.Problem)
	return c.w.Write(rec)
}

func (c *csvWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// The body file of The Sleuth Kit 3.0 and later (what `fls -m` writes and
// mactime reads), one line per entry:
//
//	MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime
//
// Times are Unix seconds, 0 when unknown; ctime (the inode or MFT record
// change time) is 0, as the volume API does not read it. MD5 is 0 unless
// the listing hashes MD5. mode_as_string is the type from the name and
// from the metadata ("r/r", "d/d", "l/l", "-/-") and nine permission
// characters, all "-" because the volume API does not read permissions;
// UID and GID are 0 for the same reason. Deleted entries end their name
// with " (deleted)", as fls does. A name's "|" (the field separator) and
// control characters are written as "^" ("^" for control characters is
// what The Sleuth Kit does).
type bodyWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (b *bodyWriter) Header() error { return nil }

func (b *bodyWriter) Row(r *Row) error {
	if b.err != nil {
		return b.err
	}
	md5 := r.Sums["md5"]
	if md5 == "" {
		md5 = "0"
	}
	name := bodyName(r.FullPath())
	if r.Deleted {
		name += " (deleted)"
	}
	t := map[string]string{"file": "r", "stream": "r", "dir": "d", "symlink": "l"}[r.Kind()]
	if t == "" {
		t = "-"
	}
	s := b.buf[:0]
	s = append(s, md5...)
	s = append(s, '|')
	s = append(s, name...)
	s = append(s, '|')
	s = strconv.AppendUint(s, r.ID, 10)
	s = append(s, '|')
	s = append(s, t+"/"+t+"---------|0|0|"...)
	s = strconv.AppendInt(s, r.Size, 10)
	for _, tm := range []time.Time{r.AccessTime, r.ModTime, {}, r.CreateTime} {
		s = append(s, '|')
		s = strconv.AppendInt(s, unix(tm), 10)
	}
	s = append(s, '\n')
	b.buf = s
	_, b.err = b.w.Write(s)
	return b.err
}

func (b *bodyWriter) Flush() error { return b.err }

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func bodyName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '|' || r < 0x20 || r == 0x7f {
			return '^'
		}
		return r
	}, s)
}
