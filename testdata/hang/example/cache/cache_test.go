package cache

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestGetSet(t *testing.T) {
	c := New(time.Minute)
	c.Set("k", "v")
	if v, ok := c.Get("k"); !ok || v != "v" {
		t.Fatalf("got %q, %v", v, ok)
	}
}

func TestExpiry(t *testing.T) {
	c := New(50 * time.Millisecond)
	c.Set("k", "v")
	time.Sleep(100 * time.Millisecond)
	if _, ok := c.Get("k"); ok {
		t.Fatal("entry did not expire")
	}
}

func TestMerge(t *testing.T) {
	a, b := New(time.Minute), New(time.Minute)
	a.Set("x", "1")
	b.Set("y", "2")
	a.Merge(b)
	if a.Len() != 2 {
		t.Fatalf("len %d", a.Len())
	}
}

func TestReplicasConverge(t *testing.T) {
	a, b := New(time.Minute), New(time.Minute)
	for i := 0; i < 1000; i++ {
		a.Set(fmt.Sprint("a", i), "v")
		b.Set(fmt.Sprint("b", i), "v")
	}
	var wg sync.WaitGroup
	for _, pair := range [][2]*Cache{{a, b}, {b, a}} {
		wg.Add(1)
		go func(dst, src *Cache) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				dst.Merge(src)
			}
		}(pair[0], pair[1])
	}
	wg.Wait()
	if a.Len() != 2000 || b.Len() != 2000 {
		t.Fatalf("replicas differ: %d vs %d", a.Len(), b.Len())
	}
}

func TestLen(t *testing.T) {
	c := New(time.Minute)
	c.Set("a", "1")
	c.Set("b", "2")
	if c.Len() != 2 {
		t.Fatalf("len %d", c.Len())
	}
}
