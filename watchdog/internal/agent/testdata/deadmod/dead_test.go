// Package dead deadlocks in TestMain before m.Run: without a pending timer
// the runtime reports "all goroutines are asleep - deadlock!".
package dead

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	setup(make(chan int))
	os.Exit(m.Run())
}

func setup(ready chan int) { <-ready }

func TestNever(t *testing.T) {}
