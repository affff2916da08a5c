package pytest

// This file is the pytest runner bound to one run, as the core's engine
// sees it (core.Adapter): the private directory and the plugin, pytest's
// output passed through while the plugin's event files are followed, the
// processes of the run from their hello events, snapshots of every one of
// them at once, diagnoses, and pytest's totals and exit status.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/history"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
	"github.com/hangdog/hangdog/watchdog/report"
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
	crashed map[string]bool   // node ids xdist reported as crashed (when "???")
	hung    map[string]string // node ids reported as hung, and on which worker
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
		Unit: "worker", Units: "workers", Process: "worker", Stack: "thread",
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
		procs: make(map[int]*procInfo), units: make(map[string]*unitOf), crashed: make(map[string]bool),
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

// NewSource implements core.Adapter: pytest's output passes through to
// o.Stdout byte for byte; the events come from the plugin's files.
func (a *Adapter) NewSource(o core.SourceOptions, sink core.Sink) (core.Source, error) {
	if o.Log != nil {
		return nil, errors.New("pytest: hangdog analyze reads go test output only")
	}
	out := o.Stdout
	if out == nil {
		out = io.Discard
	}
	return &stream{a: a, sink: sink, out: out}, nil
}

// stream is the adapter's core.Source.
type stream struct {
	a    *Adapter
	sink core.Sink
	out  io.Writer
	// copied counts pytest's output bytes passed through; seen is the
	// count at the last look.
	copied atomic.Int64
	seen   int64
}

// countWriter counts what it writes.
type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// Scan implements core.Source: it copies pytest's output while a
// goroutine follows the event files, and reads them once more at the end.
func (s *stream) Scan(r io.Reader) error {
	s.a.mu.Lock()
	d := s.a.run
	s.a.mu.Unlock()
	if d == nil {
		_, err := io.Copy(s.out, r)
		return err
	}
	src := NewSource(d.Path)
	src.Warn = func(msg string) { s.a.host.Warn(msg) }
	es := eventSink{s}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		t := time.NewTicker(s.a.opts.Poll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- src.Poll(es) // the files' last lines
				return
			case <-t.C:
				if err := src.Poll(es); err != nil && !errors.Is(err, os.ErrNotExist) {
					s.a.host.Warn(err.Error())
				}
				s.outputBeats()
			}
		}
	}()
	_, err := io.Copy(countWriter{s.out, &s.copied}, r)
	close(stop)
	ferr := <-done
	src.Close()
	if err == nil && ferr != nil && !errors.Is(ferr, os.ErrNotExist) {
		err = ferr
	}
	return err
}

// outputBeats hands the core a sign of life of every running test whose
// captured output grew since the last look (CONTRACT.md: captured output
// as a heartbeat): a test that prints its progress is not stalled.
func (s *stream) outputBeats() {
	type running struct {
		unit, test string
		pid        int
	}
	s.a.mu.Lock()
	var rs []running
	var idle []string
	busy := false
	for name, u := range s.a.units {
		switch {
		case !u.worker || u.pid == 0 || u.finished || !proc.Alive(u.pid):
		case u.test != "":
			busy = true
		case u.collected:
			idle = append(idle, name)
		default:
			busy = true // collecting
		}
		if u.test != "" && u.pid != 0 {
			rs = append(rs, running{name, u.test, u.pid})
		}
	}
	moved := s.a.progress != s.a.beaten
	s.a.beaten = s.a.progress
	ctl := s.a.controller != 0 && !s.a.controllerDone && s.a.workersUp
	s.a.mu.Unlock()
	// An idle worker waits for the controller's next tests: its quiet is
	// the controller's, not its own. The controller is a unit of its own
	// that makes progress while any worker is busy (its stalls are its
	// workers') or any process wrote an event; when every worker is idle
	// and nothing happens, the controller is what is stuck. It is watched
	// from the first worker's collection on: starting the workers (a new
	// Python each, seconds on a loaded machine) writes no event.
	for _, name := range idle {
		s.sink.Event(core.Event{Unit: name, Action: "idle"})
	}
	if ctl && (busy || moved) {
		s.sink.Event(core.Event{Unit: ControllerUnit, Action: "controller"})
	}
	// Output on pytest's own stdout (-s, --capture=no) is the running
	// test's in a run without xdist (workers' output never reaches it).
	if n := s.copied.Load(); n != s.seen {
		s.seen = n
		for _, r := range rs {
			if r.unit == MainUnit {
				s.sink.Event(core.Event{Unit: r.unit, Test: r.test, Action: core.ActionOutput})
			}
		}
	}
	for _, r := range rs {
		o, err := CaptureSizes(r.pid)
		if err != nil {
			continue
		}
		s.a.mu.Lock()
		u := s.a.units[r.unit]
		grew := u != nil && u.test == r.test && u.outTest == r.test && o.Grew(u.out)
		if u != nil {
			u.out, u.outTest = o, r.test
		}
		s.a.mu.Unlock()
		if grew {
			s.sink.Event(core.Event{Unit: r.unit, Test: r.test, Action: "captured-output"})
		}
	}
}

// Flush implements core.Source.
func (s *stream) Flush() {}

// Close implements core.Source.
func (s *stream) Close() error { return nil }

// eventSink takes the Source's events: the adapter's view of the run, and
// the core's events for the tracker.
type eventSink struct{ s *stream }

func (es eventSink) Core(e core.Event) { es.s.sink.Event(e) }

func (es eventSink) Event(e *Event) {
	es.s.a.state.Observe(e)
	if e.Kind == KindSessionFinish && e.Role == RoleController {
		// The controller's unit (see outputBeats) ends with its session.
		defer es.s.sink.Event(core.Event{Unit: ControllerUnit, Action: core.ActionPass})
	}
	if again := es.s.a.observe(e); again != "" {
		// A replacement worker started a test that hung before: it would
		// hang again, and xdist would replace this worker too, up to
		// --max-worker-restart times. Stop it at once.
		es.s.a.host.Say(fmt.Sprintf("hangdog: %s starts %s again, which already hung on %s; stopping %s at once", e.Unit, e.NodeID, again, e.Unit))
		es.s.a.log.Info("hung test started again", zap.String("worker", e.Unit), zap.String("test", e.NodeID), zap.Int("pid", e.PID))
		_ = proc.KillTree(e.PID)
	}
}

// Hung implements core.HangListener.
func (a *Adapter) Hung(unit, test string) {
	if test == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hung[test] = unit
}

// observe keeps what the adapter needs of an event: processes, what runs
// on each unit, the queues, the results. It returns the worker a test
// hung on before when another worker starts it again.
func (a *Adapter) observe(e *Event) (again string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.results.Add(e)
	pi := a.procs[e.PID]
	if pi == nil {
		pi = &procInfo{pid: e.PID}
		a.procs[e.PID] = pi
	}
	a.progress++
	if e.Unit == "" {
		return "" // a boot line: the process's unit is known from its hello on
	}
	pi.unit, pi.worker = e.Unit, e.Worker
	if e.Role != "" {
		pi.role = e.Role
	}
	u := a.unit(e.Unit)
	u.pid = e.PID
	u.worker = pi.role == RoleWorker
	switch e.Kind {
	case KindHello:
		if pi.role == RoleController {
			a.controller = e.PID
		}
		if e.RootDir != "" && a.Runner.RootDir == "" {
			a.Runner.RootDir = e.RootDir
		}
	case KindCollected:
		if pi.role == RoleWorker {
			u.collected, a.workersUp = true, true
		}
		if pi.role == RoleController && e.Count > a.total {
			a.total = e.Count // every worker collects the whole suite
		}
		if pi.role == RoleMain {
			a.mainCollected, a.total = e.Count, e.Count
		}
	case KindStart:
		if w, ok := a.hung[e.NodeID]; ok && w != e.Unit && pi.role == RoleWorker {
			again = w
		}
		u.test = e.NodeID
	case KindReport:
		if pi.role != RoleWorker && e.When == "???" && e.Outcome == "failed" {
			a.crashed[e.NodeID] = true
		}
	case KindFinish:
		if pi.role == RoleMain {
			a.mainFinished[e.NodeID] = true
		}
		if u.test == e.NodeID {
			u.test = ""
		}
	case KindSessionFinish:
		if pi.role == RoleWorker {
			u.finished = true
		}
		if pi.role == RoleController {
			a.controllerDone = true
		}
		if pi.role != RoleWorker && e.ExitStatus != nil {
			x := *e.ExitStatus
			a.exit = &x
		}
	}
	return again
}

func (a *Adapter) unit(name string) *unitOf {
	u := a.units[name]
	if u == nil {
		u = &unitOf{}
		a.units[name] = u
	}
	return u
}

// snapData is the adapter's reading of a snapshot (core.Snapshot.Data).
type snapData struct {
	in DiagInput
}

// Snapshot implements core.Snapshotter: the stacks of every process of the
// run at once, twice a second apart, with their threads' states and the
// forensics of all of them; nothing is stopped.
func (a *Adapter) Snapshot(req core.SnapRequest) *core.Snapshot {
	req.Ready()
	ts := a.state.Targets(req.Unit)
	dir := a.host.ArtifactPath(req.Unit, "capture")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return &core.Snapshot{Err: fmt.Sprintf("capture directory: %v", err)}
	}
	start := time.Now()
	snap, err := Take(context.Background(), ts, SnapshotOptions{})
	if snap == nil {
		return &core.Snapshot{Err: fmt.Sprintf("no stacks: %v", err)}
	}
	out := &core.Snapshot{Kind: "snapshot", Dir: dir, Artifacts: map[string]string{},
		Seconds: start.Sub(req.Started).Seconds() + snap.Elapsed.Seconds(),
		Data:    &snapData{in: a.diagInput(req.Unit, snap)}}
	if err != nil {
		out.Errors = append(out.Errors, err.Error())
	}
	if snap.ForensicsError != "" {
		out.Errors = append(out.Errors, "forensics: "+snap.ForensicsError)
	}
	for i, r := range snap.Rounds {
		for _, p := range r.Procs {
			name := p.Worker
			if name == "" {
				name = "main"
			}
			path := filepath.Join(dir, fmt.Sprintf("stacks-%s-%d.txt", name, i+1))
			if os.WriteFile(path, p.Raw, 0o600) != nil {
				continue
			}
			if p.PID == a.pidOf(req.Unit) {
				out.Artifacts["dump"] = path
				out.Artifacts[fmt.Sprintf("stacks_%d", i+1)] = path
			}
			if !p.Sent || !p.Complete {
				if p.Note != "" {
					out.Notes = append(out.Notes, fmt.Sprintf("%s (pid %d): %s", name, p.PID, p.Note))
				}
			}
		}
	}
	return out
}

// Diagnose implements core.Diagnoser: one diagnosis per stalled test of
// the unit (a worker runs one test at a time), or of the unit itself.
func (a *Adapter) Diagnose(s *core.Snapshot, req core.SnapRequest) []core.Diagnosis {
	sd, _ := s.Data.(*snapData)
	if sd == nil {
		return nil
	}
	ds := Diagnose(sd.in)
	if len(ds) == 0 {
		return nil
	}
	v, cpu := Verdict(sd.in, req.Unit)
	for i := range ds {
		ds[i].Explained = true // the summary names the other side itself
		ds[i].Verdict, ds[i].CPUPercent = v, float64(int64(cpu*10000+0.5))/100
	}
	if len(req.Tests) == 0 {
		d := ds[0]
		d.Test = ""
		return []core.Diagnosis{d}
	}
	out := make([]core.Diagnosis, len(req.Tests))
	for i, t := range req.Tests {
		out[i] = ds[0]
		for _, d := range ds {
			if d.Test == t {
				out[i] = d
			}
		}
		out[i].Test = t
	}
	return out
}

// Stop implements core.Snapshotter: a last dump of the worker into dir,
// then SIGKILL of its tree (xdist replaces a worker it lost and runs the
// tests stranded behind it).
func (a *Adapter) Stop(unit string, pid int, dir string) (string, string) {
	var mine []Target
	for _, t := range a.state.Targets(unit) {
		if t.PID == pid {
			mine = append(mine, t)
		}
	}
	path, msg := "", ""
	if len(mine) > 0 {
		if snap, err := Take(context.Background(), mine, SnapshotOptions{Rounds: 1}); snap != nil && len(snap.Rounds) > 0 && len(snap.Rounds[0].Procs) > 0 {
			p := filepath.Join(dir, "stacks-final.txt")
			if os.WriteFile(p, snap.Rounds[0].Procs[0].Raw, 0o600) == nil {
				path = p
			}
		} else if err != nil {
			msg = err.Error()
		}
	}
	if err := proc.KillTree(pid); err != nil && !errors.Is(err, proc.ErrNoProcess) {
		msg = fmt.Sprintf("kill: %v", err)
	}
	return path, msg
}

// Finish implements core.Finisher: totals in pytest's categories (a test
// hangdog reported as hung and xdist then reported as crashed counts as
// hung only), and pytest's exit status mapped onto hangdog's.
func (a *Adapter) Finish(rep *report.Report, waitErr error) (int, string, bool) {
	a.mu.Lock()
	t := a.results.Totals()
	exit := a.exit
	for _, h := range rep.Hangs {
		if h.Test != "" && a.crashed[h.Test] && t.Failed > 0 {
			t.Failed--
		}
	}
	ctl := a.controller != 0
	a.mu.Unlock()
	rep.Totals.Passed, rep.Totals.Failed, rep.Totals.Skipped = t.Passed, t.Failed, t.Skipped
	if ctl && rep.Totals.Packages > 0 {
		rep.Totals.Packages-- // the controller's unit runs no test: not a worker
	}
	rep.Totals.Errors, rep.Totals.XFailed, rep.Totals.XPassed = t.Error, t.XFailed, t.XPassed
	status := 0
	switch {
	case exit != nil:
		status = *exit
	case waitErr != nil:
		status = -1
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) && ee.ExitCode() >= 0 {
			status = ee.ExitCode()
		}
	}
	hung := len(rep.Hangs) > 0
	code := ExitCode(status, hung)
	reason := map[int]string{0: "passed", 1: "failed", 3: "hung", ExitPytestInterrupted: "pytest-interrupted",
		ExitPytestInternal: "pytest-internal-error", ExitPytestUsage: "pytest-usage", ExitPytestNoTests: "no-tests"}[code]
	if reason == "" {
		reason = "failed"
	}
	return code, reason, true
}

// Package implements core.Packager: a test's module file, the part of its
// node id before the first "::" ("tests/test_db.py").
func (a *Adapter) Package(_ string, test string) string {
	if i := strings.Index(test, "::"); i > 0 {
		return test[:i]
	}
	return ""
}

// ResumeArgs implements core.Resumer: a run without xdist whose one
// process hangdog stopped at a hang leaves the tests after the hung one
// unrun; they run in a second pytest that deselects every test that
// finished and every hung one (the plugin's --hangdog-deselect-from).
func (a *Adapter) ResumeArgs(user []string, hangs []*report.Hang, dir string) ([]string, string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var killed []string
	for _, h := range hangs {
		if h.Unit == MainUnit && h.Killed {
			killed = append(killed, h.Test)
		}
	}
	if len(killed) == 0 || a.exit != nil {
		return nil, "", false // no stop by hangdog, or the session ended by itself
	}
	skip := make(map[string]bool, len(a.mainFinished)+len(killed))
	for id := range a.mainFinished {
		skip[id] = true
	}
	for _, id := range killed {
		if id != "" {
			skip[id] = true
		}
	}
	if a.mainCollected > 0 && len(skip) >= a.mainCollected {
		return nil, "", false // nothing left
	}
	ids := make([]string, 0, len(skip))
	for id := range skip {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	path := filepath.Join(dir, "deselect.txt")
	if err := os.WriteFile(path, []byte(strings.Join(ids, "\n")+"\n"), 0o600); err != nil {
		a.host.Warn(fmt.Sprintf("pytest: resume: %v", err))
		return nil, "", false
	}
	left := a.mainCollected - len(skip)
	why := fmt.Sprintf("stopping %s ended the session with %d of %d tests not run", strings.Join(nonEmpty(killed), ", "), left, a.mainCollected)
	return ResumeArgs(user, path), why, true
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s == "" {
			s = "the session"
		}
		out = append(out, s)
	}
	return out
}

// Collected implements core.Collector.
func (a *Adapter) Collected() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// diagInput is what Diagnose needs of a snapshot of unit: the processes
// that run tests and, when the stuck unit is xdist's controller (which
// runs none), the controller too.
func (a *Adapter) diagInput(unit string, snap *Snapshot) DiagInput {
	ws := a.state.Workers()
	if unit == ControllerUnit {
		if pid := a.pidOf(unit); pid != 0 {
			ws = append(ws, WorkerState{Unit: ControllerUnit, PID: pid})
		}
	}
	return DiagInput{Rootdir: a.state.Rootdir(), Workers: ws, Stuck: []string{unit}, Snapshot: snap}
}

// pidOf is the process of unit as its events said (0 if none).
func (a *Adapter) pidOf(unit string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.units[unit]; u != nil {
		return u.pid
	}
	return 0
}
