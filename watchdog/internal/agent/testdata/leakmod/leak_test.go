// Package leakmod checks for leaked goroutines with goleak, before and
// after every test: the agent must not trip it.
package leakmod

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNone(t *testing.T) {
	defer goleak.VerifyNone(t)
}

// TestSleepy lets the agent poll a few times before goleak looks.
func TestSleepy(t *testing.T) {
	defer goleak.VerifyNone(t)
	time.Sleep(350 * time.Millisecond)
}

func TestWorkers(t *testing.T) {
	defer goleak.VerifyNone(t)
	done := make(chan int)
	for i := 0; i < 10; i++ {
		go func() { done <- 1 }()
	}
	for i := 0; i < 10; i++ {
		<-done
	}
}
