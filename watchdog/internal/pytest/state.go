package pytest

import (
	"sort"
	"time"
)

// State is what the events say about each process of a run right now: for
// a stall, which test runs on a worker, in which phase and fixture, with
// which threads, which tests are queued behind it, and whether the worker
// has ended. Feed it every Event of a Source, in order; it keeps one small
// record per process (the tests' own history is not kept). Not safe for
// concurrent use.
type State struct {
	procs map[string]*Process // by unit; the controller's is ControllerUnit
	byPID map[int]*Process
	// boot lines of processes whose unit is not known yet, by pid
	early map[int]*Process
}

// Process is one process's record.
type Process struct {
	Unit string // "gw0", MainUnit or ControllerUnit
	Role Role
	PID  int
	PPID int
	// Signal and Stacks are the snapshot signal and the file its dumps go
	// to (Signal 0: none, SignalError says why).
	Signal      int
	SignalError string
	Stacks      string
	RootDir     string
	Threads     []Thread

	// The test running (its node id and location), since when (the
	// writer's clock), and where in it: the phase ("" before its setup
	// started) and the fixture whose setup or teardown started last, until
	// the test's next line (nil otherwise).
	Test     string
	Location *Location
	Started  time.Time
	Phase    string
	Fixture  *Fixture

	// Queue is the controller's last word on the worker's tests not yet
	// completed, in order (the first one is running or about to), and where
	// it came from ("xdist", "fallback"; "" when none was written).
	Queue       []string
	QueueSource string

	SessionStarted  bool
	Collected       int
	SessionFinished bool
	ExitStatus      *int
	// Down is set by the controller's worker_down (DownError: why, ""
	// when the worker finished), Crashed by its worker_crashed (the test
	// it was running).
	Down      bool
	DownError string
	Crashed   string
	// Last is the time of the process's last line (the writer's clock).
	Last time.Time
}

// Fixture is a fixture's setup or teardown that started.
type Fixture struct {
	Name, Scope, When string
}

// Behind returns the tests queued behind the running one: Queue without
// its first entry when that is the running test.
func (p *Process) Behind() []string {
	q := p.Queue
	if len(q) > 0 && q[0] == p.Test {
		q = q[1:]
	}
	return append([]string(nil), q...)
}

// NewState returns an empty State.
func NewState() *State {
	return &State{procs: make(map[string]*Process), byPID: make(map[int]*Process), early: make(map[int]*Process)}
}

// Process returns the record of a unit, nil when none has written yet.
func (s *State) Process(unit string) *Process { return s.procs[unit] }

// ByPID returns the record of a process by its pid (a process whose
// hello has not come yet included), nil when unknown.
func (s *State) ByPID(pid int) *Process {
	if p := s.byPID[pid]; p != nil {
		return p
	}
	return s.early[pid]
}

// Units returns the units known, sorted (workers, MainUnit, ControllerUnit).
func (s *State) Units() []string {
	out := make([]string, 0, len(s.procs))
	for u := range s.procs {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// Add takes one event into the state.
func (s *State) Add(e *Event) {
	p := s.byPID[e.PID]
	if p == nil {
		if e.Unit == "" || e.Role == "" {
			// Before hello: keep what the boot line says until the unit is
			// known.
			p = s.early[e.PID]
			if p == nil {
				p = &Process{PID: e.PID}
				s.early[e.PID] = p
			}
		} else {
			early := s.early[e.PID]
			delete(s.early, e.PID)
			p = s.procs[e.Unit]
			if p == nil || p.PID != 0 && p.PID != e.PID {
				// New, or another process of the same name (xdist numbers
				// replacements anew, so not expected): a record of its own.
				p = &Process{Unit: e.Unit}
				s.procs[e.Unit] = p
			}
			// p may have been made from the controller's word (its queue).
			p.PID, p.Role = e.PID, e.Role
			if early != nil {
				p.PPID, p.Signal, p.SignalError, p.Stacks, p.Threads = early.PPID, early.Signal, early.SignalError, early.Stacks, early.Threads
			}
			s.byPID[e.PID] = p
		}
	}
	p.Last = e.Time()
	switch e.Kind {
	case KindBoot, KindHello:
		p.PPID = e.PPID
		p.Signal, p.SignalError, p.Stacks = e.Signal, e.SignalError, e.Stacks
		if e.RootDir != "" {
			p.RootDir = e.RootDir
		}
	case KindThreads:
		p.Threads = e.Threads
	case KindSessionStart:
		p.SessionStarted = true
	case KindCollected:
		if e.Node != "" {
			s.worker(e.Node).Collected = e.Count
		} else {
			p.Collected = e.Count
		}
	case KindStart:
		p.Test, p.Location, p.Started, p.Phase, p.Fixture = e.NodeID, e.Location, e.Time(), "", nil
	case KindPhase:
		if e.NodeID == p.Test {
			p.Phase, p.Fixture = e.When, nil
		}
	case KindFixture:
		if e.NodeID == p.Test {
			p.Fixture = &Fixture{Name: e.Name, Scope: e.Scope, When: e.When}
		}
	case KindReport:
		if e.Node != "" {
			return // the controller's copy
		}
		if e.NodeID == p.Test {
			p.Fixture = nil
		}
	case KindFinish:
		if e.NodeID == p.Test {
			p.Test, p.Location, p.Phase, p.Fixture = "", nil, "", nil
		}
	case KindSessionFinish:
		p.SessionFinished, p.ExitStatus = true, e.ExitStatus
	case KindPending:
		w := s.worker(e.Node)
		switch {
		case e.NodeIDs != nil:
			w.Queue = e.NodeIDs
		case e.Drop >= len(w.Queue):
			w.Queue = nil
		default:
			w.Queue = w.Queue[e.Drop:]
		}
		w.QueueSource = e.Source
	case KindWorkerDown:
		w := s.worker(e.Node)
		w.Down, w.DownError = true, e.Error
	case KindWorkerCrashed:
		s.worker(e.Node).Crashed = e.NodeID
	}
}

// worker returns the record of a worker the controller speaks of, made
// when the worker has not written yet.
func (s *State) worker(unit string) *Process {
	p := s.procs[unit]
	if p == nil {
		p = &Process{Unit: unit, Role: RoleWorker}
		s.procs[unit] = p
	}
	return p
}
