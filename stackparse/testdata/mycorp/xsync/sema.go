// Package xsync is a lock of its own over the runtime's semaphore, as forks
// of package sync do: its waiters block in sync.runtime_Semacquire, with no
// frame of package sync on their stacks.
package xsync

import (
	"sync/atomic"
	_ "unsafe" // for go:linkname
)

//go:linkname semacquire sync.runtime_Semacquire
func semacquire(s *uint32)

//go:linkname semrelease sync.runtime_Semrelease
func semrelease(s *uint32, handoff bool, skipframes int)

// Mutex is a binary semaphore: state counts holders and waiters.
type Mutex struct {
	state int32
	sema  uint32
}

// Lock blocks until the mutex is free.
func (m *Mutex) Lock() {
	if atomic.AddInt32(&m.state, 1) == 1 {
		return
	}
	semacquire(&m.sema)
}

// Unlock wakes one waiter, if any.
func (m *Mutex) Unlock() {
	if atomic.AddInt32(&m.state, -1) > 0 {
		semrelease(&m.sema, false, 0)
	}
}
