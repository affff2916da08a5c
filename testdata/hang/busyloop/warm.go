// Fixture busyloop: WaitWarm spin-waits on a flag that only the warm-up sets,
// and the warm-up of an empty source returns early without setting it.
// TestWaitWarmEmpty spins forever in WaitWarm's loop: one goroutine busy
// (running/runnable), no output.
package warm

import "sync/atomic"

// Cache is filled once by Warm.
type Cache struct {
	data  map[string]string
	ready atomic.Bool
}

// Warm fills the cache from src.
func (c *Cache) Warm(src map[string]string) {
	if len(src) == 0 {
		return // BUG: ready is never set for an empty source
	}
	c.data = make(map[string]string, len(src))
	for k, v := range src {
		c.data[k] = v
	}
	c.ready.Store(true)
}

// WaitWarm spins until Warm has finished.
func (c *Cache) WaitWarm() {
	for !c.ready.Load() {
	}
}

// Len is the number of cached entries.
func (c *Cache) Len() int { return len(c.data) }
