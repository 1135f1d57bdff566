package volume

// A cache of decoded directories, bounded by the bytes they hold, so that
// opening every file of a directory one path at a time (a walk, an export,
// hashing a folder) decodes the directory once rather than once per file.

import "github.com/vhdxview/vhdxview/internal/lru"

// dirCacheBytes bounds the decoded directories one volume keeps: about
// 300,000 entries of ext or FAT names.
const dirCacheBytes = 32 << 20

// dirCache maps a directory's key (an ext inode number, a FAT path) to its
// decoded form, each with its cost in bytes; adding one evicts the least
// recently used until the total fits. A directory costing more than half
// the budget is not kept (it would push out everything else).
type dirCache[K comparable, V any] struct {
	c      *lru.Cache[K, costed[V]]
	used   int64
	budget int64
}

type costed[V any] struct {
	v    V
	cost int64
}

func newDirCache[K comparable, V any](budget int64) *dirCache[K, V] {
	d := &dirCache[K, V]{budget: budget}
	d.c = lru.New[K, costed[V]](1 << 30) // bounded by bytes, not count
	d.c.OnEvict = func(_ K, e costed[V]) { d.used -= e.cost }
	return d
}

func (d *dirCache[K, V]) get(k K) (V, bool) {
	e, ok := d.c.Get(k)
	return e.v, ok
}

func (d *dirCache[K, V]) add(k K, v V, cost int64) {
	if cost > d.budget/2 {
		return
	}
	if old, ok := d.c.Peek(k); ok {
		d.used -= old.cost
		d.c.Remove(k)
	}
	d.c.Add(k, costed[V]{v, cost})
	d.used += cost
	for d.used > d.budget && d.c.RemoveOldest() {
	}
}

// entryCost estimates the memory a decoded entry named name takes: the
// name, the struct around it and a slot of a name index.
func entryCost(name string) int64 { return int64(len(name)) + 96 }
