package plain

import (
	"sync/atomic"
	"testing"
)

func TestFast(t *testing.T) {
	if WaitForeverNot() != 1 {
		t.Fatal("bad")
	}
}

func WaitForeverNot() int {
	ch := make(chan int, 1)
	ch <- 1
	return WaitForever(ch)
}

// TestHangChan never returns: it waits on a channel nobody sends on.
func TestHangChan(t *testing.T) {
	WaitForever(make(chan int))
}

// TestBusy burns CPU forever in Spin.
func TestBusy(t *testing.T) {
	var stop int32
	Spin(func() bool { return atomic.LoadInt32(&stop) != 0 })
}
