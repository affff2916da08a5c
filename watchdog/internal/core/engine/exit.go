package engine

// This file holds the exit codes of a run and the error of a run stopped
// by a signal.

import (
	"os"
	"syscall"
)

// Exit codes of a run, in one place. cmd/hangdog maps errors onto these.
const (
	ExitOK          = 0   // every test passed
	ExitFailed      = 1   // a test failed, a package failed to build, or go test failed
	ExitUsage       = 2   // hangdog was called wrongly
	ExitHung        = 3   // at least one hang was detected (wins over ExitFailed)
	ExitInternal    = 4   // hangdog itself failed (could not start go, write a report)
	ExitLeaked      = 5   // --fail-on-leak and a test left goroutines blocked (a hang or a failure wins)
	ExitInterrupted = 130 // SIGINT; SIGTERM gives 143 (128 + signal number)
)

// InterruptedError is the cause given to the context when the run is
// stopped by a signal.
type InterruptedError struct{ Signal os.Signal }

func (e *InterruptedError) Error() string { return "interrupted by " + signalName(e.Signal) }

// ExitCode is 128 + the signal number, as shells report it.
func (e *InterruptedError) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitInterrupted
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
