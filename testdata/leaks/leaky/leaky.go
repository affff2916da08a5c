// Package leaky has real blocking bugs that do not hang its tests: each
// function returns while a goroutine it started stays blocked for ever.
package leaky

import (
	"context"
	"sync"
)

// FirstResult asks every source and returns the first answer; the other
// senders block for ever on the unbuffered channel (a send nobody receives).
func FirstResult(sources []func() int) int {
	ch := make(chan int)
	for _, s := range sources {
		go func(s func() int) { ch <- s() }(s)
	}
	return <-ch
}

// Counter forgets to unlock on its error path.
type Counter struct {
	mu sync.Mutex
	n  int
}

// Add adds d, unless d is negative, where it returns with mu still held.
func (c *Counter) Add(d int) bool {
	c.mu.Lock()
	if d < 0 {
		return false // bug: mu stays locked
	}
	c.n += d
	c.mu.Unlock()
	return true
}

// Report adds d in the background and waits for nobody.
func (c *Counter) Report(d int) {
	go c.Add(d)
}

// Watch starts a watcher that stops when ctx is cancelled.
func Watch(ctx context.Context, events <-chan int) {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-events:
			}
		}
	}()
}

// Fanout runs f over items in goroutines and waits for them; an empty
// item is skipped without calling Done, so the waiter blocks for ever.
func Fanout(items []string, f func(string)) chan struct{} {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		if it == "" {
			continue // bug: no wg.Done
		}
		go func(it string) { defer wg.Done(); f(it) }(it)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// Forever parks a goroutine with select {}.
func Forever() {
	go func() { select {} }()
}
