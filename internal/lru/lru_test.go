package lru

import (
	"slices"
	"testing"
)

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[int, string](2)
	var evicted []int
	c.OnEvict = func(k int, _ string) { evicted = append(evicted, k) }
	c.Add(1, "a")
	c.Add(2, "b")
	if v, ok := c.Get(1); !ok || v != "a" { // 1 is now the most recent
		t.Fatalf("Get(1) = %q, %v", v, ok)
	}
	c.Add(3, "c") // evicts 2
	if _, ok := c.Peek(2); ok {
		t.Error("2 survived; it was the least recently used")
	}
	if _, ok := c.Peek(1); !ok {
		t.Error("1 was evicted though used last")
	}
	c.Add(1, "A") // update, no eviction
	c.Add(4, "d") // evicts 3 (Peek does not count as use)
	if !slices.Equal(evicted, []int{2, 3}) || c.Len() != 2 {
		t.Errorf("evicted %v, len %d", evicted, c.Len())
	}
	if v, _ := c.Get(1); v != "A" {
		t.Errorf("Get(1) = %q after update", v)
	}
	c.Remove(1)
	c.Clear()
	if c.Len() != 0 || !slices.Equal(evicted, []int{2, 3}) {
		t.Errorf("after Remove and Clear: len %d, evicted %v", c.Len(), evicted)
	}
}

func TestSizeAtLeastOne(t *testing.T) {
	c := New[string, int](0)
	c.Add("x", 1)
	if _, ok := c.Get("x"); !ok || c.Len() != 1 {
		t.Error("a cache of size 0 holds nothing")
	}
}

func TestRemoveOldest(t *testing.T) {
	c := New[int, string](10)
	var evicted []int
	c.OnEvict = func(k int, _ string) { evicted = append(evicted, k) }
	if c.RemoveOldest() {
		t.Fatal("RemoveOldest on an empty cache reported an entry")
	}
	c.Add(1, "a")
	c.Add(2, "b")
	c.Get(1)
	if !c.RemoveOldest() || !slices.Equal(evicted, []int{2}) || c.Len() != 1 {
		t.Fatalf("evicted %v, len %d; want [2], 1", evicted, c.Len())
	}
}
