//go:build go1.25
// +build go1.25

// synctest needs the Go 1.23 timers; this module's go line is older.
//go:debug asynctimerchan=0

package hang

import (
	"testing"
	"testing/synctest"
)

// TestBubble blocks in a synctest bubble on a channel from outside it (not
// durable), while a goroutine of the bubble waits durably on one of its own.
func TestBubble(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		inner := make(chan int)
		go Wait(inner)
		Wait(never)
	})
}
