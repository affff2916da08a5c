package core

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

// Adapter is everything the core's engine asks of a runner during a run.
// One value serves one run (it may cache what it learns); the engine asks
// its Options for a fresh one for a rerun.
type Adapter interface {
	CommandBuilder
	Rerunner
	Namer
	ProcessFinder
	UnitLister
	Snapshotter
	Diagnoser
	// Start binds the adapter to a run in dir (absolute) whose messages
	// go through host. It is called first, once.
	Start(dir string, host Host)
	// Prepare completes a run's argv and environment before it starts
	// (Go: the agent's -overlay; pytest: the plugin's directory); done
	// undoes what it set up, after the run. env nil means this process's
	// environment. An error stops the run before anything started.
	Prepare(ctx context.Context, argv, env []string) (argv2, env2 []string, done func(), err error)
	// NewSource returns the reader of the runner's output.
	NewSource(o SourceOptions, sink Sink) (Source, error)
	// DefaultHistory is where --history without a file keeps durations
	// for a run of user's arguments.
	DefaultHistory(user []string) (string, error)
}

// SourceOptions say how a Source shows and reads the runner's output.
type SourceOptions struct {
	// User are the user's arguments; Format names the output format (""
	// = the runner's default for them); Stdout gets the output; TempDir
	// is where the formatter may keep what it holds back.
	User    []string
	Format  string
	Stdout  io.Writer
	TempDir string
	// Log is set for an analysed input (hangdog analyze): its text that
	// is not events is kept in this private file, read at the end by a
	// LogReader. Record keeps the records of its tests.
	Log    *os.File
	Record bool
}

// LogReader is a Source that reads the text of an analysed log.
type LogReader interface {
	// EndLog diagnoses the dumps found in the log's text and says what
	// else it held. Called once, at the end of the input.
	EndLog() (LogResult, error)
}

// LogResult is what the text of an analysed log held.
type LogResult struct {
	Path  string // the private copy of the text
	Lines int
	// Dumps are the stack dumps in it that show hangs, diagnosed;
	// DumpCount counts every dump.
	Dumps     []LogDump
	DumpCount int
	// Results counts the units' result lines; FailedUnits are those that
	// failed, RunLines the lines that start a test.
	Results     int
	FailedUnits []string
	RunLines    int
	// The totals of its own result lines, and the records of its tests
	// and units (when asked to keep them).
	Passed, Failed, Skipped int
	Tests                   []report.TestRun
	Units                   []report.PackageRun
	// The lines' timestamp prefixes: how many, the first and last;
	// Dated is false for a time of day without a date.
	Stamps                int
	FirstStamp, LastStamp time.Time
	Dated                 bool
	// Leaks are the leaks a hangdog run's summary in the log printed.
	Leaks []*report.Leak
}

// LeakReporter is an adapter whose runner checks for tests that leave
// goroutines (threads) blocked after they ended (Go: the agent's leak
// check, issue 11).
type LeakReporter interface {
	// LeakReport returns the leaks found, the check's notes per unit and
	// warnings. Called once, at the end of the run.
	LeakReport() ([]*report.Leak, []report.LeakCheck, []string)
}

// LogDump is a dump found in a log's text, read into hangs of Unit.
type LogDump struct {
	Unit  string
	Line  int
	Hangs []*report.Hang
}

// Finisher is an adapter that has the last word on the totals and the
// exit code of a run that ended by itself (pytest counts in its own
// categories and maps its own exit statuses onto hangdog's).
type Finisher interface {
	// Finish completes rep.Totals and returns the run's exit code and
	// reason; ok false keeps the engine's. waitErr is the runner's exit.
	Finish(rep *report.Report, waitErr error) (code int, reason string, ok bool)
}
