// Package clean has tests whose goroutines outlive nothing: none of them
// may be reported as a leak.
package clean

import (
	"sync"
	"testing"
	"time"
)

// TestLate starts a goroutine that ends by itself 200 ms after the test.
func TestLate(t *testing.T) {
	go func() { time.Sleep(200 * time.Millisecond) }()
}

// TestCleanup starts a worker that t.Cleanup stops.
func TestCleanup(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { <-stop; close(done) }()
	t.Cleanup(func() { close(stop); <-done })
}

// TestTicker stops its ticker and its reader.
func TestTicker(t *testing.T) {
	tk := time.NewTicker(time.Millisecond)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-tk.C:
			case <-quit:
				return
			}
		}
	}()
	time.Sleep(5 * time.Millisecond)
	tk.Stop()
	close(quit)
	wg.Wait()
}

// TestJoined joins everything it starts, in subtests and in parallel.
func TestJoined(t *testing.T) {
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() { defer wg.Done(); time.Sleep(time.Millisecond) }()
			}
			wg.Wait()
		})
	}
}
