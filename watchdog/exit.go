package watchdog

import "github.com/hangdog/hangdog/watchdog/internal/core/engine"

// Exit codes of a run, in one place (engine/exit.go). cmd/hangdog maps
// errors onto these.
const (
	ExitOK          = engine.ExitOK          // every test passed
	ExitFailed      = engine.ExitFailed      // a test failed, a package failed to build, or go test failed
	ExitUsage       = engine.ExitUsage       // hangdog was called wrongly
	ExitHung        = engine.ExitHung        // at least one hang was detected (wins over ExitFailed)
	ExitInternal    = engine.ExitInternal    // hangdog itself failed (could not start go, write a report)
	ExitLeaked      = engine.ExitLeaked      // --fail-on-leak and a test left goroutines blocked (a hang or a failure wins)
	ExitInterrupted = engine.ExitInterrupted // SIGINT; SIGTERM gives 143 (128 + signal number)
)

// InterruptedError is the cause given to the context when the run is
// stopped by a signal.
type InterruptedError = engine.InterruptedError
