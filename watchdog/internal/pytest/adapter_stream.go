package pytest

// This file is the adapter's core.Source: pytest's output passed through
// while the plugin's event files are followed, the heartbeats hangdog adds
// (captured output, idle workers, the controller), and what the adapter
// keeps of the events.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

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
	return &stream{a: a, sink: sink, out: out, syncs: make(chan chan struct{})}, nil
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
	// syncs asks the poll loop to read the event files at once.
	syncs chan chan struct{}
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
			case ack := <-s.syncs:
				_ = src.Poll(es) // what the files hold now, at once (Sync)
				close(ack)
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

// Sync implements core.Syncer: the event files are read now, so that the
// engine sees what the processes wrote up to this moment (the tests
// running when a signal stops the run). It gives up after a second.
func (s *stream) Sync() {
	ack := make(chan struct{})
	select {
	case s.syncs <- ack:
	case <-time.After(time.Second):
		return // the poll loop is not running (or busy): the state is as it is
	}
	select {
	case <-ack:
	case <-time.After(time.Second):
	}
}

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
	if _, ok := a.hung[e.NodeID]; ok && e.NodeID != "" {
		// A hung test counts as hung only: whatever pytest says of it
		// later (xdist's crash report, a replacement's skip, a pass
		// once a stop freed it) comes off the totals (Finish).
		a.hungResults.Add(e)
	}
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
		u.test = e.NodeID
	case KindPhase:
		// A replacement worker's plugin skips a test that hung before, in
		// its setup; one that reaches its call anyway (hung.txt not read)
		// would hang again: it is stopped at once.
		if w, ok := a.hung[e.NodeID]; ok && w != e.Unit && pi.role == RoleWorker && e.When == "call" {
			again = w
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
