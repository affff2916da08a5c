package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog"
)

// stacksRun runs `hangdog stacks args...` in process and returns stdout,
// stderr and the exit code.
func stacksRun(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"stacks"}, args...), strings.NewReader(stdin), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func stacksJSON(t *testing.T, args ...string) []watchdog.DumpSummary {
	t.Helper()
	out, errs, code := stacksRun(t, "", append([]string{"--json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var ss []watchdog.DumpSummary
	if err := json.Unmarshal([]byte(out), &ss); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	return ss
}

// stacksInputs are the real dumps the golden tests read: the stackparse
// fixtures of every release and the recorded go test -json streams.
func stacksInputs(t *testing.T) []string {
	t.Helper()
	a, _ := filepath.Glob(filepath.Join("..", "..", "stackparse", "testdata", "dumps", "go1.*", "*"))
	b, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "streams", "go1.*", "*.json"))
	c, _ := filepath.Glob(filepath.Join("..", "..", "stackparse", "testdata", "dumps", "decorated", "*"))
	if len(a) == 0 || len(b) == 0 || len(c) == 0 {
		t.Fatal("no fixtures")
	}
	return append(append(a, b...), c...)
}

// goldenName maps an input to its golden file stem:
// testdata/stacks/dumps/go1.26/timeout, testdata/stacks/streams/go1.26/chanrecv.
func goldenName(in string) string {
	kind := "dumps"
	if strings.HasSuffix(in, ".json") {
		kind = "streams"
	}
	base := filepath.Base(in)
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".txt"), ".json")
	base = strings.TrimSuffix(base, ".pb.gz")
	return filepath.Join("testdata", "stacks", kind, filepath.Base(filepath.Dir(in)), base)
}

// jsonGolden says which inputs also get a JSON golden file: the oldest
// release and the two newest (the JSON of the others differs only where the
// text does, and the text goldens cover every release).
func jsonGolden(in string) bool {
	v := filepath.Base(filepath.Dir(in))
	return v == "go1.20" || v == "go1.26" || v == "go1.27"
}

// TestStacksGolden compares the text and JSON output of `hangdog stacks` on
// every fixture with golden files (go test ./cmd/hangdog -run
// TestStacksGolden -update rewrites them). The inputs are committed real
// dumps, so nothing machine-specific reaches the output: the paths are
// those the dumps hold, and none is below the test's working directory.
func TestStacksGolden(t *testing.T) {
	t.Parallel()
	for _, in := range stacksInputs(t) {
		stem := goldenName(in)
		t.Run(strings.TrimPrefix(stem, filepath.Join("testdata", "stacks")+string(filepath.Separator)), func(t *testing.T) {
			t.Parallel()
			// A stream without a dump (pipeholder: the binary never
			// printed one) is exit 4 with one line on stderr.
			ok := func(code int, errs string) bool {
				return code == 0 && errs == "" ||
					code == watchdog.ExitInternal && strings.Count(errs, "\n") == 1 && strings.Contains(errs, ": no goroutine dump found (")
			}
			out, errs, code := stacksRun(t, "", "--color", "never", in)
			if !ok(code, errs) {
				t.Fatalf("exit %d: %s", code, errs)
			}
			checkGolden(t, stem+".txt", out)
			if jsonGolden(in) {
				out, errs, code = stacksRun(t, "", "--json", in)
				if !ok(code, errs) {
					t.Fatalf("exit %d: %s", code, errs)
				}
				checkGolden(t, stem+".json", out)
			}
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\ngot:  %q\nwant: %q\n(run with -update to accept)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d (run with -update to accept)", path, len(gl), len(wl))
	}
}

// dumpFixture returns the path of a stackparse fixture.
func dumpFixture(rel, name string) string {
	return filepath.Join("..", "..", "stackparse", "testdata", "dumps", rel, name)
}

// releases lists the releases that have all the named fixtures.
func releases(t *testing.T, files ...string) []string {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "stackparse", "testdata", "dumps", "go1.*"))
	var out []string
next:
	for _, d := range dirs {
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				continue next
			}
		}
		out = append(out, filepath.Base(d))
	}
	if len(out) == 0 {
		t.Fatal("no releases")
	}
	return out
}

func findTest(s watchdog.DumpSummary, name string) *watchdog.TestSummary {
	for i := range s.Tests {
		if s.Tests[i].Test == name {
			return &s.Tests[i]
		}
	}
	return nil
}

// TestStacksTimeoutProperties checks, on the timeout dump of every
// release, what a person reads first: each stuck test, the state and line
// of its goroutine, and what blocks it; a parent waiting for its subtests
// is shown as such; the testing package's own goroutines are not shown.
func TestStacksTimeoutProperties(t *testing.T) {
	t.Parallel()
	type want struct {
		phase    watchdog.Phase
		state    string
		location string
	}
	wants := map[string]want{
		"TestMutexLeaf":   {watchdog.PhaseTest, "sync.Mutex.Lock", "waits.go:55"},
		"TestCleanupHang": {watchdog.PhaseCleanup, "chan receive", "hang_test.go:40"},
		"TestLockOrder":   {watchdog.PhaseTest, "select (no cases)", "hang_test.go:47"},
		"TestParent/chan": {watchdog.PhaseTest, "chan receive", "hang_test.go:26"},
		"TestParent/wg":   {watchdog.PhaseTest, "sync.WaitGroup.Wait", "hang_test.go:32"},
		"TestWaits":       {watchdog.PhaseTest, "chan receive", "hang_test.go:59"},
		"TestParent":      {watchdog.PhaseTest, "waits for subtests TestParent/chan, TestParent/wg", ""},
	}
	for _, rel := range releases(t, "timeout.txt") {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			ss := stacksJSON(t, dumpFixture(rel, "timeout.txt"))
			if len(ss) != 1 {
				t.Fatalf("%d dumps", len(ss))
			}
			s := ss[0]
			// Up to 1.22 the list names the parent TestParent too;
			// before 1.20 there is no list, and subtests are named by
			// their goroutine.
			old := len(s.RunningTests) == 0
			if s.Version != watchdog.StacksVersion || s.Kind != "test-timeout" || len(s.RunningTests) < 6 && !(old && rel < "go1.20") {
				t.Errorf("version %d kind %q running %v", s.Version, s.Kind, s.RunningTests)
			}
			if old {
				for i := range s.Tests {
					if !strings.HasPrefix(s.Tests[i].Test, "TestParent/… (goroutine ") {
						continue
					}
					if strings.HasSuffix(s.Tests[i].Location, "hang_test.go:26") {
						s.Tests[i].Test = "TestParent/chan"
					} else {
						s.Tests[i].Test = "TestParent/wg"
					}
				}
				if ts := findTest(s, "TestParent"); ts != nil && strings.HasPrefix(ts.State, "waits for subtests TestParent/… (goroutine ") {
					ts.State = "waits for subtests TestParent/chan, TestParent/wg"
				}
			}
			var names []string
			for _, ts := range s.Tests {
				names = append(names, ts.Test)
			}
			if len(s.Tests) != len(wants) {
				t.Errorf("tests %q, want the %d stuck ones", names, len(wants))
			}
			for name, w := range wants {
				ts := findTest(s, name)
				if ts == nil {
					t.Errorf("no %s in %q", name, names)
					continue
				}
				if ts.Phase != w.phase || ts.State != w.state || !strings.HasSuffix(ts.Location, w.location) {
					t.Errorf("%s: %s %q at %s, want %s %q at %s", name, ts.Phase, ts.State, ts.Location, w.phase, w.state, w.location)
				}
				if ts.Goroutines[0].Role != "test" {
					t.Errorf("%s: first group is %q, want the test's", name, ts.Goroutines[0].Role)
				}
			}
			for _, g := range append(slices.Clone(s.Other), s.Buckets...) {
				if strings.HasPrefix(g.Function, "testing.") || g.State == "runtime" {
					t.Errorf("testing/runtime goroutine shown: %+v", g.GoroutineGroup)
				}
			}
			if s.Hidden == 0 {
				t.Errorf("hidden = 0: the alarm and the main goroutine should be hidden")
			}
			// Go 1.20 prints no parent ids: goroutines started by
			// helpers (LockOrder, StartAll) cannot be traced to a test
			// and are shown among the others.
			if rel <= "go1.20" {
				if len(s.Other) < 14 {
					t.Errorf("go1.20: %d other groups, want the helpers' goroutines", len(s.Other))
				}
				return
			}
			// TestLockOrder: two goroutines blocked on mutexes at
			// lockAB's second Lock.
			if ts := findTest(s, "TestLockOrder"); ts != nil {
				n := 0
				for _, g := range ts.Goroutines {
					if g.State == "sync.Mutex.Lock" && strings.HasSuffix(g.Location, "waits.go:144") {
						n += g.Count
					}
				}
				if n != 2 {
					t.Errorf("TestLockOrder: %d goroutines in lockAB, want 2: %+v", n, ts.Goroutines)
				}
			}
			// TestWaits: one helper per kind of wait, found through
			// created-by chains (one of them through a goroutine that
			// has exited).
			if ts := findTest(s, "TestWaits"); ts != nil {
				states := map[string]bool{}
				for _, g := range ts.Goroutines {
					states[g.State] = true
					if g.State == "chan send" && g.CreatedBy != "example.com/gen/hang.StartAll" {
						t.Errorf("TestWaits: chan send goroutine created by %q", g.CreatedBy)
					}
				}
				for _, st := range []string{"sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock", "chan send",
					"chan receive (nil chan)", "chan send (nil chan)", "select", "select (no cases)",
					"sync.WaitGroup.Wait", "sync.Cond.Wait", "sleep", "IO wait", "syscall"} {
					if !states[st] {
						t.Errorf("TestWaits: no helper in %q", st)
					}
				}
			}
		})
	}
}

// TestStacksSIGQUITProperties: the level-2 SIGQUIT dump of the same test
// binary has no running list: subtests are named by goroutine, the parent
// is shown waiting for them, runtime goroutines are hidden, and waiters on
// one channel are grouped.
func TestStacksSIGQUITProperties(t *testing.T) {
	t.Parallel()
	for _, rel := range releases(t, "sigquit_test.txt") {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			ss := stacksJSON(t, dumpFixture(rel, "sigquit_test.txt"))
			if len(ss) != 1 || ss[0].Kind != "sigquit" {
				t.Fatalf("%d dumps", len(ss))
			}
			s := ss[0]
			for _, name := range []string{"TestMutexLeaf", "TestCleanupHang", "TestLockOrder", "TestWaits"} {
				if findTest(s, name) == nil {
					t.Errorf("no %s", name)
				}
			}
			subs := 0
			for _, ts := range s.Tests {
				if strings.HasPrefix(ts.Test, "TestParent/… (goroutine ") {
					subs++
				}
				if ts.Test == "TestParent" && (!strings.HasPrefix(ts.State, "waits for subtests TestParent/… (goroutine ") || ts.Location != "") {
					t.Errorf("the parent waiting for its subtests: %q at %q", ts.State, ts.Location)
				}
			}
			if subs != 2 {
				t.Errorf("%d TestParent subtests, want 2", subs)
			}
			if s.Hidden < 3 {
				t.Errorf("hidden = %d, want the runtime's goroutines", s.Hidden)
			}
			total := 0
			for _, b := range s.Buckets {
				total += b.Count
			}
			if total+s.Hidden != s.Goroutines {
				t.Errorf("buckets hold %d + %d hidden, want %d", total, s.Hidden, s.Goroutines)
			}
		})
	}
}

// TestStacksStreams: the dumps inside recorded go test -json streams name
// the hung test and where it waits, whatever the release printed.
func TestStacksStreams(t *testing.T) {
	t.Parallel()
	wants := map[string]struct {
		test, location string
		states         []string
	}{
		"mutexcycle": {"TestConcurrentTransfers", "bank_test.go:30", []string{"sync.WaitGroup.Wait"}},
		"chanrecv":   {"TestStartMissingFile", "worker_test.go:23", []string{"chan receive"}},
		"wgsubtest":  {"TestProcessAll/blank_items", "fanout.go:26", []string{"sync.WaitGroup.Wait"}},
		"cleanup":    {"TestEcho", "server.go:61", []string{"chan receive"}},
		"busyloop":   {"TestWaitWarmEmpty", "warm.go:29", []string{"running", "runnable"}},
		"parallel":   {"TestLookup", "registry.go:35", []string{"sync.Mutex.Lock"}},
		"childwait":  {"TestMigrate", "migrate.go:12", []string{"syscall", "chan receive", "IO wait"}},
		"multipkg":   {"TestPublishNoHandler", "notify.go:27", []string{"chan send"}},
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "streams", "go1.*", "*.json"))
	for _, f := range files {
		w, ok := wants[strings.TrimSuffix(filepath.Base(f), ".json")]
		if !ok {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			var found *watchdog.TestSummary
			var cycles []watchdog.LockCycle
			for _, s := range stacksJSON(t, f) {
				cycles = append(cycles, s.LockCycles...)
				if !strings.Contains(s.Reason, "(package ") {
					t.Errorf("reason %q does not name the package", s.Reason)
				}
				if ts := findTest(s, w.test); ts != nil {
					found = ts
				}
			}
			if found == nil {
				t.Fatalf("no %s", w.test)
			}
			if !strings.HasSuffix(found.Location, w.location) || !slices.Contains(w.states, found.State) {
				t.Errorf("%s %q at %s, want %q at %s", w.test, found.State, found.Location, w.states, w.location)
			}
			// Transfer(from, to) prints both accounts: the cycle of
			// mutexcycle shows. Nothing else here is one.
			wantCycles := 0
			if w.test == "TestConcurrentTransfers" {
				wantCycles = 1
			}
			if len(cycles) != wantCycles || wantCycles == 1 && cycles[0].Test != w.test {
				t.Errorf("lock cycles %+v, want %d", cycles, wantCycles)
			}
		})
	}
}

func TestStacksFilters(t *testing.T) {
	t.Parallel()
	in := dumpFixture("go1.26", "sigquit_test.txt")
	base := stacksJSON(t, in)[0]

	t.Run("test", func(t *testing.T) {
		t.Parallel()
		s := stacksJSON(t, "--test", "^TestWaits$", in)[0]
		if len(s.Tests) != 1 || s.Tests[0].Test != "TestWaits" || len(s.Other) != 0 || !s.Filtered {
			t.Errorf("tests %+v, other %d, filtered %v", s.Tests, len(s.Other), s.Filtered)
		}
		n := 0
		for _, g := range s.Tests[0].Goroutines {
			n += g.Count
		}
		m := 0
		for _, b := range s.Buckets {
			m += b.Count
		}
		if n != m {
			t.Errorf("buckets hold %d goroutines, TestWaits has %d", m, n)
		}
	})
	t.Run("state", func(t *testing.T) {
		t.Parallel()
		s := stacksJSON(t, "--state", "sync.Mutex.Lock, chan send", in)[0]
		n := 0
		for _, b := range s.Buckets {
			if b.State != "sync.Mutex.Lock" && b.State != "chan send" {
				t.Errorf("bucket in %q", b.State)
			}
			n += b.Count
		}
		// TestMutexLeaf, TestWaits' lockMutex and the two lockAB, and
		// one chan send.
		if n != 5 {
			t.Errorf("%d goroutines, want 5", n)
		}
		for _, ts := range s.Tests {
			for _, g := range ts.Goroutines {
				if g.State != "sync.Mutex.Lock" && g.State != "chan send" {
					t.Errorf("%s: group in %q", ts.Test, g.State)
				}
			}
		}
	})
	t.Run("pkg", func(t *testing.T) {
		t.Parallel()
		s := stacksJSON(t, "--pkg", "^net$", in)[0]
		if len(s.Buckets) != 1 || !strings.HasSuffix(s.Buckets[0].Location, "waits.go:100") {
			t.Errorf("buckets %+v", s.Buckets)
		}
	})
	t.Run("all", func(t *testing.T) {
		t.Parallel()
		s := stacksJSON(t, "--all", in)[0]
		total := 0
		for _, b := range s.Buckets {
			total += b.Count
		}
		if s.Hidden != 0 || total != s.Goroutines || total <= base.Goroutines-base.Hidden {
			t.Errorf("hidden %d, buckets hold %d of %d", s.Hidden, total, s.Goroutines)
		}
	})
	t.Run("keep-pointers", func(t *testing.T) {
		t.Parallel()
		// The big dump's 10,000 goroutines in one Lock share a bucket
		// either way; in the timeout dump, goroutines with the same
		// stack but different arguments split.
		in := dumpFixture("go1.26", "timeout.txt")
		a, b := stacksJSON(t, in)[0], stacksJSON(t, "--keep-pointers", in)[0]
		if len(b.Buckets) <= len(a.Buckets) {
			t.Errorf("%d buckets with --keep-pointers, %d without", len(b.Buckets), len(a.Buckets))
		}
	})
	t.Run("bad state", func(t *testing.T) {
		t.Parallel()
		_, errs, code := stacksRun(t, "", "--state", "chan recv", in)
		if code != watchdog.ExitUsage || !strings.Contains(errs, `unknown state "chan recv"`) {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("bad regexp", func(t *testing.T) {
		t.Parallel()
		_, errs, code := stacksRun(t, "", "--test", "(", in)
		if code != watchdog.ExitUsage || strings.Count(errs, "\n") != 2 {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}

func TestStacksColor(t *testing.T) {
	in := dumpFixture("go1.26", "timeout.txt")
	out, _, _ := stacksRun(t, "", "--color", "always", in)
	if !strings.Contains(out, "\x1b[") {
		t.Error("--color always: no escape sequences")
	}
	out, _, _ = stacksRun(t, "", "--color", "never", in)
	if strings.Contains(out, "\x1b[") {
		t.Error("--color never: escape sequences")
	}
	out, _, _ = stacksRun(t, "", in) // auto, not a terminal
	if strings.Contains(out, "\x1b[") {
		t.Error("auto on a buffer: escape sequences")
	}
	if _, _, code := stacksRun(t, "", "--color", "pink", in); code != watchdog.ExitUsage {
		t.Errorf("--color pink: exit %d", code)
	}
	// NO_COLOR turns auto off even on a terminal; a terminal is not
	// available here, so check the decision directly.
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no terminal")
	}
	defer tty.Close()
	if on, _ := useColor("auto", tty); !on {
		t.Error("auto on a terminal: no colour")
	}
	t.Setenv("NO_COLOR", "1")
	if on, _ := useColor("auto", tty); on {
		t.Error("NO_COLOR: colour")
	}
}

// TestStacksSeveralDumps: dumps of several processes in one file, and a
// crash after a SIGQUIT, come out as one object each, in order.
func TestStacksSeveralDumps(t *testing.T) {
	t.Parallel()
	var all []byte
	var kinds []string
	for _, f := range []string{"timeout.txt", "deadlock.txt", "pprof_debug1.txt", "sigquit.txt", "stack.txt"} {
		b, err := os.ReadFile(dumpFixture("go1.26", f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
		all = append(all, "some log line between processes\n"...)
	}
	kinds = []string{"test-timeout", "deadlock", "profile", "sigquit", "goroutines"}
	path := filepath.Join(t.TempDir(), "ci.log")
	if err := os.WriteFile(path, all, 0o644); err != nil {
		t.Fatal(err)
	}
	ss := stacksJSON(t, path)
	var got []string
	for _, s := range ss {
		got = append(got, s.Kind)
	}
	if !slices.Equal(got, kinds) {
		t.Errorf("kinds %q, want %q", got, kinds)
	}
	for i := 1; i < len(ss); i++ {
		if ss[i].StartLine <= ss[i-1].StartLine {
			t.Errorf("dump %d starts at line %d, before dump %d", i+1, ss[i].StartLine, i)
		}
	}
	// The same through stdin, and as two files.
	out, _, code := stacksRun(t, string(all), "--json", "-")
	var viaStdin []watchdog.DumpSummary
	if code != 0 || json.Unmarshal([]byte(out), &viaStdin) != nil || len(viaStdin) != len(kinds) {
		t.Errorf("stdin: exit %d, %d dumps", code, len(viaStdin))
	}
	if n := len(stacksJSON(t, path, path)); n != 2*len(kinds) {
		t.Errorf("two files: %d dumps", n)
	}

	// GOTRACEBACK=crash: one dump per thread after the SIGQUIT dump.
	crash := stacksJSON(t, dumpFixture("go1.26", "crash.txt"))
	if len(crash) < 2 || crash[0].Kind != "sigquit" {
		t.Errorf("crash: %d dumps", len(crash))
	}
}

// TestStacksBadInput: damaged dumps give warnings with line numbers, text
// that holds no dump gives an empty array, and no input makes it panic.
func TestStacksBadInput(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(dumpFixture("go1.26", "timeout.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	// Garbage inside the first goroutine (line 13 of the result).
	damaged := slices.Insert(slices.Clone(lines), 12, "#### not a dump line ####")
	out, _, code := stacksRun(t, strings.Join(damaged, "\n"), "--json")
	var ss []watchdog.DumpSummary
	if code != 0 || json.Unmarshal([]byte(out), &ss) != nil || len(ss) != 1 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if len(ss[0].Warnings) != 1 || ss[0].Warnings[0].Line != 13 {
		t.Errorf("warnings %+v, want one at line 13", ss[0].Warnings)
	}
	text, _, _ := stacksRun(t, strings.Join(damaged, "\n"))
	if !strings.Contains(text, "line 13: ") {
		t.Errorf("text does not show the warning:\n%s", text)
	}

	for name, in := range map[string]string{
		"empty":     "",
		"log":       "hello\nworld\n",
		"binary":    "\x00\x01\xff\xfe goroutine 1 [\n\x1f",
		"gzip junk": "\x1f\x8b\x08\x00garbage",
		"json junk": `{"Time":"x","Action":"output","Output":"panic: x\n"}` + "\n{not json\n",
		"cut":       strings.Join(lines[:len(lines)/2], "\n"),
	} {
		out, errs, code := stacksRun(t, in, "--json")
		if strings.Contains(errs, "panic") {
			t.Errorf("%s: %s", name, errs)
		}
		var ss []watchdog.DumpSummary
		if err := json.Unmarshal([]byte(out), &ss); err != nil {
			t.Errorf("%s: exit %d, output is not JSON: %q", name, code, out)
		}
		if name == "cut" && (len(ss) != 1 || code != 0) {
			t.Errorf("cut: %d dumps, exit %d", len(ss), code)
		}
	}
}

// TestStacksUnreadable: an input that cannot be read gives one line on
// stderr and exit code 4; the other inputs are still summarised.
func TestStacksUnreadable(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.txt")
	out, errs, code := stacksRun(t, "", "--json", missing, dumpFixture("go1.26", "deadlock.txt"), t.TempDir())
	if code != watchdog.ExitInternal {
		t.Errorf("exit %d, want %d", code, watchdog.ExitInternal)
	}
	var ss []watchdog.DumpSummary
	if err := json.Unmarshal([]byte(out), &ss); err != nil || len(ss) != 1 {
		t.Errorf("%v: %d dumps", err, len(ss))
	}
	for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
		if !strings.HasPrefix(l, "hangdog: stacks: ") {
			t.Errorf("stderr line %q", l)
		}
	}
	if n := strings.Count(errs, "\n"); n != 2 {
		t.Errorf("stderr has %d lines, want one per bad input:\n%s", n, errs)
	}
}

// TestStacksProto: a pprof debug=0 profile is read by its gzip magic,
// with counts and labels, and says the same as the debug=1 text of the
// same program.
func TestStacksProto(t *testing.T) {
	t.Parallel()
	for _, rel := range releases(t, "pprof_debug0.pb.gz") {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			ss := stacksJSON(t, dumpFixture(rel, "pprof_debug0.pb.gz"))
			if len(ss) != 1 {
				t.Fatalf("%d dumps", len(ss))
			}
			s := ss[0]
			total, labels := 0, false
			for _, b := range s.Buckets {
				total += b.Count
				if len(b.IDs) != 0 {
					t.Errorf("profile bucket with ids %v", b.IDs)
				}
				labels = labels || b.Labels["weird"] == `a]b, c:d "q"`
			}
			if s.Kind != "profile" || s.Goroutines < 17 || total+s.Hidden != s.Goroutines || !labels {
				t.Errorf("kind %q, %d goroutines, buckets hold %d + %d hidden, labels %v", s.Kind, s.Goroutines, total, s.Hidden, labels)
			}
			states := map[string]bool{}
			for _, b := range s.Buckets {
				states[b.State] = true
			}
			for _, st := range []string{"sync.Mutex.Lock", "chan receive", "chan send", "select", "sync.WaitGroup.Wait", "IO wait", "sleep"} {
				if !states[st] {
					t.Errorf("no bucket in %q", st)
				}
			}
			// Through stdin too.
			data, err := os.ReadFile(dumpFixture(rel, "pprof_debug0.pb.gz"))
			if err != nil {
				t.Fatal(err)
			}
			out, _, code := stacksRun(t, string(data), "--json")
			if code != 0 || !strings.Contains(out, `"kind": "profile"`) {
				t.Errorf("stdin: exit %d", code)
			}
		})
	}
}

// TestStacksPaths: -trimpath paths (the fixture program) and a module
// under a non-ASCII directory with a space come out as printed.
func TestStacksPaths(t *testing.T) {
	t.Parallel()
	s := stacksJSON(t, dumpFixture("go1.26", "nonascii.txt"))[0]
	ts := findTest(s, "TestMutexLeaf")
	if ts == nil || ts.Location != "/src/ünïcødé 目录/hang/waits.go:55" {
		t.Errorf("TestMutexLeaf: %+v", ts)
	}
	for _, rel := range releases(t, "stack.txt") {
		s := stacksJSON(t, dumpFixture(rel, "stack.txt"))[0]
		for _, b := range s.Buckets {
			if !strings.HasPrefix(b.Location, "example.com/gen/") {
				t.Errorf("%s: location %q, want the -trimpath form", rel, b.Location)
			}
		}
	}
}

func TestStacksHelp(t *testing.T) {
	t.Parallel()
	out, _, code := stacksRun(t, "", "--help")
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	checkGolden(t, filepath.Join("testdata", "stacks", "help.golden"), out)
}

// TestStacksDamaged: the timeout dump of every release as a CI log shows
// it (a timestamp on every line, CRLF, tabs turned into spaces) says the
// same as the clean dump.
func TestStacksDamaged(t *testing.T) {
	t.Parallel()
	for _, rel := range releases(t, "timeout.txt") {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(dumpFixture(rel, "timeout.txt"))
			if err != nil {
				t.Fatal(err)
			}
			var damaged strings.Builder
			damaged.WriteString("2024-05-01T10:00:00.0000000Z ##[group]Run go test ./...\r\n")
			for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				damaged.WriteString("2024-05-01T10:00:01.1234567Z " + strings.ReplaceAll(l, "\t", "    ") + "\r\n")
			}
			path := filepath.Join(t.TempDir(), "ci.log")
			if err := os.WriteFile(path, []byte(damaged.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			clean, dirty := stacksJSON(t, dumpFixture(rel, "timeout.txt")), stacksJSON(t, path)
			if len(dirty) != 1 || len(dirty[0].Warnings) != 0 {
				t.Fatalf("%d dumps, warnings %+v", len(dirty), dirty)
			}
			summary := func(s watchdog.DumpSummary) string {
				var b strings.Builder
				for _, ts := range s.Tests {
					b.WriteString(ts.Summary + "\n")
				}
				return b.String()
			}
			if a, b := summary(clean[0]), summary(dirty[0]); a != b {
				t.Errorf("damaged:\n%s\nclean:\n%s", b, a)
			}
		})
	}
}

// TestStacksBuckets: --buckets groups as it reads and says the same of the
// buckets as the full summary (ids aside: at most MaxBucketIDs each).
func TestStacksBuckets(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"timeout.txt", "sigquit_test.txt", "crash.txt", "pprof_debug0.pb.gz", "labels.txt"} {
		in := dumpFixture("go1.26", f)
		full, only := stacksJSON(t, in), stacksJSON(t, "--buckets", in)
		if len(full) != len(only) {
			t.Fatalf("%s: %d dumps, %d with --buckets", f, len(full), len(only))
		}
		for i := range full {
			a, b := full[i], only[i]
			if !b.BucketsOnly || len(b.Tests) != 0 || b.Goroutines != a.Goroutines || b.Hidden != a.Hidden || len(b.Buckets) != len(a.Buckets) {
				t.Errorf("%s: buckets-only %v, %d tests, %d/%d goroutines, %d/%d hidden, %d/%d buckets", f, b.BucketsOnly, len(b.Tests),
					b.Goroutines, a.Goroutines, b.Hidden, a.Hidden, len(b.Buckets), len(a.Buckets))
				continue
			}
			counts := map[string]int{}
			for _, g := range a.Buckets {
				counts[strings.Join(g.Stack, ";")] += g.Count
			}
			for _, g := range b.Buckets {
				counts[strings.Join(g.Stack, ";")] -= g.Count
			}
			for k, v := range counts {
				if v != 0 {
					t.Errorf("%s: bucket %s differs by %d", f, k, v)
				}
			}
		}
	}
	out, _, _ := stacksRun(t, "", "--buckets", "--color", "never", dumpFixture("go1.26", "timeout.txt"))
	if !strings.Contains(out, "goroutines, grouped by stack") {
		t.Errorf("text:\n%s", out)
	}
}

// TestStacksNoDump: an input that cannot be read, or holds no dump, is
// exit 4 with one line on stderr that says what it held instead, and
// nothing on stdout (it used to print the error and also "no goroutine
// dump found" on stdout, with exit 1 for a missing file and 0 for a file
// without a dump).
func TestStacksNoDump(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var log strings.Builder
	for i := 0; i < 1204; i++ {
		fmt.Fprintf(&log, "line %d of a build log\n", i)
	}
	stream, err := os.ReadFile(filepath.Join("..", "..", "testdata", "streams", "go1.26", "parallel.json"))
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	var passing strings.Builder
	for _, l := range strings.SplitAfter(string(stream), "\n") {
		if strings.Contains(l, `"Action":"output"`) || l == "" {
			continue
		}
		passing.WriteString(l)
		events++
	}
	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "missing.txt"), "hangdog: stacks: open " + filepath.Join(dir, "missing.txt") + ": no such file or directory"},
		{"log", write("x.txt", log.String()), "hangdog: stacks: " + filepath.Join(dir, "x.txt") + ": no goroutine dump found (1,204 lines of text, no goroutine header)"},
		{"empty", write("empty.txt", ""), "no goroutine dump found (empty)"},
		{"events", write("events.json", passing.String()), fmt.Sprintf("no goroutine dump found (%d lines, %d of them JSON, no goroutine dump in their output)", events, events)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, errs, code := stacksRun(t, "", tc.path)
			if code != watchdog.ExitInternal || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "hangdog: stacks: ") || !strings.HasSuffix(errs, tc.want+"\n") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 4, no stdout, stderr %q", code, out, errs, tc.want)
			}
		})
	}
}
