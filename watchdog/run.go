package watchdog

import (
	"context"
	"errors"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/engine"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
	"github.com/hangdog/hangdog/watchdog/internal/pytest"
	"github.com/hangdog/hangdog/watchdog/report"
)

// Run runs the suite as configured, watches it, and returns the report of
// the run. The report is returned even with an error; its ExitCode is what
// the process should exit with. Cancelling ctx with an *InterruptedError
// cause stops the run: the tests still running are listed, every test
// process is killed, and the reports are written.
func Run(ctx context.Context, cfg Config) (*report.Run, error) {
	runner := gotest.Runner{}.Name()
	if cfg.Runner == "pytest" {
		runner = pytest.Runner{}.Name()
	}
	bad := func(code int, err error) (*report.Run, error) {
		return &report.Run{Report: &Report{Version: ReportVersion, Tool: "hangdog", Runner: runner, ExitCode: code, Reason: "error"}}, err
	}
	if err := cfg.Validate(); err != nil {
		return bad(ExitUsage, err)
	}
	opts := cfg.options()
	if cfg.Runner != "pytest" {
		opts.NewAdapter = func() core.Adapter { return cfg.goAdapter() }
		return engine.Run(ctx, opts, cfg.goAdapter())
	}
	interp, err := pytest.FindInterpreter(ctx, pytest.FindOptions{Python: cfg.Python, Env: cfg.Env, Dir: cfg.Dir})
	if err != nil {
		// A --python without pytest is a wrong call; no pytest anywhere
		// is hangdog unable to start the run.
		var ie *pytest.InterpreterError
		if cfg.Python != "" && errors.As(err, &ie) {
			return bad(ExitUsage, &PythonError{Err: err})
		}
		return bad(ExitInternal, err)
	}
	newAdapter := func() core.Adapter {
		cols := 0
		if cfg.Terminal && cfg.Width != nil {
			cols = cfg.Width()
		}
		return pytest.New(pytest.AdapterOptions{Interpreter: interp, Module: cfg.PythonModule, Terminal: cfg.Terminal, Columns: cols, Env: cfg.Env, Logger: cfg.Logger})
	}
	opts.Program = interp.Path
	opts.NewAdapter = newAdapter
	return engine.Run(ctx, opts, newAdapter())
}

// PythonError is a --python that names no interpreter with pytest: a
// usage error.
type PythonError struct{ Err error }

func (e *PythonError) Error() string { return e.Err.Error() }
func (e *PythonError) Unwrap() error { return e.Err }

// EmptyInputError says an analysed input held nothing hangdog reads: no
// test2json event, no go test result line, no goroutine dump.
type EmptyInputError = engine.EmptyInputError

// Counts are the test totals of a run.
type Counts = track.Counts
