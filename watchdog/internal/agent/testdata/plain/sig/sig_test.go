// Package sig catches SIGQUIT itself, so a SIGQUIT dump is lost.
package sig

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
)

func TestSigFast(t *testing.T) {}

func TestSigHang(t *testing.T) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGQUIT, syscall.SIGTERM)
	defer signal.Stop(c)
	waitSignal(c, make(chan int))
}

func waitSignal(c chan os.Signal, never chan int) {
	for {
		select {
		case <-c: // swallowed
		case <-never:
			return
		}
	}
}
