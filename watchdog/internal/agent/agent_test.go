package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// hangs are the hanging tests of testdata/plain, one per kind of package,
// with a function their dump must show.
var hangs = []struct {
	name, dir, test, frame string
}{
	{"plain", "", "TestHangChan", "example.com/plain.WaitForever("},
	{"x_test only", "xonly", "TestXHang", "example.com/plain/xonly_test.TestXHang("},
	{"test files only", "testonly", "TestOnlyHang", "example.com/plain/testonly.lockTwice("},
	{"package main", "cmd/tool", "TestToolHang", "example.com/plain/cmd/tool.TestToolHang("},
	{"TestMain", "withmain", "TestMainHang", "example.com/plain/withmain.TestMainHang("},
	{"signal.Notify", "sig", "TestSigHang", "example.com/plain/sig.waitSignal("},
}

// TestDumpHungTests runs every hanging test of testdata/plain at once, in
// one go test, and asks each binary for its goroutines: the dump must show
// the hung test's stack, and the binary must still be running afterwards.
func TestDumpHungTests(t *testing.T) {
	needGo(t)
	for _, variant := range []struct {
		name  string
		flags []string
	}{
		{"default", nil},
		{"race cover count", []string{"-race", "-cover", "-count=2"}},
	} {
		t.Run(variant.name, func(t *testing.T) {
			mod := fixture(t, "plain")
			args := append([]string{"-p=8", "-run=Hang"}, variant.flags...)
			args = append(args, "./...")
			inj := prepare(t, mod, args...)
			gt := startGoTest(t, mod, env(inj.Env...), inj.Args...)
			for _, h := range hangs {
				pid := gt.binary(h.test, filepath.Join(mod, h.dir), inj.Dir)
				snap := mustRequest(t, inj.Dir, pid, Req{Goroutines: true})
				dump := readFile(t, snap.Goroutines)
				if !strings.Contains(dump, h.frame) || !strings.Contains(dump, "testing.tRunner(") {
					t.Errorf("%s: dump of %s has no %s:\n%s", h.name, h.test, h.frame, dump)
				}
				if strings.Contains(dump, "hangdogAgent") || !strings.HasPrefix(dump, "goroutine ") {
					t.Errorf("%s: the agent's own goroutine is in the dump:\n%s", h.name, dump)
				}
				if snap.NumGoroutine == 0 || snap.GoVersion == "" || snap.Done.Before(snap.Received) || len(snap.Errors) > 0 {
					t.Errorf("%s: snapshot %+v", h.name, snap)
				}
				if p, err := proc.Get(pid); err != nil || p.State == "Z" {
					t.Errorf("%s: binary gone after the dump: %v", h.name, err)
				}
			}
			if out := gt.output(); strings.Contains(out, "DATA RACE") {
				t.Errorf("race detector:\n%s", out)
			}
		})
	}
}

// TestProfiles asks a busy test for a CPU profile, whose hottest function
// must be the busy one, and for heap, block and mutex profiles.
func TestProfiles(t *testing.T) {
	needGo(t)
	for _, race := range []bool{false, true} {
		t.Run(fmt.Sprintf("race=%v", race), func(t *testing.T) { testProfiles(t, race) })
	}
}

func testProfiles(t *testing.T, race bool) {
	mod := fixture(t, "plain")
	args := []string{"-run=^TestBusy$", "."}
	if race {
		args = append(args, "-race")
	}
	inj := prepare(t, mod, args...)
	gt := startGoTest(t, mod, env(inj.Env...), inj.Args...)
	pid := gt.binary("TestBusy", mod, inj.Dir)
	snap := mustRequest(t, inj.Dir, pid, Req{CPU: 500 * time.Millisecond, Heap: true, Block: true, Mutex: true, GoroutinesProto: true})
	// A second request: the agent polls again after a windowed one.
	mustRequest(t, inj.Dir, pid, Req{Goroutines: true, Mutex: true, Block: true})
	if out := gt.output(); strings.Contains(out, "DATA RACE") {
		t.Errorf("race detector:\n%s", out)
	}
	if len(snap.Errors) > 0 {
		t.Errorf("agent errors: %q", snap.Errors)
	}
	if got := snap.Done.Sub(snap.WindowStart); got < 500*time.Millisecond {
		t.Errorf("window was %v, want >= 500ms", got)
	}
	profiles := map[string]*profile.Profile{}
	for kind, path := range map[string]string{"cpu": snap.CPU, "heap": snap.Heap, "block": snap.Block, "mutex": snap.Mutex, "goroutine": snap.GoroutinesProto} {
		if path == "" {
			t.Errorf("no %s profile", kind)
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := profile.Parse(f)
		f.Close()
		if err != nil {
			t.Errorf("%s profile: %v", kind, err)
			continue
		}
		profiles[kind] = p
	}
	cpu := profiles["cpu"]
	if cpu == nil {
		return
	}
	// Count samples per leaf function: Spin must be the hottest.
	flat := map[string]int64{}
	for _, s := range cpu.Sample {
		if len(s.Location) > 0 && len(s.Location[0].Line) > 0 {
			flat[s.Location[0].Line[0].Function.Name] += s.Value[0]
		}
	}
	hot, hotN := "", int64(0)
	for fn, n := range flat {
		if n > hotN {
			hot, hotN = fn, n
		}
	}
	if !strings.HasPrefix(hot, "example.com/plain.Spin") {
		t.Errorf("hottest function %q, want example.com/plain.Spin; flat %v", hot, flat)
	}
	if g := profiles["goroutine"]; g != nil && !hasFunction(g, "example.com/plain.Spin") {
		t.Errorf("goroutine profile has no Spin")
	}
}

// hasFunction reports whether some sample of p has fn in its stack.
func hasFunction(p *profile.Profile, fn string) bool {
	for _, s := range p.Sample {
		for _, l := range s.Location {
			for _, line := range l.Line {
				if strings.HasPrefix(line.Function.Name, fn) {
					return true
				}
			}
		}
	}
	return false
}

// TestWedged asks a binary whose world is stopped for good: Request must
// give up at the pickup stage and say why.
func TestWedged(t *testing.T) {
	needGo(t)
	mod := fixture(t, "plain")
	inj := prepare(t, mod, "-run=^TestWedge$", "./wedge")
	gt := startGoTest(t, mod, env(append(inj.Env, "GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=2")...), inj.Args...)
	pid := gt.binary("TestWedge", filepath.Join(mod, "wedge"), inj.Dir)
	time.Sleep(300 * time.Millisecond) // let runtime.GC get stuck
	start := time.Now()
	_, err := Request(context.Background(), inj.Dir, pid, Req{Goroutines: true, PickupTimeout: time.Second})
	var te *TimeoutError
	if !errors.As(err, &te) || te.Stage != StagePickup {
		t.Fatalf("err = %v, want a pickup timeout", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("gave up after %v, want about 1s", took)
	}
	if te.State != "R" || !strings.Contains(err.Error(), "stopping the world") {
		t.Errorf("err = %v (state %q), want a running process that cannot stop the world", err, te.State)
	}
	if st, err := os.Stat(filepath.Join(inj.Dir, strconv.Itoa(pid)+".req")); err != nil || st.Size() != 0 {
		t.Errorf("request not withdrawn: %v", err)
	}
}

// TestErrors covers the failures Request finds before it asks.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := Request(ctx, dir, os.Getpid(), Req{}); !errors.Is(err, ErrNoAgent) {
		t.Errorf("no hello: err = %v, want ErrNoAgent", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "999999999.req"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Request(ctx, dir, 999999999, Req{}); !errors.Is(err, ErrExited) {
		t.Errorf("no process: err = %v, want ErrExited", err)
	}
	if _, err := Request(ctx, dir, 0, Req{}); err == nil {
		t.Errorf("pid 0: no error")
	}

	// A process without a running agent (sleep(1) with a request file):
	// busy while a request is pending, a pickup timeout otherwise, and the
	// request withdrawn on a timeout or a cancel.
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	pid := sleep.Process.Pid
	reqFile := filepath.Join(dir, strconv.Itoa(pid)+".req")
	if err := os.WriteFile(reqFile, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Request(ctx, dir, pid, Req{}); !errors.Is(err, ErrBusy) {
		t.Errorf("pending request: err = %v, want ErrBusy", err)
	}
	withdrawn := func() bool {
		st, err := os.Stat(reqFile)
		return err == nil && st.Size() == 0
	}
	os.Truncate(reqFile, 0)
	_, err := Request(ctx, dir, pid, Req{Goroutines: true, PickupTimeout: 200 * time.Millisecond})
	var te *TimeoutError
	if !errors.As(err, &te) || te.Stage != StagePickup || te.State != "S" || !withdrawn() {
		t.Errorf("sleeping process: err = %v (%+v), withdrawn %v", err, te, withdrawn())
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := Request(cctx, dir, pid, Req{Goroutines: true}); !errors.Is(err, context.DeadlineExceeded) || !withdrawn() {
		t.Errorf("cancelled: err = %v, withdrawn %v", err, withdrawn())
	}

	// The process dies while Request waits (it stays a zombie: we are
	// its parent and have not reaped it).
	time.AfterFunc(100*time.Millisecond, func() { sleep.Process.Kill() })
	start := time.Now()
	if _, err := Request(ctx, dir, pid, Req{Goroutines: true, PickupTimeout: 5 * time.Second}); !errors.Is(err, ErrExited) {
		t.Errorf("killed: err = %v, want ErrExited", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("noticed the exit after %v", took)
	}
}
