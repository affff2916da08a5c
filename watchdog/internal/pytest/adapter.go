package pytest

// This file is the pytest runner bound to one run, as the core's engine
// sees it (core.Adapter): the private directory and the plugin, pytest's
// output passed through while the plugin's event files are followed, the
// processes of the run from their hello events, snapshots of every one of
// them at once, diagnoses, and pytest's totals and exit status.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/history"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// AdapterOptions configure an Adapter.
type AdapterOptions struct {
	// Interpreter runs pytest (FindInterpreter's); Module runs it as
	// python -m pytest.
	Interpreter *Interpreter
	Module      bool
	// Terminal and Columns: hangdog's stdout is a terminal that wide.
	Terminal bool
	Columns  int
	// Env is pytest's environment (nil: this process's).
	Env []string
	// Poll is how often the event files are read (default 50 ms).
	Poll   time.Duration
	Logger *zap.Logger
}

// Adapter is the pytest runner bound to one run. Make it with New.
type Adapter struct {
	Runner
	opts AdapterOptions
	log  *zap.Logger
	host core.Host
	dir  string // the run's directory (hangdog's --dir)

	// state keeps what snapshots and diagnoses need of every process.
	state Processes

	mu      sync.Mutex
	run     *RunDir
	procs   map[int]*procInfo  // by pid, from hello and threads
	units   map[string]*unitOf // by unit name (gw0…, MainUnit)
	results Results
	hung    map[string]string // node ids reported as hung, and on which worker
	// hungResults counts what pytest reported of tests after they were
	// reported hung.
	hungResults Results
	// progress counts events; beaten is its value at the last tick.
	progress, beaten int
	// controller is the xdist controller's pid once it said hello, and
	// controllerDone that its session ended.
	controller     int
	controllerDone bool
	// workersUp: a worker has collected; before that the controller is
	// starting its workers and is not watched (see outputBeats).
	workersUp bool
	// total is the number of tests the run collected (the status line's).
	total int
	// A run without xdist: how many tests it collected, which finished.
	mainCollected int
	mainFinished  map[string]bool
	exit          *int // the session's exitstatus (controller or main)
}

// procInfo is what the adapter keeps of one process (Processes keeps
// what snapshots need).
type procInfo struct {
	pid    int
	unit   string
	worker string
	role   Role
}

// unitOf is what runs on a unit now.
type unitOf struct {
	pid  int
	test string
	// out is the test's captured output as last seen (of outTest).
	out     Output
	outTest string
	// worker: an xdist worker; collected and finished: its collection and
	// its session are over. Between the two, a worker that runs no test
	// waits for the controller's next tests: idle, not stalled.
	worker, collected, finished bool
}

var (
	_ core.Adapter      = (*Adapter)(nil)
	_ core.Finisher     = (*Adapter)(nil)
	_ core.Worded       = (*Adapter)(nil)
	_ core.HangListener = (*Adapter)(nil)
	_ core.Packager     = (*Adapter)(nil)
	_ core.Resumer      = (*Adapter)(nil)
	_ core.Collector    = (*Adapter)(nil)
)

// Words implements core.Worded.
func (a *Adapter) Words() core.Words {
	return core.Words{
		Runner: "pytest",
		Unit:   "worker", Units: "workers", Process: "worker", Stack: "thread",
		Capture:     "taking the Python stacks of every process of the run",
		NoTest:      "no test runs there (collection, a session's start or end, or xdist's controller with every worker idle)",
		Exited:      "the worker has exited but its result never came",
		UnitProcess: "worker %s",
	}
}

// New returns an adapter for one run.
func New(o AdapterOptions) *Adapter {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Poll <= 0 {
		o.Poll = 50 * time.Millisecond
	}
	return &Adapter{
		Runner: Runner{Interpreter: o.Interpreter, Module: o.Module, Terminal: o.Terminal, Columns: o.Columns, Environ: o.Env},
		opts:   o, log: o.Logger,
		procs: make(map[int]*procInfo), units: make(map[string]*unitOf),
		hung: make(map[string]string), mainFinished: make(map[string]bool),
	}
}

// Start implements core.Adapter.
func (a *Adapter) Start(dir string, host core.Host) { a.dir, a.host = dir, host }

// DefaultHistory implements core.Adapter: one history per directory the
// suite runs in.
func (a *Adapter) DefaultHistory([]string) (string, error) {
	return history.DefaultPath(a.dir, "pytest")
}

// Prepare implements core.Adapter: the private directory with the plugin,
// and pytest's environment that loads it.
func (a *Adapter) Prepare(_ context.Context, argv, env []string) ([]string, []string, func(), error) {
	d, err := NewRunDir("")
	if err != nil {
		return nil, nil, nil, err
	}
	a.mu.Lock()
	a.run = d
	r := a.Runner
	a.mu.Unlock()
	if env != nil {
		r.Environ = env
	}
	return argv, r.Env(d.Path), func() { d.Remove() }, nil
}

// FindProcess implements core.ProcessFinder: the process of a worker (or
// of the run without xdist) as its hello said.
func (a *Adapter) FindProcess(_ int, unit string) (*proc.Process, error) {
	a.mu.Lock()
	u := a.units[unit]
	a.mu.Unlock()
	if u == nil || u.pid == 0 {
		return nil, nil
	}
	p, err := proc.Get(u.pid)
	if err != nil || !proc.Alive(u.pid) {
		return nil, nil
	}
	return &p, nil
}

// UnitProcesses implements core.UnitLister: every worker of the run.
func (a *Adapter) UnitProcesses(_ int, _ []string) []core.UnitProcess {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []core.UnitProcess
	for _, pi := range a.procs {
		if pi.role == RoleController {
			continue
		}
		if p, err := proc.Get(pi.pid); err == nil {
			out = append(out, core.UnitProcess{Unit: pi.unit, Process: p})
		}
	}
	return out
}

// Package implements core.Packager: a test's module file, the part of its
// node id before the first "::" ("tests/test_db.py").
func (a *Adapter) Package(_ string, test string) string {
	if i := strings.Index(test, "::"); i > 0 {
		return test[:i]
	}
	return ""
}

// Collected implements core.Collector.
func (a *Adapter) Collected() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// Hung implements core.HangListener.
func (a *Adapter) Hung(unit, test string) {
	if test == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hung[test] = unit
	// The plugin of a replacement worker that gets this test skips it
	// (hung.txt, see the plugin's pytest_runtest_setup).
	if a.run != nil {
		if f, err := os.OpenFile(filepath.Join(a.run.Path, "hung.txt"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
			f.WriteString(test + "\n")
			f.Close()
		}
	}
}
