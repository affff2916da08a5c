package pytest

import (
	"slices"
	"sync"
)

// Processes keeps, from the plugin's events, what a snapshot (Take) and a
// diagnosis (Diagnose) need of every process of a run: its signal and
// stacks file (hello), the union of its thread tables, the test, phase
// and fixture it runs, and, from the controller, the tests queued on each
// worker. The engine hands it every Event the Source reads (the Sink's
// Event method) and, on a stall, asks for Targets and Workers. It is safe
// for concurrent use (the Source's goroutine observes, the engine's asks);
// its zero value is ready.
type Processes struct {
	mu      sync.Mutex
	procs   map[int]*procState
	pending map[string][]string // worker → its tests not yet completed, the first running
	gone    map[string]bool     // workers the controller reported down or crashed
}

// procState is one process's state.
type procState struct {
	pid          int
	worker, unit string
	role         Role
	signal       int
	stacks       string
	rootdir      string
	threads      []Thread
	test, phase  string
	fixture      string
	fixtureScope string
}

// Observe takes one event into account. Events of one process must come
// in their file's order; the files may interleave.
func (p *Processes) Observe(e *Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.procs == nil {
		p.procs, p.pending, p.gone = map[int]*procState{}, map[string][]string{}, map[string]bool{}
	}
	s := p.procs[e.PID]
	if s == nil {
		s = &procState{pid: e.PID}
		p.procs[e.PID] = s
	}
	s.worker = e.Worker
	if e.Role != "" {
		s.role = e.Role
	}
	switch {
	case s.worker != "":
		s.unit = s.worker
	case s.role == RoleController:
		s.unit = ControllerUnit
	default:
		s.unit = MainUnit
	}
	switch e.Kind {
	case KindBoot:
		// Before hello (and before any conftest.py): enough to dump a
		// process stuck importing one.
		s.signal, s.stacks = e.Signal, e.Stacks
	case KindHello:
		s.signal, s.stacks, s.rootdir = e.Signal, e.Stacks, e.RootDir
	case KindThreads:
		s.threads = unionThreads(s.threads, e.Threads)
	case KindStart:
		s.test, s.phase, s.fixture, s.fixtureScope = e.NodeID, "", "", ""
	case KindPhase:
		// A phase, and a fixture's setup or teardown, last until the
		// test's next line (CONTRACT.md).
		s.test, s.phase, s.fixture, s.fixtureScope = e.NodeID, e.When, "", ""
	case KindFixture:
		s.fixture, s.fixtureScope = e.Name, e.Scope
	case KindReport:
		if e.NodeID == s.test {
			s.fixture, s.fixtureScope = "", ""
		}
	case KindFinish:
		s.test, s.phase, s.fixture, s.fixtureScope = "", "", "", ""
	case KindPending:
		if e.NodeIDs != nil {
			p.pending[e.Node] = slices.Clone(e.NodeIDs)
		} else if q := p.pending[e.Node]; e.Drop > 0 && e.Drop <= len(q) {
			p.pending[e.Node] = q[e.Drop:]
		}
	case KindWorkerDown, KindWorkerCrashed:
		p.gone[e.Node] = true
	}
}

// unionThreads adds the rows of a new thread table to the rows seen so
// far (a newer row replaces an older one of the same ident). A table
// written late but computed early may lack a thread the one before it had
// (two threads that start at once each compute and write the table), and
// the row of a thread that has ended does no harm: its ident is not in
// the dump, or, reused, a newer row has replaced it.
func unionThreads(old, rows []Thread) []Thread {
	out := slices.Clone(rows)
	for _, o := range old {
		if !slices.ContainsFunc(rows, func(r Thread) bool { return r.Ident == o.Ident }) {
			out = append(out, o)
		}
	}
	return out
}

// alive lists the processes not reported gone, in PID order.
func (p *Processes) alive() []*procState {
	var ss []*procState
	for _, s := range p.procs {
		if s.worker == "" || !p.gone[s.worker] {
			ss = append(ss, s)
		}
	}
	slices.SortFunc(ss, func(a, b *procState) int { return a.pid - b.pid })
	return ss
}

// Skip reasons of Targets.
const (
	skipController = "xdist's controller, which runs no test, is dumped only when it is the stuck unit: " +
		"faulthandler walks the thread list without a lock, and a dump while the gateway threads of a worker " +
		"that is shutting down end crashed it (Fatal Python error: Segmentation fault)"
	skipIdle = "runs no test (a worker between tests or shutting down; its threads may be ending)"
)

// Targets returns every process of the run to snapshot, in PID order; a
// worker the controller reported down is left out. The processes of the
// stuck units (the core's unit names: a worker, MainUnit,
// ControllerUnit) and every process running a test are signalled; the
// others get Target.Skip (their forensics are still collected, so that a
// lock an idle worker's session fixture holds is still seen): xdist's
// controller unless it is stuck itself, and workers running no test.
func (p *Processes) Targets(stuck ...string) []Target {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ts []Target
	for _, s := range p.alive() {
		t := Target{PID: s.pid, Worker: s.worker, Signal: s.signal, Stacks: s.stacks, Threads: slices.Clone(s.threads)}
		switch {
		case slices.Contains(stuck, s.unit):
		case s.role == RoleController:
			t.Skip = skipController
		case s.test == "":
			t.Skip = skipIdle
		}
		ts = append(ts, t)
	}
	return ts
}

// Workers returns the processes that run tests (not xdist's controller)
// for DiagInput.Workers, with the tests queued behind each worker's
// running test.
func (p *Processes) Workers() []WorkerState {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ws []WorkerState
	for _, s := range p.alive() {
		if s.role == RoleController {
			continue
		}
		w := WorkerState{Unit: s.unit, Worker: s.worker, PID: s.pid, Test: s.test, Phase: s.phase,
			Fixture: s.fixture, FixtureScope: s.fixtureScope}
		if q := p.pending[s.worker]; s.worker != "" && len(q) > 1 && q[0] == s.test {
			w.Queued = slices.Clone(q[1:])
		}
		ws = append(ws, w)
	}
	return ws
}

// Rootdir returns pytest's rootdir as the first process's hello gave it.
func (p *Processes) Rootdir() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.alive() {
		if s.rootdir != "" {
			return s.rootdir
		}
	}
	return ""
}

// queue returns the controller's last queue of worker (its running test
// first).
func (p *Processes) queue(worker string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.pending[worker])
}
