package stackparse

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The fixtures in testdata/dumps/decorated are real dumps of
// testdata/dumps passed through testdata/decorate (see genlex.sh). Each
// must read as its source does: the same goroutines, running tests,
// attribution to tests, locations and wait states.

// view is what the tests compare of a dump: per goroutine its test, wait
// state and location (of the user frame, else the innermost one).
type view struct {
	kind    DumpKind
	n       int
	running []string
	members map[string][]int64 // test -> goroutine ids
	gs      map[int64]string   // id -> "wait at location"
	cut     map[int64]string   // id -> function whose location was cut
}

func viewOf(d *Dump) view {
	v := view{kind: d.Kind, n: d.NumGoroutines, members: map[string][]int64{}, gs: map[int64]string{}, cut: map[int64]string{}}
	for _, rt := range d.RunningTests {
		v.running = append(v.running, rt.Name)
	}
	for _, r := range TestRoots(d) {
		name := r.Test
		if name == "" {
			name = fmt.Sprintf("root %d", r.Goroutine.ID)
		}
		for _, g := range r.Members {
			v.members[name] = append(v.members[name], g.ID)
		}
		sort.Slice(v.members[name], func(i, j int) bool { return v.members[name][i] < v.members[name][j] })
	}
	for _, g := range d.Goroutines {
		f, ok := g.UserFrame("example.com/gen")
		if !ok && len(g.Frames) > 0 {
			f, ok = g.Frames[0], true
		}
		loc := ""
		if ok {
			l, cut := g.LocationFrame(f)
			loc = l.Location()
			if cut {
				v.cut[g.ID] = f.Func
			}
		}
		v.gs[g.ID] = Classify(g).String() + " at " + loc
	}
	return v
}

func compareViews(t *testing.T, want, got view) {
	t.Helper()
	if want.kind != got.kind || want.n != got.n {
		t.Errorf("kind %v, %d goroutines; want %v, %d", got.kind, got.n, want.kind, want.n)
	}
	if !slices.Equal(want.running, got.running) {
		t.Errorf("running tests %q, want %q", got.running, want.running)
	}
	if fmt.Sprint(want.members) != fmt.Sprint(got.members) {
		t.Errorf("attribution %v, want %v", got.members, want.members)
	}
	for id, w := range want.gs {
		if _, cut := got.cut[id]; cut {
			continue // compared by the cutloc test
		}
		if got.gs[id] != w {
			t.Errorf("goroutine %d: %q, want %q", id, got.gs[id], w)
		}
	}
}

// checkLeaf asserts what every timeout dump of the hang fixtures shows of
// TestMutexLeaf: it is running, and its goroutine waits on a mutex at
// waits.go:55, called from the test function.
func checkLeaf(t *testing.T, d *Dump) {
	t.Helper()
	var names []string
	for _, rt := range d.RunningTests {
		names = append(names, rt.Name)
		if rt.Duration < time.Second {
			t.Errorf("%s ran %v", rt.Name, rt.Duration)
		}
	}
	if d.Kind == KindTestTimeout && !slices.Contains(names, "TestMutexLeaf") {
		t.Errorf("running tests %q lack TestMutexLeaf", names)
	}
	found := false
	for _, r := range TestRoots(d) {
		if r.Test != "TestMutexLeaf" {
			continue
		}
		found = true
		g := r.Goroutine
		f, _ := g.UserFrame("example.com/gen")
		want := "waits.go:55"
		if loc, cut := g.LocationFrame(f); cut {
			// cutloc: lockMutex lost its line; the caller's is shown.
			f, want = loc, "hang_test.go:18"
			if loc.Func != "example.com/gen/hang.TestMutexLeaf" {
				t.Errorf("location of the cut frame from %s", loc.Func)
			}
		}
		if w := Classify(g); w != WaitMutex || f.Location() != want {
			t.Errorf("TestMutexLeaf: %v at %s, want sync.Mutex.Lock at %s", w, f.Location(), want)
		}
		if len(r.Members) != 1 {
			t.Errorf("TestMutexLeaf has %d goroutines, want 1", len(r.Members))
		}
	}
	if !found {
		t.Errorf("no TestMutexLeaf goroutine")
	}
}

var decorations = []struct {
	name, source string
}{
	{"powershell", "timeout"},
	{"fence", "timeout"},
	{"backtick", "timeout"},
	{"ghtime_cut", "timeout"},
	{"ghlinks", "timeout"},
	{"cutloc", "timeout"},
	{"echo_quit", "sigquit_test"},
	{"journald", "sigquit_test"},
	{"unindent_trimpath", "trimpath"},
}

func TestDecoratedDumps(t *testing.T) {
	for _, dec := range decorations {
		for _, rel := range []string{"go1.20", "go1.26"} {
			t.Run(dec.name+"_"+rel, func(t *testing.T) {
				t.Parallel()
				src := oneDump(t, rel, dec.source)
				d := oneDump(t, "decorated", dec.name+"_"+rel)
				compareViews(t, viewOf(src), viewOf(d))
				if d.Reason != src.Reason || d.TimeoutAfter != src.TimeoutAfter {
					t.Errorf("reason %q after %v, want %q after %v", d.Reason, d.TimeoutAfter, src.Reason, src.TimeoutAfter)
				}
				checkLeaf(t, d)
			})
		}
	}
}

// TestCutLocation: the cutloc fixtures lost the location line of one
// frame in waits.go and had that of another cut before its ":line". The
// location shown is the next frame's that has one, and the cut is told.
func TestCutLocation(t *testing.T) {
	for _, rel := range []string{"go1.20", "go1.26"} {
		t.Run(rel, func(t *testing.T) {
			src := viewOf(oneDump(t, rel, "timeout"))
			d := oneDump(t, "decorated", "cutloc_"+rel)
			got := viewOf(d)
			if len(got.cut) != 2 {
				t.Fatalf("%d goroutines with a cut location, want 2: %v", len(got.cut), got.cut)
			}
			for id, fn := range got.cut {
				g := findG(d, id)
				f, _ := g.UserFrame("example.com/gen")
				if f.Func != fn || f.File != "" || f.Line != 0 {
					t.Errorf("goroutine %d: user frame %+v", id, f)
				}
				loc, cut := g.LocationFrame(f)
				if !cut || loc.File == "" || loc.Func == fn {
					t.Errorf("goroutine %d: location frame %+v cut=%v", id, loc, cut)
				}
				// The wait state is that of the source.
				if w, s := strings.Fields(got.gs[id])[0], strings.Fields(src.gs[id])[0]; w != s {
					t.Errorf("goroutine %d: %s, want %s", id, w, s)
				}
			}
		})
	}
}

func findG(d *Dump, id int64) *Goroutine {
	for _, g := range d.Goroutines {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// TestFixtureNoNewline: a test printed text with no final newline, so the
// timeout banner follows it on the same line.
func TestFixtureNoNewline(t *testing.T) {
	for _, rel := range []string{"go1.20", "go1.23", "go1.26"} {
		t.Run(rel, func(t *testing.T) {
			d := oneDump(t, rel, "nonl")
			if d.Kind != KindTestTimeout || d.TimeoutAfter != 2*time.Second || d.StartLine != 1 {
				t.Errorf("kind %v after %v at line %d", d.Kind, d.TimeoutAfter, d.StartLine)
			}
			if len(d.RunningTests) != 1 || d.RunningTests[0].Name != "TestNoNewline" {
				t.Errorf("running tests %+v", d.RunningTests)
			}
			roots := TestRoots(d)
			if len(roots) != 1 || roots[0].Test != "TestNoNewline" || len(roots[0].Members) != 1 {
				t.Fatalf("roots %+v", roots)
			}
			g := roots[0].Goroutine
			f, _ := g.UserFrame("example.com/gen")
			if w := Classify(g); w != WaitChanRecv || f.Location() != "nonl_test.go:17" {
				t.Errorf("%v at %s", w, f.Location())
			}
			if len(d.Goroutines) != d.NumGoroutines || d.NumGoroutines < 2 {
				t.Errorf("%d goroutines", d.NumGoroutines)
			}
		})
	}
}

// TestFixtureTrimpath: -trimpath locations, indented and not.
func TestFixtureTrimpath(t *testing.T) {
	for _, rel := range []string{"go1.20", "go1.23", "go1.26"} {
		t.Run(rel, func(t *testing.T) {
			d := oneDump(t, rel, "trimpath")
			checkLeaf(t, d)
			checkWaits(t, d, true)
		})
	}
}

// TestFixtureRace: a race report of go test -race.
func TestFixtureRace(t *testing.T) {
	for _, rel := range []string{"go1.20", "go1.23", "go1.26"} {
		t.Run(rel, func(t *testing.T) {
			d := oneDump(t, rel, "race")
			if d.Kind != KindRace || d.Reason != "WARNING: DATA RACE" || d.NumGoroutines != 2 || len(d.Goroutines) != 2 {
				t.Fatalf("kind %v %q, %d goroutines", d.Kind, d.Reason, d.NumGoroutines)
			}
			if len(d.RunningTests) != 0 {
				t.Errorf("running tests %+v", d.RunningTests)
			}
			helper, test := d.Goroutines[0], d.Goroutines[1]
			if !strings.HasPrefix(helper.Race, "Read at 0x") && !strings.HasPrefix(helper.Race, "Write at 0x") ||
				!strings.HasPrefix(test.Race, "Previous write at 0x") {
				t.Errorf("accesses %q, %q", helper.Race, test.Race)
			}
			if !strings.HasSuffix(helper.Race, fmt.Sprintf(" by goroutine %d", helper.ID)) {
				t.Errorf("access %q of goroutine %d", helper.Race, helper.ID)
			}
			for _, g := range d.Goroutines {
				if g.State != "running" || Classify(g) != WaitRunning || g.CreatedBy == nil || g.CreatedBy.File == "" {
					t.Errorf("goroutine %d [%s]: %v, created by %+v", g.ID, g.State, Classify(g), g.CreatedBy)
				}
			}
			if f, _ := helper.UserFrame("example.com/gen"); f.Func != "example.com/gen/race.bump" || f.Location() != "race_test.go:28" {
				t.Errorf("helper at %s %s", f.Func, f.Location())
			}
			if f, _ := test.UserFrame("example.com/gen"); f.Func != "example.com/gen/race.TestRace" || f.Location() != "race_test.go:18" {
				t.Errorf("test at %s %s", f.Func, f.Location())
			}
			if helper.CreatedBy.Func != "example.com/gen/race.TestRace" || test.CreatedBy.Func != "testing.(*T).Run" {
				t.Errorf("created by %s, %s", helper.CreatedBy.Func, test.CreatedBy.Func)
			}
			roots := TestRoots(d)
			if len(roots) != 1 || roots[0].Test != "TestRace" || roots[0].Goroutine != test || len(roots[0].Members) != 2 {
				t.Fatalf("roots %+v", roots)
			}
		})
	}
}

// TestRaceStreaming: with OnGoroutine, the goroutines of a race report are
// handed over once the report ends, each once.
func TestRaceStreaming(t *testing.T) {
	src := string(readFixture(t, "go1.26", "race"))
	var got []int64
	p := Parser{OnGoroutine: func(d *Dump, g *Goroutine) {
		if d.Kind != KindRace || len(g.Frames) == 0 {
			t.Errorf("goroutine %d of a %v dump with %d frames", g.ID, d.Kind, len(g.Frames))
		}
		got = append(got, g.ID)
	}}
	ds, err := p.Parse(strings.NewReader(src + src))
	if err != nil || len(ds) != 2 {
		t.Fatalf("%v, %d dumps", err, len(ds))
	}
	if len(got) != 4 || len(ds[0].Goroutines) != 0 || ds[0].NumGoroutines != 2 {
		t.Errorf("handed %v; dump keeps %d of %d", got, len(ds[0].Goroutines), ds[0].NumGoroutines)
	}
}

// TestDecoratedLines covers the line shapes one by one, on a real dump.
func TestDecoratedLines(t *testing.T) {
	src := string(readFixture(t, "go1.26", "timeout"))
	want := viewOf(oneDumpOf(t, src))
	cases := map[string]func(string) string{
		"text before the banner": func(s string) string { return "some output with no newline" + s },
		"journald without pid": func(s string) string {
			return mapLines(s, func(i int, l string) string { return fmt.Sprintf("Oct  1 07:05:%02d host hang.test: %s", i%60, l) })
		},
		"timestamp from the second line only": func(s string) string {
			return mapLines(s, func(i int, l string) string {
				if i == 0 {
					return l
				}
				return fmt.Sprintf("2024-05-01T10:00:00.%07dZ %s", i, l)
			})
		},
		"links glued before lines": func(s string) string {
			return mapLines(s, func(i int, l string) string {
				return fmt.Sprintf("[%d](https://github.com/o/r/actions/runs/1/job/2#step:6:%d)%s", i+1, i+1, l)
			})
		},
		"a log line mentioning a panic first": func(s string) string {
			return "    x_test.go:12: recovered panic: not a dump\n" + s
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			compareViews(t, want, viewOf(oneDumpOf(t, f(src))))
		})
	}
}

func oneDumpOf(t *testing.T, s string) *Dump {
	t.Helper()
	ds := mustParse(t, strings.NewReader(s))
	if len(ds) != 1 {
		t.Fatalf("%d dumps", len(ds))
	}
	for _, w := range ds[0].Warnings {
		t.Errorf("warning %+v", w)
	}
	return ds[0]
}

func TestDecoratedFixturesExist(t *testing.T) {
	files, _ := filepath.Glob("testdata/dumps/decorated/*.txt")
	if len(files) != 2*len(decorations) {
		t.Errorf("%d decorated fixtures, want %d", len(files), 2*len(decorations))
	}
}

// TestFixtureRaceFinished: the earlier access was made by a goroutine that
// has exited since ("Goroutine 8 (finished) created at:").
func TestFixtureRaceFinished(t *testing.T) {
	for _, rel := range []string{"go1.20", "go1.23", "go1.26"} {
		t.Run(rel, func(t *testing.T) {
			d := oneDump(t, rel, "race_finished")
			if d.Kind != KindRace || d.NumGoroutines != 2 || len(d.RunningTests) != 0 {
				t.Fatalf("kind %v, %d goroutines, running %v", d.Kind, d.NumGoroutines, d.RunningTests)
			}
			test, helper := d.Goroutines[0], d.Goroutines[1]
			if test.State != "running" || Classify(test) != WaitRunning || !strings.HasPrefix(test.Race, "Read at 0x") {
				t.Errorf("test goroutine [%s] %q", test.State, test.Race)
			}
			if helper.State != "finished" || Classify(helper) != WaitOther || !strings.HasPrefix(helper.Race, "Previous write at 0x") {
				t.Errorf("helper [%s] %q", helper.State, helper.Race)
			}
			if f, _ := test.UserFrame("example.com/gen"); f.Location() != "race_test.go:36" {
				t.Errorf("test at %s", f.Location())
			}
			if f, _ := helper.UserFrame("example.com/gen"); f.Location() != "race_test.go:28" || helper.CreatedBy.Func != "example.com/gen/race.TestRaceFinished" {
				t.Errorf("helper at %s, created by %s", f.Location(), helper.CreatedBy.Func)
			}
			roots := TestRoots(d)
			if len(roots) != 1 || roots[0].Test != "TestRaceFinished" || len(roots[0].Members) != 2 {
				t.Fatalf("roots %+v", roots)
			}
		})
	}
}

// TestFixtureRaceMain: a race of a program (not a test) with its main
// goroutine, which the report names "main goroutine" (goroutine 1).
func TestFixtureRaceMain(t *testing.T) {
	for _, rel := range []string{"go1.20", "go1.23", "go1.26"} {
		t.Run(rel, func(t *testing.T) {
			d := oneDump(t, rel, "race_main")
			if d.Kind != KindRace || d.NumGoroutines != 2 || len(d.RunningTests) != 0 || len(TestRoots(d)) != 0 {
				t.Fatalf("kind %v, %d goroutines, running %v", d.Kind, d.NumGoroutines, d.RunningTests)
			}
			main, g := d.Goroutines[0], d.Goroutines[1]
			if main.ID != 1 || !strings.HasSuffix(main.Race, " by main goroutine") || main.State != "running" || main.CreatedBy != nil {
				t.Errorf("main: %d [%s] %q", main.ID, main.State, main.Race)
			}
			if f, _ := main.UserFrame(); f.Func != "main.main" || f.Location() != "main.go:16" || Classify(main) != WaitRunning {
				t.Errorf("main at %s %s", f.Func, f.Location())
			}
			if !strings.HasPrefix(g.Race, "Previous write at 0x") || g.State != "running" || g.CreatedBy == nil ||
				g.CreatedBy.Func != "main.main" || g.CreatedBy.Location() != "main.go:11" {
				t.Errorf("goroutine %d [%s] %q created by %+v", g.ID, g.State, g.Race, g.CreatedBy)
			}
			if f, _ := g.UserFrame(); f.Location() != "main.go:12" {
				t.Errorf("goroutine %d at %s", g.ID, f.Location())
			}
		})
	}
}
