package main

// End-to-end tests of hangdog pytest: the real binary runs the real pytest
// (Debian's /usr/bin/python3 with pytest-xdist) on the fixture suites
// under testdata/pytest, which really hang, and the tests assert on the
// JSON report and that nothing is left behind.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog"
)

// havePytest skips the test when no interpreter here has pytest and xdist.
func havePytest(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import pytest, xdist").Run(); err != nil {
		t.Skip("no /usr/bin/python3 with pytest and pytest-xdist (apt-get install python3-pytest python3-pytest-xdist)")
	}
}

// pytestFixture copies a fixture suite into a temporary directory (pytest
// writes caches and the rendezvous files there) and returns it.
func pytestFixture(t *testing.T, rel string) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "..", "testdata", "pytest", rel))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(rel))
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v\n%s", rel, err, out)
	}
	return dst
}

// pytestEnv is the environment of a fixture run: the rendezvous directory
// of the hanging fixtures, and the Debian interpreter first on PATH.
func pytestEnv(t *testing.T) []string {
	return []string{"HANG_DIR=" + t.TempDir(), "PATH=/usr/bin:" + os.Getenv("PATH")}
}

// TestE2EPytestFlockDeadlock: two tests on two xdist workers deadlock on
// two flock files in opposite order. Both are reported within the stall,
// each with its worker, the line it waits on, what it waits for and who
// holds it; --kill-after ends both workers (xdist replaces them) and the
// run ends with exit 3; xdist's crash reports do not count as failures.
func TestE2EPytestFlockDeadlock(t *testing.T) {
	havePytest(t)
	t.Parallel()
	dir := pytestFixture(t, "hang/flock_deadlock")
	r := runHangdogEnv(t, dir, pytestEnv(t), "pytest", "--stall", "3s", "--kill-after", "8s", "--", "-n", "2", "-p", "no:cacheprovider")
	if r.code != 3 || r.report == nil || r.report.Runner != "pytest" || r.report.Reason != "hung" {
		t.Fatalf("exit %d, report %+v", r.code, r.report)
	}
	if n := len(r.report.Hangs); n != 2 {
		t.Fatalf("%d hangs, want 2", n)
	}
	units := map[string]bool{}
	cycle := 0
	for _, c := range []struct{ test, file, holds, waits string }{
		{"test_migrate_up.py::test_migrate_up", "test_migrate_up.py", "schema.lock", "data.lock"},
		{"test_migrate_down.py::test_migrate_down", "test_migrate_down.py", "data.lock", "schema.lock"},
	} {
		h := findHang(t, r, c.test)
		units[h.Unit] = true
		if !strings.HasPrefix(h.Unit, "gw") || h.Phase != "call" || h.Package != c.file || h.Location != c.file+":24" || h.Verdict != "stuck" || !(h.Killed || h.FreedBy != "") || h.Capture != "snapshot" {
			t.Errorf("%s: unit %q package %q phase %q location %q verdict %q killed %v capture %q", c.test, h.Unit, h.Package, h.Phase, h.Location, h.Verdict, h.Killed, h.Capture)
		}
		if !strings.Contains(h.State, "flock") || !strings.Contains(h.State, c.waits) {
			t.Errorf("%s: state %q", c.test, h.State)
		}
		// Killing one worker frees the other, which may then move before
		// its own --kill-after: it stays a hang, freed by the first.
		for _, want := range []string{"holds " + c.holds, "waits for " + c.waits, "held by test_migrate_"} {
			if !strings.Contains(h.Summary, want) {
				t.Errorf("%s: summary %q lacks %q", c.test, h.Summary, want)
			}
		}
		if strings.Contains(h.Summary, "a lock-order deadlock between two workers") {
			cycle++
		}
		if len(h.Goroutines) == 0 || h.Goroutines[0].Role != "test" || h.Artifacts["dump"] == "" || (h.Killed && h.Artifacts["final_dump"] == "") {
			t.Errorf("%s: threads %+v artifacts %v", c.test, h.Goroutines, h.Artifacts)
		}
	}
	if len(units) != 2 {
		t.Errorf("both hangs on one worker: %v", units)
	}
	if cycle == 0 {
		t.Errorf("no summary names the lock-order deadlock between the two workers")
	}
	if tt := r.report.Totals; tt.Hung != 2 || tt.Failed != 0 || tt.Passed != 0 {
		t.Errorf("totals %+v", tt)
	}
	for _, want := range []string{"STALL gw", "HANG gw", "KILL gw", "2 hung in"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if !strings.Contains(r.stdout, "worker 'gw") || !strings.Contains(r.stdout, "crashed while running") {
		t.Errorf("pytest's own output did not pass through:\n%s", r.stdout)
	}
}

// TestE2EPytestPlain: without xdist the one process is the unit "main"; a
// lock taken twice by one thread is named as such.
func TestE2EPytestPlain(t *testing.T) {
	havePytest(t)
	t.Parallel()
	dir := pytestFixture(t, "hang/plain_hang")
	r := runHangdogEnv(t, dir, pytestEnv(t), "pytest", "--stall", "3s", "--kill-after", "5s", "--", "-p", "no:cacheprovider")
	if r.code != 3 || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	h := findHang(t, r, "test_plain.py::test_register_twice")
	if h.Unit != "main" || h.Location != "test_plain.py:8" || !strings.Contains(h.Summary, "acquired twice by one thread") || !h.Killed {
		t.Errorf("hang %+v", h)
	}
}

// TestE2EPytestTotals: a suite that does not hang has pytest's own totals
// (as its summary line counts them), its output passes through unchanged,
// a slow test that prints its progress (captured by pytest, or with -s)
// is never reported, and a failed run exits 1.
func TestE2EPytestTotals(t *testing.T) {
	havePytest(t)
	t.Parallel()
	for _, extra := range [][]string{{"-q"}, {"-q", "-s"}, {"-q", "-n", "2"}} {
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			t.Parallel()
			dir := pytestFixture(t, "pass")
			env := append(pytestEnv(t), "HANGDOG_FIXTURE_SLOW=5", "HANGDOG_FIXTURE_SILENT=0.3")
			junit := filepath.Join(t.TempDir(), "junit.xml")
			args := append([]string{"pytest", "--stall", "2s", "--junitfile", junit, "--", "-p", "no:cacheprovider"}, extra...)
			r := runHangdogEnv(t, dir, env, args...)
			if r.code != 1 || r.report == nil || r.report.Reason != "failed" {
				t.Fatalf("exit %d", r.code)
			}
			tt := r.report.Totals
			if tt.Passed != 9 || tt.Failed != 1 || tt.Skipped != 1 || tt.Errors != 2 || tt.XFailed != 1 || tt.XPassed != 1 || tt.Hung != 0 {
				t.Errorf("totals %+v, want pytest's 1 failed, 9 passed, 1 skipped, 1 xfailed, 1 xpassed, 2 errors", tt)
			}
			if len(r.report.Hangs) != 0 || len(r.report.Slow) != 0 || strings.Contains(r.stderr, "STALL") {
				t.Errorf("a test under or making progress was reported:\n%s", r.stderr)
			}
			if !strings.Contains(r.stdout, "1 failed, 9 passed, 1 skipped, 1 xfailed, 1 xpassed, 2 errors in ") {
				t.Errorf("pytest's summary line missing from the output:\n%s", r.stdout)
			}
			// JUnit names the tests as pytest's own --junitxml does.
			x, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`classname="test_outcomes.TestGroup" name="test_in_class"`, `classname="test_outcomes" name="test_ids[c::d]"`,
				`classname="test_timing" name="test_slow_with_progress"`} {
				if !strings.Contains(string(x), want) {
					t.Errorf("junit lacks %s:\n%s", want, x)
				}
			}
		})
	}
}

// TestE2EPytestUsage: Go-only flags, a --python without pytest and
// --python outside hangdog pytest are usage errors (exit 2), found before
// anything runs.
func TestE2EPytestUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pytest", "--no-agent"}, "--no-agent: for go test runs only"},
		{[]string{"pytest", "--format", "dots"}, "--format: for go test runs only"},
		{[]string{"pytest", "--python", "/bin/true"}, "--python /bin/true"},
		{[]string{"--python", "python3"}, "unknown flag: --python"},
	} {
		r := runHangdog(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", c.args, r.code, r.stderr, c.want)
		}
	}
}

// TestE2EPytestResume: without xdist, stopping the hung test ends the
// session; the two tests after it run in a second pytest, and the report
// has every test: 2 passed, 1 failed, 1 hung, exit 3.
func TestE2EPytestResume(t *testing.T) {
	havePytest(t)
	t.Parallel()
	dir := pytestFixture(t, "resume")
	r := runHangdogEnv(t, dir, pytestEnv(t), "pytest", "--stall", "2s", "--kill-after", "3s", "--", "-p", "no:cacheprovider", "-q")
	if r.code != 3 || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	rep := r.report
	if tt := rep.Totals; tt.Passed != 2 || tt.Failed != 1 || tt.Hung != 1 {
		t.Errorf("totals %+v, want 2 passed, 1 failed, 1 hung", tt)
	}
	if len(rep.Hangs) != 1 || rep.Hangs[0].Test != "test_resume.py::test_hangs" || !rep.Hangs[0].Killed {
		t.Errorf("hangs %+v", rep.Hangs)
	}
	if rep.Resumed == nil || rep.Resumed.ExitCode != 1 || !strings.Contains(rep.Resumed.Why, "2 of 4 tests not run") {
		t.Errorf("resumed %+v", rep.Resumed)
	}
	if !strings.Contains(r.stderr, "RESUME: ") || !strings.Contains(r.stdout, "1 failed, 1 passed, 2 deselected") {
		t.Errorf("no resume in the output:\n%s\n%s", r.stdout, r.stderr)
	}
}

// TestE2EPytestLoadscopeAgain: under --dist loadscope, xdist 3.1.0 gives a
// crashed worker's whole scope, the hung test too, to its replacement,
// whose plugin skips it (hung.txt); so each hung test is reported once,
// and the run ends instead of crashing worker after worker up to
// --max-worker-restart. (What xdist
// then does is not always the same: it may run the rest, or its
// controller may wait for ever, which is then reported as the
// controller's hang and ended.)
func TestE2EPytestLoadscopeAgain(t *testing.T) {
	havePytest(t)
	t.Parallel()
	dir := pytestFixture(t, "hang/loadscope_flock")
	r := runHangdogEnv(t, dir, pytestEnv(t), "pytest", "--stall", "3s", "--kill-after", "6s", "--", "-n", "2", "--dist", "loadscope", "-p", "no:cacheprovider")
	if r.code != 3 || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	seen := map[string]bool{}
	for _, h := range r.report.Hangs {
		if h.Test == "" {
			if h.Unit != "controller" {
				t.Errorf("a hang of %s outside any test: %s", h.Unit, h.Summary)
			}
			continue
		}
		if seen[h.Test] {
			t.Errorf("%s reported twice", h.Test)
		}
		seen[h.Test] = true
		if h.Phase != "setup" || !strings.Contains(h.Summary, "lock-order deadlock") {
			t.Errorf("hang %s: phase %q summary %q", h.Test, h.Phase, h.Summary)
		}
	}
	if !seen["test_scope.py::TestAlpha::test_alpha"] || !seen["test_scope.py::TestBeta::test_beta"] {
		t.Errorf("hangs %v, want both tests", seen)
	}
	if strings.Contains(r.stdout, "maximum crashed workers reached") {
		t.Errorf("xdist ran out of workers:\n%s", r.stdout)
	}
	// Whatever pytest says of the hung tests later (crashed, skipped by
	// the replacement) stays out of the totals.
	if tt := r.report.Totals; tt.Passed != 0 || tt.Failed != 0 || tt.Skipped != 0 || tt.Hung < 2 {
		t.Errorf("totals %+v, want only the 2 hung", tt)
	}
}

// TestE2EPytestHangs: every other way a fixture suite under
// testdata/pytest/hang really hangs, through the real binary: the hung
// test, its phase, the line it waits on and the summary line.
func TestE2EPytestHangs(t *testing.T) {
	havePytest(t)
	t.Parallel()
	for _, c := range []struct {
		fixture     string
		args        []string
		test, phase string
		location    string
		summary     []string
		verdict     string
	}{
		{"socket_wait", []string{"-n", "2", "--dist", "loadfile"}, "test_client.py::test_client", "call", "test_client.py:15",
			[]string{"waits in recv on a TCP connection 127.0.0.1:", "whose other end is test_server (gw"}, "stuck"},
		{"sqlite_busy", []string{"-n", "2", "--dist", "loadfile"}, "test_insert.py::test_insert", "call", "test_insert.py:13",
			[]string{"waits in sqlite's busy handler for app.db", "locked by test_writer (gw"}, "stuck"},
		{"child_never_exits", []string{"-n", "2"}, "test_child.py::test_child", "call", "test_child.py:8",
			[]string{"waits for child ", "(sleep 86400)"}, "stuck"},
		{"thread_deadlock", nil, "test_threads.py::test_two_threads", "call", "test_threads.py:35",
			[]string{"a lock-order deadlock between 2 threads of the test"}, "stuck"},
		{"busy_loop", []string{"-n", "2"}, "test_spin.py::test_spin", "call", "test_spin.py:7",
			[]string{"is spinning at test_spin.py:7"}, "spinning"},
		{"teardown_join", nil, "test_teardown.py::test_uses_background", "teardown", "test_teardown.py:21",
			[]string{"in teardown of fixture background, joins a thread", "thread poller sleeps in a loop"}, "stuck"},
		{"queued_behind", []string{"-n", "2", "--dist", "loadfile"}, "test_queue.py::test_wait_for_report", "call", "test_queue.py:10",
			[]string{"sleeps in a loop at test_queue.py:10", "queued behind it on gw", "test_queue.py::test_create_report"}, ""},
	} {
		t.Run(c.fixture, func(t *testing.T) {
			t.Parallel()
			dir := pytestFixture(t, "hang/"+c.fixture)
			args := append([]string{"pytest", "--stall", "5s", "--kill-after", "8s", "--", "-p", "no:cacheprovider"}, c.args...)
			r := runHangdogEnv(t, dir, pytestEnv(t), args...)
			if r.code != 3 || r.report == nil {
				t.Fatalf("exit %d", r.code)
			}
			h := findHang(t, r, c.test)
			if string(h.Phase) != c.phase || h.Location != c.location || (c.verdict != "" && h.Verdict != c.verdict) {
				t.Errorf("phase %q location %q verdict %q, want %q %q %q", h.Phase, h.Location, h.Verdict, c.phase, c.location, c.verdict)
			}
			for _, s := range c.summary {
				if !strings.Contains(h.Summary, s) {
					t.Errorf("summary %q lacks %q", h.Summary, s)
				}
			}
		})
	}
}

// TestE2EPytestInterrupt: SIGTERM while a test runs under hangdog pytest
// lists the running test (unit, module, node id), writes the reports,
// kills every process of the run and exits 143, as for go test.
func TestE2EPytestInterrupt(t *testing.T) {
	havePytest(t)
	t.Parallel()
	dir := pytestFixture(t, "hang/plain_hang")
	tmp := t.TempDir()
	hang := t.TempDir()
	rep, junit := filepath.Join(tmp, "r.json"), filepath.Join(tmp, "junit.xml")
	marker := "HANGDOG_E2E_RUN=pytest-interrupt-" + strconv.Itoa(os.Getpid())
	cmd := exec.Command(hangdogBin, "pytest", "--report-json", rep, "--junitfile", junit, "--stall", "1h", "--", "-p", "no:cacheprovider")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), marker, "CI=", "HANG_DIR="+hang, "PATH=/usr/bin:"+os.Getenv("PATH"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The test is blocked once it has written its rendezvous file.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(hang, "plain.blocking")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the test never blocked:\n%s", stderr.String())
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 143 {
		t.Errorf("exit %d, want 143\n%s", code, stderr.String())
	}
	checkNoLeftovers(t, marker)
	r, err := watchdog.ReadReport(rep)
	if err != nil {
		t.Fatal(err)
	}
	if r.Runner != "pytest" || r.Reason != "interrupted" || len(r.Interrupted) != 1 {
		t.Fatalf("report: runner %q reason %q interrupted %+v", r.Runner, r.Reason, r.Interrupted)
	}
	if it := r.Interrupted[0]; it.Test != "test_plain.py::test_register_twice" || it.Unit != "main" || it.Package != "test_plain.py" {
		t.Errorf("interrupted %+v", it)
	}
	if !strings.Contains(stderr.String(), "main test_plain.py::test_register_twice (running") {
		t.Errorf("stderr does not list the running test:\n%s", stderr.String())
	}
	if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), `name="test_register_twice"`) || !strings.Contains(string(b), `type="interrupted"`) {
		t.Errorf("JUnit: %v\n%s", err, b)
	}
}
