package hang

import (
	"os"
	"sync"
	"testing"
)

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}

// TestMutexLeaf blocks in user code called from the test function.
func TestMutexLeaf(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	mu.Lock()
	lockMutex(&mu)
}

// TestParent only waits for its parallel subtests.
func TestParent(t *testing.T) {
	t.Parallel()
	t.Run("chan", func(t *testing.T) {
		t.Parallel()
		<-make(chan int)
	})
	t.Run("wg", func(t *testing.T) {
		t.Parallel()
		var wg sync.WaitGroup
		wg.Add(1)
		wg.Wait()
	})
}

// TestCleanupHang hangs in a cleanup function.
func TestCleanupHang(t *testing.T) {
	t.Parallel()
	ch := make(chan int)
	t.Cleanup(func() { <-ch })
}

// TestLockOrder deadlocks two goroutines on two mutexes.
func TestLockOrder(t *testing.T) {
	t.Parallel()
	LockOrder()
	select {}
}

// TestWaits parks goroutines in every kind of wait, one of them created by
// a goroutine of the test that has already exited.
func TestWaits(t *testing.T) {
	t.Parallel()
	StartAll(false)
	done := make(chan struct{})
	go func() {
		go func() { <-done }()
	}()
	<-done
}
