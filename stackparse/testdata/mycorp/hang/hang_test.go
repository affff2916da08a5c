package hang

import (
	"testing"

	"mycorp/platform/xsync"
)

var never = make(chan int)

// TestForkedLock deadlocks on a forked lock in semacquire.
func TestForkedLock(t *testing.T) {
	t.Parallel()
	var m xsync.Mutex
	Deadlock(&m)
}

// TestSeqParent only waits in t.Run for its sequential subtest, and has a
// helper goroutine of its own.
func TestSeqParent(t *testing.T) {
	t.Parallel()
	go Wait(never)
	t.Run("inner", func(t *testing.T) {
		Wait(never)
	})
}

// TestParallelParent only waits for its parallel subtests.
func TestParallelParent(t *testing.T) {
	t.Parallel()
	go Wait(never)
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			Wait(never)
		})
	}
}

// TestPinned blocks locked to its thread.
func TestPinned(t *testing.T) {
	t.Parallel()
	Pinned(never)
}
