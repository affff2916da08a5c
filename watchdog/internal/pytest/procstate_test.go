package pytest

import (
	"slices"
	"testing"
)

func TestProcesses(t *testing.T) {
	t.Parallel()
	var p Processes
	for _, e := range []*Event{
		{PID: 10, Kind: KindHello, Role: RoleController, Signal: 38, Stacks: "/d/stacks-10.txt", RootDir: "/src"},
		{PID: 11, Worker: "gw0", Kind: KindBoot, Signal: 38, Stacks: "/d/stacks-11.txt"},
		{PID: 11, Worker: "gw0", Kind: KindHello, Role: RoleWorker, Signal: 38, Stacks: "/d/stacks-11.txt", RootDir: "/src"},
		{PID: 12, Worker: "gw1", Kind: KindHello, Role: RoleWorker, Signal: 39, Stacks: "/d/stacks-12.txt"},
		{PID: 11, Worker: "gw0", Kind: KindThreads, Threads: []Thread{{Ident: 1, NativeID: 11, Name: "MainThread"}, {Ident: 2, NativeID: 20, Name: "a"}}},
		// computed before thread b started and written after the table with it: b stays
		{PID: 11, Worker: "gw0", Kind: KindThreads, Threads: []Thread{{Ident: 1, NativeID: 11, Name: "MainThread"}, {Ident: 3, NativeID: 21, Name: "b"}}},
		{PID: 11, Worker: "gw0", Kind: KindThreads, Threads: []Thread{{Ident: 1, NativeID: 11, Name: "MainThread"}, {Ident: 2, NativeID: 22, Name: "a2"}}},
		{PID: 10, Kind: KindPending, Node: "gw0", NodeIDs: []string{"t.py::a", "t.py::b", "t.py::c"}},
		{PID: 11, Worker: "gw0", Kind: KindStart, NodeID: "t.py::a"},
		{PID: 11, Worker: "gw0", Kind: KindPhase, NodeID: "t.py::a", When: "setup", State: "start"},
		{PID: 11, Worker: "gw0", Kind: KindFixture, NodeID: "t.py::a", Name: "db", Scope: "module", When: "setup", State: "start"},
		{PID: 12, Worker: "gw1", Kind: KindStart, NodeID: "t.py::x"},
		{PID: 12, Worker: "gw1", Kind: KindPhase, NodeID: "t.py::x", When: "call", State: "start"},
		{PID: 12, Worker: "gw1", Kind: KindFinish, NodeID: "t.py::x"},
		{PID: 10, Kind: KindPending, Node: "gw0", Drop: 0},
		{PID: 10, Kind: KindWorkerDown, Node: "gw1"},
	} {
		p.Observe(e)
	}
	ts := p.Targets()
	if len(ts) != 2 || ts[0].PID != 10 || ts[1].PID != 11 || ts[1].Signal != 38 || ts[1].Stacks != "/d/stacks-11.txt" {
		t.Fatalf("targets %+v, want the controller and gw0 (gw1 is down)", ts)
	}
	if ts[0].Skip == "" || ts[1].Skip != "" {
		t.Errorf("skips %q, %q: want the controller skipped, gw0 (running a test) signalled", ts[0].Skip, ts[1].Skip)
	}
	if ts := p.Targets(ControllerUnit); ts[0].Skip != "" {
		t.Errorf("the stuck controller is skipped: %q", ts[0].Skip)
	}
	var names []string
	for _, th := range ts[1].Threads {
		names = append(names, th.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"MainThread", "a2", "b"}) {
		t.Errorf("thread table %v, want MainThread, a2 (ident 2's newer row) and b (kept)", names)
	}
	ws := p.Workers()
	want := WorkerState{Unit: "gw0", Worker: "gw0", PID: 11, Test: "t.py::a", Phase: "setup", Fixture: "db", FixtureScope: "module",
		Queued: []string{"t.py::b", "t.py::c"}}
	if len(ws) != 1 || ws[0].Unit != want.Unit || ws[0].Test != want.Test || ws[0].Phase != want.Phase ||
		ws[0].Fixture != want.Fixture || ws[0].FixtureScope != want.FixtureScope || !slices.Equal(ws[0].Queued, want.Queued) {
		t.Errorf("workers %+v, want [%+v]", ws, want)
	}
	if p.Rootdir() != "/src" {
		t.Errorf("rootdir %q", p.Rootdir())
	}
	p.Observe(&Event{PID: 10, Kind: KindPending, Node: "gw0", Drop: 1})
	p.Observe(&Event{PID: 11, Worker: "gw0", Kind: KindFinish, NodeID: "t.py::a"})
	if ts := p.Targets(); ts[1].Skip == "" {
		t.Error("a worker between tests is signalled")
	}
	if ts := p.Targets("gw0"); ts[1].Skip != "" {
		t.Errorf("the stuck worker between tests is skipped: %q", ts[1].Skip)
	}
	p.Observe(&Event{PID: 11, Worker: "gw0", Kind: KindStart, NodeID: "t.py::b"})
	if ws := p.Workers(); ws[0].Test != "t.py::b" || ws[0].Fixture != "" || !slices.Equal(ws[0].Queued, []string{"t.py::c"}) {
		t.Errorf("after drop 1 and the next start: %+v", ws[0])
	}
	p.Observe(&Event{PID: 11, Worker: "gw0", Kind: KindFixture, NodeID: "t.py::b", Name: "tmp", Scope: "function", When: "setup", State: "start"})
	p.Observe(&Event{PID: 11, Worker: "gw0", Kind: KindPhase, NodeID: "t.py::b", When: "call", State: "start"})
	if ws := p.Workers(); ws[0].Phase != "call" || ws[0].Fixture != "" {
		t.Errorf("a fixture's setup ends at the test's next line: %+v", ws[0])
	}
	var plain Processes
	plain.Observe(&Event{PID: 5, Kind: KindBoot, Signal: 38, Stacks: "/d/stacks-5.txt"})
	if ts := plain.Targets(MainUnit); len(ts) != 1 || ts[0].Signal != 38 || ts[0].Stacks != "/d/stacks-5.txt" || ts[0].Skip != "" {
		t.Errorf("a process stuck before hello (importing a conftest.py): %+v", ts)
	}
	plain.Observe(&Event{PID: 5, Kind: KindHello, Role: RoleMain, Signal: 38})
	plain.Observe(&Event{PID: 5, Kind: KindStart, NodeID: "t.py::a"})
	if ws := plain.Workers(); len(ws) != 1 || ws[0].Unit != MainUnit || ws[0].Worker != "" || ws[0].Test != "t.py::a" {
		t.Errorf("plain run: %+v", ws)
	}
}
