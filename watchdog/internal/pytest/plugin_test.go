package pytest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// The pass suite (testdata/pytest/pass): its 14 tests and the result the
// core gets for each.
var passSuite = map[string]core.Action{
	"test_outcomes.py::test_pass":                 core.ActionPass,
	"test_outcomes.py::test_fail":                 core.ActionFail,
	"test_outcomes.py::test_error_in_setup":       core.ActionFail,
	"test_outcomes.py::test_error_in_teardown":    core.ActionFail,
	"test_outcomes.py::test_skip":                 core.ActionSkip,
	"test_outcomes.py::test_xfail":                core.ActionSkip,
	"test_outcomes.py::test_xpass":                core.ActionPass,
	"test_outcomes.py::test_ids[a/b]":             core.ActionPass,
	"test_outcomes.py::test_ids[c::d]":            core.ActionPass,
	"test_outcomes.py::test_ids[plain]":           core.ActionPass,
	"test_outcomes.py::TestGroup::test_in_class":  core.ActionPass,
	"test_outcomes.py::TestGroup::test_output":    core.ActionPass,
	"test_timing.py::test_slow_with_progress":     core.ActionPass,
	"test_timing.py::test_silent_under_threshold": core.ActionPass,
}

const passTotals = "1 failed, 9 passed, 1 skipped, 1 xfailed, 1 xpassed, 2 errors"

// quick makes the pass suite's timing tests short.
var quick = []string{"HANGDOG_FIXTURE_SLOW=0.3", "HANGDOG_FIXTURE_SILENT=0.1"}

func TestPluginEvents(t *testing.T) {
	in := python(t)
	cases := []struct {
		name    string
		args    []string
		workers int
		each    bool
	}{
		{"n0", []string{"-n", "0"}, 0, false},
		{"n2-load", []string{"-n", "2"}, 2, false},
		{"n-auto", []string{"-n", "auto"}, -1, false}, // as many workers as CPUs
		{"n2-loadscope", []string{"-n", "2", "--dist", "loadscope"}, 2, false},
		{"n2-loadfile", []string{"-n", "2", "--dist", "loadfile"}, 2, false},
		{"n2-loadgroup", []string{"-n", "2", "--dist", "loadgroup"}, 2, false},
		{"n2-each", []string{"-n", "2", "--dist", "each"}, 2, true},
		// One process is enough to see the plugin beside a user's
		// faulthandler_timeout (dump_traceback_later per test) and
		// pytest-timeout (SIGALRM, or a timer thread per test).
		{"faulthandler-timeout", []string{"-n", "0", "-o", "faulthandler_timeout=30"}, 0, false},
		{"pytest-timeout-signal", []string{"-n", "0", "--timeout=30", "--timeout-method=signal"}, 0, false},
		{"pytest-timeout-thread", []string{"-n", "0", "--timeout=30", "--timeout-method=thread"}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.workers > 0 || c.args[0] == "-n" {
				needXdist(t, in)
			}
			if strings.Contains(strings.Join(c.args, " "), "--timeout") && in.Timeout == "" {
				t.Skip("pytest-timeout is not installed (apt-get install python3-pytest-timeout)")
			}
			args := append([]string{"-p", "no:cacheprovider"}, c.args...)
			res := runPytest(t, fixture(t, "pass"), args, runOpts{env: quick})
			if res.exit != PytestFailed {
				t.Fatalf("exit %d, want 1\n%s\n%s", res.exit, res.stdout, res.stderr)
			}
			workers := c.workers
			if workers < 0 {
				workers = len(res.kinds(KindWorkerReady))
				if workers == 0 {
					t.Fatal("no worker")
				}
			}
			checkPassSuite(t, res, workers, c.each)
		})
	}
}

// checkPassSuite checks the events of one run of the pass suite.
func checkPassSuite(t *testing.T, res *run, workers int, each bool) {
	t.Helper()
	for _, e := range res.kinds(KindPluginError) {
		t.Errorf("plugin error in %s: %s", e.Hook, e.Error)
	}
	if n := res.src.Bad(); n != 0 {
		t.Errorf("%d bad lines", n)
	}
	hellos := res.kinds(KindHello)
	wantProcs := 1
	if workers > 0 {
		wantProcs = workers + 1
	}
	if len(hellos) != wantProcs {
		t.Fatalf("%d hello events, want %d", len(hellos), wantProcs)
	}
	units := map[string]bool{}
	for _, h := range hellos {
		if h.Signal == 0 || h.Stacks == "" || h.SignalError != "" {
			t.Errorf("%s (pid %d): no snapshot signal: %q", h.Unit, h.PID, h.SignalError)
		}
		if h.Pytest == "" || h.RootDir != fixture(t, "pass") {
			t.Errorf("hello: pytest %q rootdir %q", h.Pytest, h.RootDir)
		}
		if h.Role == RoleWorker {
			units[h.Unit] = true
		}
		for _, p := range []string{h.Stacks, filepath.Join(res.dir.Path, fmt.Sprintf("events-%d.jsonl", h.PID))} {
			if fi, err := os.Stat(p); err != nil {
				t.Error(err)
			} else if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", p, fi.Mode())
			}
		}
	}
	if workers == 0 {
		units[MainUnit] = true
	}
	if len(units) != max(workers, 1) {
		t.Errorf("units %v, want %d", units, max(workers, 1))
	}

	// Each test's events, per unit, in order.
	type key struct{ unit, test string }
	seq := map[key][]string{}
	for _, e := range res.events {
		if e.Role == RoleController || e.NodeID == "" {
			continue
		}
		k := key{e.Unit, e.NodeID}
		s := string(e.Kind)
		switch e.Kind {
		case KindPhase:
			s = e.When + "-" + e.State
		case KindFinish:
			if e.Duration <= 0 {
				t.Errorf("%s: finish without a duration", e.NodeID)
			}
		case KindReport:
			s = "report-" + e.When + "-" + e.Outcome
		case KindFixture:
			continue
		}
		seq[k] = append(seq[k], s)
	}
	runs := map[string]int{}
	for k, s := range seq {
		runs[k.test]++
		got := strings.Join(s, " ")
		want := "start setup-start call-start report-call-%s teardown-start%s finish"
		callOutcome, td := "passed", ""
		switch k.test {
		case "test_outcomes.py::test_fail":
			callOutcome = "failed"
		case "test_outcomes.py::test_skip", "test_outcomes.py::test_xfail":
			callOutcome = "skipped"
		case "test_outcomes.py::test_error_in_teardown":
			td = " report-teardown-failed"
		case "test_outcomes.py::test_error_in_setup":
			want = "start setup-start report-setup-failed teardown-start finish"
		}
		if strings.Contains(want, "%s") {
			want = fmt.Sprintf(want, callOutcome, td)
		}
		if got != want {
			t.Errorf("%s on %s:\n got %s\nwant %s", k.test, k.unit, got, want)
		}
	}
	wantRuns := 1
	if each {
		wantRuns = workers
	}
	for test := range passSuite {
		if runs[test] != wantRuns {
			t.Errorf("%s ran %d times, want %d", test, runs[test], wantRuns)
		}
	}
	if len(runs) != len(passSuite) {
		t.Errorf("%d tests ran, want %d", len(runs), len(passSuite))
	}

	// Session and module fixtures under the tests that set them up and
	// tear them down, with their scope.
	perUnit := map[string][]*Event{}
	for _, e := range res.kinds(KindFixture) {
		perUnit[e.Unit] = append(perUnit[e.Unit], e)
	}
	for unit, fx := range perUnit {
		var setups, teardowns int
		for _, e := range fx {
			if e.Name != "session_resource" {
				continue
			}
			if e.Scope != "session" || e.NodeID == "" {
				t.Errorf("%s: session_resource %s %s under %q scope %q", unit, e.When, e.State, e.NodeID, e.Scope)
			}
			if e.State != "start" {
				t.Errorf("%s: fixture state %q", unit, e.State)
			}
			if e.When == "setup" {
				setups++
			}
			if e.When == "teardown" {
				teardowns++
			}
		}
		if setups > 1 || setups != teardowns {
			t.Errorf("%s: session_resource set up %d times, torn down %d times", unit, setups, teardowns)
		}
		for _, e := range fx {
			if e.Name == "module_resource" && e.Scope != "module" {
				t.Errorf("%s: module_resource scope %q", unit, e.Scope)
			}
			if e.Name == "path" {
				t.Errorf("%s: a parametrisation's pseudo-fixture was reported", unit)
			}
		}
	}
	if workers == 0 {
		var fx []string
		for _, e := range perUnit[MainUnit] {
			if e.Name == "session_resource" || e.Name == "broken_teardown" {
				fx = append(fx, fmt.Sprintf("%s %s %s", e.Name, e.When, e.NodeID))
			}
		}
		want := []string{
			"session_resource setup test_outcomes.py::test_pass",
			"broken_teardown setup test_outcomes.py::test_error_in_teardown",
			"broken_teardown teardown test_outcomes.py::test_error_in_teardown",
			"session_resource teardown test_timing.py::test_silent_under_threshold",
		}
		if strings.Join(fx, "\n") != strings.Join(want, "\n") {
			t.Errorf("fixtures:\n%s\nwant\n%s", strings.Join(fx, "\n"), strings.Join(want, "\n"))
		}
	}

	// The totals are pytest's own.
	var r Results
	for _, e := range res.events {
		r.Add(e)
	}
	want := passTotals
	if each {
		want = summaryLine(res.stdout)
	}
	if got := r.Totals().String(); got != want || summaryLine(res.stdout) != want {
		t.Errorf("totals %q, pytest says %q, want %q", got, summaryLine(res.stdout), want)
	}

	n := 1
	if each {
		n = workers
	}
	checkCore(t, res, passSuite, n, max(workers, 1))

	if workers > 0 {
		checkPending(t, res)
	}
}

// checkCore checks the core's view: every test run once per unit, ended
// once with the expected result (n results in all), every one of units
// ended.
func checkCore(t *testing.T, res *run, want map[string]core.Action, n, wantUnits int) {
	t.Helper()
	type key struct{ unit, test string }
	running := map[key]bool{}
	results := map[string][]core.Action{}
	unitEnds := map[string]core.Action{}
	failedOn := map[string]bool{}
	for _, e := range res.core {
		if e.Unit == "" || e.Unit == ControllerUnit {
			t.Fatalf("core event of unit %q: %+v", e.Unit, e)
		}
		if e.Time.IsZero() {
			t.Errorf("core event without time: %+v", e)
		}
		if e.Test == "" {
			if e.Action.Ended() {
				if _, dup := unitEnds[e.Unit]; dup {
					t.Errorf("unit %s ended twice", e.Unit)
				}
				unitEnds[e.Unit] = e.Action
			}
			continue
		}
		k := key{e.Unit, e.Test}
		switch {
		case e.Action == core.ActionRun:
			if running[k] {
				t.Errorf("%s started twice on %s", e.Test, e.Unit)
			}
			running[k] = true
		case e.Action.Ended():
			if !running[k] {
				t.Errorf("%s ended on %s without running", e.Test, e.Unit)
			}
			delete(running, k)
			results[e.Test] = append(results[e.Test], e.Action)
			if e.Action == core.ActionFail {
				failedOn[e.Unit] = true
			}
		default:
			if !running[k] {
				t.Errorf("%s: %s on %s while not running", e.Test, e.Action, e.Unit)
			}
		}
	}
	if len(running) != 0 {
		t.Errorf("never ended: %v", running)
	}
	for test, want := range want {
		got := results[test]
		if len(got) != n {
			t.Errorf("%s: results %v, want %d", test, got, n)
			continue
		}
		for _, a := range got {
			if a != want {
				t.Errorf("%s: %s, want %s", test, a, want)
			}
		}
	}
	var units []string
	for u, a := range unitEnds {
		units = append(units, u)
		want := core.ActionPass
		if failedOn[u] {
			want = core.ActionFail
		}
		if a != want {
			t.Errorf("unit %s ended %s, want %s", u, a, want)
		}
	}
	sort.Strings(units)
	if len(units) != wantUnits {
		t.Errorf("units ended: %v", units)
	}
}

// checkPending checks the controller's queues: read from xdist, every
// worker's, of collected tests only.
func checkPending(t *testing.T, res *run) {
	t.Helper()
	pend := res.kinds(KindPending)
	if len(pend) == 0 {
		t.Fatal("no pending events")
	}
	nodes := map[string]bool{}
	for _, e := range pend {
		if e.Source != "xdist" {
			t.Errorf("pending from %q", e.Source)
		}
		if e.Role != RoleController {
			t.Errorf("pending written by %s", e.Role)
		}
		if !nodes[e.Node] && len(e.NodeIDs) == 0 {
			t.Errorf("first pending of %s has no node ids", e.Node)
		}
		nodes[e.Node] = true
		for _, id := range e.NodeIDs {
			if _, ok := passSuite[id]; !ok {
				t.Errorf("pending %s: unknown node id %q", e.Node, id)
			}
		}
	}
	// Replaying the queues: a drop never takes more than is queued, and
	// every test ever queued on a worker runs there (no worker died).
	ran := map[string]map[string]bool{}
	for _, e := range res.kinds(KindStart) {
		if ran[e.Unit] == nil {
			ran[e.Unit] = map[string]bool{}
		}
		ran[e.Unit][e.NodeID] = true
	}
	queues := map[string][]string{}
	for _, e := range pend {
		q := queues[e.Node]
		if e.NodeIDs != nil {
			q = e.NodeIDs
		} else if e.Drop > 0 && e.Drop <= len(q) {
			q = q[e.Drop:]
		} else {
			t.Errorf("pending %s: drop %d of %d queued", e.Node, e.Drop, len(q))
		}
		queues[e.Node] = q
		for _, id := range q {
			if !ran[e.Node][id] {
				t.Errorf("%s was queued on %s but did not run there", id, e.Node)
			}
		}
	}
	workers := len(res.kinds(KindWorkerReady))
	if len(nodes) != workers {
		t.Errorf("pending for %v, want all %d workers", nodes, workers)
	}
	downs := res.kinds(KindWorkerDown)
	if len(downs) != workers {
		t.Errorf("%d worker_down events, want %d", len(downs), workers)
	}
	for _, e := range downs {
		if e.Error != "" {
			t.Errorf("worker_down %s: %s", e.Node, e.Error)
		}
	}
}

// TestPluginWorkerCrash: a worker dies in a test; the controller says so
// (worker_down with its error, worker_crashed, a report of the test) and
// a replacement worker with a file of its own runs what was left. The
// core sees the test fail once and every unit end; the totals are
// pytest's.
func TestPluginWorkerCrash(t *testing.T) {
	in := python(t)
	needXdist(t, in)
	res := runPytest(t, fixture(t, "crash"), []string{"-p", "no:cacheprovider", "-n", "2"}, runOpts{})
	if res.exit != PytestFailed {
		t.Fatalf("exit %d\n%s%s", res.exit, res.stdout, res.stderr)
	}
	const dies = "test_crash.py::test_dies"
	var crashed *Event
	for _, e := range res.kinds(KindWorkerCrashed) {
		crashed = e
	}
	if crashed == nil || crashed.NodeID != dies || !strings.Contains(crashed.Error, "crashed while running") {
		t.Fatalf("worker_crashed %+v", crashed)
	}
	var downErr string
	for _, e := range res.kinds(KindWorkerDown) {
		if e.Node == crashed.Node {
			downErr = e.Error
		}
	}
	if downErr == "" {
		t.Errorf("worker_down of %s has no error", crashed.Node)
	}
	workers := map[string]bool{}
	for _, h := range res.kinds(KindHello) {
		if h.Role == RoleWorker {
			workers[h.Unit] = true
		}
	}
	if len(workers) != 3 || !workers["gw2"] {
		t.Errorf("workers %v, want gw0, gw1 and the replacement gw2", workers)
	}
	fails := 0
	ended := map[string]int{}
	for _, e := range res.core {
		if e.Test != "" && e.Action.Ended() {
			ended[e.Test]++
			if e.Test == dies {
				fails++
				if e.Action != core.ActionFail || e.Unit != crashed.Node {
					t.Errorf("%s: %s on %s", dies, e.Action, e.Unit)
				}
			}
		}
	}
	if fails != 1 || len(ended) != 7 {
		t.Errorf("the crashed test ended %d times; %d tests ended: %v", fails, len(ended), ended)
	}
	var r Results
	for _, e := range res.events {
		r.Add(e)
	}
	if got, want := r.Totals().String(), summaryLine(res.stdout); got != want || want != "1 failed, 6 passed" {
		t.Errorf("totals %q, pytest says %q", got, want)
	}
	want := map[string]core.Action{dies: core.ActionFail}
	for i := 0; i < 3; i++ {
		want[fmt.Sprintf("test_crash.py::test_before[%d]", i)] = core.ActionPass
		want[fmt.Sprintf("test_crash.py::test_after[%d]", i)] = core.ActionPass
	}
	checkCore(t, res, want, 1, 3)
}

// TestPluginStopEarly: with -x under xdist the controller stops its
// workers without worker_down events; its session's end still ends every
// worker's unit.
func TestPluginStopEarly(t *testing.T) {
	in := python(t)
	needXdist(t, in)
	res := runPytest(t, fixture(t, "pass"), []string{"-p", "no:cacheprovider", "-n", "2", "-x"}, runOpts{env: quick})
	if res.exit != PytestInterrupted {
		t.Fatalf("exit %d\n%s%s", res.exit, res.stdout, res.stderr)
	}
	ended := map[string]bool{}
	for _, e := range res.core {
		if e.Test == "" && e.Action.Ended() {
			if ended[e.Unit] {
				t.Errorf("unit %s ended twice", e.Unit)
			}
			ended[e.Unit] = true
		}
	}
	if !ended["gw0"] || !ended["gw1"] || len(ended) != 2 {
		t.Errorf("units ended: %v", ended)
	}
}

// TestPluginPendingFallback: without reading xdist's scheduler, the
// controller writes each worker's first block under --dist load, computed
// as xdist 3.1.0 computes it: the tests each worker then starts first.
func TestPluginPendingFallback(t *testing.T) {
	in := python(t)
	needXdist(t, in)
	res := runPytest(t, fixture(t, "pass"), []string{"-p", "no:cacheprovider", "-n", "2"}, runOpts{env: append([]string{"HANGDOG_PYTEST_XDIST_FALLBACK=1"}, quick...)})
	if res.exit != PytestFailed {
		t.Fatalf("exit %d\n%s%s", res.exit, res.stdout, res.stderr)
	}
	blocks := map[string][]string{}
	for _, e := range res.kinds(KindPending) {
		if e.Source != "fallback" || blocks[e.Node] != nil {
			t.Errorf("pending %+v", e)
		}
		blocks[e.Node] = e.NodeIDs
	}
	firsts := map[string][]string{}
	for _, e := range res.kinds(KindStart) {
		firsts[e.Unit] = append(firsts[e.Unit], e.NodeID)
	}
	if len(blocks) != 2 {
		t.Fatalf("blocks %v", blocks)
	}
	for node, block := range blocks {
		// 14 tests on 2 workers: c = max(14//2//4, 2) = 2.
		if len(block) != 2 || len(firsts[node]) < 2 || strings.Join(firsts[node][:2], " ") != strings.Join(block, " ") {
			t.Errorf("%s: block %q, first tests run %q", node, block, firsts[node])
		}
	}
}
