package engine

// This file holds the barrier of the captures started in one tick.

import (
	"sync"
	"time"
)

// barrier makes the captures started in one tick look before any of them
// stops a binary: when two packages' binaries deadlock on each other,
// SIGQUIT to one frees the other, which must be seen stuck first.
type barrier struct {
	wg sync.WaitGroup
}

// arrival is one capture's place at a barrier; arrive is idempotent.
type arrival struct {
	b    *barrier
	once sync.Once
}

func (b *barrier) join() *arrival {
	b.wg.Add(1)
	return &arrival{b: b}
}

// arrive marks this capture ready to stop its binary.
func (a *arrival) arrive() { a.once.Do(a.b.wg.Done) }

// wait arrives and waits for every other capture of the tick, for at most
// a few seconds (a capture stuck in forensics must not hold the others).
func (a *arrival) wait() {
	a.arrive()
	done := make(chan struct{})
	go func() { a.b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
