//go:build unix

package agent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// snapshotBytes bounds what one snapshot of a blocked binary (dump,
// window with heap, block and mutex profiles, second dump with the
// goroutine profile) may allocate in it. The runtime's heap goal is at
// least 4 MiB, and a GC starts once the heap has grown at least 70% of
// the way from the last live heap to the goal: a small binary just after
// a GC has about 2.8 MiB to go. 256 KiB is under a tenth of that, so a
// snapshot brings on a GC only in a binary already that close to one.
const snapshotBytes = 256 << 10

// TestSnapshotRunsNoGC takes the snapshot hangdog takes of a stalled test,
// and the same with a CPU profile, of a test that reads the runtime's
// metrics before and after: no GC cycle may start in between, and the
// snapshot's allocations must stay under snapshotBytes (a CPU profile
// costs more: about 2.4 MB for the runtime's sample buffer and pprof's
// compressor, which is why hangdog takes it only when a goroutine runs;
// its bound is 2.75 MiB).
func TestSnapshotRunsNoGC(t *testing.T) {
	needGo(t)
	for _, tc := range []struct {
		name string
		cpu  time.Duration
		max  uint64
	}{
		{"blocked", 0, snapshotBytes},
		{"cpu", time.Second, snapshotBytes + 5<<19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := measureSnapshot(t, tc.cpu, nil)
			t.Logf("snapshot: %d GC cycles, %d bytes allocated (heap live %d, goal %d)", m.cycles, m.allocs, m.live, m.goal)
			// With room for the bound below the lowest trigger the
			// pacer can pick (70% of the way to the goal), an
			// allocation-driven GC is ruled out: any cycle is the
			// snapshot's doing. The fixture's heap is small enough
			// for either snapshot to fit.
			if room := m.live + (m.goal-m.live)*7/10; m.live+m.allocs >= room {
				t.Fatalf("fixture heap too close to its trigger for the bound: live %d, goal %d", m.live, m.goal)
			}
			if m.cycles != 0 {
				t.Errorf("%d GC cycles during the snapshot, want 0", m.cycles)
			}
			if m.allocs > tc.max {
				t.Errorf("the snapshot allocated %d bytes, want at most %d", m.allocs, tc.max)
			}
		})
	}
}

// gcCounts are what testdata/gcmod saw: GC cycles and bytes allocated
// during the snapshot, its live heap and heap goal before it.
type gcCounts struct {
	cycles, allocs, live, goal uint64
	version                    string // the test binary's Go
}

// measureSnapshot runs testdata/gcmod, snapshots it as hangdog does and
// returns what the test saw meanwhile.
func measureSnapshot(t *testing.T, cpu time.Duration, goEnv []string) (m gcCounts) {
	mod := fixture(t, "gcmod")
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	// Held open for writing, so that the test's open does not block.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	inj := prepareEnv(t, mod, env(goEnv...), "-run=^TestBlocked$", "-v", ".")
	gt := startGoTest(t, mod, env(append(append(goEnv, inj.Env...), "GCMOD_FIFO="+fifo)...), inj.Args...)
	pid := gt.binary("TestBlocked", mod, inj.Dir)
	e := gt.wait(60*time.Second, "the test waiting", func(e event) bool { return strings.Contains(e.Output, "gcmod: waiting") })
	if _, err := fmt.Sscanf(strings.TrimSpace(e.Output), "gcmod: waiting (heap live %d, goal %d, %s", &m.live, &m.goal, &m.version); err != nil {
		t.Fatalf("%q: %v", e.Output, err)
	}
	m.version = strings.TrimSuffix(m.version, ")")
	time.Sleep(200 * time.Millisecond) // into the read
	s1 := mustRequest(t, inj.Dir, pid, Req{Goroutines: true})
	s2 := mustRequest(t, inj.Dir, pid, Req{CPU: cpu, Heap: true, Block: true, Mutex: true})
	s3 := mustRequest(t, inj.Dir, pid, Req{Goroutines: true, GoroutinesProto: true})
	// gcmod ran a GC of its own before the snapshot: its heap profile
	// has data, and no note says otherwise.
	if strings.Contains(strings.Join(s2.Notes, " "), "no garbage collection yet") {
		t.Errorf("notes %q", s2.Notes)
	}
	for _, s := range []*Snapshot{s1, s2, s3} {
		if len(s.Errors) > 0 {
			t.Errorf("agent errors: %q", s.Errors)
		}
	}
	if !strings.Contains(readFile(t, s1.Goroutines), "gcmod.TestBlocked(") || s2.Heap == "" || s2.Block == "" || s2.Mutex == "" || s3.GoroutinesProto == "" || (cpu > 0) != (s2.CPU != "") {
		t.Errorf("snapshot incomplete: %+v %+v %+v", s1, s2, s3)
	}
	if _, err := w.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	e = gt.wait(60*time.Second, "the counts", func(e event) bool { return strings.Contains(e.Output, "gcmod: cycles ") })
	if _, err := fmt.Sscanf(strings.TrimSpace(e.Output), "gcmod: cycles %d allocs %d", &m.cycles, &m.allocs); err != nil {
		t.Fatalf("%q: %v", e.Output, err)
	}
	if out := gt.finish(60 * time.Second); !strings.Contains(out, `"Action":"pass","Package":"example.com/gcmod","Test":"TestBlocked"`) {
		t.Errorf("TestBlocked did not pass:\n%s", out)
	}
	return m
}

// TestGoReleases builds and snapshots a test binary with the agent under
// Go 1.27 (whose goroutine leak profile is always there), and under this
// Go 1.26 with and without GOEXPERIMENT=goroutineleakprofile: the agent
// compiles and answers, and its snapshot runs no GC in any of them. The
// agent never asks for the goroutineleak profile: writing it is what runs
// the leak-detection GC (measured: one cycle, and pending finalizers run),
// the very thing a snapshot must not do.
func TestGoReleases(t *testing.T) {
	needGo(t)
	for _, tc := range []struct {
		name    string
		env     []string
		version string // in the test binary's runtime.Version
	}{
		{"go1.26", []string{"GOTOOLCHAIN=local", "GOEXPERIMENT="}, "go1.26"},
		{"go1.26 goroutineleakprofile", []string{"GOTOOLCHAIN=local", "GOEXPERIMENT=goroutineleakprofile"}, "X:goroutineleakprofile"},
		{"go1.27.3", []string{"GOTOOLCHAIN=go1.27.3", "GOEXPERIMENT="}, "go1.27.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out, err := exec.Command("go", "version").Output(); err != nil || !strings.Contains(string(out), "go1.26") {
				t.Skipf("the local go is not 1.26: %s", out)
			}
			cmd := exec.Command("go", "env", "GOVERSION")
			cmd.Env = env(tc.env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Skipf("%s not available: %v: %s", tc.name, err, out)
			}
			m := measureSnapshot(t, 0, tc.env)
			t.Logf("%s: %d GC cycles, %d bytes allocated", m.version, m.cycles, m.allocs)
			if m.cycles != 0 || m.allocs > snapshotBytes {
				t.Errorf("%d GC cycles, %d bytes allocated", m.cycles, m.allocs)
			}
			if !strings.Contains(m.version, tc.version) {
				t.Errorf("test binary runs %q, want %q", m.version, tc.version)
			}
		})
	}
}

// prepareEnv is prepare with the go command's environment.
func prepareEnv(t testing.TB, dir string, goEnv []string, args ...string) *Injection {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	inj, err := Prepare(ctx, PrepareOptions{Dir: dir, Env: goEnv, Args: args, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inj.Close() })
	return inj
}
