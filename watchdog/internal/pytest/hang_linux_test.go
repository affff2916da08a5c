package pytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// hangCase is one fixture suite of testdata/pytest/hang and what its
// diagnosis must say.
type hangCase struct {
	name    string
	args    []string
	markers []string // rendezvous files that say every test reached its wait
	tests   int      // processes that must be running a test
	running bool     // the stuck thread is on a CPU (busy loop)
	threads []string // threads the tests start, to be in the thread tables
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
	{
		name: "socket_wait", args: []string{"-n", "2", "--dist", "loadfile"},
		markers: []string{"server.blocking", "client.blocking"}, tests: 2,
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			c, sv := "test_client.py::test_client", "test_server.py::test_server"
			differentWorkers(t, ws, c, sv)
			want(t, ds[c], c, "call", "test_client.py:15", "waits in recv on a TCP connection 127.0.0.1:")
			want(t, ds[sv], sv, "call", "test_server.py:18", "waits in recv on a TCP connection 127.0.0.1:")
			for _, x := range []struct {
				d              core.Diagnosis
				me, other, loc string
			}{
				{ds[c], "test_client (" + ws[c].Worker + ")", "test_server (" + ws[sv].Worker + "), which waits in recv at test_server.py:18", "test_client.py:15"},
				{ds[sv], "test_server (" + ws[sv].Worker + ")", "test_client (" + ws[c].Worker + "), which waits in recv at test_client.py:15", "test_server.py:18"},
			} {
				wantRe(t, x.d, `^`+regexp.QuoteMeta(x.me)+` waits in recv on a TCP connection 127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+ at `+regexp.QuoteMeta(x.loc)+
					`, whose other end is `+regexp.QuoteMeta(x.other)+`: the two tests wait for each other$`)
			}
		},
	},
	{
		name: "sqlite_busy", args: []string{"-n", "2", "--dist", "loadfile"},
		markers: []string{"writer.locked", "insert.blocking"}, tests: 2,
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			in, wr := "test_insert.py::test_insert", "test_writer.py::test_writer"
			differentWorkers(t, ws, in, wr)
			want(t, ds[in], in, "call", "test_insert.py:13", "waits in sqlite's busy handler for ", "app.db")
			wantSummary(t, ds[in], "test_insert ("+ws[in].Worker+") waits in sqlite's busy handler for app.db at test_insert.py:13, locked by test_writer ("+ws[wr].Worker+"), which holds its transaction open and sleeps in a loop at test_writer.py:16")
			want(t, ds[wr], wr, "call", "test_writer.py:16", "sleeps in a loop")
		},
	},
	{
		name: "child_never_exits", args: []string{"-n", "2"},
		markers: []string{"child.blocking"}, tests: 1,
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			c := "test_child.py::test_child"
			want(t, ds[c], c, "call", "test_child.py:8", "waits for child ", "(sleep 86400)")
			wantRe(t, ds[c], `^test_child \(gw[01]\) waits for child \d+ \(sleep 86400\) at test_child\.py:8, which has not exited \(state [RSD]\)$`)
		},
	},
	{
		name: "thread_deadlock", markers: []string{"threads.blocking", "forward.blocking", "backward.blocking"}, tests: 1, threads: []string{"forward", "backward"},
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			c := "test_threads.py::test_two_threads"
			want(t, ds[c], c, "call", "test_threads.py:35", "joins a thread")
			wantSummary(t, ds[c], "test_two_threads joins a thread at test_threads.py:35; thread backward holds b and waits for a at test_threads.py:21, thread forward holds a and waits for b at test_threads.py:13: a lock-order deadlock between 2 threads of the test")
			if n := len(ds[c].Goroutines); n != 3 {
				t.Errorf("%d thread groups, want 3 (the test, forward, backward): %+v", n, ds[c].Goroutines)
			}
		},
	},
	{
		name: "busy_loop", args: []string{"-n", "2"}, markers: []string{"spin.blocking"}, tests: 1, running: true,
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			c := "test_spin.py::test_spin"
			want(t, ds[c], c, "call", "test_spin.py:7", "spinning (")
			wantRe(t, ds[c], `^test_spin \(gw[01]\) is spinning at test_spin\.py:7 \(\d+ % of a CPU between the two dumps\)$`)
		},
	},
	{
		name: "teardown_join", markers: []string{"teardown.blocking"}, tests: 1, threads: []string{"poller"},
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			c := "test_teardown.py::test_uses_background"
			want(t, ds[c], c, "teardown", "test_teardown.py:21", "joins a thread")
			wantSummary(t, ds[c], "test_uses_background, in teardown of fixture background, joins a thread at test_teardown.py:21; thread poller sleeps in a loop at test_teardown.py:14, and never ends")
		},
	},
	{
		name: "queued_behind", args: []string{"-n", "2", "--dist", "loadfile"}, markers: []string{"wait.blocking"}, tests: 1,
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			c := "test_queue.py::test_wait_for_report"
			want(t, ds[c], c, "call", "test_queue.py:10", "sleeps in a loop")
			wantSummary(t, ds[c], "test_wait_for_report ("+ws[c].Worker+") sleeps in a loop at test_queue.py:10; queued behind it on "+ws[c].Worker+": test_queue.py::test_create_report")
		},
	},
	{
		name: "plain_hang", markers: []string{"plain.blocking"}, tests: 1,
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			c := "test_plain.py::test_register_twice"
			if ws[c].Worker != "" {
				t.Errorf("worker %q in a run without xdist", ws[c].Worker)
			}
			want(t, ds[c], c, "call", "test_plain.py:8", "waits to acquire lock registry")
			wantSummary(t, ds[c], "test_register_twice waits to acquire registry at test_plain.py:8, which its own thread already holds: a lock acquired twice by one thread")
		},
	},
	{
		name: "loadscope_flock", args: []string{"-n", "2", "--dist", "loadscope"},
		markers: []string{"alpha.blocking", "beta.blocking"}, tests: 2,
		check: func(t *testing.T, ds map[string]core.Diagnosis, ws map[string]WorkerState) {
			a, b := "test_scope.py::TestAlpha::test_alpha", "test_scope.py::TestBeta::test_beta"
			differentWorkers(t, ws, a, b)
			want(t, ds[a], a, "setup", "test_scope.py:26", "waits for flock on ", "index.lock")
			wantSummary(t, ds[a], "TestAlpha::test_alpha ("+ws[a].Worker+"), in setup of fixture cache_locks (class scope), holds cache.lock and waits for index.lock at test_scope.py:26, held by TestBeta::test_beta ("+ws[b].Worker+"), which waits for cache.lock: a lock-order deadlock between two workers")
			wantSummary(t, ds[b], "TestBeta::test_beta ("+ws[b].Worker+"), in setup of fixture index_locks (class scope), holds index.lock and waits for cache.lock at test_scope.py:26, held by TestAlpha::test_alpha ("+ws[a].Worker+"), which waits for index.lock: a lock-order deadlock between two workers")
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
			for _, w := range ws {
				if w.Test == "" {
					continue
				}
				v, cpu := Verdict(DiagInput{Rootdir: rootdir, Workers: ws, Snapshot: snap}, w.Unit)
				if want := map[bool]string{true: "spinning", false: "stuck"}[c.running]; v != want || (c.running && cpu <= 5) {
					t.Errorf("%s: verdict %q (%.0f %% of a CPU), want %q", w.Test, v, cpu, want)
				}
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
		if len(p.Raw) == 0 {
			continue // not signalled
		}
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

func wantRe(t *testing.T, d core.Diagnosis, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(d.Summary) {
		t.Errorf("summary\n  %s\ndoes not match\n  %s", d.Summary, re)
	}
}

// TestRecordLimits records limits.py's dumps; it runs only with -record.
func TestRecordLimits(t *testing.T) {
	if !*record {
		t.Skip("records testdata/dumps/limits-*.txt with -record")
	}
	py := python(t).Path
	for _, mode := range []string{"threads", "frames", "unicode", "twice"} {
		out, err := exec.Command(py, filepath.Join("testdata", "dumps", "limits.py"), mode).Output()
		if err != nil {
			t.Fatalf("limits.py %s: %v", mode, err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "dumps", "limits-"+mode+".txt"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
