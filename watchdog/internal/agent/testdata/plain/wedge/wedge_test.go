// Package wedge stops the world for good: run with
// GODEBUG=asyncpreemptoff=1 and GOMAXPROCS>=2, a goroutine spinning without
// a preemption point makes runtime.GC wait forever for it, and no timer
// (the agent's included) runs again.
package wedge

import (
	"runtime"
	"testing"
	"time"
)

var spins uint64

func TestWedge(t *testing.T) {
	go spin()
	time.Sleep(100 * time.Millisecond) // let spin take a P
	runtime.GC()
}

func spin() {
	for {
		spins++
	}
}
