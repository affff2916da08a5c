package stackparse

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The fixtures in testdata/dumps/goX.Y/ are real output of the programs in
// testdata/gen, run by testdata/gen.sh under each release. The tests below
// assert properties that hold on every release rather than exact output.

var releases = []string{"go1.20", "go1.21", "go1.22", "go1.23", "go1.24", "go1.25", "go1.26"}

// minor returns 21 for "go1.21".
func minor(rel string) int {
	n := 0
	for _, c := range strings.TrimPrefix(rel, "go1.") {
		n = n*10 + int(c-'0')
	}
	return n
}

func readFixture(t testing.TB, rel, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "dumps", rel, name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t testing.TB, rel, name string) []*Dump {
	t.Helper()
	ds, err := Parse(strings.NewReader(string(readFixture(t, rel, name))))
	if err != nil {
		t.Fatalf("%s/%s: %v", rel, name, err)
	}
	for _, d := range ds {
		if len(d.Warnings) > 0 {
			t.Errorf("%s/%s: warnings: %+v", rel, name, d.Warnings)
		}
		for _, g := range d.Goroutines {
			if g.Truncated {
				t.Errorf("%s/%s: goroutine %d truncated", rel, name, g.ID)
			}
		}
	}
	return ds
}

func oneDump(t testing.TB, rel, name string) *Dump {
	t.Helper()
	ds := parseFixture(t, rel, name)
	if len(ds) != 1 {
		t.Fatalf("%s/%s: got %d dumps, want 1", rel, name, len(ds))
	}
	return ds[0]
}

// byUser returns the goroutines whose user frame is in function fn
// (without package) of the fixture packages.
func byUser(d *Dump, fn string) []*Goroutine {
	var out []*Goroutine
	for _, g := range d.Goroutines {
		if f, ok := g.UserFrame("example.com/gen"); ok && f.FuncName() == fn {
			out = append(out, g)
		}
	}
	return out
}

// waitCases is what every goroutine started by hang.StartAll waits on,
// keyed by its user function, with the user frame's location.
var waitCases = []struct {
	fn       string
	want     []Wait
	loc      string
	syncOnly bool // also started in deadlock scenarios
}{
	{"lockMutex", []Wait{WaitMutex}, "waits.go:55", true},
	{"rlockRW", []Wait{WaitRLock}, "waits.go:57", true},
	{"lockRW", []Wait{WaitWLock}, "waits.go:59", true},
	{"chanRecv", []Wait{WaitChanRecv}, "waits.go:61", true},
	{"chanSend", []Wait{WaitChanSend}, "waits.go:63", true},
	{"nilRecv", []Wait{WaitChanRecvNil}, "waits.go:67", true},
	{"nilSend", []Wait{WaitChanSendNil}, "waits.go:72", true},
	{"selectWait", []Wait{WaitSelect}, "waits.go:76", true},
	{"selectNoCases", []Wait{WaitSelectNoCases}, "waits.go:82", true},
	{"wgWait", []Wait{WaitWaitGroup}, "waits.go:84", true},
	{"condWait", []Wait{WaitCond}, "waits.go:88", true},
	{"orphan", []Wait{WaitChanRecv}, "waits.go:96", true},
	{"sleeper", []Wait{WaitSleep}, "waits.go:98", false},
	{"accept", []Wait{WaitIO}, "", false}, // the user frame is in net for some releases
	{"busy", []Wait{WaitRunning, WaitRunnable}, "", false},
	{"rawRead", []Wait{WaitSyscall}, "waits.go:117", false},
}

func checkWaits(t *testing.T, d *Dump, syncOnly bool) {
	t.Helper()
	for _, c := range waitCases {
		if syncOnly && !c.syncOnly {
			continue
		}
		gs := byUser(d, c.fn)
		if len(gs) == 0 && c.fn == "busy" && spinningWithoutStack(d) {
			continue // it could not be stopped to print its stack
		}
		if len(gs) == 0 {
			t.Errorf("no goroutine in %s", c.fn)
			continue
		}
		for _, g := range gs {
			if w := Classify(g); !slices.Contains(c.want, w) {
				t.Errorf("%s: goroutine %d [%s]: Classify = %v, want %v", c.fn, g.ID, g.State, w, c.want)
			}
			f, _ := g.UserFrame("example.com/gen")
			if c.loc != "" && f.Location() != c.loc {
				t.Errorf("%s: location %s, want %s", c.fn, f.Location(), c.loc)
			}
		}
	}
}

func spinningWithoutStack(d *Dump) bool {
	for _, g := range d.Goroutines {
		if g.StackUnavailable && g.CreatedBy != nil && g.CreatedBy.Func == "example.com/gen/hang.StartAll" {
			return true
		}
	}
	return false
}

func TestFixtureTestTimeout(t *testing.T) {
	for _, rel := range releases {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			d := oneDump(t, rel, "timeout")
			if d.Kind != KindTestTimeout || d.TimeoutAfter != 2*time.Second {
				t.Errorf("kind %v after %v", d.Kind, d.TimeoutAfter)
			}
			var names []string
			for _, rt := range d.RunningTests {
				names = append(names, rt.Name)
				if rt.Duration < time.Second {
					t.Errorf("%s: duration %v", rt.Name, rt.Duration)
				}
			}
			for _, want := range []string{"TestCleanupHang", "TestLockOrder", "TestMutexLeaf", "TestParent/chan", "TestParent/wg", "TestWaits"} {
				if !slices.Contains(names, want) {
					t.Errorf("running tests %q lack %s", names, want)
				}
			}
			checkTestBinary(t, rel, d)
			// Level 1: same place, different mutexes.
			ab := byUser(d, "lockAB")
			if bs := Group(ab, GroupOptions{}); len(bs) != 1 || bs[0].Count != 2 || bs[0].Wait != WaitMutex {
				t.Errorf("lockAB: %d buckets, want 1 of 2", len(bs))
			}
			if bs := Group(ab, GroupOptions{KeepPointers: true}); len(bs) != 2 {
				t.Errorf("lockAB: %d buckets with pointers, want 2", len(bs))
			}
			all := Group(d.Goroutines, GroupOptions{})
			n := 0
			for _, b := range all {
				n += b.Count
				for i, g := range b.Goroutines {
					if b.IDs[i] != g.ID || Classify(g) != b.Wait {
						t.Errorf("bucket %v: goroutine %d", b.IDs, g.ID)
					}
				}
			}
			pos := make(map[*Goroutine]int)
			for i, g := range d.Goroutines {
				pos[g] = i
			}
			for i := 1; i < len(all); i++ {
				if pos[all[i-1].Goroutines[0]] >= pos[all[i].Goroutines[0]] {
					t.Errorf("buckets %v and %v out of input order", all[i-1].IDs, all[i].IDs)
				}
			}
			if n != len(d.Goroutines) || len(all) >= len(d.Goroutines) {
				t.Errorf("%d buckets hold %d of %d goroutines", len(all), n, len(d.Goroutines))
			}
		})
	}
}

func TestFixtureSIGQUITTest(t *testing.T) {
	for _, rel := range releases {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			d := oneDump(t, rel, "sigquit_test")
			if d.Kind != KindSIGQUIT || len(d.RunningTests) != 0 {
				t.Errorf("kind %v, running %v", d.Kind, d.RunningTests)
			}
			checkTestBinary(t, rel, d)
			// Level 2: runtime frames, so channel addresses are known.
			for _, fn := range []string{"chanRecv", "chanSend", "lockMutex", "condWait", "wgWait"} {
				for _, g := range byUser(d, fn) {
					if _, ok := g.WaitAddress(); !ok {
						t.Errorf("%s: goroutine %d: no wait address", fn, g.ID)
					}
				}
			}
		})
	}
}

// checkTestBinary asserts what the hang package's tests look like in a
// dump of its test binary.
func checkTestBinary(t *testing.T, rel string, d *Dump) {
	t.Helper()
	checkWaits(t, d, false)
	if in, _ := MainState(d); in {
		t.Error("MainState: in TestMain, want in m.Run")
	}
	roots := TestRoots(d)
	byTest := make(map[string][]*TestRoot)
	for _, r := range roots {
		byTest[r.Test] = append(byTest[r.Test], r)
	}
	want := map[string]int{"TestMutexLeaf": 1, "TestParent": 3, "TestCleanupHang": 1, "TestLockOrder": 1, "TestWaits": 1}
	// Before 1.21 no parent ids: a parent waiting for its parallel
	// subtests is paired with the test whose subtests it created first.
	for name, n := range want {
		if len(byTest[name]) != n {
			t.Errorf("%d roots for %s, want %d", len(byTest[name]), name, n)
		}
	}
	if len(roots) != 7 {
		for _, r := range roots {
			t.Logf("root %d %s %s", r.Goroutine.ID, r.Test, r.Func)
		}
		t.Errorf("%d roots, want 7", len(roots))
	}
	for _, r := range roots {
		switch r.Test {
		case "TestMutexLeaf":
			if r.Waiting || r.InCleanup() || r.Parent != nil || r.Func != "example.com/gen/hang.TestMutexLeaf" {
				t.Errorf("TestMutexLeaf: %+v", r)
			}
			if f, _ := r.Goroutine.UserFrame(); f.Location() != "waits.go:55" {
				t.Errorf("TestMutexLeaf at %s", f.Location())
			}
		case "TestCleanupHang":
			if !r.InCleanup() || r.Waiting || r.Func != "example.com/gen/hang.TestCleanupHang.func1" {
				t.Errorf("TestCleanupHang: cleanup %v waiting %v func %s", r.InCleanup(), r.Waiting, r.Func)
			}
		case "TestParent":
			sub := strings.HasPrefix(r.Func, "example.com/gen/hang.TestParent.func")
			if sub == r.Waiting {
				t.Errorf("TestParent root %d: func %q waiting %v", r.Goroutine.ID, r.Func, r.Waiting)
			}
			if sub != (r.Parent != nil) {
				t.Errorf("TestParent root %d: func %q parent %v", r.Goroutine.ID, r.Func, r.Parent)
			}
		case "TestWaits":
			// 1.21+ attributes StartAll's goroutines through parent
			// ids; 1.20 only the test's own closures, by name.
			min := 2
			if minor(rel) >= 21 {
				min = 15
			}
			if len(r.Members) < min {
				t.Errorf("TestWaits has %d members, want >= %d", len(r.Members), min)
			}
			found := false
			for _, g := range r.Members {
				if g.CreatedBy != nil && g.CreatedBy.Func == "example.com/gen/hang.TestWaits.func1" {
					found = true
				}
			}
			if !found {
				t.Error("TestWaits.func1.1 not attributed to TestWaits")
			}
		case "TestLockOrder":
			if minor(rel) >= 21 && len(r.Members) != 3 {
				t.Errorf("TestLockOrder has %d members, want 3", len(r.Members))
			}
		}
	}
}

func TestFixtureTestMainDeadlock(t *testing.T) {
	for _, rel := range releases {
		d := oneDump(t, rel, "testmain_deadlock")
		if d.Kind != KindDeadlock {
			t.Errorf("%s: kind %v", rel, d.Kind)
		}
		in, f := MainState(d)
		if !in || f.FuncName() != "setup" || f.Location() != "main_test.go:16" {
			t.Errorf("%s: MainState = %v, %+v", rel, in, f)
		}
		if len(TestRoots(d)) != 0 {
			t.Errorf("%s: test roots outside m.Run", rel)
		}
	}
}

func TestFixtureDeadlock(t *testing.T) {
	for _, rel := range releases {
		t.Run(rel, func(t *testing.T) {
			d := oneDump(t, rel, "deadlock")
			if d.Kind != KindDeadlock || d.Reason != "fatal error: all goroutines are asleep - deadlock!" {
				t.Errorf("kind %v reason %q", d.Kind, d.Reason)
			}
			checkWaits(t, d, true)
			if g := d.Goroutines[0]; g.ID != 1 || Classify(g) != WaitWaitGroup {
				t.Errorf("goroutine %d: %v", g.ID, Classify(g))
			}
		})
	}
}

func TestFixtureLevel1(t *testing.T) {
	for _, rel := range releases {
		for _, name := range []string{"stack", "pprof_debug2"} {
			t.Run(rel+"/"+name, func(t *testing.T) {
				d := oneDump(t, rel, name)
				if d.Kind != KindUnknown || len(d.Goroutines) != 18 {
					t.Errorf("kind %v, %d goroutines", d.Kind, len(d.Goroutines))
				}
				checkWaits(t, d, false)
				g := byUser(d, "orphan")[0]
				if g.CreatedBy == nil || g.CreatedBy.Func != "example.com/gen/hang.spawner" {
					t.Errorf("orphan created by %+v", g.CreatedBy)
				}
				if minor(rel) >= 21 && g.ParentID == 0 {
					t.Error("orphan: no parent id")
				}
				if minor(rel) < 21 && g.ParentID != 0 {
					t.Error("orphan: parent id on an old release")
				}
				// Mutex addresses are printed at level 1 too.
				if _, ok := byUser(d, "lockMutex")[0].WaitAddress(); !ok {
					t.Error("no mutex address")
				}
			})
		}
	}
}

func TestFixtureSIGQUIT(t *testing.T) {
	for _, rel := range releases {
		t.Run(rel, func(t *testing.T) {
			d := oneDump(t, rel, "sigquit")
			if d.Kind != KindSIGQUIT || len(d.Preamble) == 0 || !strings.HasPrefix(d.Preamble[0], "PC=") {
				t.Errorf("kind %v preamble %q", d.Kind, d.Preamble)
			}
			checkWaits(t, d, false)
			ab := byUser(d, "lockAB")
			if len(ab) != 2 {
				t.Fatalf("%d lockAB goroutines", len(ab))
			}
			a1, ok1 := ab[0].WaitAddress()
			a2, ok2 := ab[1].WaitAddress()
			if !ok1 || !ok2 || a1 == a2 {
				t.Errorf("lockAB addresses %x %v, %x %v", a1, ok1, a2, ok2)
			}
			// At level 2 the go statements' wrappers (LockOrder.func1,
			// .func2 or .gowrap1, .gowrap2) keep them apart.
			if n := len(Group(ab, GroupOptions{})); n != 2 {
				t.Errorf("%d buckets, want 2", n)
			}
			runtimeGs := 0
			for _, g := range d.Goroutines {
				if Classify(g) == WaitRuntime {
					runtimeGs++
				}
			}
			if runtimeGs < 3 {
				t.Errorf("%d runtime goroutines", runtimeGs)
			}
		})
	}
}

func TestFixtureProfile(t *testing.T) {
	for _, rel := range releases {
		d := oneDump(t, rel, "pprof_debug1")
		if d.Kind != KindProfile || d.NumGoroutines != 18 {
			t.Errorf("%s: kind %v, %d goroutines", rel, d.Kind, d.NumGoroutines)
		}
		lw := byUser(d, "labelWait")
		if len(lw) != 1 || lw[0].Labels["weird"] != `a]b, c:d "q"` || lw[0].Labels["test"] != "TestLabels" {
			t.Errorf("%s: labels %+v", rel, lw)
		}
		for _, c := range []struct {
			fn   string
			want Wait
		}{{"lockMutex", WaitMutex}, {"wgWait", WaitWaitGroup}, {"condWait", WaitCond}, {"sleeper", WaitSleep}} {
			if gs := byUser(d, c.fn); len(gs) != 1 || Classify(gs[0]) != c.want {
				t.Errorf("%s: %s: not %v", rel, c.fn, c.want)
			}
		}
	}
}

func TestFixtureLabels(t *testing.T) {
	for _, name := range []string{"labels", "labels_sigquit"} {
		d := oneDump(t, "go1.26", name)
		lw := byUser(d, "labelWait")
		if len(lw) != 1 || lw[0].State != "chan receive" || lw[0].Labels["weird"] != `a]b, c:d "q"` {
			t.Errorf("%s: %+v", name, lw)
		}
	}
}

func TestFixturePanics(t *testing.T) {
	for _, rel := range releases {
		d := oneDump(t, rel, "recovered")
		if d.Kind != KindPanic || d.Reason != "panic: boom [recovered]" || len(d.Preamble) != 1 ||
			strings.TrimSpace(d.Preamble[0]) != "panic: again: boom" || len(d.Goroutines) != 13 {
			t.Errorf("%s recovered: %v %q %q %d", rel, d.Kind, d.Reason, d.Preamble, len(d.Goroutines))
		}
		d = oneDump(t, rel, "multiline")
		if d.Reason != "panic: first line" || len(d.Preamble) != 2 || strings.TrimSpace(d.Preamble[0]) != "second line" {
			t.Errorf("%s multiline: %q %q", rel, d.Reason, d.Preamble)
		}
		d = oneDump(t, rel, "otherthread")
		spinning, unavailable := 0, 0
		for _, g := range d.Goroutines {
			if g.CreatedBy == nil || g.CreatedBy.Func != "example.com/gen/hang.StartBusy" {
				continue
			}
			spinning++
			if g.StackUnavailable {
				unavailable++
				if len(g.Frames) != 0 || Classify(g) != WaitRunning {
					t.Errorf("%s otherthread: goroutine %d: %d frames, %v", rel, g.ID, len(g.Frames), Classify(g))
				}
			}
		}
		if d.Kind != KindPanic || spinning != 2 || unavailable == 0 {
			t.Errorf("%s otherthread: %v, %d spinning, %d without stack", rel, d.Kind, spinning, unavailable)
		}
		d = oneDump(t, rel, "repanic")
		if d.Kind != KindPanic || !strings.HasPrefix(d.Reason, "panic: boom [recovered") {
			t.Errorf("%s repanic: %q", rel, d.Reason)
		}
	}
}

func TestFixtureAncestorsAndElided(t *testing.T) {
	for _, rel := range releases {
		d := oneDump(t, rel, "ancestors")
		deepest := 0
		for _, g := range d.Goroutines {
			deepest = max(deepest, len(g.Ancestors))
		}
		if deepest != 3 {
			t.Errorf("%s: deepest ancestry %d, want 3", rel, deepest)
		}
		d = oneDump(t, rel, "deep")
		g := d.Goroutines[len(d.Goroutines)-1]
		switch {
		case minor(rel) >= 21 && (g.ElidedFrames <= 0 || len(g.Frames) != 100):
			t.Errorf("%s: elided %d, %d frames", rel, g.ElidedFrames, len(g.Frames))
		case g.CreatedBy == nil || g.CreatedBy.Func != "main.main":
			t.Errorf("%s: created by %+v", rel, g.CreatedBy)
		}
	}
}

func TestFixtureCrash(t *testing.T) {
	ds := parseFixture(t, "go1.26", "crash")
	if len(ds) < 2 {
		t.Fatalf("%d dumps, want one per thread", len(ds))
	}
	if len(ds[0].Goroutines) < 25 {
		t.Errorf("first dump has %d goroutines", len(ds[0].Goroutines))
	}
	// The other threads' dumps hold what ran there: g0 (goroutine 0) or
	// the goroutine on that thread.
	for _, d := range ds[1:] {
		if d.Kind != KindSIGQUIT || len(d.Goroutines) == 0 || len(d.Goroutines) > 2 {
			t.Errorf("per-thread dump: %v %d", d.Kind, len(d.Goroutines))
		}
	}
}

// TestFixtureHeaderCount checks that every header line of every fixture
// became a goroutine.
func TestFixtureHeaderCount(t *testing.T) {
	files, _ := filepath.Glob("testdata/dumps/*/*.txt")
	if len(files) < 90 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, l := range strings.Split(string(b), "\n") {
			// Decorated fixtures have text in front of headers.
			if i := strings.Index(l, "goroutine "); i > 0 {
				l = l[i:]
			}
			if _, ok := parseHeader([]byte(l)); ok {
				want++
			}
		}
		ds, _ := Parse(strings.NewReader(string(b)))
		got := 0
		for _, d := range ds {
			if d.Kind != KindProfile && d.Kind != KindRace {
				got += len(d.Goroutines)
			}
		}
		if got != want {
			t.Errorf("%s: %d goroutines, %d headers", f, got, want)
		}
	}
}

func TestFixturePaused(t *testing.T) {
	for _, rel := range releases {
		d := oneDump(t, rel, "timeout_paused")
		roots := TestRoots(d)
		paused, running := 0, 0
		for _, r := range roots {
			switch {
			case r.Paused && r.Waiting:
				paused++
			case !r.Waiting:
				running++
			}
		}
		if len(roots) != 2 || paused != 1 || running != 1 {
			t.Errorf("%s: %d roots, %d paused, %d running", rel, len(roots), paused, running)
		}
		if len(d.RunningTests) != 1 {
			t.Errorf("%s: running tests %v", rel, d.RunningTests)
		}
	}
}
