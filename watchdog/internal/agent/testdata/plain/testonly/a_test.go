// Package testonly has in-package test files and no other files.
package testonly

import (
	"sync"
	"testing"
)

func TestOnlyFast(t *testing.T) {}

// TestOnlyHang deadlocks on a mutex it already holds.
func TestOnlyHang(t *testing.T) {
	var mu sync.Mutex
	mu.Lock()
	lockTwice(&mu)
}

func lockTwice(mu *sync.Mutex) { mu.Lock() }
