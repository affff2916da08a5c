// Package hang is code of a module whose path has no dot (mycorp/platform):
// its frames must not be taken for the standard library's.
package hang

import (
	"runtime"

	"mycorp/platform/xsync"
)

// Deadlock locks m twice.
func Deadlock(m *xsync.Mutex) {
	m.Lock()
	m.Lock()
}

// Wait blocks on ch.
func Wait(ch chan int) int {
	return <-ch
}

// Pinned blocks on ch with the goroutine locked to its thread.
func Pinned(ch chan int) {
	runtime.LockOSThread()
	<-ch
}
