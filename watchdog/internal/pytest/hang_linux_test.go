package pytest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

var record = flag.Bool("record", false, "write the first round's dumps of the hang tests to testdata/dumps")

// hangCase is one fixture suite of testdata/pytest/hang and what its
// diagnosis must say.
type hangCase struct {
	name    string
	args    []string
	markers []string // rendezvous files that say every test reached its wait
	tests   int      // processes that must be running a test
	running bool     // the stuck thread is on a CPU (busy loop)
	threads []string // threads the tests start, to be in the thread tables
	queued  map[string][]string
	check   func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState)
}

// hangCases are the fixture suites; each check gets the diagnoses and the
// worker states by node id.
var hangCases = []hangCase{
	{
		name: "flock_deadlock", args: []string{"-n", "2", "--dist", "loadfile"},
		markers: []string{"up.blocking", "down.blocking"}, tests: 2,
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			up, down := "test_migrate_up.py::test_migrate_up", "test_migrate_down.py::test_migrate_down"
			differentWorkers(t, ws, up, down)
			d := ds[up]
			want(t, d, up, "call", "test_migrate_up.py:24", "waits for flock on ", "data.lock")
			wantSummary(t, d, "test_migrate_up ("+ws[up].Worker+") holds schema.lock and waits for data.lock at test_migrate_up.py:24, held by test_migrate_down ("+ws[down].Worker+"), which waits for schema.lock: a lock-order deadlock between two workers")
			wantSummary(t, ds[down], "test_migrate_down ("+ws[down].Worker+") holds data.lock and waits for schema.lock at test_migrate_down.py:24, held by test_migrate_up ("+ws[up].Worker+"), which waits for data.lock: a lock-order deadlock between two workers")
		},
	},
}

func TestHangFixtures(t *testing.T) {
	for _, c := range hangCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := startRun(t, c.name, c.args...)
			r.waitMarkers(c.markers...)
			evs := r.settled(c.tests, c.running, c.threads...)
			snap, ws, rootdir := r.snapshot(evs)
			for i := range ws {
				ws[i].Queued = c.queued[ws[i].Test]
			}
			ds := Diagnose(DiagInput{Rootdir: rootdir, Workers: ws, Snapshot: snap})
			byTest := map[string]core.Diagnosis{}
			for _, d := range ds {
				byTest[d.Test] = d
				t.Logf("%s [%s] %s at %s: %s", d.Test, d.Phase, d.State, d.Location, d.Summary)
			}
			wsByTest := map[string]WorkerState{}
			for _, w := range ws {
				wsByTest[w.Test] = w
			}
			if *record {
				recordDumps(t, c.name, snap)
			}
			c.check(t, byTest, wsByTest)
		})
	}
}

// recordDumps writes the first round's raw dumps as testdata/dumps/<case>-<worker>.txt.
func recordDumps(t *testing.T, name string, snap *Snapshot) {
	for _, p := range snap.Rounds[0].Procs {
		w := p.Worker
		if w == "" {
			w = "main"
		}
		path := filepath.Join("testdata", "dumps", name+"-"+w+".txt")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, p.Raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func differentWorkers(t *testing.T, ws map[string]WorkerState, a, b string) {
	t.Helper()
	if ws[a].Worker == "" || ws[a].Worker == ws[b].Worker {
		t.Fatalf("%s on worker %q and %s on %q: want two workers", a, ws[a].Worker, b, ws[b].Worker)
	}
}

// want checks a diagnosis's test, phase, location and that its state
// holds every part.
func want(t *testing.T, d core.Diagnosis, test, phase, loc string, state ...string) {
	t.Helper()
	if d.Test != test || string(d.Phase) != phase || d.Location != loc {
		t.Errorf("diagnosis %q [%s] at %s, want %q [%s] at %s", d.Test, d.Phase, d.Location, test, phase, loc)
	}
	for _, s := range state {
		if !strings.Contains(d.State, s) {
			t.Errorf("%s: state %q does not say %q", test, d.State, s)
		}
	}
	if len(d.Goroutines) == 0 || d.Goroutines[0].Role != "test" || d.Goroutines[0].Location != loc {
		t.Errorf("%s: thread groups %+v, want the test's thread first at %s", test, d.Goroutines, loc)
	}
}

func wantSummary(t *testing.T, d core.Diagnosis, s string) {
	t.Helper()
	if d.Summary != s {
		t.Errorf("summary\n  %s\nwant\n  %s", d.Summary, s)
	}
}
