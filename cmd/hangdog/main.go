// Command hangdog runs `go test`, watches every test, and when a test (or a
// package's binary outside any test) stops making progress it captures the
// goroutines of exactly that test binary and reports which test is stuck,
// on which line, and why.
//
// Usage:
//
//	hangdog [flags] [--] [go test args]
//
// See README.md for the flags, outputs and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hangdog/hangdog/watchdog"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel(&watchdog.InterruptedError{Signal: s})
	}()
	os.Exit(exitCode(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr), os.Stderr))
}
