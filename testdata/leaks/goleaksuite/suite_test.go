// Package goleaksuite checks its tests with goleak.VerifyNone while
// hangdog's leak check looks at the goroutines of a test that leaked:
// goleak's checks and hangdog's land at the same moments, and every test
// must keep its result.
package goleaksuite

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestLeaks leaks a goroutine blocked on a channel nobody sends on; it
// does not ask goleak.
func TestLeaks(t *testing.T) {
	ch := make(chan int)
	go func() { <-ch }()
}

// TestVerified runs 30 subtests, 50 ms each, over the grace period of
// TestLeaks' check; each asks goleak for goroutines started since it
// began, and ends while hangdog looks again.
func TestVerified(t *testing.T) {
	for i := 0; i < 30; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			var wg sync.WaitGroup
			for j := 0; j < 4; j++ {
				wg.Add(1)
				go func() { defer wg.Done(); time.Sleep(10 * time.Millisecond) }()
			}
			wg.Wait()
			time.Sleep(40 * time.Millisecond)
		})
	}
}

// TestParallelVerified does the same in parallel subtests.
func TestParallelVerified(t *testing.T) {
	for i := 0; i < 8; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			done := make(chan struct{})
			go func() { time.Sleep(20 * time.Millisecond); close(done) }()
			<-done
		})
	}
}

// TestAfter verifies after everything: TestLeaks' goroutine is ignored
// by IgnoreCurrent, nothing else may be left.
func TestAfter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	time.Sleep(100 * time.Millisecond)
}
