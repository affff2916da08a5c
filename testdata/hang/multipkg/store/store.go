// Package store persists values. Part of fixture multipkg: passes in about 1 s.
package store

import (
	"sync"
	"time"
)

// Store is an in-memory store with a simulated write latency.
type Store struct {
	mu sync.Mutex
	m  map[string]string
}

// Put stores v under k.
func (s *Store) Put(k, v string) {
	time.Sleep(100 * time.Millisecond) // simulated fsync
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = v
}

// Get returns the value stored under k.
func (s *Store) Get(k string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}
