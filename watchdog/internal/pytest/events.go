package pytest

import (
	"sort"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// The core's view of the plugin's events (mapper.core), for the tracker:
//
//   - Units are the processes that run tests: an xdist worker ("gw0", …) or,
//     without xdist, MainUnit. The controller gets no core events (it runs
//     no test, and is quiet for as long as its workers' tests run); its
//     own stalls are read from the pytest events (see CONTRACT.md).
//   - start is ActionRun of the test (Test is the node id).
//   - phase, fixture, report and the process's other lines (hello,
//     threads, session_start, collected, plugin_error) are signs of life of
//     the test they name when it runs, else of the unit: their Action is
//     the event's kind, which the tracker counts as a heartbeat and
//     nothing more.
//   - A failed report is also an ActionOutput line (its longrepr, marked
//     as an error line) of the test.
//   - finish ends the test: ActionFail when one of its reports failed (an
//     error in setup or teardown too), else ActionSkip when its setup or
//     call was skipped (xfailed included), else ActionPass; Elapsed is the
//     finish line's duration (the sum of all its reports'). The process that ran the test says
//     so at once, in its own file; under xdist the controller's reports
//     are the run's totals (results.go), not the tracker's.
//   - Under xdist the controller's worker_down ends the worker's unit
//     (ActionFail with an error, or when the worker's session ended with
//     a failure; ActionSkip when it collected nothing; else ActionPass), and
//     a test still running there fails with the error as its output; a
//     crashed worker's report (when "???") fails its test if the worker
//     had not ended it, starting it first if it never started.
//   - The controller's session_finish ends every worker's unit not ended
//     yet (xdist stops its workers without a worker_down after -x,
//     --maxfail or Ctrl-C).
//   - Without xdist, session_finish ends MainUnit the same way.
//
// Each Event's Time is the writer's clock.

// unitState is what the mapping keeps per unit: the tests running there
// with their reports so far, the last one that ended, how its session
// ended.
type unitState struct {
	running  map[string]*testState
	last     string // the node id that ended last
	exit     *int   // session_finish's exitstatus
	done     bool
	crashed  map[string]bool // tests failed at worker_down, before xdist's crash report
	sawStart bool
}

type testState struct {
	failed, skipped bool
	elapsed         float64
}

type mapper struct {
	units map[string]*unitState
}

func (m *mapper) init() {
	if m.units == nil {
		m.units = make(map[string]*unitState)
	}
}

func (m *mapper) unit(name string) *unitState {
	u := m.units[name]
	if u == nil {
		u = &unitState{running: make(map[string]*testState), crashed: make(map[string]bool)}
		m.units[name] = u
	}
	return u
}

// core hands sink the core events of e.
func (m *mapper) core(e *Event, sink Sink) {
	if e.Role == RoleController || e.Unit == ControllerUnit {
		m.controller(e, sink)
		return
	}
	name := e.Unit
	u := m.unit(name)
	ev := func(test string, a core.Action) core.Event {
		return core.Event{Unit: name, Test: test, Action: a, Time: e.Time()}
	}
	beat := func() {
		test := ""
		if e.NodeID != "" && u.running[e.NodeID] != nil {
			test = e.NodeID
		}
		sink.Core(ev(test, core.Action(e.Kind)))
	}
	switch e.Kind {
	case KindStart:
		if u.running == nil {
			u.running = make(map[string]*testState)
		}
		u.running[e.NodeID] = &testState{}
		u.sawStart = true
		sink.Core(ev(e.NodeID, core.ActionRun))
	case KindReport:
		t := u.running[e.NodeID]
		if t != nil {
			t.elapsed += e.Duration
			switch e.Outcome {
			case "failed":
				t.failed = true
			case "skipped":
				t.skipped = true
			}
			if e.Outcome == "failed" {
				out := ev(e.NodeID, core.ActionOutput)
				out.Output = e.When + ": " + e.Longrepr + "\n"
				out.Typed, out.ErrorLine = true, true
				sink.Core(out)
				return
			}
		}
		beat()
	case KindFinish:
		t := u.running[e.NodeID]
		if t == nil {
			beat()
			return
		}
		delete(u.running, e.NodeID)
		u.last = e.NodeID
		r := ev(e.NodeID, core.ActionPass)
		switch {
		case t.failed:
			r.Action = core.ActionFail
		case t.skipped:
			r.Action = core.ActionSkip
		}
		r.Elapsed = t.elapsed
		if e.Duration > 0 {
			r.Elapsed = e.Duration // every report's, passed setups and teardowns too
		}
		sink.Core(r)
	case KindSessionFinish:
		u.exit = e.ExitStatus
		if e.Role == RoleMain || name == MainUnit {
			m.endUnit(name, u, "", e, sink)
			return
		}
		beat()
	default:
		beat()
	}
}

// controller maps the controller's events about its workers.
func (m *mapper) controller(e *Event, sink Sink) {
	switch e.Kind {
	case KindSessionFinish:
		// xdist tears its workers down before this line without a
		// worker_down when the run stops early (-x, --maxfail, Ctrl-C).
		var names []string
		for name, u := range m.units {
			if !u.done {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			m.endUnit(name, m.units[name], "", e, sink)
		}
	case KindWorkerDown:
		if e.Node == "" {
			return
		}
		m.endUnit(e.Node, m.unit(e.Node), e.Error, e, sink)
	case KindReport:
		if e.When != "???" || e.Node == "" || e.Outcome != "failed" {
			return
		}
		u := m.unit(e.Node)
		if u.crashed[e.NodeID] {
			delete(u.crashed, e.NodeID)
			return
		}
		if u.last == e.NodeID && u.running[e.NodeID] == nil {
			return
		}
		if u.running[e.NodeID] == nil {
			sink.Core(core.Event{Unit: e.Node, Test: e.NodeID, Action: core.ActionRun, Time: e.Time()})
		}
		m.fail(e.Node, u, e.NodeID, e.Longrepr, e, sink)
	}
}

// fail ends a running test of unit name as failed, with why as its output.
func (m *mapper) fail(name string, u *unitState, test, why string, e *Event, sink Sink) {
	out := core.Event{Unit: name, Test: test, Action: core.ActionOutput, Output: why + "\n", Typed: true, ErrorLine: true, Time: e.Time()}
	sink.Core(out)
	var elapsed float64
	if t := u.running[test]; t != nil {
		elapsed = t.elapsed
	}
	delete(u.running, test)
	u.last = test
	sink.Core(core.Event{Unit: name, Test: test, Action: core.ActionFail, Elapsed: elapsed, Time: e.Time()})
}

// endUnit ends a unit: its running tests fail when it ended with an
// error (a crash), then the unit's own result.
func (m *mapper) endUnit(name string, u *unitState, errText string, e *Event, sink Sink) {
	if u.done {
		return
	}
	u.done = true
	if errText != "" {
		for test := range u.running {
			u.crashed[test] = true
			m.fail(name, u, test, "worker "+name+" went down: "+errText, e, sink)
		}
	}
	r := core.Event{Unit: name, Action: core.ActionPass, Time: e.Time()}
	switch {
	case errText != "":
		r.Action = core.ActionFail
	case u.exit != nil && *u.exit == 5 && !u.sawStart:
		r.Action = core.ActionSkip
	case u.exit != nil && *u.exit != 0 && *u.exit != 5:
		r.Action = core.ActionFail
	}
	sink.Core(r)
	u.running = nil
}
