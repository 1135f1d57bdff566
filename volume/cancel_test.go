package volume

// Cancellation: every long walk stops soon after its context is
// cancelled, measured in reads of the disk made after the cancellation
// (never in time), and says so with an error wrapping context.Canceled.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// cancelReader cancels a context at its after-th read and counts the
// reads made after that: none should be, since a volume refuses to read
// for a cancelled call.
type cancelReader struct {
	r      io.ReaderAt
	after  int64
	cancel context.CancelFunc
	reads  atomic.Int64
	late   atomic.Int64
}

func (c *cancelReader) ReadAt(p []byte, off int64) (int, error) {
	switch n := c.reads.Add(1); {
	case n == c.after:
		c.cancel()
	case c.after > 0 && n > c.after:
		c.late.Add(1)
	}
	return c.r.ReadAt(p, off)
}

// bigDirVolume makes a volume of the given kind whose /many directory
// holds n small files with long names (on FAT their short names differ
// in their first six characters: mcopy asks what to do when it runs out
// of ~N tails for one stem).
func bigDirVolume(t *testing.T, kind string, n int) []byte {
	t.Helper()
	dir := t.TempDir()
	many := filepath.Join(dir, "src", "many")
	if err := os.MkdirAll(many, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(many, bigDirName(i)), []byte(strconv.Itoa(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(dir, kind+".img")
	switch kind {
	case "ext4":
		run(t, "", "mkfs.ext4", "-q", "-F", "-N", strconv.Itoa(n+1000), "-d", filepath.Join(dir, "src"), img, "16M")
	case "fat32":
		run(t, "", "mkfs.fat", "-C", "-F", "32", "-s", "1", img, strconv.Itoa(34*1024))
		runEnv(t, []string{"LC_ALL=C.UTF-8", "MTOOLS_SKIP_CHECK=1"}, "", "mcopy", "-s", "-i", img, many, "::/")
	case "ntfs":
		f, err := os.Create(img)
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(16 << 20)
		f.Close()
		run(t, "", "mkntfs", "-F", "-Q", "-q", img)
		// ntfscp makes no directories: the files go into the root, which
		// is the large directory here.
		for i := 0; i < n; i++ {
			name := bigDirName(i)
			run(t, "", "ntfscp", "-f", "-q", img, filepath.Join(many, name), "/"+name)
		}
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func bigDirName(i int) string { return fmt.Sprintf("%05d-long-name.txt", i) }

// TestCancelListing: listing a large directory (ext4, FAT32, NTFS) with a
// context cancelled part way through stops within a few reads with
// context.Canceled, through List and through io/fs; an already cancelled
// context reads nothing.
func TestCancelListing(t *testing.T) {
	for _, c := range []struct {
		kind string
		n    int
		dir  string
	}{
		{"ext4", 3000, "/many"},
		{"fat32", 2000, "/many"},
		{"ntfs", 400, "/"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			vol := bigDirVolume(t, c.kind, c.n)
			open := func(after int64) (*FS, *cancelReader, context.Context) {
				ctx, cancel := context.WithCancel(t.Context())
				t.Cleanup(cancel)
				cr := &cancelReader{r: bytes.NewReader(vol), cancel: cancel}
				fsys, err := OpenFS(cr, 0, int64(len(vol)), 512)
				if err != nil {
					t.Fatal(err)
				}
				cr.reads.Store(0)
				cr.after = after
				return fsys.WithContext(ctx), cr, ctx
			}

			// How many reads a whole listing takes.
			fsys, cr, _ := open(0)
			es, err := fsys.List(c.dir)
			if err != nil {
				t.Fatal(err)
			}
			live := 0
			for _, e := range es {
				if strings.HasSuffix(e.Name, "-long-name.txt") && !e.Deleted {
					live++
				}
			}
			if live != c.n {
				t.Fatalf("%d files listed, want %d", live, c.n)
			}
			total := cr.reads.Load()
			if total < 4 {
				t.Fatalf("a listing takes %d reads: too few to cancel part way", total)
			}

			for _, after := range []int64{1, total / 2, total - 1} {
				fsys, cr, _ := open(after)
				_, err := fsys.List(c.dir)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("List cancelled at read %d of %d: %v", after, total, err)
				}
				var fe *FSError
				if !errors.As(err, &fe) || fe.Op != "readdir" {
					t.Errorf("List cancelled: %v does not name the volume and op", err)
				}
				if late := cr.late.Load(); late != 0 {
					t.Errorf("List cancelled at read %d of %d made %d more reads", after, total, late)
				}

				fsys, cr, _ = open(after)
				err = iofs.WalkDir(fsys, ".", func(_ string, _ iofs.DirEntry, err error) error { return err })
				if !errors.Is(err, context.Canceled) {
					t.Errorf("WalkDir cancelled at read %d of %d: %v", after, total, err)
				}
				if late := cr.late.Load(); late != 0 {
					t.Errorf("WalkDir cancelled at read %d of %d made %d more reads", after, total, late)
				}
			}

			// Already cancelled: nothing is read.
			fsys, cr, ctx := open(-1)
			cr.cancel()
			<-ctx.Done()
			if _, err := fsys.List(c.dir); !errors.Is(err, context.Canceled) || cr.reads.Load() != 0 {
				t.Errorf("List under a cancelled context: %v after %d reads", err, cr.reads.Load())
			}
			if _, err := fsys.ReadDir(c.dir[1:] + "."); !errors.Is(err, context.Canceled) {
				t.Errorf("ReadDir under a cancelled context: %v", err)
			}
		})
	}
}

// TestCancelRead: reading a large file and mapping it stop with
// context.Canceled, and so does the walk of a long FAT cluster chain when
// the file is opened.
func TestCancelRead(t *testing.T) {
	data := randBytes(31, 12<<20+5)
	for _, kind := range []string{"ext4", "fat32"} {
		t.Run(kind, func(t *testing.T) {
			var img string
			if kind == "ext4" {
				img = mkExt(t, "ext4", tree{"big.bin": data}, 24)
			} else {
				img = mkFAT(t, 32, tree{"big.bin": data}, 34)
			}
			vol, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cr := &cancelReader{r: bytes.NewReader(vol), cancel: cancel}
			base, err := OpenFS(cr, 0, int64(len(vol)), 512)
			if err != nil {
				t.Fatal(err)
			}
			f, err := base.OpenFile("big.bin")
			if err != nil {
				t.Fatal(err)
			}
			// Reading the whole file in one call stops at its next read
			// of the disk.
			cr.reads.Store(0)
			cr.after = 1
			buf := make([]byte, f.Size())
			n, err := f.WithContext(ctx).ReadAt(buf, 0)
			if !errors.Is(err, context.Canceled) || n >= len(buf) {
				t.Errorf("ReadAt cancelled: %d of %d bytes, %v", n, len(buf), err)
			}
			if !bytes.Equal(buf[:n], data[:n]) {
				t.Error("the bytes read before the cancellation differ")
			}
			if late := cr.late.Load(); late != 0 {
				t.Errorf("ReadAt made %d reads after the cancellation", late)
			}
			// A cancelled mapping stops before its first piece.
			pieces := 0
			err = f.WithContext(ctx).MapRange(0, f.Size(), func(int64, int64, int64) error { pieces++; return nil })
			if !errors.Is(err, context.Canceled) || pieces != 0 {
				t.Errorf("MapRange under a cancelled context: %d pieces, %v", pieces, err)
			}
			// The same file under a live context reads whole.
			if n, err := f.ReadAt(buf, 0); n != len(buf) || err != nil || !bytes.Equal(buf, data) {
				t.Errorf("ReadAt under the FS's own context: %d bytes, %v", n, err)
			}
		})
	}

	// FAT32 with 512-byte clusters: the 12 MiB file is a chain of 24,577
	// clusters whose FAT entries fill one 96 KiB run of the cache. The
	// walk is cancelled by the first read it makes and must notice
	// without reading more.
	vol, err := os.ReadFile(mkFAT(t, 32, tree{"big.bin": data}, 34))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cr := &cancelReader{r: bytes.NewReader(vol), cancel: cancel}
	fsys, err := OpenFS(cr, 0, int64(len(vol)), 512)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Lookup("big.bin"); err != nil { // the root directory, cached
		t.Fatal(err)
	}
	cr.reads.Store(0)
	cr.after = 1
	if _, err := fsys.WithContext(ctx).OpenFile("big.bin"); !errors.Is(err, context.Canceled) {
		t.Errorf("OpenFile cancelled during the chain walk: %v", err)
	}
}

// blockingReader, once armed, blocks every read until release is closed,
// after telling started about the first.
type blockingReader struct {
	r       io.ReaderAt
	armed   atomic.Bool
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func (b *blockingReader) ReadAt(p []byte, off int64) (int, error) {
	if b.armed.Load() {
		b.once.Do(func() { close(b.started) })
		<-b.release
	}
	return b.r.ReadAt(p, off)
}

// TestCancelWaiting: a call waiting for the volume's lock (held by a
// call stuck in a read) returns when its context is cancelled.
func TestCancelWaiting(t *testing.T) {
	vol, err := os.ReadFile(mkExt(t, "ext4", sampleTree(false), 8))
	if err != nil {
		t.Fatal(err)
	}
	br := &blockingReader{r: bytes.NewReader(vol), started: make(chan struct{}), release: make(chan struct{})}
	fsys, err := OpenFS(br, 0, int64(len(vol)), 512)
	if err != nil {
		t.Fatal(err)
	}
	br.armed.Store(true)
	first := make(chan error)
	go func() {
		_, err := fsys.List("/dir/sub")
		first <- err
	}()
	<-br.started // the first call holds the lock, blocked in a read
	ctx, cancel := context.WithCancel(t.Context())
	second := make(chan error)
	go func() {
		_, err := fsys.WithContext(ctx).Lookup("/hello.txt")
		second <- err
	}()
	// Let the second call reach the lock (if it is cancelled before, it
	// must return just the same; with a lock that ignored the context it
	// would wait for release, which comes only after it returns).
	for range 100 {
		runtime.Gosched()
	}
	select {
	case err := <-second:
		t.Fatalf("Lookup returned while the lock is held: %v", err)
	default:
	}
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("waiting Lookup: %v", err)
	}
	close(br.release)
	if err := <-first; err != nil {
		t.Errorf("the call holding the lock: %v", err)
	}
}

// TestCancelPartitions: a cancelled context stops Partitions.
func TestCancelPartitions(t *testing.T) {
	raw, _ := mkDisk(t, "mbr", 8, []part{{sizeMiB: 2, typ: "83"}, {sizeMiB: 1, typ: "83", logical: true}, {sizeMiB: 1, typ: "83", logical: true}})
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Partitions(ctx, bytes.NewReader(b), int64(len(b)), 512); !errors.Is(err, context.Canceled) {
		t.Errorf("Partitions under a cancelled context: %v", err)
	}
	// Cancelled while walking the EBR chain (the first read is sector 0).
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	cr := &cancelReader{r: bytes.NewReader(b), after: 3, cancel: cancel}
	if _, err := Partitions(ctx, cr, int64(len(b)), 512); !errors.Is(err, context.Canceled) {
		t.Errorf("Partitions cancelled at read 3: %v", err)
	}
	if late := cr.late.Load(); late != 0 {
		t.Errorf("Partitions made %d reads after the cancellation", late)
	}
}
