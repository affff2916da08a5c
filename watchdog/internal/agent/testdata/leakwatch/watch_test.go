// Package leakwatch leaks before and after a slow test during which the
// agent gets a snapshot request: the leak check must stop there.
package leakwatch

import (
	"testing"
	"time"
)

func leak() {
	ch := make(chan int)
	go func() { ch <- 1 }()
}

func TestLeakBefore(t *testing.T) { leak() }

// TestSlow lasts long enough for TestLeakBefore's check to end and for a
// request to come.
func TestSlow(t *testing.T) { time.Sleep(4 * time.Second) }

func TestLeakAfter(t *testing.T) { leak() }
