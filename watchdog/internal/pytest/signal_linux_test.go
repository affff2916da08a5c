package pytest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sigCaught reports whether pid catches sig (its bit in SigCgt of
// /proc/pid/status), as hangdog checks before every send.
func sigCaught(pid, sig int) (bool, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return false, err
			}
			return mask&(1<<(sig-1)) != 0, nil
		}
	}
	return false, fmt.Errorf("no SigCgt in /proc/%d/status", pid)
}

var threadHeaderRE = regexp.MustCompile(`(?m)^(?:Current thread|Thread) (0x[0-9a-f]+) \(most recent call first\):`)

// TestSnapshotSignal: the plugin's signal dumps every thread of a process
// (a worker running a test that holds three threads, an idle worker, the
// controller; or the only process of a run without xdist) into its stacks
// file, twice, without stopping it: the test then passes and the run ends
// normally.
func TestSnapshotSignal(t *testing.T) {
	in := python(t)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"plain", []string{"-p", "no:xdist"}},
		{"n2", []string{"-n", "2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.name == "n2" {
				needXdist(t, in)
			}
			testSnapshotSignal(t, in, c.args)
		})
	}
}

func testSnapshotSignal(t *testing.T, in *Interpreter, args []string) {
	tmp := t.TempDir()
	release := filepath.Join(tmp, "release")
	r := Runner{Interpreter: in, Environ: append(os.Environ(), "HANGDOG_FIXTURE_RELEASE="+release)}
	d, err := NewRunDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Remove()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	argv := r.Command(in.Path, append([]string{"-p", "no:cacheprovider", "-v"}, args...))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = fixture(t, "signal")
	cmd.Env = r.Env(d.Path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		os.WriteFile(release, nil, 0o600)
		cancel()
		cmd.Wait()
	}()

	// Follow the events until the test's call runs with its threads.
	rec := &recorder{}
	src := NewSource(d.Path)
	state := &Processes{}
	var runner *Event // the hello of the process that runs the test
	hellos := map[int]*Event{}
	tables := map[int][]Thread{}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the test never started its threads:\n%s", out.String())
		}
		if err := src.Poll(rec); err != nil {
			t.Fatal(err)
		}
		for _, e := range rec.events {
			state.Observe(e)
			switch e.Kind {
			case KindHello:
				hellos[e.PID] = e
			case KindThreads:
				tables[e.PID] = e.Threads
			case KindPhase:
				if e.NodeID == "test_threads.py::test_waits_for_release" && e.When == "call" && e.State == "start" {
					runner = hellos[e.PID]
				}
			}
		}
		rec.events = nil
		if runner != nil && len(tables[runner.PID]) == 3 &&
			(runner.Role != RoleWorker || len(state.queue(runner.Worker)) > 0) {
			break
		}
	}

	// What the events say of the process that runs the test.
	var w *WorkerState
	for _, x := range state.Workers() {
		if x.PID == runner.PID {
			x := x
			w = &x
		}
	}
	var tg *Target
	for _, x := range state.Targets() {
		if x.PID == runner.PID {
			x := x
			tg = &x
		}
	}
	if w == nil || tg == nil || w.Test != "test_threads.py::test_waits_for_release" || w.Phase != "call" || len(tg.Threads) != 3 || tg.Signal != runner.Signal {
		t.Errorf("state of the test's process: %+v %+v", w, tg)
	}
	if w != nil && runner.Role == RoleWorker {
		// Two tests on two workers: one each, nothing behind.
		if q := state.queue(runner.Worker); len(q) != 1 || q[0] != w.Test || len(w.Queued) != 0 {
			t.Errorf("queue %q, behind %q", q, w.Queued)
		}
	}

	// Every process dumps, twice; the one that runs the test shows its
	// three threads, by the idents of its table.
	for pid, h := range hellos {
		if h.Signal == 0 {
			t.Fatalf("pid %d (%s): no signal: %s", pid, h.Unit, h.SignalError)
		}
		ok, err := sigCaught(pid, h.Signal)
		if err != nil || !ok {
			t.Fatalf("pid %d: signal %d not caught (%v)", pid, h.Signal, err)
		}
		for i := 1; i <= 2; i++ {
			before, _ := os.Stat(h.Stacks)
			if err := syscall.Kill(pid, syscall.Signal(h.Signal)); err != nil {
				t.Fatal(err)
			}
			dump := waitDump(t, h.Stacks, before.Size())
			headers := threadHeaderRE.FindAllStringSubmatch(dump, -1)
			if pid != runner.PID {
				if len(headers) == 0 {
					t.Errorf("pid %d (%s), dump %d: no thread in\n%s", pid, h.Unit, i, dump)
				}
				continue
			}
			got := map[uint64]bool{}
			for _, m := range headers {
				v, _ := strconv.ParseUint(m[1][2:], 16, 64)
				got[v] = true
			}
			for _, th := range tables[pid] {
				if !got[th.Ident] {
					t.Errorf("dump %d of %s lacks thread %s (0x%x):\n%s", i, h.Unit, th.Name, th.Ident, dump)
				}
				if th.NativeID == 0 {
					t.Errorf("thread %s has no native id", th.Name)
				}
				if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", pid, th.NativeID)); err != nil {
					t.Errorf("thread %s: %v", th.Name, err)
				}
			}
			if !strings.Contains(dump, "test_threads.py\", line ") || !strings.Contains(dump, "in test_waits_for_release") {
				t.Errorf("dump %d does not show the test's frame:\n%s", i, dump)
			}
		}
	}

	// The test goes on and passes; so does the run.
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pytest: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 passed") {
		t.Errorf("want 2 passed:\n%s", out.String())
	}
}

// waitDump waits for a complete dump to be appended to path after offset
// and returns it.
func waitDump(t *testing.T, path string, offset int64) string {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) > offset {
			s := string(b[offset:])
			// faulthandler writes the dump in one go from the signal
			// handler; it is complete once it stops growing.
			if s == last {
				return s
			}
			last = s
		}
	}
	t.Fatalf("no dump in %s after offset %d", path, offset)
	return ""
}

// TestSnapshotSignalInConftest: a process stuck importing a conftest.py
// (before pytest_configure, so before hello) has already registered the
// signal at the plugin's import; its boot line says where, and the dump
// shows the conftest's frame. Released, the run goes on.
func TestSnapshotSignalInConftest(t *testing.T) {
	in := python(t)
	tmp := t.TempDir()
	release := filepath.Join(tmp, "release")
	r := Runner{Interpreter: in, Environ: append(os.Environ(), "HANGDOG_FIXTURE_CONFTEST_RELEASE="+release, "HANGDOG_FIXTURE_RELEASE="+release)}
	d, err := NewRunDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Remove()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	argv := r.Command(in.Path, []string{"-p", "no:cacheprovider", "-p", "no:xdist"})
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = fixture(t, "signal")
	cmd.Env = r.Env(d.Path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		os.WriteFile(release, nil, 0o600)
		cancel()
		cmd.Wait()
	}()
	rec := &recorder{}
	src := NewSource(d.Path)
	var boot *Event
	for deadline := time.Now().Add(90 * time.Second); boot == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no boot line:\n%s", out.String())
		}
		src.Poll(rec)
		for _, e := range rec.events {
			if e.Kind == KindHello {
				t.Fatal("hello before the conftest was released")
			}
			if e.Kind == KindBoot {
				boot = e
			}
		}
	}
	if boot.Signal == 0 || boot.Stacks == "" || boot.Unit != "" || boot.Role != "" {
		t.Fatalf("boot %+v", boot)
	}
	// The conftest's loop may not have been reached yet: dump until it shows.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if ok, err := sigCaught(boot.PID, boot.Signal); err != nil || !ok {
			t.Fatalf("signal not caught: %v", err)
		}
		before, _ := os.Stat(boot.Stacks)
		if err := syscall.Kill(boot.PID, syscall.Signal(boot.Signal)); err != nil {
			t.Fatal(err)
		}
		dump := waitDump(t, boot.Stacks, before.Size())
		if strings.Contains(dump, "conftest.py\", line ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dump never showed the conftest:\n%s", dump)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pytest: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 passed") {
		t.Errorf("want 2 passed:\n%s", out.String())
	}
}
