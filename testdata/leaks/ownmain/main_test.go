// Package ownmain has a TestMain of its own: the agent supplies none, so
// its tests cannot be checked for leaks, and the report must say so.
package ownmain

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// TestLeaks leaks a sender, unseen.
func TestLeaks(t *testing.T) {
	ch := make(chan int)
	go func() { ch <- 1 }()
}
