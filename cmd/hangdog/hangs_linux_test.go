package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog"
)

// stallArgs is the stall threshold of the e2e tests: short, but with a wide
// margin over anything the fixtures do between two events.
var stallArgs = []string{"--stall", "3s", "--kill-after", "6s", "--", "-count=1", "./..."}

func TestE2EHangs(t *testing.T) {
	t.Parallel()
	type want struct {
		test     string
		phase    watchdog.Phase
		state    string // of the test goroutine
		location string // suffix of the test goroutine's location
		helpers  []string
	}
	cases := []struct {
		fixture string
		want    want
		check   func(t *testing.T, r result, h *watchdog.Hang)
	}{
		{"mutexcycle", want{"TestConcurrentTransfers", watchdog.PhaseTest, "sync.WaitGroup.Wait", "bank_test.go:30", []string{"sync.Mutex.Lock@bank.go:46"}}, func(t *testing.T, r result, h *watchdog.Hang) {
			n := 0
			for _, g := range h.Goroutines {
				if g.State == "sync.Mutex.Lock" {
					n += g.Count
				}
			}
			if n != 2 {
				t.Errorf("want the 2 transfer goroutines waiting on a mutex, got %+v", h.Goroutines)
			}
			if !strings.Contains(h.Summary, "2 goroutines wait on a sync.Mutex at bank.go:46") {
				t.Errorf("summary %q", h.Summary)
			}
			if r.report.Totals.Passed != 1 {
				t.Errorf("TestTransfer should pass, totals %+v", r.report.Totals)
			}
		}},
		{"chanrecv", want{"TestStartMissingFile", watchdog.PhaseTest, "chan receive", "worker_test.go:23", nil}, nil},
		{"wgsubtest", want{"TestProcessAll/blank_items", watchdog.PhaseTest, "sync.WaitGroup.Wait", "fanout.go:26", nil}, func(t *testing.T, r result, h *watchdog.Hang) {
			if r.report.Totals.Passed < 3 {
				t.Errorf("the other subtests should pass: %+v", r.report.Totals)
			}
		}},
		{"cleanup", want{"TestEcho", watchdog.PhaseCleanup, "chan receive", "server.go:61", nil}, nil},
		{"busyloop", want{"TestWaitWarmEmpty", watchdog.PhaseTest, "running", "warm.go:29", nil}, nil},
		{"parallel", want{"TestLookup", watchdog.PhaseTest, "sync.Mutex.Lock", "registry.go:35", nil}, func(t *testing.T, r result, h *watchdog.Hang) {
			if r.report.Totals.Passed < 3 {
				t.Errorf("the other parallel tests should pass: %+v", r.report.Totals)
			}
		}},
		{"childwait", want{"TestMigrate", watchdog.PhaseTest, "", "migrate.go:12", nil}, func(t *testing.T, r result, h *watchdog.Hang) {
			found := false
			for _, p := range h.Processes {
				if p.Role == "child" && strings.Contains(strings.Join(p.Cmdline, " "), "sleep 3600") {
					found = true
				}
			}
			if !found {
				t.Errorf("the child sleep 3600 is not named: %+v", h.Processes)
			}
		}},
		{"testmain", want{"", watchdog.PhaseTestMain, "sleep", "db.go:", nil}, nil},
		{"testmainafter", want{"", watchdog.PhaseTestMain, "", "pool.go:", nil}, func(t *testing.T, r result, h *watchdog.Hang) {
			if r.report.Totals.Passed != 2 {
				t.Errorf("both tests pass before the teardown hangs: %+v", r.report.Totals)
			}
		}},
		{"pipeholder", want{"", watchdog.PhaseExit, "", "", nil}, func(t *testing.T, r result, h *watchdog.Hang) {
			found := false
			for _, p := range h.Processes {
				if p.Role == "pipe-holder" && strings.Contains(strings.Join(p.Cmdline, " "), "sleep 3600") {
					found = true
				}
			}
			if !found {
				t.Errorf("the pipe holder is not named: %+v", h.Processes)
			}
			if r.report.Totals.Passed != 1 {
				t.Errorf("TestLaunch passed: %+v", r.report.Totals)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			r := runHangdog(t, fixture(t, tc.fixture), stallArgs...)
			if r.code != watchdog.ExitHung {
				t.Errorf("exit code %d, want %d", r.code, watchdog.ExitHung)
			}
			h := findHang(t, r, tc.want.test)
			if h.Phase != tc.want.phase {
				t.Errorf("phase = %q, want %q", h.Phase, tc.want.phase)
			}
			if tc.want.state != "" && h.State != tc.want.state && !(tc.want.state == "running" && h.State == "runnable") {
				t.Errorf("state = %q, want %q", h.State, tc.want.state)
			}
			if tc.want.location != "" && !strings.Contains(h.Location, tc.want.location) {
				t.Errorf("location = %q, want %q", h.Location, tc.want.location)
			}
			for _, hs := range tc.want.helpers {
				state, loc, _ := strings.Cut(hs, "@")
				if !hasGroup(h, "helper", state, loc) {
					t.Errorf("no helper goroutine group %s at %s: %+v", state, loc, h.Goroutines)
				}
			}
			if h.Summary == "" {
				t.Error("empty summary")
			}
			if h.StalledForSeconds < 3 {
				t.Errorf("stalled_for_seconds = %v, want >= 3", h.StalledForSeconds)
			}
			if r.report.Totals.Hung != len(r.report.Hangs) || len(r.report.Hangs) != 1 {
				t.Errorf("want exactly one hang, got %d (totals %+v)", len(r.report.Hangs), r.report.Totals)
			}
			if !strings.Contains(r.stderr, "hangdog: STALL") {
				t.Error("the stall was not announced on stderr")
			}
			if tc.check != nil {
				tc.check(t, r, h)
			}
		})
	}
}

// TestE2ENoFalseStall runs tests that are slow but alive: a test that logs
// every half second for six seconds and a silent one-second test. With a
// 5 s threshold neither may be reported.
func TestE2ENoFalseStall(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, fixture(t, "slowlogger"), "--stall", "5s", "--", "-count=1", "./...")
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0", r.code)
	}
	if len(r.report.Hangs) != 0 {
		t.Fatalf("false stall: %+v", r.report.Hangs)
	}
	if r.report.Totals.Passed != 2 {
		t.Errorf("totals %+v", r.report.Totals)
	}
	if !strings.Contains(r.stdout, "ok  \texample.com/slowlogger") {
		t.Errorf("stdout lacks the ok line:\n%s", r.stdout)
	}
}

// TestE2EMultiPackage checks that the rest of the suite finishes while one
// package hangs.
func TestE2EMultiPackage(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, fixture(t, "multipkg"), stallArgs...)
	if r.code != watchdog.ExitHung {
		t.Fatalf("exit code %d", r.code)
	}
	if len(r.report.Hangs) != 1 || r.report.Hangs[0].Package != "example.com/multipkg/notify" {
		t.Fatalf("hangs: %+v", r.report.Hangs)
	}
	if r.report.Totals.Packages != 3 {
		t.Errorf("totals %+v", r.report.Totals)
	}
	for _, pkg := range []string{"parse", "store"} {
		if !strings.Contains(r.stdout, "ok  \texample.com/multipkg/"+pkg) {
			t.Errorf("package %s should pass:\n%s", pkg, r.stdout)
		}
	}
}

// TestGoReleaseSmoke runs hangdog for real under the Go release named by
// HANGDOG_SMOKE_GO (go1.21.13 for an old one, go1.27.3 for the newest;
// fetched through the module proxy on first use): one hanging fixture, with
// and without go test's vet step, and the errors fixture with a JUnit file
// and GitHub annotations. .ci/run sets it; without it the test is skipped.
func TestGoReleaseSmoke(t *testing.T) {
	v := os.Getenv("HANGDOG_SMOKE_GO")
	if v == "" {
		t.Skip("HANGDOG_SMOKE_GO not set")
	}
	minor, ok := releaseMinor(v)
	if !ok {
		t.Fatalf("HANGDOG_SMOKE_GO=%q: want a release such as go1.27.3", v)
	}
	env := []string{"GOTOOLCHAIN=" + v}
	// Before Go 1.24 vet cannot read overlay files: hangdog says so and
	// captures with SIGQUIT; with -vet=off the agent is used. From 1.24
	// the agent is used either way.
	for _, vet := range []string{"", "-vet=off"} {
		args := []string{"--stall", "3s", "--kill-after", "6s", "--", "-count=1"}
		if vet != "" {
			args = append(args, vet)
		}
		r := runHangdogEnv(t, fixture(t, "mutexcycle"), env, append(args, "./...")...)
		if r.code != watchdog.ExitHung {
			t.Fatalf("%s: exit code %d, want %d", vet, r.code, watchdog.ExitHung)
		}
		h := findHang(t, r, "TestConcurrentTransfers")
		if h.State != "sync.WaitGroup.Wait" || !strings.HasSuffix(h.Location, "bank_test.go:30") {
			t.Errorf("%s: state %q at %q", vet, h.State, h.Location)
		}
		if !hasGroup(h, "helper", "sync.Mutex.Lock", "bank.go:46") {
			t.Errorf("%s: no mutex waiters: %+v", vet, h.Goroutines)
		}
		want := "snapshot"
		if vet == "" && minor < 24 {
			want = "sigquit"
		}
		if h.Capture != want {
			t.Errorf("%s: capture %q, want %q (%s)", vet, h.Capture, want, h.CaptureError)
		}
	}
	// Failure messages: from Go 1.27 test2json says which output lines are
	// errors, and the JUnit messages and annotations are made of those.
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := runHangdogEnv(t, errorsFixture(t), append(env, "GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="),
		"--stall", "1m", "--junitfile", junit, "--", "-count=1", "./...")
	errorLinesCheck(t, r, junit, minor >= 27)
}

// releaseMinor is the minor version of a release name: 27 for go1.27.3.
func releaseMinor(v string) (int, bool) {
	rest, ok := strings.CutPrefix(v, "go1.")
	if !ok {
		return 0, false
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// TestE2EStallFor checks that a per-test threshold applies: the default
// would never fire, the rule for the stuck test does.
func TestE2EStallFor(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, fixture(t, "chanrecv"), "--stall", "1h", "--kill-after", "5s", "--stall-for", "^TestStart$=1h", "--stall-for", "MissingFile$=3s", "--stall-for", "Missing=1h", "--", "-count=1", "./...")
	if r.code != watchdog.ExitHung {
		t.Fatalf("exit code %d", r.code)
	}
	h := findHang(t, r, "TestStartMissingFile")
	if h.ThresholdSeconds != 3 {
		t.Errorf("threshold %v, want 3 (the first matching rule)", h.ThresholdSeconds)
	}
}

// TestE2EGoTestFlags checks that go test's own -exec and -timeout keep
// working under hangdog: with -exec the binary is found below the wrapper;
// with a -timeout shorter than the stall threshold, the testing package's
// own dump is diagnosed.
func TestE2EGoTestFlags(t *testing.T) {
	t.Parallel()
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		r := runHangdog(t, fixture(t, "chanrecv"), "--stall", "3s", "--kill-after", "5s", "--", "-count=1", "-exec", "env HANGDOG_E2E_EXEC=1", "./...")
		if r.code != watchdog.ExitHung {
			t.Fatalf("exit code %d", r.code)
		}
		h := findHang(t, r, "TestStartMissingFile")
		if h.Capture != "snapshot" || !h.Killed || !strings.HasSuffix(h.Location, "worker_test.go:23") {
			t.Errorf("capture %q at %q: %s", h.Capture, h.Location, h.CaptureError)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		r := runHangdog(t, fixture(t, "mutexcycle"), "--stall", "1h", "--", "-count=1", "-timeout", "3s", "./...")
		if r.code != watchdog.ExitHung {
			t.Fatalf("exit code %d", r.code)
		}
		h := findHang(t, r, "TestConcurrentTransfers")
		if h.Capture != "timeout" || h.State != "sync.WaitGroup.Wait" || !hasGroup(h, "helper", "sync.Mutex.Lock", "bank.go:46") {
			t.Errorf("capture %q, state %q, groups %+v", h.Capture, h.State, h.Goroutines)
		}
		if !strings.Contains(r.stdout, "panic: test timed out after 3s") {
			t.Errorf("the binary's own dump is not shown:\n%s", r.stdout)
		}
	})
}

// TestE2ELockCycle runs two packages whose binaries deadlock on each
// other's lock files: the first one captured names the cycle.
func TestE2ELockCycle(t *testing.T) {
	t.Parallel()
	r := runHangdogEnv(t, fixture(t, "lockfiles"), []string{"TMPDIR=" + t.TempDir()}, stallArgs...)
	if r.code != watchdog.ExitHung {
		t.Fatalf("exit code %d", r.code)
	}
	h := r.report.Hangs[0]
	if h.State != "syscall" || !strings.HasSuffix(h.Location, "lockfile.go:26") {
		t.Errorf("state %q at %q", h.State, h.Location)
	}
	if len(h.Findings) == 0 || h.Findings[0].Kind != "lock_cycle" {
		t.Fatalf("findings %+v", h.Findings)
	}
	if !strings.Contains(h.Summary, "lock cycle") || h.Artifacts["processes"] == "" {
		t.Errorf("summary %q, artifacts %v", h.Summary, h.Artifacts)
	}
}

// TestE2ERerunHung checks the verdicts of --rerun-hung: a deadlock in the
// test hangs alone too; a test that hangs only because an earlier test
// left a mutex locked passes alone.
func TestE2ERerunHung(t *testing.T) {
	t.Parallel()
	cases := []struct{ fixture, test, result string }{
		{"chanrecv", "TestStartMissingFile", "hung-alone"},
		{"sharedstate", "TestUsed", "passed-alone"},
		{"parallel", "TestLookup", "failed-alone"}, // it needs data an earlier test registers
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			r := runHangdog(t, fixture(t, tc.fixture), append([]string{"--rerun-hung"}, stallArgs...)...)
			if r.code != watchdog.ExitHung {
				t.Fatalf("exit code %d", r.code)
			}
			h := findHang(t, r, tc.test)
			if h.Rerun == nil || h.Rerun.Result != tc.result {
				t.Fatalf("rerun %+v, want %s", h.Rerun, tc.result)
			}
			if !strings.Contains(h.Rerun.Summary, tc.test) || !strings.Contains(r.stderr, "hangdog: rerun: ") {
				t.Errorf("rerun summary %q", h.Rerun.Summary)
			}
		})
	}
}

// TestE2ESnapshotVerdicts checks what the agent's snapshots add: a busy
// loop is spinning with its hot function named; a quiet test that then
// passes is recovered, not hung; and with --no-agent the SIGQUIT capture
// still diagnoses.
func TestE2ESnapshotVerdicts(t *testing.T) {
	t.Parallel()
	t.Run("spinning", func(t *testing.T) {
		t.Parallel()
		r := runHangdog(t, fixture(t, "busyloop"), stallArgs...)
		h := findHang(t, r, "TestWaitWarmEmpty")
		// A loaded machine may give the spinning goroutine well under a
		// quarter of a CPU (24 % seen in CI): the verdict, not the share, is
		// what is checked.
		if h.Verdict != "spinning" || !strings.Contains(h.HotFunction, "WaitWarm") || h.CPUPercent <= 0 {
			t.Errorf("verdict %q, hot %q, cpu %v", h.Verdict, h.HotFunction, h.CPUPercent)
		}
		for _, k := range []string{"goroutines_1", "goroutines_2", "cpu", "heap", "goroutine_proto", "final_dump"} {
			if h.Artifacts[k] == "" {
				t.Errorf("no %s artifact: %v", k, h.Artifacts)
			}
		}
		// The profiles open in go tool pprof unchanged.
		for k, want := range map[string]string{"cpu": "WaitWarm", "goroutine_proto": "TestWaitWarmEmpty", "heap": "flat", "block": "flat", "mutex": "flat"} {
			out, err := exec.Command("go", "tool", "pprof", "-top", h.Artifacts[k]).CombinedOutput()
			if err != nil || !strings.Contains(string(out), want) {
				t.Errorf("go tool pprof %s: %v\n%s", k, err, out)
			}
		}
	})
	t.Run("recovered", func(t *testing.T) {
		t.Parallel()
		r := runHangdog(t, suite(t, "slowquiet"), "--stall", "2s", "--kill-after", "60s", "--", "-count=1", "./...")
		if r.code != 0 {
			t.Fatalf("exit code %d", r.code)
		}
		if len(r.report.Hangs) != 0 || len(r.report.Slow) != 1 || !r.report.Slow[0].Recovered {
			t.Errorf("hangs %+v, slow %+v", r.report.Hangs, r.report.Slow)
		}
		if r.report.Totals.Passed != 1 || r.report.Totals.Hung != 0 {
			t.Errorf("totals %+v", r.report.Totals)
		}
	})
	for _, fix := range []string{"mutexcycle", "cleanup", "testmain"} {
		t.Run("no-agent/"+fix, func(t *testing.T) {
			t.Parallel()
			r := runHangdog(t, fixture(t, fix), append([]string{"--no-agent"}, stallArgs...)...)
			if r.code != watchdog.ExitHung || len(r.report.Hangs) != 1 {
				t.Fatalf("exit code %d, hangs %d", r.code, len(r.report.Hangs))
			}
			h := r.report.Hangs[0]
			if h.Capture != "sigquit" || h.Location == "" || h.Summary == "" {
				t.Errorf("capture %q at %q: %s", h.Capture, h.Location, h.Summary)
			}
		})
	}
}

// TestE2EAgentInvisible: a suite that checks for goroutine leaks with goleak
// passes unchanged under hangdog, and a second identical run is served
// from the test cache.
func TestE2EAgentInvisible(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs(filepath.Join("..", "..", "watchdog", "internal", "agent", "testdata", "leakmod"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	copyDir(t, dir, tmp)
	for i := 0; i < 2; i++ {
		r := runHangdog(t, tmp, "--", "./...")
		if r.code != 0 {
			t.Fatalf("run %d: exit code %d\n%s", i, r.code, r.stdout)
		}
		if i == 1 && !strings.Contains(r.stdout, "(cached)") {
			t.Errorf("second run not cached:\n%s", r.stdout)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestE2EHistoryThreshold: a test that always takes five seconds without a
// word is reported at a 2 s threshold while hangdog has no history of it;
// once the history holds three runs, its threshold adapts and it is not.
func TestE2EHistoryThreshold(t *testing.T) {
	t.Parallel()
	hist := filepath.Join(t.TempDir(), "history.json")
	for i := 0; i < 4; i++ {
		r := runHangdog(t, suite(t, "slowquiet"), "--history="+hist, "--stall", "2s", "--kill-after", "1m", "--", "-count=1", "./...")
		if r.code != 0 {
			t.Fatalf("run %d: exit %d", i, r.code)
		}
		if i < 3 && len(r.report.Slow) != 1 {
			t.Errorf("run %d: want the quiet test reported (then recovered), got %+v", i, r.report.Slow)
		}
		if i == 3 && len(r.report.Slow) != 0 {
			t.Errorf("run %d: the history should have raised the threshold: %+v", i, r.report.Slow[0])
		}
	}
}

// TestE2EPortOwner: package client's test waits for a port that package
// server's test holds; the forensics name the owner.
func TestE2EPortOwner(t *testing.T) {
	t.Parallel()
	r := runHangdogEnv(t, fixture(t, "portwait"), []string{"PORTWAIT_ADDR=127.0.0.1:24519"}, stallArgs...)
	if r.code != watchdog.ExitHung {
		t.Fatalf("exit code %d", r.code)
	}
	found := false
	for _, h := range r.report.Hangs {
		for _, f := range h.Findings {
			if strings.HasPrefix(f.Kind, "port_") && f.Port == 24519 && strings.Contains(f.Text, "example.com/portwait/") {
				found = true
			}
		}
	}
	if !found {
		for _, h := range r.report.Hangs {
			t.Logf("%s %s: %+v", h.Package, h.Test, h.Findings)
		}
		t.Error("no finding names the port's owner")
	}
}

// TestE2ECIOutputs runs a hanging fixture as GitHub Actions would, with
// every report asked for: annotations on stdout at the hang's location, a
// step summary, JUnit, HTML and hangdog's own JSON log.
func TestE2ECIOutputs(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	summary := filepath.Join(tmp, "summary.md")
	junit := filepath.Join(tmp, "junit.xml")
	html := filepath.Join(tmp, "report.html")
	logf := filepath.Join(tmp, "hangdog.log")
	env := []string{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + summary}
	args := append([]string{"--junitfile", junit, "--html", html, "--log-file", logf, "--log-format", "json"}, stallArgs...)
	r := runHangdogEnv(t, fixture(t, "chanrecv"), env, args...)
	if r.code != watchdog.ExitHung {
		t.Fatalf("exit code %d", r.code)
	}
	if !strings.Contains(r.stdout, "::error file=worker_test.go,line=23") {
		t.Errorf("no annotation at the hang:\n%s", r.stdout)
	}
	for path, want := range map[string]string{
		summary: "TestStartMissingFile",
		junit:   `type="hang"`,
		html:    "TestStartMissingFile",
		logf:    `"msg":"stall"`,
	} {
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v; want %q in:\n%.2000s", filepath.Base(path), err, want, b)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 && path != summary {
			t.Errorf("%s is not private: %v", filepath.Base(path), fi.Mode())
		}
	}
	if strings.Contains(r.stdout, `"msg"`) || strings.Contains(r.stderr, `"msg"`) {
		t.Error("hangdog's log leaked into the output")
	}
}
