package pytest

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

func TestState(t *testing.T) {
	dir := t.TempDir()
	ctl := filepath.Join(dir, "events-100.jsonl")
	wk := filepath.Join(dir, "events-200.jsonl")
	appendFile(t, ctl, line(t, 100, "", "boot", "signal", 40, "stacks", "/d/stacks-100.txt")+
		line(t, 100, "", "hello", "role", "controller", "signal", 40, "stacks", "/d/stacks-100.txt", "rootdir", "/src"))
	// The controller's queue for gw0 comes before gw0 has said hello.
	appendFile(t, ctl, line(t, 100, "", "pending", "node", "gw0", "nodeids", []string{"t.py::a", "t.py::b", "t.py::c"}, "source", "xdist"))
	s := NewState()
	src := NewSource(dir)
	poll := func() {
		t.Helper()
		if err := src.Poll(stateSink{s}); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	if q := s.Process("gw0").Queue; len(q) != 3 {
		t.Fatalf("queue %q", q)
	}
	appendFile(t, wk, line(t, 200, "gw0", "boot", "signal", 41, "stacks", "/d/stacks-200.txt")+
		line(t, 200, "gw0", "threads", "threads", []any{map[string]any{"ident": 7, "native_id": 200, "name": "MainThread", "daemon": false}})+
		line(t, 200, "gw0", "hello", "role", "worker", "signal", 41, "stacks", "/d/stacks-200.txt", "rootdir", "/src")+
		line(t, 200, "gw0", "start", "nodeid", "t.py::a", "location", []any{"t.py", 1, "a"})+
		line(t, 200, "gw0", "finish", "nodeid", "t.py::a")+
		line(t, 200, "gw0", "start", "nodeid", "t.py::b", "location", []any{"t.py", 5, "b"})+
		line(t, 200, "gw0", "phase", "nodeid", "t.py::b", "when", "setup", "state", "start")+
		line(t, 200, "gw0", "fixture", "nodeid", "t.py::b", "name", "db", "scope", "module", "when", "setup", "state", "start"))
	appendFile(t, ctl, line(t, 100, "", "pending", "node", "gw0", "drop", 1, "source", "xdist"))
	poll()
	w := s.Process("gw0")
	if w.PID != 200 || w.Role != RoleWorker || w.Signal != 41 || w.Stacks != "/d/stacks-200.txt" || len(w.Threads) != 1 || w.RootDir != "/src" {
		t.Errorf("gw0 %+v", w)
	}
	if w.Test != "t.py::b" || w.Phase != "setup" || w.Fixture == nil || *w.Fixture != (Fixture{"db", "module", "setup"}) || w.Location.Line != 5 {
		t.Errorf("gw0 runs %q in %q, fixture %+v", w.Test, w.Phase, w.Fixture)
	}
	if got := w.Behind(); !reflect.DeepEqual(got, []string{"t.py::c"}) {
		t.Errorf("behind %q", got)
	}
	if s.ByPID(200) != w || s.ByPID(100) != s.Process(ControllerUnit) {
		t.Error("ByPID")
	}
	appendFile(t, wk, line(t, 200, "gw0", "phase", "nodeid", "t.py::b", "when", "call", "state", "start"))
	appendFile(t, ctl, line(t, 100, "", "worker_down", "node", "gw0", "error", "Not properly terminated")+
		line(t, 100, "", "worker_crashed", "node", "gw0", "nodeid", "t.py::b", "error", "crashed"))
	poll()
	if w.Phase != "call" || w.Fixture != nil || !w.Down || w.DownError != "Not properly terminated" || w.Crashed != "t.py::b" {
		t.Errorf("gw0 %+v", w)
	}
	if got := s.Units(); !reflect.DeepEqual(got, []string{ControllerUnit, "gw0"}) {
		t.Errorf("units %q", got)
	}
}

type stateSink struct{ s *State }

func (k stateSink) Event(e *Event) { k.s.Add(e) }
func (stateSink) Core(core.Event)  {}
