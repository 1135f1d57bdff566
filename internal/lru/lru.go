// Package lru is the bounded least-recently-used map that the engine's
// caches share: BAT pages in core, metadata pages in volume, Blob chunks in
// bridge. It holds no lock: each cache guards it with its own.
package lru

import "container/list"

// Cache maps keys to values, keeping at most Max entries: adding one more
// evicts the least recently used. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	max     int
	items   map[K]*list.Element
	order   list.List  // of *entry[K, V], most recently used first
	OnEvict func(K, V) // called for each evicted entry, if set
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns a cache of at most size entries (at least 1).
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{max: max(size, 1), items: make(map[K]*list.Element)}
}

// Get returns the value for k and marks it most recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Peek returns the value for k without changing the order.
func (c *Cache[K, V]) Peek(k K) (V, bool) {
	if e, ok := c.items[k]; ok {
		return e.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Add sets k to v as the most recently used entry, evicting the least
// recently used entries beyond the cache's size.
func (c *Cache[K, V]) Add(k K, v V) {
	if e, ok := c.items[k]; ok {
		e.Value.(*entry[K, V]).val = v
		c.order.MoveToFront(e)
		return
	}
	c.items[k] = c.order.PushFront(&entry[K, V]{k, v})
	for c.order.Len() > c.max {
		c.removeElement(c.order.Back(), true)
	}
}

// Remove drops k, if present, without calling OnEvict.
func (c *Cache[K, V]) Remove(k K) {
	if e, ok := c.items[k]; ok {
		c.removeElement(e, false)
	}
}

func (c *Cache[K, V]) removeElement(e *list.Element, evicted bool) {
	en := c.order.Remove(e).(*entry[K, V])
	delete(c.items, en.key)
	if evicted && c.OnEvict != nil {
		c.OnEvict(en.key, en.val)
	}
}

// RemoveOldest drops the least recently used entry, calling OnEvict,
// and reports whether there was one. A cache bounded by something other
// than its count (bytes) evicts with it.
func (c *Cache[K, V]) RemoveOldest() bool {
	if e := c.order.Back(); e != nil {
		c.removeElement(e, true)
		return true
	}
	return false
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int { return c.order.Len() }

// Clear drops every entry without calling OnEvict.
func (c *Cache[K, V]) Clear() {
	clear(c.items)
	c.order.Init()
}
