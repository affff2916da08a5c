package pytest

import "fmt"

// Totals are a run's results in pytest's own categories, counted as
// pytest's terminal summary counts them: per report, so that a test that
// fails in its call and again in its teardown is one failed and one error.
type Totals struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Error   int `json:"error"` // a failure in setup or teardown, or a collection error
	Skipped int `json:"skipped"`
	XFailed int `json:"xfailed"`
	XPassed int `json:"xpassed"`
}

// String gives the totals as pytest's summary line does (categories with
// no test are left out), e.g. "1 failed, 9 passed, 1 skipped, 1 xfailed,
// 1 xpassed, 2 errors".
func (t Totals) String() string {
	var s string
	add := func(n int, one, many string) {
		if n == 0 {
			return
		}
		if s != "" {
			s += ", "
		}
		if n == 1 {
			s += fmt.Sprintf("%d %s", n, one)
		} else {
			s += fmt.Sprintf("%d %s", n, many)
		}
	}
	add(t.Failed, "failed", "failed")
	add(t.Passed, "passed", "passed")
	add(t.Skipped, "skipped", "skipped")
	add(t.XFailed, "xfailed", "xfailed")
	add(t.XPassed, "xpassed", "xpassed")
	add(t.Error, "error", "errors")
	return s
}

// Results counts Totals from a run's events: the report lines of the
// process whose word is the run's (the controller's under xdist, the only
// process's without), and the collection errors it saw. Feed it every
// Event of a Source; it ignores the rest. The zero value is ready.
type Results struct {
	t Totals
}

// Add counts e if it is a result of the run.
func (r *Results) Add(e *Event) {
	if e.Role == RoleWorker {
		return
	}
	switch e.Kind {
	case KindReport:
		r.report(e)
	case KindCollectReport:
		switch e.Outcome {
		case "failed":
			r.t.Error++
		case "skipped":
			r.t.Skipped++
		}
	}
}

// report follows pytest's pytest_report_teststatus (runner.py, skipping.py).
func (r *Results) report(e *Event) {
	if e.WasXfail {
		switch e.Outcome {
		case "skipped":
			r.t.XFailed++
			return
		case "passed":
			r.t.XPassed++
			return
		}
	}
	if e.When == "setup" || e.When == "teardown" {
		switch e.Outcome {
		case "failed":
			r.t.Error++
		case "skipped":
			r.t.Skipped++
		}
		return
	}
	switch e.Outcome {
	case "passed":
		r.t.Passed++
	case "failed":
		r.t.Failed++
	case "skipped":
		r.t.Skipped++
	}
}

// Totals returns the counts so far.
func (r *Results) Totals() Totals { return r.t }

// pytest's exit statuses (pytest.ExitCode).
const (
	PytestOK          = 0 // every test passed
	PytestFailed      = 1 // tests failed
	PytestInterrupted = 2 // interrupted: Ctrl-C, pytest.exit, errors during collection
	PytestInternal    = 3 // an internal error
	PytestUsage       = 4 // a usage error: a bad option or ini value
	PytestNoTests     = 5 // no tests collected
)

// hangdog's exit codes for a pytest run beyond 0–4 (README, "Exit codes"):
// pytest's own status + 4, so that a user who knows pytest's codes knows
// these; 5 is left for goroutine leaks.
const (
	ExitPytestInterrupted = 6
	ExitPytestInternal    = 7
	ExitPytestUsage       = 8
	ExitPytestNoTests     = 9
)

// ExitCode maps pytest's exit status onto hangdog's table. A hang wins over
// everything pytest says (3); hangdog's own failure (4) and its being
// interrupted (130, 143) are the engine's and win over this. status < 0
// means pytest did not exit by itself (a signal): 1, a failed run, unless a
// hang explains it.
func ExitCode(status int, hung bool) int {
	if hung {
		return 3
	}
	switch status {
	case PytestOK:
		return 0
	case PytestFailed:
		return 1
	case PytestInterrupted:
		return ExitPytestInterrupted
	case PytestInternal:
		return ExitPytestInternal
	case PytestUsage:
		return ExitPytestUsage
	case PytestNoTests:
		return ExitPytestNoTests
	}
	return 1
}
