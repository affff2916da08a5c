package watchdog

import (
	"context"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/engine"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
	"github.com/hangdog/hangdog/watchdog/report"
)

// Run runs the suite as configured, watches it, and returns the report of
// the run. The report is returned even with an error; its ExitCode is what
// the process should exit with. Cancelling ctx with an *InterruptedError
// cause stops the run: the tests still running are listed, every test
// process is killed, and the reports are written.
func Run(ctx context.Context, cfg Config) (*report.Run, error) {
	if err := cfg.Validate(); err != nil {
		return &report.Run{Report: &Report{Version: ReportVersion, Tool: "hangdog", Runner: gotest.Runner{}.Name(), ExitCode: ExitUsage, Reason: "error"}}, err
	}
	opts := cfg.options()
	opts.NewAdapter = func() core.Adapter { return cfg.adapter() }
	return engine.Run(ctx, opts, cfg.adapter())
}

// EmptyInputError says an analysed input held nothing hangdog reads: no
// test2json event, no go test result line, no goroutine dump.
type EmptyInputError = engine.EmptyInputError

// Counts are the test totals of a run.
type Counts = track.Counts
