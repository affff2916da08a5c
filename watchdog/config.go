// Package watchdog runs a test suite (`go test -json`, or pytest with
// pytest-xdist), follows every test through the runner's events, notices
// the test (or the unit outside any test) that stops making progress,
// snapshots exactly that process and explains where and why it is stuck.
// It is the public API of the hangdog command: Config, Run, the report
// and the exit codes; it wires a runner's adapter (internal/gotest,
// internal/pytest) to the runner-neutral engine (internal/core/engine).
package watchdog

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core/engine"
	"github.com/hangdog/hangdog/watchdog/internal/format"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
)

// DefaultStall is the quiet time after which a test counts as stalled.
const DefaultStall = engine.DefaultStall

// DefaultKillAfter is the quiet time after which a stalled test binary that
// the agent looked at is stopped: well under go test's own 10m timeout, so
// that hangdog reports before go kills the binary.
const DefaultKillAfter = engine.DefaultKillAfter

// StallRule overrides the stall threshold for tests whose full name
// (Parent/Sub) matches Pattern.
type StallRule = engine.StallRule

// Config says what to run and how to watch it. The zero value runs
// `go test -json ./...` in the current directory with the defaults.
type Config struct {
	// Dir is the working directory of go test ("" = current directory).
	Dir string
	// Go is the go command ("" = "go").
	Go string
	// Args are the arguments after `go test`. -json is added when absent;
	// "./..." is added when no package is named.
	Args []string
	// RawCommand, when set, is run instead of go test: a command that
	// prints a test2json stream (for example `cat run.json`). Capture
	// works on test binaries found below it in the process tree.
	RawCommand []string
	// Input, when set, is read instead of running anything: a go test
	// -json stream or a log (hangdog analyze). Offline says it is a saved
	// file: quiet times are measured in the stream's own Time fields and
	// judged at its end; otherwise they are measured on the clock as it
	// arrives.
	Input   io.Reader
	Offline bool
	// Env is the environment of the child (nil = this process's).
	Env []string

	// Stdout gets the formatted test output, Stderr hangdog's own
	// messages (stall announcements, diagnoses) and go's stderr.
	Stdout, Stderr io.Writer
	// Format names the output format ("" = standard-quiet, or
	// standard-verbose when Args has -v).
	Format string
	// JSONFile, when set, gets the raw event stream byte for byte.
	JSONFile string
	// ReportJSON, when set, gets the JSON report (see Report).
	ReportJSON string
	// ArtifactsDir gets dumps and parsed reports ("" = a new private
	// directory under the OS temp dir).
	ArtifactsDir string

	// Stall is the quiet time after which a running test is stalled
	// (0 = DefaultStall). StallFor overrides it per test; the first
	// matching rule wins.
	Stall    time.Duration
	StallFor []StallRule
	// QuitGrace is how long to wait for a test binary to print its
	// goroutines after SIGQUIT before killing it (0 = 15s).
	QuitGrace time.Duration
	// Tick is how often heartbeats are checked (0 = Stall/20, between
	// 10ms and 1s).
	Tick time.Duration

	// NoAgent turns the in-binary agent off: stalls are then captured
	// with SIGQUIT at once, which stops the binary.
	NoAgent bool
	// Leaks turns the leak check on (it needs the agent): the tests that
	// leave goroutines blocked after they ended are reported. FailOnLeak
	// makes such leaks fail the run with ExitLeaked (and turns the check
	// on). LeakGrace is how long a test's goroutines may outlive it (0 =
	// DefaultLeakGrace). Off by default: see the README, "Performance".
	Leaks      bool
	FailOnLeak bool
	LeakGrace  time.Duration
	// KillAfter is the quiet time after which a stalled binary is stopped
	// when the agent looked at it without stopping it (0 =
	// DefaultKillAfter; never less than Stall).
	KillAfter time.Duration

	// RerunHung runs each hung test again by itself after the suite, with
	// the same flags and threshold, to tell a deadlock in the test from a
	// hang that needs other tests beside it.
	RerunHung bool
	// RecordTests keeps a record of every test and package of the run
	// (report.Run's Tests and Packages), for JUnit and HTML reports.
	RecordTests bool

	// JUnitFile, HTMLFile, when set, get a JUnit XML report and a
	// self-contained HTML report of the run.
	JUnitFile, HTMLFile string
	// GitHubActions prints workflow-command annotations for each hang on
	// Stdout at the end; GitHubStepSummary, when set, is the file a
	// Markdown summary is appended to ($GITHUB_STEP_SUMMARY).
	GitHubActions     bool
	GitHubStepSummary string
	// HistoryFile, when set, is the per-test duration history: read for
	// adaptive thresholds and the progress ETA, updated at the end.
	HistoryFile string
	// Status draws a live status line under the test output (Stdout must
	// be a terminal); NoColor draws it without colour; Width gives the
	// terminal's width.
	Status  bool
	NoColor bool
	Width   func() int

	// Logger gets hangdog's decisions; nil means zap.NewNop().
	Logger *zap.Logger

	// Runner is the test runner: "" or "go" (go test), or "pytest"
	// (hangdog pytest: Args are pytest's; Go's NoAgent, QuitGrace, Format,
	// RawCommand and JSONFile do not apply and are an error).
	Runner string
	// Python is the interpreter that runs pytest ("" = the one in the
	// pytest script's shebang on PATH, else python3, else
	// /usr/bin/python3: the first that imports pytest); PythonModule
	// runs python -m pytest (the current directory on sys.path).
	Python       string
	PythonModule bool
	// Terminal says hangdog's stdout is a terminal: pytest, which sees a
	// pipe, keeps its colour and width (Width's columns).
	Terminal bool
}

// Validate reports a configuration error, one line, for the user.
func (c *Config) Validate() error {
	if c.Stall < 0 {
		return fmt.Errorf("--stall must be positive, got %v", c.Stall)
	}
	for _, r := range c.StallFor {
		if r.Pattern == nil {
			return errors.New("--stall-for rule without a pattern")
		}
		if r.Stall <= 0 {
			return fmt.Errorf("--stall-for %s: duration must be positive", r.Pattern)
		}
	}
	if c.KillAfter < 0 {
		return fmt.Errorf("--kill-after must be positive, got %v", c.KillAfter)
	}
	if c.LeakGrace < 0 {
		return fmt.Errorf("--leak-grace must be positive, got %v", c.LeakGrace)
	}
	if c.QuitGrace < 0 {
		return fmt.Errorf("quit grace must be positive, got %v", c.QuitGrace)
	}
	switch c.Runner {
	case "", "go":
		if c.Python != "" || c.PythonModule {
			return errors.New("--python and --module are for hangdog pytest")
		}
	case "pytest":
		for _, o := range []struct {
			flag string
			set  bool
		}{{"--no-agent", c.NoAgent}, {"--quit-grace", c.QuitGrace != 0}, {"--format", c.Format != ""},
			{"--raw-command", len(c.RawCommand) > 0}, {"--jsonfile", c.JSONFile != ""}, {"analyze", c.Input != nil}} {
			if o.set {
				return fmt.Errorf("%s is for go test runs, not hangdog pytest", o.flag)
			}
		}
	default:
		return fmt.Errorf("unknown runner %q (want go or pytest)", c.Runner)
	}
	// Every output is checked before anything runs: a report that cannot
	// be written is found now, not at the end of a 20-minute suite.
	for _, o := range []struct{ flag, path string }{
		{"--jsonfile", c.JSONFile}, {"--report-json", c.ReportJSON},
		{"--junitfile", c.JUnitFile}, {"--html", c.HTMLFile},
	} {
		if err := CheckOutputFile(o.flag, o.path); err != nil {
			return err
		}
	}
	if c.HistoryFile != "auto" { // the default path's directory is made as needed
		if err := CheckOutputFile("--history", c.HistoryFile); err != nil {
			return err
		}
	}
	if c.ArtifactsDir != "" {
		if err := checkArtifactsDir(c.ArtifactsDir); err != nil {
			return err
		}
	}
	return nil
}

// options are the engine's part of c.
func (c *Config) options() engine.Options {
	return engine.Options{
		Dir: c.Dir, Program: c.Go, Args: c.Args, RawCommand: c.RawCommand,
		Input: c.Input, Offline: c.Offline, Env: c.Env,
		Stdout: c.Stdout, Stderr: c.Stderr, Format: c.Format,
		JSONFile: c.JSONFile, ReportJSON: c.ReportJSON, ArtifactsDir: c.ArtifactsDir,
		Stall: c.Stall, StallFor: c.StallFor, Tick: c.Tick, KillAfter: c.KillAfter,
		RerunHung: c.RerunHung, RecordTests: c.RecordTests, FailOnLeak: c.FailOnLeak,
		JUnitFile: c.JUnitFile, HTMLFile: c.HTMLFile,
		GitHubActions: c.GitHubActions, GitHubStepSummary: c.GitHubStepSummary,
		HistoryFile: c.HistoryFile, Status: c.Status, NoColor: c.NoColor, Width: c.Width,
		Logger: c.Logger,
	}
}

// goAdapter returns a go test adapter for a run of c.
func (c *Config) goAdapter() *gotest.Adapter {
	g := c.Go
	if g == "" || len(c.RawCommand) > 0 {
		g = "go"
	}
	return gotest.New(gotest.Options{Go: g, Env: c.Env, NoAgent: c.NoAgent, QuitGrace: c.QuitGrace, LeakGrace: c.leakGrace(), Logger: c.Logger})
}

// ParseStallRule parses "PATTERN=DURATION" (the regexp may itself contain
// '=': the last one splits).
func ParseStallRule(s string) (StallRule, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 || i == len(s)-1 {
		return StallRule{}, fmt.Errorf("want PATTERN=DURATION, got %q", s)
	}
	re, err := regexp.Compile(s[:i])
	if err != nil {
		return StallRule{}, fmt.Errorf("bad pattern in %q: %w", s, err)
	}
	d, err := time.ParseDuration(s[i+1:])
	if err != nil {
		return StallRule{}, fmt.Errorf("bad duration in %q: %w", s, err)
	}
	if d <= 0 {
		return StallRule{}, fmt.Errorf("duration in %q must be positive", s)
	}
	return StallRule{Pattern: re, Stall: d}, nil
}

// Formats lists the output formats.
func Formats() []string { return format.Names() }

// DefaultLeakGrace is how long a test's goroutines may outlive it before
// they count as leaked: more than goleak's default retry loop (20 tries,
// sleeping 1µs doubling up to 100 ms: about 0.43 s) tolerates.
const DefaultLeakGrace = gotest.DefaultLeakGrace

// leakGrace is the grace period of the leak check, 0 when it is off.
func (c *Config) leakGrace() time.Duration {
	switch {
	case !c.Leaks && !c.FailOnLeak:
		return 0
	case c.LeakGrace > 0:
		return c.LeakGrace
	}
	return DefaultLeakGrace
}
