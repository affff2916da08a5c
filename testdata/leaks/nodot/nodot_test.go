// Package nodot is a module whose path has no dot, which leaks 100
// goroutines blocked in its own code: a dump of them shows no standard
// library frame in its first goroutines, so it does not tell where the
// standard library is.
package nodot

import (
	"sync"
	"testing"
)

func wait(mu *sync.Mutex) {
	mu.Lock()
}

// TestLeakMany leaves 100 goroutines waiting for a mutex it holds.
func TestLeakMany(t *testing.T) {
	var mu sync.Mutex
	mu.Lock()
	for i := 0; i < 100; i++ {
		go wait(&mu)
	}
}
