// Package core holds the runner-neutral vocabulary of hangdog's engine and
// the interfaces through which the engine asks a runner adapter
// (internal/gotest, internal/pytest) for what only the runner knows.
// Package watchdog wires an adapter in; core itself imports no adapter (see
// deps_test.go and ARCHITECTURE.md).
package core

import (
	"io"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
	"github.com/hangdog/hangdog/watchdog/report"
)

// A unit is what a runner runs in one process: the test binary of a Go
// package, later a pytest worker. Units and tests are named by the runner;
// the core only compares and prints the names.

// Runner is what every adapter implements: the runner's name as the report
// gives it ("go"; later "pytest").
type Runner interface {
	Name() string
}

// CommandBuilder builds the command line of a run from the user's
// arguments.
type CommandBuilder interface {
	Runner
	// Command returns the argv of a run of program (the runner's
	// executable, argv[0]) with the user's arguments, completed with what
	// the engine needs (Go: -json, and ./... when no package is named).
	// It does not change user.
	Command(program string, user []string) []string
	// Verbose reports whether the user's arguments ask the runner for
	// verbose output (the engine then formats every test's output).
	Verbose(user []string) bool
}

// Rerunner builds the arguments that run a chosen test of a unit again by
// itself (--rerun-hung).
type Rerunner interface {
	// RerunArgs returns user changed to run only test of unit: the user's
	// flags without the ones that select tests, repeat them or choose the
	// output format, then the runner's own selection of test. The result
	// goes through Command like the user's arguments. It does not change
	// user.
	RerunArgs(user []string, unit, test string) []string
}

// ProcessFinder finds the process that runs a unit, for a snapshot.
type ProcessFinder interface {
	// FindProcess returns the process of unit among the descendants of
	// the process root; nil and no error when none runs it (not yet, or
	// no more).
	FindProcess(root int, unit string) (*proc.Process, error)
}

// Namer knows how a runner names its tests.
type Namer interface {
	// Parent returns the name test would have if it were the test it is
	// nested in: "TestA/sub" → "TestA" for Go, and false for a name with
	// no parent. A runner whose names may hold the separator inside a
	// part (a Go subtest's name may contain '/') gives every candidate in
	// turn: callers walk Parent until it says false and take the names
	// that exist.
	Parent(test string) (string, bool)
}

// UnitLister names the units of the processes that run now, for the
// forensics of a stall (which other unit holds the lock, serves the port).
type UnitLister interface {
	// UnitProcesses returns the processes below root that run one of the
	// units of pending, each with its unit ("" when it cannot tell).
	UnitProcesses(root int, pending []string) []UnitProcess
}

// UnitProcess is a process that runs a unit.
type UnitProcess struct {
	Unit    string
	Process proc.Process
}

// Host is what the core offers an adapter during a run. Adapters print
// nothing and keep no report state: they name their files through the
// core and say what the user should read through it.
type Host interface {
	// ArtifactPath names a new file (or directory) of kind ("dump.txt",
	// "capture") for unit in the run's artifacts directory.
	ArtifactPath(unit, kind string) string
	// Say writes one line for the user (hangdog's stderr).
	Say(line string)
	// WarnOnce warns the user once per key (stderr and the report).
	WarnOnce(key, msg string)
	// Warn adds a warning to the report only.
	Warn(msg string)
}

// Sink receives what a Source reads out of the runner's output, in order.
type Sink interface {
	// Event hands the core one event.
	Event(ev Event)
	// RunningLeaves returns the innermost tests of unit that run now and
	// are not reported as hung.
	RunningLeaves(unit string) []string
	// Found hands the core hangs that the runner's own output showed (Go:
	// a dump the test binary printed by itself). The core drops those it
	// already reported and reports the others.
	Found(unit string, hangs []*report.Hang)
}

// Source reads the runner's output: events for the core, and the output
// the user reads, formatted as the runner's users expect it.
type Source interface {
	// Scan reads r to its end.
	Scan(r io.Reader) error
	// Flush ends what is still being read out of the output when it
	// ended (an unfinished dump) and waits until it is handed on.
	Flush()
	// Close flushes the user's output.
	Close() error
}

// SnapRequest asks for a snapshot of the process of a stalled unit.
type SnapRequest struct {
	Unit    string
	Process proc.Process
	// Tests are the stalled tests (none: the unit is stuck outside any
	// test); Phase is where the core thinks they are.
	Tests []string
	Phase report.Phase
	// Started is when the core began this capture (capture_seconds
	// counts from it).
	Started time.Time
	// BeforeStop is called before a snapshot that stops the process, and
	// waits for the other captures of the same moment (two units
	// deadlocked on each other: stopping one frees the other, which must
	// be seen stuck first). Ready says that this capture stops nothing.
	BeforeStop, Ready func()
}

// Snapshot is what an adapter got out of a unit's process.
type Snapshot struct {
	// Kind is the report's capture: "snapshot" (looked at, still
	// running) or "sigquit" (stopped to print its stacks).
	Kind string
	// Stopped says that taking it stopped the process.
	Stopped bool
	// Seconds is the time from the capture's start to the first stacks.
	Seconds float64
	// Dir is the capture's own directory ("" when its files lie in the
	// artifacts directory).
	Dir       string
	Artifacts map[string]string
	// Errors are what went wrong without spoiling the snapshot; Err is why
	// it holds no stacks ("" when it does).
	Errors []string
	Err    string
	// Notes say what was left out on purpose, and why.
	Notes []string
	// Data is the adapter's own reading of it, for its Diagnoser.
	Data any
}

// Snapshotter takes snapshots of a unit's process and stops it.
type Snapshotter interface {
	// Snapshot looks at the process of a stalled unit, without stopping
	// it where the runner allows (Go: the agent), else by a snapshot that
	// stops it (Go: SIGQUIT). It always returns a snapshot; Err says why
	// one holds no stacks.
	Snapshot(req SnapRequest) *Snapshot
	// Stop ends a unit's process that a live snapshot left running, after
	// a last dump into dir; it returns that dump's path ("" if none) and
	// what went wrong.
	Stop(unit string, pid int, dir string) (dump string, err string)
}

// Diagnoser reads a snapshot into per-test diagnoses.
type Diagnoser interface {
	// Diagnose returns one Diagnosis per test of req (in order; the unit
	// itself with Test "" when req has no test); nil when the snapshot
	// holds no stacks.
	Diagnose(s *Snapshot, req SnapRequest) []Diagnosis
}

// Words are what hangdog's messages call a runner's things. An adapter
// that is not Go's gives its own (Worded); Go's are GoWords.
type Words struct {
	Runner      string // the runner in messages: "go test"
	Unit, Units string // "package", "packages"
	Process     string // a unit's process: "test binary"
	Stack       string // one stack of a snapshot: "goroutine"
	// Capture is what a STALL line says hangdog does next.
	Capture string
	// NoTest and Exited say what a unit quiet with no test running is
	// doing: still running (init, TestMain), or gone while its result
	// never came.
	NoTest, Exited string
	// UnitProcess names a unit's process in forensics findings ("" for
	// the forensics' own "package X's test binary"): a format with the
	// unit for %s.
	UnitProcess string
}

// GoWords are go test's words.
var GoWords = Words{
	Runner: "go test",
	Unit:   "package", Units: "packages", Process: "test binary", Stack: "goroutine",
	Capture: "capturing its goroutines",
	NoTest:  "the test binary runs no test (init or TestMain)",
	Exited:  "the test binary has exited but its result never came",
}

// Worded is an adapter with words of its own.
type Worded interface {
	Words() Words
}

// Packager is an adapter whose tests are defined somewhere other than
// their unit: the report's package of a pytest test is its module file,
// its unit the worker that ran it.
type Packager interface {
	// Package names where test (of unit) is defined; "" for the unit. It
	// is called with the engine's lock held: it must not call back.
	Package(unit, test string) string
}

// HangListener is an adapter that wants to know which tests were reported
// as hung (pytest: a replacement worker that starts one again is stopped
// at once instead of hanging a second time).
type HangListener interface {
	// Hung is called, without the engine's lock, once a hang of test (""
	// for the unit itself) of unit has been reported.
	Hung(unit, test string)
}

// Resumer is an adapter that can run, in a second run, the tests a run
// that hangdog had to stop left unrun (pytest without xdist: killing the
// hung test kills the whole session).
type Resumer interface {
	// ResumeArgs returns the user's arguments changed to run only the
	// tests the run did not finish (its hangs excluded), and why a resume
	// is needed; ok false when none is. dir is a private directory for
	// the files the second run reads. Called after the run, once.
	ResumeArgs(user []string, hangs []*report.Hang, dir string) (args []string, why string, ok bool)
}

// Collector is an adapter that knows how many tests the run will run
// (pytest collects them all first): the status line's percent and ETA.
type Collector interface {
	// Collected is the number of tests the run collected; 0 while unknown.
	// It is called with the engine's lock held: it must not call back.
	Collected() int
}

// Syncer is a Source that reads its runner's output in the background
// (pytest's event files, polled) and can read what is there now: the
// engine calls Sync before it lists the tests running when a signal stops
// the run. It must not be called with the engine's lock held.
type Syncer interface {
	Sync()
}
