// Fixture example, package cache: Merge locks the receiver, then (through
// Snapshot) the other cache. TestReplicasConverge merges two replicas into
// each other concurrently: each goroutine holds its own cache's lock and
// waits for the other's (lock-order inversion), both in sync.Mutex.Lock in
// Snapshot, while the test waits in wg.Wait. The other packages pass.
package cache

import (
	"sync"
	"time"
)

type entry struct {
	val     string
	expires time.Time
}

// Cache is a map with per-entry expiry, safe for concurrent use.
type Cache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]entry
}

// New returns a cache whose entries live for ttl.
func New(ttl time.Duration) *Cache {
	return &Cache{ttl: ttl, m: map[string]entry{}}
}

// Set stores val under key.
func (c *Cache) Set(key, val string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = entry{val, time.Now().Add(c.ttl)}
}

// Get returns the live value stored under key.
func (c *Cache) Get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Now().After(e.expires) {
		return "", false
	}
	return e.val, true
}

// Len is the number of entries, expired or not.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Snapshot copies the live entries.
func (c *Cache) Snapshot() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	out := make(map[string]string, len(c.m))
	for k, e := range c.m {
		if now.Before(e.expires) {
			out[k] = e.val
		}
	}
	return out
}

// Merge copies the live entries of other that c does not have.
func (c *Cache) Merge(other *Cache) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range other.Snapshot() { // BUG: takes other.mu while holding c.mu
		if _, ok := c.m[k]; !ok {
			c.m[k] = entry{v, time.Now().Add(c.ttl)}
		}
	}
}
