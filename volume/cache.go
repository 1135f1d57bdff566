package volume

// A bounded page cache for a volume's metadata.

import (
	"fmt"
	"github.com/vhdxview/vhdxview/internal/lru"
	"io"
)

// pageCache reads a volume's metadata in 64 KiB pages and keeps at most
// maxPages of them, so that walking FAT chains, inode tables and index
// blocks does not cost one small read of the virtual disk each.
type pageCache struct {
	r     io.ReaderAt
	size  int64
	pages *lru.Cache[int64, []byte]
}

const (
	pageSize = 64 << 10
	maxPages = 256 // 16 MiB
)

func newPageCache(r io.ReaderAt, size int64) *pageCache {
	return &pageCache{r: r, size: size, pages: lru.New[int64, []byte](maxPages)}
}

// readAt fills b from offset off, which must lie inside the volume.
func (c *pageCache) readAt(b []byte, off int64) error {
	if off < 0 || off+int64(len(b)) > c.size {
		return fmt.Errorf("%w: read of %d bytes at 0x%x outside the volume (0x%x bytes)", ErrDamaged, len(b), off, c.size)
	}
	for len(b) > 0 {
		pn := off / pageSize
		pg, ok := c.pages.Get(pn)
		if !ok {
			n := min(pageSize, c.size-pn*pageSize)
			pg = make([]byte, n)
			if _, err := readFull(c.r, c.size, pg, pn*pageSize); err != nil {
				return err
			}
			c.pages.Add(pn, pg)
		}
		k := copy(b, pg[off-pn*pageSize:])
		b, off = b[k:], off+int64(k)
	}
	return nil
}
