// Fixture parallel: Register returns early on a duplicate name without
// unlocking the registry. TestRegisterDuplicate (sequential) passes but
// leaves the shared registry locked; of the t.Parallel tests, TestLookup
// waits forever in Lookup's r.mu.Lock (sync.Mutex.Lock) while the others
// pass. Needs -parallel >= 2 (the default is GOMAXPROCS).
package registry

import (
	"fmt"
	"sync"
)

// Registry maps service names to ports.
type Registry struct {
	mu    sync.Mutex
	ports map[string]int
}

// New returns an empty registry.
func New() *Registry { return &Registry{ports: map[string]int{}} }

// Register adds name; registering a name twice is an error.
func (r *Registry) Register(name string, port int) error {
	r.mu.Lock()
	if _, ok := r.ports[name]; ok {
		return fmt.Errorf("register %s: already registered", name) // BUG: r.mu stays locked
	}
	r.ports[name] = port
	r.mu.Unlock()
	return nil
}

// Lookup returns the port registered for name.
func (r *Registry) Lookup(name string) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	port, ok := r.ports[name]
	return port, ok
}
