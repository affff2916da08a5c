package pytest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/report"
)

// recSink records what the adapter hands the core.
type recSink struct{ events []core.Event }

func (r *recSink) Event(e core.Event)            { r.events = append(r.events, e) }
func (r *recSink) RunningLeaves(string) []string { return nil }
func (r *recSink) Found(string, []*report.Hang)  {}
func (r *recSink) units() (out []string) {
	for _, e := range r.events {
		out = append(out, e.Unit+":"+string(e.Action))
	}
	return out
}

type nopHost struct{ said []string }

func (h *nopHost) ArtifactPath(unit, kind string) string { return "" }
func (h *nopHost) Say(line string)                       { h.said = append(h.said, line) }
func (h *nopHost) WarnOnce(key, msg string)              {}
func (h *nopHost) Warn(msg string)                       {}

// live starts a process that stands for a worker (the adapter checks
// that a worker's process is alive).
func live(t *testing.T) int {
	t.Helper()
	c := exec.Command("sleep", "600")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return c.Process.Pid
}

func exit(n int) *int { return &n }

// TestAdapterAgain: a worker that reaches the call of a test reported as hung on
// another worker is named (and the stream then stops it); the worker it
// hung on, or a test never reported, is not.
func TestAdapterAgain(t *testing.T) {
	a := New(AdapterOptions{})
	a.Start(t.TempDir(), &nopHost{})
	for _, e := range []*Event{
		{PID: 10, Worker: "gw0", Unit: "gw0", Role: RoleWorker, Kind: KindHello},
		{PID: 11, Worker: "gw2", Unit: "gw2", Role: RoleWorker, Kind: KindHello},
	} {
		a.observe(e)
	}
	a.Hung("gw0", "t.py::test_a")
	if again := a.observe(&Event{PID: 11, Worker: "gw2", Unit: "gw2", Role: RoleWorker, Kind: KindPhase, When: "call", NodeID: "t.py::test_b"}); again != "" {
		t.Errorf("a test never reported: again %q", again)
	}
	if again := a.observe(&Event{PID: 11, Worker: "gw2", Unit: "gw2", Role: RoleWorker, Kind: KindPhase, When: "call", NodeID: "t.py::test_a"}); again != "gw0" {
		t.Errorf("again %q, want gw0", again)
	}
	if again := a.observe(&Event{PID: 10, Worker: "gw0", Unit: "gw0", Role: RoleWorker, Kind: KindPhase, When: "call", NodeID: "t.py::test_a"}); again != "" {
		t.Errorf("the worker it hung on: again %q", again)
	}
}

// TestAdapterBeats: an idle worker (collected, no test, session not over)
// beats; the controller beats while a worker is busy or events come, and
// goes quiet when every worker idles and nothing happens.
func TestAdapterBeats(t *testing.T) {
	a := New(AdapterOptions{})
	a.Start(t.TempDir(), &nopHost{})
	sink := &recSink{}
	s := &stream{a: a, sink: sink, out: nil}
	ctl, w0, w1 := os.Getpid(), live(t), live(t)
	for _, e := range []*Event{
		{PID: ctl, Unit: ControllerUnit, Role: RoleController, Kind: KindHello},
		{PID: w0, Worker: "gw0", Unit: "gw0", Role: RoleWorker, Kind: KindHello},
		{PID: w1, Worker: "gw1", Unit: "gw1", Role: RoleWorker, Kind: KindHello},
		{PID: w0, Worker: "gw0", Unit: "gw0", Role: RoleWorker, Kind: KindCollected, Count: 2},
		{PID: w1, Worker: "gw1", Unit: "gw1", Role: RoleWorker, Kind: KindCollected, Count: 2},
		{PID: w1, Worker: "gw1", Unit: "gw1", Role: RoleWorker, Kind: KindStart, NodeID: "t.py::test_long"},
	} {
		a.observe(e)
	}
	s.outputBeats()
	want := map[string]bool{"gw0:idle": true, "controller:controller": true}
	// (The controller is watched once a worker has collected, as here.)
	got := map[string]bool{}
	for _, u := range sink.units() {
		got[u] = true
	}
	for w := range want {
		if !got[w] {
			t.Errorf("beats %v lack %s", sink.units(), w)
		}
	}
	if got["gw1:idle"] {
		t.Errorf("a busy worker beat as idle: %v", sink.units())
	}
	// gw1's test ends; a tick with news, then one without.
	a.observe(&Event{PID: w1, Worker: "gw1", Unit: "gw1", Role: RoleWorker, Kind: KindFinish, NodeID: "t.py::test_long"})
	sink.events = nil
	s.outputBeats()
	sink.events = nil
	s.outputBeats()
	for _, u := range sink.units() {
		if u == "controller:controller" {
			t.Errorf("the controller beat with every worker idle and nothing new: %v", sink.units())
		}
	}
	if len(sink.units()) != 2 {
		t.Errorf("beats %v, want the two idle workers", sink.units())
	}
	// The controller's session ends: no more controller beats.
	a.observe(&Event{PID: ctl, Unit: ControllerUnit, Role: RoleController, Kind: KindSessionFinish, ExitStatus: exit(0)})
	sink.events = nil
	s.outputBeats()
	for _, u := range sink.units() {
		if u == "controller:controller" {
			t.Errorf("controller beat after its session ended")
		}
	}
}

// TestAdapterResumeArgs: a run without xdist stopped at a hang resumes
// with every finished and hung test deselected; one that ended by itself,
// or had nothing left, does not.
func TestAdapterResumeArgs(t *testing.T) {
	mk := func() *Adapter {
		a := New(AdapterOptions{})
		a.Start(t.TempDir(), &nopHost{})
		for _, e := range []*Event{
			{PID: 5, Unit: MainUnit, Role: RoleMain, Kind: KindHello},
			{PID: 5, Unit: MainUnit, Role: RoleMain, Kind: KindCollected, Count: 4},
			{PID: 5, Unit: MainUnit, Role: RoleMain, Kind: KindStart, NodeID: "t.py::a"},
			{PID: 5, Unit: MainUnit, Role: RoleMain, Kind: KindFinish, NodeID: "t.py::a"},
			{PID: 5, Unit: MainUnit, Role: RoleMain, Kind: KindStart, NodeID: "t.py::b"},
		} {
			a.observe(e)
		}
		return a
	}
	hung := []*report.Hang{{Unit: MainUnit, Test: "t.py::b", Killed: true}}
	dir := t.TempDir()
	args, why, ok := mk().ResumeArgs([]string{"-q"}, hung, dir)
	if !ok || len(args) != 2 || args[0] != "-q" || why == "" {
		t.Fatalf("args %q why %q ok %v", args, why, ok)
	}
	b, err := os.ReadFile(dir + "/deselect.txt")
	if err != nil || string(b) != "t.py::a\nt.py::b\n" {
		t.Errorf("deselect file %q %v", b, err)
	}
	a := mk()
	a.observe(&Event{PID: 5, Unit: MainUnit, Role: RoleMain, Kind: KindSessionFinish, ExitStatus: exit(1)})
	if _, _, ok := a.ResumeArgs(nil, hung, dir); ok {
		t.Errorf("resumed a session that ended by itself")
	}
	if _, _, ok := mk().ResumeArgs(nil, []*report.Hang{{Unit: MainUnit, Test: "t.py::b"}}, dir); ok {
		t.Errorf("resumed a run hangdog did not stop")
	}
}

// TestAdapterControllerStarting: while the controller starts its workers
// (no worker has collected yet) it gets no events of its own, so it
// cannot stall however long the workers take to start.
func TestAdapterControllerStarting(t *testing.T) {
	a := New(AdapterOptions{})
	a.Start(t.TempDir(), &nopHost{})
	sink := &recSink{}
	s := &stream{a: a, sink: sink}
	a.observe(&Event{PID: os.Getpid(), Unit: ControllerUnit, Role: RoleController, Kind: KindHello})
	a.observe(&Event{PID: live(t), Worker: "gw0", Unit: "gw0", Role: RoleWorker, Kind: KindHello})
	s.outputBeats()
	s.outputBeats()
	for _, u := range sink.units() {
		if strings.HasPrefix(u, ControllerUnit+":") {
			t.Errorf("the controller is watched before any worker collected: %v", sink.units())
		}
	}
}
