// Package report defines hangdog's JSON report: the result of a run, every
// hang found in it with its diagnosis, and the per-test records that the
// JUnit, HTML and other writers use. The watchdog engine fills it; writers
// and readers of saved reports use it on their own.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// Phase says where a package's test binary was when it stalled.
type Phase string

// The phases of a stall.
const (
	PhaseTest     Phase = "test"     // inside a test function
	PhaseCleanup  Phase = "cleanup"  // inside a t.Cleanup function, after the body
	PhaseTestMain Phase = "testmain" // binary running, no test running (init, TestMain before or after m.Run)
	PhaseExit     Phase = "exit"     // binary exited, result never came (something holds the output pipe)
)

// Times says where an analysed run's times come from.
type Times string

// The sources of an analysed run's times. A live run has none of them
// (its times are the clock's).
const (
	TimesEvents Times = "events" // the Time fields of test2json events
	TimesLog    Times = "log"    // the timestamp prefixes of a CI log's lines
	TimesClock  Times = "clock"  // a live stream, timed as it arrived
	TimesNone   Times = "none"   // the input has no times: no start, no duration
)

// Version is the version of the JSON report format. It changes only
// when a field changes meaning or goes away; new fields may appear within a
// version.
const Version = 1

// Report is the JSON report of a run (--report-json). Its fields are
// documented in the README.
type Report struct {
	Version int    `json:"version"`
	Tool    string `json:"tool"`
	// Runner is the runner whose run this is: "go" (go test; later
	// "pytest"). Reports written before it was added have none: "go".
	Runner   string   `json:"runner,omitempty"`
	ExitCode int      `json:"exit_code"`
	Reason   string   `json:"reason"` // passed, failed, build-failed, hung, leaked, interrupted, error
	Command  []string `json:"command"`
	Dir      string   `json:"dir"`
	// Started and DurationSeconds are when the run started and how long
	// it took. For hangdog analyze they are the run's in the input, in its
	// own times (Times says which); both are absent when the input has no
	// times. AnalyzedAt is when hangdog analyze read it.
	Started         time.Time `json:"started,omitzero"`
	DurationSeconds float64   `json:"duration_seconds,omitzero"`
	Times           Times     `json:"times,omitempty"`
	AnalyzedAt      time.Time `json:"analyzed_at,omitzero"`
	Totals          Totals    `json:"totals"`
	Hangs           []*Hang   `json:"hangs"`
	// Slow are stalls that turned out not to be hangs: the agent saw the
	// goroutines move, or the test made progress after it was reported.
	Slow           []*Hang       `json:"slow,omitempty"`
	Interrupted    []RunningTest `json:"interrupted,omitempty"`
	FailedPackages []string      `json:"failed_packages,omitempty"`
	BuildFailures  []string      `json:"build_failures,omitempty"`
	ArtifactsDir   string        `json:"artifacts_dir"`
	Warnings       []string      `json:"warnings,omitempty"`
	// Leaks are the tests that left goroutines blocked after they ended
	// (partial deadlocks that did not hang), and LeakChecks say, per test
	// binary, what the leak check did (leak.go). Both are absent when the
	// check was off or found nothing to say.
	Leaks      []*Leak     `json:"leaks,omitempty"`
	LeakChecks []LeakCheck `json:"leak_checks,omitempty"`
	// Resumed says that a second run ran the tests a stopped run had left
	// unrun (hangdog pytest without xdist); its results are in the totals,
	// hangs and records above.
	Resumed *Resume `json:"resumed,omitempty"`
}

// Resume is the second run of the tests a stopped run left unrun: why,
// the arguments it ran with (the user's, plus the runner's deselection),
// how it ended, where its artifacts are.
type Resume struct {
	Why          string   `json:"why"`
	Args         []string `json:"args"`
	ExitCode     int      `json:"exit_code"`
	Reason       string   `json:"reason"`
	ArtifactsDir string   `json:"artifacts_dir"`
}

// Totals counts tests by result. A hung test is counted only as hung.
type Totals struct {
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	Hung     int `json:"hung"`
	Packages int `json:"packages"`
	// pytest's own categories (runner "pytest" only): errors in setup or
	// teardown (and collection errors), expected failures, unexpected
	// passes.
	Errors  int `json:"errors,omitempty"`
	XFailed int `json:"xfailed,omitempty"`
	XPassed int `json:"xpassed,omitempty"`
}

// RunningTest is a test that was running when the run was interrupted.
type RunningTest struct {
	Package string `json:"package"`
	// Unit is what the runner ran the test in (see Hang.Unit).
	Unit           string  `json:"unit,omitempty"`
	Test           string  `json:"test"`
	RunningSeconds float64 `json:"running_seconds"`
	QuietSeconds   float64 `json:"quiet_seconds"`
}

// Hang is one stalled test, or one package binary stalled outside any test.
type Hang struct {
	Package string `json:"package"`
	// Unit is what the runner runs in one process, named as the runner
	// names it: for go test the package's import path (the same as
	// Package); for pytest a worker. Reports written before it was added
	// have only Package.
	Unit              string  `json:"unit,omitempty"`
	Test              string  `json:"test"` // "" for a package-level stall
	Phase             Phase   `json:"phase"`
	StalledForSeconds float64 `json:"stalled_for_seconds"`
	ThresholdSeconds  float64 `json:"threshold_seconds"`
	// ThresholdReason says which threshold applied and why: "--stall",
	// "--stall-for PATTERN", or the history's reason for an adaptive one.
	ThresholdReason string `json:"threshold_reason,omitempty"`
	Summary         string `json:"summary"`
	// State and Location are those of the goroutine running the test (or
	// TestMain): what it waits on and the innermost user frame, file:line.
	State    string `json:"state,omitempty"`
	Location string `json:"location,omitempty"`
	// Capture says how the goroutines were obtained: "sigquit", "timeout"
	// (the test binary's own -timeout dump), or "none".
	Capture string `json:"capture"`
	// CaptureSeconds is the time from the stall's detection to a complete
	// goroutine dump of the binary.
	CaptureSeconds float64           `json:"capture_seconds,omitempty"`
	CaptureError   string            `json:"capture_error,omitempty"`
	PID            int               `json:"pid,omitempty"`
	Artifacts      map[string]string `json:"artifacts,omitempty"`
	Goroutines     []GoroutineGroup  `json:"goroutines"`
	Processes      []ProcessInfo     `json:"processes,omitempty"`
	// AlsoStopped lists the other tests of the same binary that were
	// running when it was stopped to capture this hang.
	AlsoStopped []string `json:"also_stopped,omitempty"`
	// Findings are what the process forensics showed: lock cycles with
	// other packages' binaries, lock waits, ports, children still running.
	Findings []Finding `json:"findings,omitempty"`

	// CaptureNotes say what a snapshot left out or left alone on purpose,
	// and why (no CPU profile while nothing ran, or while the binary
	// profiles itself; block or mutex rates the program had set).
	CaptureNotes []string `json:"capture_notes,omitempty"`

	// Verdict, with the agent's two snapshots: "stuck" (same stacks in
	// both), "spinning" (busy on a CPU in the test's code) or "moving"
	// (slow, not stuck). Changed lists goroutines whose stacks differed.
	// CPUPercent is the share of one CPU the binary used during the
	// profile window; HotFunction where most of it went (user code).
	Verdict     string  `json:"verdict,omitempty"`
	Changed     []int64 `json:"changed,omitempty"`
	CPUPercent  float64 `json:"cpu_percent,omitempty"`
	HotFunction string  `json:"hot_function,omitempty"`
	// Killed says the binary was stopped (--kill-after, or SIGQUIT
	// without the agent); Recovered that the test made progress after it
	// was reported (it was slow, not stuck).
	Killed    bool `json:"killed,omitempty"`
	Recovered bool `json:"recovered,omitempty"`
	// FreedBy is the unit whose process hangdog stopped (--kill-after)
	// just before this test moved again: that process held what it
	// waited for, so the test stays reported as hung.
	FreedBy string `json:"freed_by,omitempty"`
	// Rerun is the verdict of running the hung test again by itself
	// (--rerun-hung).
	Rerun *Rerun `json:"rerun,omitempty"`
}

// Rerun is the result of running a hung test again by itself.
type Rerun struct {
	// Result is hung-alone (a deadlock in the test or its code),
	// passed-alone (it hangs only beside other tests), failed-alone,
	// not-run or error.
	Result       string   `json:"result"`
	Summary      string   `json:"summary"`
	Args         []string `json:"args"`
	ArtifactsDir string   `json:"artifacts_dir"`
}

// Finding is one fact from the process forensics of a stalled binary.
type Finding struct {
	Kind  string   `json:"kind"` // lock_cycle, lock_wait, port_connect, port_client, port_held, child_running, uninterruptible, pipe_holder
	Text  string   `json:"text"`
	PIDs  []int    `json:"pids"`
	Paths []string `json:"paths,omitempty"`
	Port  int      `json:"port,omitempty"`
}

// GoroutineGroup is a set of goroutines of a hang with identical stacks.
type GoroutineGroup struct {
	IDs         []int64 `json:"ids"`
	Count       int     `json:"count"`
	Role        string  `json:"role"` // "test" (runs the test function or TestMain) or "helper"
	State       string  `json:"state"`
	WaitMinutes int     `json:"wait_minutes"`
	Location    string  `json:"location"`
	Function    string  `json:"function"`
	// LocationCut names the function whose own location line was missing
	// or cut off in the dump: Location and Function are then those of the
	// next frame that has one.
	LocationCut string   `json:"location_cut,omitempty"`
	CreatedBy   string   `json:"created_by,omitempty"`
	WaitAddress string   `json:"wait_address,omitempty"`
	Stack       []string `json:"stack"`
}

// ProcessInfo is a process involved in a hang: a child of the stuck test
// binary, or a process holding a package's output pipe.
type ProcessInfo struct {
	PID     int      `json:"pid"`
	PPID    int      `json:"ppid"`
	State   string   `json:"state,omitempty"`
	Wchan   string   `json:"wchan,omitempty"`
	Cmdline []string `json:"cmdline"`
	Role    string   `json:"role"` // "test-binary", "child", "pipe-holder"
	Killed  bool     `json:"killed,omitempty"`
}

// WriteJSONFile writes v as indented JSON to a file private to the user.
func WriteJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	b = append(b, '\n')
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Read reads a JSON report written by --report-json.
func Read(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("read report %s: version %d, want %d", path, r.Version, Version)
	}
	return &r, nil
}

// TestRun is one test of a run, for the writers that list every test
// (JUnit, HTML). The engine records them only when a writer needs them.
type TestRun struct {
	Package        string    `json:"package"`
	Test           string    `json:"test"`
	Result         string    `json:"result"` // pass, fail, skip, hung, interrupted (its binary was stopped or the run was)
	Start          time.Time `json:"start"`
	ElapsedSeconds float64   `json:"elapsed_seconds"`
	// Output is the test's own output for failed, hung and interrupted
	// tests: its last MaxTestOutput bytes. Empty for passed and skipped.
	Output string `json:"output,omitempty"`
	// Errors is the part of Output that the test reported as errors
	// (t.Error, t.Fatal and the lines continuing them), as printed, when
	// the stream marks them: Go 1.27+ test2json sets OutputType on output
	// events. Its last MaxTestOutput bytes; empty for older streams.
	Errors string `json:"errors,omitempty"`
	// OutputTyped says the stream marked this test's output (Go 1.27+):
	// Errors then holds every error line there is, even when it is empty
	// (a panic, a parent failing for its subtests).
	OutputTyped bool `json:"output_typed,omitempty"`
}

// ErrorText is the test's error lines (Errors) as a message: every line
// loses the 4 spaces testing writes in front of each line of a test's
// output, so an error reads "file.go:N: text" and its continuation lines
// keep the 4 spaces testing adds to set them apart. No trailing newline;
// "" when the stream marked no error.
func (t *TestRun) ErrorText() string {
	var b strings.Builder
	for line := range strings.Lines(t.Errors) {
		b.WriteString(strings.TrimPrefix(line, "    "))
	}
	return strings.TrimRight(b.String(), "\r\n")
}

// MaxTestOutput bounds the output kept per test in a TestRun.
const MaxTestOutput = 64 << 10

// PackageRun is one package of a run.
type PackageRun struct {
	Package        string    `json:"package"`
	Result         string    `json:"result"` // pass, fail, skip, build-failed, hung, interrupted
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	ElapsedSeconds float64   `json:"elapsed_seconds"` // as go test reported it
	// Output is the package-level output (not part of any test) of a
	// package that did not pass: build errors, panics, TestMain prints.
	// At most MaxTestOutput bytes, the last ones.
	Output string `json:"output,omitempty"`
}

// Run is everything known about a finished run: the report and the
// records of every test and package, in the order they started.
type Run struct {
	Report   *Report      `json:"report"`
	Tests    []TestRun    `json:"tests"`
	Packages []PackageRun `json:"packages"`
}
