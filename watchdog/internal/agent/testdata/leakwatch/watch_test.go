// Package leakwatch leaks before and after a slow test during which the
// agent gets a snapshot request: the leak check must stop there.
package leakwatch

import (
	"os"
	"testing"
	"time"
)

func leak() {
	ch := make(chan int)
	go func() { ch <- 1 }()
}

func TestLeakBefore(t *testing.T) { leak() }

// TestSlow waits until the file named by LEAKWATCH_GO exists (the test
// driving this one creates it once it has made its request), for at most
// a minute.
func TestSlow(t *testing.T) {
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(os.Getenv("LEAKWATCH_GO")); err == nil {
			return
		}
	}
}

func TestLeakAfter(t *testing.T) { leak() }
