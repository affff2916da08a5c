//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog"
	"github.com/hangdog/hangdog/watchdog/report"
)

// These tests run hangdog on the modules under testdata/leaks, whose
// tests pass while leaving goroutines blocked (or not), and assert on the
// JSON report's leaks and leak checks.

func leakFixture(t *testing.T, name string) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "..", "testdata", "leaks", name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// wantLeak is what the report must say of one leaking test: its one group
// of goroutines.
type wantLeak struct {
	count           int
	state, location string
	createdBy       string
}

// leakyWant are the leaks of testdata/leaks/leaky.
var leakyWant = map[string]wantLeak{
	"TestSend":             {2, "chan send", "leaky.go:15", "example.com/leaky.FirstResult"},
	"TestMutex":            {1, "sync.Mutex.Lock", "leaky.go:28", "example.com/leaky.(*Counter).Report"},
	"TestSelectForever":    {1, "select (no cases)", "leaky.go:73", "example.com/leaky.Forever"},
	"TestContext":          {1, "select", "leaky.go:46", "example.com/leaky.Watch"},
	"TestSubtests/blank":   {1, "sync.WaitGroup.Wait", "leaky.go:67", "example.com/leaky.Fanout"},
	"TestParallel/send":    {1, "chan send", "leaky.go:15", "example.com/leaky.FirstResult"},
	"TestParallel/forever": {1, "select (no cases)", "leaky.go:73", "example.com/leaky.Forever"},
	"TestTopParallel":      {1, "sync.Mutex.Lock", "leaky.go:28", "example.com/leaky.(*Counter).Report"},
}

// checkLeaks compares the report's leaks of one run (-count iteration)
// with want, and returns the leaks by test.
func checkLeaks(t *testing.T, rep *watchdog.Report, run int, want map[string]wantLeak, proven bool) {
	t.Helper()
	got := map[string]*report.Leak{}
	for _, l := range rep.Leaks {
		if l.Run != run {
			continue
		}
		if got[l.Test] != nil {
			t.Errorf("run %d: %s reported twice", run, l.Test)
		}
		got[l.Test] = l
	}
	for name, w := range want {
		l := got[name]
		if l == nil {
			t.Errorf("run %d: no leak reported for %s", run, name)
			continue
		}
		if l.Package == "" || l.Unit != l.Package || l.GraceSeconds <= 0 || l.Proven != proven {
			t.Errorf("run %d: %s: package %q unit %q grace %v proven %v (want %v)", run, name, l.Package, l.Unit, l.GraceSeconds, l.Proven, proven)
		}
		if len(l.Goroutines) != 1 {
			t.Errorf("run %d: %s: %d groups, want 1: %+v", run, name, len(l.Goroutines), l.Goroutines)
			continue
		}
		g := l.Goroutines[0]
		if g.Count != w.count || g.State != w.state || g.Location != w.location || g.CreatedBy != w.createdBy || len(g.Stack) == 0 || g.Function == "" {
			t.Errorf("run %d: %s: got %d × %q at %q created by %q (function %q, %d frames), want %d × %q at %q created by %q",
				run, name, g.Count, g.State, g.Location, g.CreatedBy, g.Function, len(g.Stack), w.count, w.state, w.location, w.createdBy)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("run %d: %s reported as leaking: %+v", run, name, got[name].Goroutines)
		}
	}
}

// results are the pass/fail/skip actions of every test in a go test -json
// stream, sorted.
func results(stream string) []string {
	var out []string
	for _, line := range strings.Split(stream, "\n") {
		for _, a := range []string{`"Action":"pass"`, `"Action":"fail"`, `"Action":"skip"`} {
			if i := strings.Index(line, a); i >= 0 && strings.Contains(line, `"Test":"`) {
				test := line[strings.Index(line, `"Test":"`):]
				test = test[:strings.Index(test[8:], `"`)+9]
				out = append(out, a+" "+test)
			}
		}
	}
	sort.Strings(out)
	return out
}

// goTestResults runs go test -json without hangdog.
func goTestResults(t *testing.T, dir string, env []string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"test", "-json"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), append([]string{"GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local"}, env...)...)
	out, _ := cmd.Output()
	return results(string(out))
}

func TestE2ELeaks(t *testing.T) {
	t.Parallel()
	dir := leakFixture(t, "leaky")
	json := filepath.Join(t.TempDir(), "stream.json")
	r := runHangdog(t, dir, "--leaks", "--jsonfile", json, "--", "-count=1", "./...")
	if r.code != watchdog.ExitOK || r.report == nil || r.report.Reason != "passed" {
		t.Fatalf("exit %d, report %v: leaks must not change the exit code by default", r.code, r.report != nil)
	}
	checkLeaks(t, r.report, 1, leakyWant, false)
	if len(r.report.LeakChecks) != 1 || r.report.LeakChecks[0].Tests != 14 || r.report.LeakChecks[0].Leaks != 8 || r.report.LeakChecks[0].Unchecked != "" || r.report.LeakChecks[0].DetectionGC {
		t.Errorf("leak checks: %+v", r.report.LeakChecks)
	}
	if !strings.Contains(r.stderr, "hangdog: 8 test(s) left goroutines blocked after they ended:") ||
		!strings.Contains(r.stderr, "  LEAK example.com/leaky TestSend [blocked at the end]: 2 goroutine(s)\n      2 × chan send at leaky.go:15 in example.com/leaky.FirstResult.func1 (created by example.com/leaky.FirstResult)\n") {
		t.Errorf("summary:\n%s", r.stderr)
	}
	stream := string(readFileT(t, json))
	if got, want := results(stream), goTestResults(t, dir, nil, "-count=1", "./..."); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("results with hangdog:\n%s\nwithout:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestE2ELeaksCountRaceShuffle: each -count iteration apart, under -race
// and -shuffle, with the results unchanged.
func TestE2ELeaksCountRaceShuffle(t *testing.T) {
	t.Parallel()
	dir := leakFixture(t, "leaky")
	args := []string{"-count=2", "-race", "-shuffle=7", "./..."}
	r := runHangdog(t, dir, append([]string{"--leaks", "--jsonfile", filepath.Join(t.TempDir(), "s.json"), "--"}, args...)...)
	if r.code != watchdog.ExitOK || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	checkLeaks(t, r.report, 1, leakyWant, false)
	checkLeaks(t, r.report, 2, leakyWant, false)
	if c := r.report.LeakChecks; len(c) != 1 || c[0].Tests != 28 {
		t.Errorf("leak checks: %+v", c)
	}
}

func TestE2ELeaksClean(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, leakFixture(t, "clean"), "--leaks", "--", "-count=1", "./...")
	if r.code != watchdog.ExitOK || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	if len(r.report.Leaks) != 0 {
		t.Errorf("leaks in clean tests: %+v", r.report.Leaks[0])
	}
	if c := r.report.LeakChecks; len(c) != 1 || c[0].Tests != 6 || c[0].Leaks != 0 || c[0].Unchecked != "" {
		t.Errorf("leak checks: %+v", c)
	}
	if strings.Contains(r.stderr, "LEAK") {
		t.Errorf("summary:\n%s", r.stderr)
	}
}

// TestE2ELeaksOwnTestMain: a package with its own TestMain is not checked,
// and the report says so.
func TestE2ELeaksOwnTestMain(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, leakFixture(t, "ownmain"), "--leaks", "--", "-count=1", "./...")
	if r.code != watchdog.ExitOK || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	if len(r.report.Leaks) != 0 {
		t.Errorf("leaks: %+v", r.report.Leaks)
	}
	c := r.report.LeakChecks
	if len(c) != 1 || c[0].Package != "example.com/ownmain" || !strings.Contains(c[0].Unchecked, "its own TestMain") {
		t.Errorf("leak checks: %+v", c)
	}
}

// TestE2ELeaksGoleak: goleak.VerifyNone in 31 tests while hangdog's check
// of TestLeaks looks at the goroutines; every test keeps its result.
func TestE2ELeaksGoleak(t *testing.T) {
	t.Parallel()
	dir := leakFixture(t, "goleaksuite")
	if out, err := exec.Command("go", "-C", dir, "mod", "download", "go.uber.org/goleak").CombinedOutput(); err != nil {
		t.Skipf("goleak not available: %v: %s", err, out)
	}
	json := filepath.Join(t.TempDir(), "s.json")
	r := runHangdog(t, dir, "--leaks", "--jsonfile", json, "--", "-count=2", "./...")
	if r.code != watchdog.ExitOK || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	if r.report.Totals.Passed != 2*(1+1+30+1+8+1) || r.report.Totals.Failed != 0 {
		t.Errorf("totals %+v", r.report.Totals)
	}
	for run := 1; run <= 2; run++ {
		checkLeaks(t, r.report, run, map[string]wantLeak{
			"TestLeaks": {1, "chan receive", "suite_test.go:20", "example.com/goleaksuite.TestLeaks"},
		}, false)
	}
}

// TestE2ELeaksFlags: --fail-on-leak (alone: it turns the check on) gives
// exit code 5; without --leaks, or with --leaks=false, the check is off.
func TestE2ELeaksFlags(t *testing.T) {
	t.Parallel()
	dir := leakFixture(t, "leaky")
	r := runHangdog(t, dir, "--fail-on-leak", "--", "-count=1", "-run=TestSend$", "./...")
	if r.code != watchdog.ExitLeaked || r.report == nil || r.report.Reason != "leaked" || len(r.report.Leaks) != 1 {
		t.Errorf("--fail-on-leak: exit %d, report %+v", r.code, r.report)
	}
	for _, args := range [][]string{{"--leaks=false"}, nil} {
		off := runHangdog(t, dir, append(args, "--", "-count=1", "-run=TestSend$", "./...")...)
		if off.code != watchdog.ExitOK || off.report == nil || len(off.report.Leaks) != 0 || len(off.report.LeakChecks) != 0 || strings.Contains(string(off.raw), `"leak`) {
			t.Errorf("%q (the check is off by default): exit %d, report:\n%s", args, off.code, off.raw)
		}
	}
	bad := runHangdog(t, dir, "--leaks", "--leak-grace=0s", "--", "./...")
	if bad.code != watchdog.ExitUsage || !strings.Contains(bad.stderr, "--leak-grace must be positive") {
		t.Errorf("--leak-grace=0s: exit %d:\n%s", bad.code, bad.stderr)
	}
}

// TestE2ELeaksOldGo is the smoke test of the check on Go 1.21 (whose vet
// cannot read overlay files: -vet=off keeps the agent).
func TestE2ELeaksOldGo(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("downloads a toolchain")
	}
	dir := leakFixture(t, "leaky")
	r := runHangdogEnv(t, dir, []string{"GOTOOLCHAIN=go1.21.13"}, "--leaks", "--", "-count=1", "-vet=off", "./...")
	if r.code != watchdog.ExitOK || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	if c := r.report.LeakChecks; len(c) != 1 || c[0].GoVersion != "go1.21.13" {
		t.Fatalf("leak checks: %+v", c)
	}
	checkLeaks(t, r.report, 1, leakyWant, false)
}

// TestE2ELeaksProven: Go 1.27's goroutineleak profile proves every leak
// of the fixture (all block on channels or sync objects nothing can
// reach), in a detection GC after the tests.
func TestE2ELeaksProven(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("downloads a toolchain")
	}
	dir := leakFixture(t, "leaky")
	r := runHangdogEnv(t, dir, []string{"GOTOOLCHAIN=go1.27.3"}, "--leaks", "--", "-count=1", "./...")
	if r.code != watchdog.ExitOK || r.report == nil {
		t.Fatalf("exit %d", r.code)
	}
	if c := r.report.LeakChecks; len(c) != 1 || c[0].GoVersion != "go1.27.3" || !c[0].DetectionGC {
		t.Fatalf("leak checks: %+v", c)
	}
	checkLeaks(t, r.report, 1, leakyWant, true)
	if !strings.Contains(r.stderr, "LEAK example.com/leaky TestSend [proven]") {
		t.Errorf("summary:\n%s", r.stderr)
	}
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestE2ELeaksAnalyze: hangdog analyze of the log of a run (its output and
// its summary, as CI keeps them) reads the leaks back.
func TestE2ELeaksAnalyze(t *testing.T) {
	t.Parallel()
	dir := leakFixture(t, "leaky")
	r := runHangdog(t, dir, "--leaks", "--", "-count=1", "-run=TestSend$|TestSubtests", "./...")
	if r.code != watchdog.ExitOK || r.report == nil || len(r.report.Leaks) != 2 {
		t.Fatalf("run: exit %d, %d leaks", r.code, len(r.report.Leaks))
	}
	log := filepath.Join(t.TempDir(), "ci.log")
	if err := os.WriteFile(log, []byte(r.stdout+r.stderr), 0o600); err != nil {
		t.Fatal(err)
	}
	a := runHangdog(t, t.TempDir(), "analyze", log)
	if a.code != watchdog.ExitOK || a.report == nil {
		t.Fatalf("analyze: exit %d", a.code)
	}
	if len(a.report.Leaks) != 2 {
		t.Fatalf("analyze: %d leaks, want 2:\n%s", len(a.report.Leaks), a.raw)
	}
	for i, l := range a.report.Leaks {
		w := r.report.Leaks[i]
		if l.Package != w.Package || l.Test != w.Test || l.Run != w.Run || l.Proven != w.Proven || len(l.Goroutines) != len(w.Goroutines) {
			t.Errorf("leak %d: %+v, the run said %+v", i, l, w)
			continue
		}
		g, wg := l.Goroutines[0], w.Goroutines[0]
		if g.Count != wg.Count || g.State != wg.State || g.Location != wg.Location || g.Function != wg.Function || g.CreatedBy != wg.CreatedBy {
			t.Errorf("leak %d: group %+v, the run said %+v", i, g, wg)
		}
	}
	if !strings.Contains(a.stderr, "LEAK example.com/leaky TestSend [blocked at the end]: 2 goroutine(s)") {
		t.Errorf("analyze summary:\n%s", a.stderr)
	}
}

// TestE2ELeaksNoAgent: with --no-agent there is no leak check, and hangdog
// says so rather than reporting nothing.
func TestE2ELeaksNoAgent(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, leakFixture(t, "leaky"), "--leaks", "--no-agent", "--", "-count=1", "-run=TestSend$", "./...")
	if r.code != watchdog.ExitOK || r.report == nil || len(r.report.Leaks) != 0 {
		t.Fatalf("exit %d", r.code)
	}
	const msg = "hangdog: the leak check needs the agent, which the test binaries do not have: no leak check"
	if !strings.Contains(r.stderr, msg+"\n") || len(r.report.Warnings) != 1 || r.report.Warnings[0] != msg {
		t.Errorf("stderr:\n%s\nwarnings %q", r.stderr, r.report.Warnings)
	}
}
