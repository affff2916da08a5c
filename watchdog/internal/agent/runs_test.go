package agent

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestCached runs the passing tests of a fresh copy of testdata/plain
// twice, each time with a new injection (a new run directory), asking for
// a dump in the middle of the first run: the second run must come entirely
// from the test cache.
func TestCached(t *testing.T) {
	needGo(t)
	mod := filepath.Join(t.TempDir(), "plain") // a new path: nothing cached yet
	copyDir(t, fixture(t, "plain"), mod)
	if real, err := filepath.EvalSymlinks(mod); err == nil {
		mod = real
	}
	args := []string{"-run=Fast|Slow|Answer|Ready|Collide", "./..."}

	inj := prepare(t, mod, args...)
	gt := startGoTest(t, mod, env(inj.Env...), inj.Args...)
	pid := gt.binary("TestSlow", filepath.Join(mod, "slow"), inj.Dir)
	snap := mustRequest(t, inj.Dir, pid, Req{Goroutines: true, Heap: true})
	if !strings.Contains(readFile(t, snap.Goroutines), "example.com/plain/slow.TestSlow(") {
		t.Errorf("dump has no TestSlow")
	}
	first := gt.finish(60 * time.Second)
	if strings.Contains(first, "(cached)") || strings.Contains(first, `"Action":"fail"`) {
		t.Fatalf("first run:\n%s", first)
	}

	again := prepare(t, mod, args...)
	second := startGoTest(t, mod, env(again.Env...), again.Args...).finish(60 * time.Second)
	oks := 0
	for _, line := range strings.Split(second, "\n") {
		if strings.Contains(line, `"Output":"ok  `) {
			oks++
			if !strings.Contains(line, "(cached)") {
				t.Errorf("not cached: %s", line)
			}
		}
	}
	if oks != len(inj.Packages) {
		t.Errorf("%d packages ok, want %d:\n%s", oks, len(inj.Packages), second)
	}

	// Another pattern makes another overlay file, with the same agent
	// files: still cached.
	one := prepare(t, mod, "-run=Fast|Slow|Answer|Ready|Collide", "./xonly")
	if one.Overlay == inj.Overlay {
		t.Errorf("same overlay for other packages")
	}
	third := startGoTest(t, mod, env(one.Env...), one.Args...).finish(60 * time.Second)
	if !strings.Contains(third, "example.com/plain/xonly\\t(cached)") {
		t.Errorf("not cached with another overlay:\n%s", third)
	}
}

// TestGoleak runs a module that checks for leaked goroutines before and
// after each test with go.uber.org/goleak: it must pass with the agent.
func TestGoleak(t *testing.T) {
	needGo(t)
	mod := fixture(t, "leakmod")
	if out, err := exec.Command("go", "-C", mod, "mod", "download", "go.uber.org/goleak").CombinedOutput(); err != nil {
		t.Skipf("goleak not available: %v: %s", err, out)
	}
	inj := prepare(t, mod, "-count=3", "-v", "./...")
	out := startGoTest(t, mod, env(inj.Env...), inj.Args...).finish(60 * time.Second)
	if strings.Contains(out, `"Action":"fail"`) || !strings.Contains(out, `"Action":"pass","Package":"example.com/leakmod","Elapsed"`) {
		t.Errorf("goleak failed with the agent:\n%s", out)
	}
	if n := strings.Count(out, `"Action":"pass","Package":"example.com/leakmod","Test":"TestSleepy"`); n != 3 {
		t.Errorf("TestSleepy passed %d times, want 3", n)
	}
}

// TestDeadlockOutsideRun shows the one change the agent makes to a test
// binary: a TestMain that deadlocks before m.Run crashes with "all
// goroutines are asleep" without it, and hangs (and can be dumped) with it.
func TestDeadlockOutsideRun(t *testing.T) {
	needGo(t)
	mod := fixture(t, "deadmod")
	inj := prepare(t, mod, ".")

	out := startGoTest(t, mod, env(), inj.Args...).finish(60 * time.Second)
	if !strings.Contains(out, "all goroutines are asleep - deadlock!") {
		t.Errorf("without HANGDOG_AGENT_DIR, no deadlock crash:\n%s", out)
	}

	gt := startGoTest(t, mod, env(inj.Env...), inj.Args...)
	pid := gt.binary("", mod, inj.Dir)
	snap := mustRequest(t, inj.Dir, pid, Req{Goroutines: true})
	dump := readFile(t, snap.Goroutines)
	if !strings.Contains(dump, "example.com/deadmod.setup(") || !strings.Contains(dump, "example.com/deadmod.TestMain(") {
		t.Errorf("dump has no TestMain/setup:\n%s", dump)
	}
	if strings.Contains(gt.output(), "deadlock") {
		t.Errorf("crashed with the agent:\n%s", gt.output())
	}
}

// TestCgo dumps a hung test of a package that uses cgo.
func TestCgo(t *testing.T) {
	needGo(t)
	if out, err := exec.Command("go", "env", "CGO_ENABLED").Output(); err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Skip("cgo is disabled")
	}
	mod := fixture(t, "cgomod")
	inj := prepare(t, mod, "-run=CgoHang|Twice", "./...")
	gt := startGoTest(t, mod, env(inj.Env...), inj.Args...)
	pid := gt.binary("TestCgoHang", filepath.Join(mod, "cg"), inj.Dir)
	snap := mustRequest(t, inj.Dir, pid, Req{Goroutines: true})
	if dump := readFile(t, snap.Goroutines); !strings.Contains(dump, "example.com/cgomod/cg.TestCgoHang(") {
		t.Errorf("dump has no TestCgoHang:\n%s", dump)
	}
}

// TestManyGoroutines times requests to a binary with 10,000 parked
// goroutines, from writing the request to reading the response.
func TestManyGoroutines(t *testing.T) {
	needGo(t)
	dir, pid := startMany(t)
	var took []time.Duration
	for i := 0; i < 5; i++ {
		start := time.Now()
		snap := mustRequest(t, dir, pid, Req{Goroutines: true})
		took = append(took, time.Since(start))
		if snap.NumGoroutine < 10000 || snap.Truncated {
			t.Fatalf("NumGoroutine %d, truncated %v", snap.NumGoroutine, snap.Truncated)
		}
		if i == 0 {
			st, _ := os.Stat(snap.Goroutines)
			t.Logf("dump: %d bytes, agent took %v (received to done)", st.Size(), snap.Done.Sub(snap.Received))
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("request to complete dump, 10,000 goroutines: min %v, median %v, max %v (poll every %v)", took[0], took[2], took[4], PollInterval)
	if took[0] > time.Second {
		t.Errorf("best of 5 took %v, want < 1s", took[0])
	}
}

// BenchmarkRequestManyGoroutines measures a goroutine dump request to a
// binary with 10,000 parked goroutines (about 50 ms of it is waiting for
// the next poll).
func BenchmarkRequestManyGoroutines(b *testing.B) {
	dir, pid := startMany(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Request(context.Background(), dir, pid, Req{Goroutines: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// startMany runs testdata/plain/many and returns the run directory and the
// PID of its binary once its 10,000 goroutines are parked.
func startMany(t testing.TB) (string, int) {
	mod := fixture(t, "plain")
	inj := prepare(t, mod, "-run=^TestMany$", "-v", "./many")
	gt := startGoTest(t, mod, env(inj.Env...), inj.Args...)
	pid := gt.binary("TestMany", filepath.Join(mod, "many"), inj.Dir)
	gt.wait(30*time.Second, "parked", func(e event) bool { return strings.Contains(e.Output, "parked") })
	return inj.Dir, pid
}

// copyDir copies the regular files of the tree src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
