package pytest

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// localDump parses a recorded dump and points its frames in the fixture
// suites at this checkout (the dumps name the checkout they were recorded
// in), so that the diagnosis can read the source lines. It returns the
// threads and the suite's rootdir here.
func localDump(t *testing.T, name, suite string) ([]DumpThread, string) {
	t.Helper()
	dumps, _ := ParseFaulthandler(recorded(t, name))
	if len(dumps) != 1 {
		t.Fatalf("%s: %d dumps", name, len(dumps))
	}
	root, err := filepath.Abs(filepath.Join("..", "..", "..", "testdata", "pytest", "hang", suite))
	if err != nil {
		t.Fatal(err)
	}
	marker := "/testdata/pytest/hang/" + suite + "/"
	var ths []DumpThread
	for _, ts := range dumps[0].Threads {
		for i, f := range ts.Frames {
			if j := strings.Index(f.File, marker); j >= 0 {
				ts.Frames[i].File = root + "/" + f.File[j+len(marker):]
			}
		}
		ths = append(ths, DumpThread{ThreadStack: ts})
	}
	return ths, root
}

// TestDiagnoseThreadsWithoutTable: when the thread table lacks the test's
// threads (the plugin wrote a stale table last), there is no kernel view
// of them, and the with statements of the source still show the
// lock-order deadlock. Before the fallback the threads were "moving" or
// "blocked" and the summary named no deadlock.
func TestDiagnoseThreadsWithoutTable(t *testing.T) {
	t.Parallel()
	ths, root := localDump(t, "thread_deadlock-main.txt", "thread_deadlock")
	const pid = 4242
	main := &ths[len(ths)-1]
	main.NativeID, main.Name = pid, "MainThread"
	main.HasTask, main.Task = true, taskInfo{State: "S", Syscall: 202, Wchan: "futex_do_wait"}
	for i := range ths[:len(ths)-1] {
		ths[i].Name = map[int]string{0: "backward", 1: "forward"}[i]
	}
	round := func(at time.Time) Round {
		return Round{Taken: at, Procs: []ProcDump{{PID: pid, Sent: true, Complete: true, Threads: ths}}}
	}
	now := time.Now()
	snap := &Snapshot{Rounds: []Round{round(now), round(now.Add(time.Second))}}
	ds := Diagnose(DiagInput{Rootdir: root, Snapshot: snap,
		Workers: []WorkerState{{PID: pid, Test: "test_threads.py::test_two_threads", Phase: "call"}}})
	if len(ds) != 1 {
		t.Fatalf("%d diagnoses", len(ds))
	}
	want := "test_two_threads joins a thread at test_threads.py:35; thread backward holds b and waits for a at test_threads.py:21, thread forward holds a and waits for b at test_threads.py:13: a lock-order deadlock between 2 threads of the test"
	if ds[0].Summary != want {
		t.Errorf("summary\n  %s\nwant\n  %s", ds[0].Summary, want)
	}
}

// TestSpinningOnALoadedMachine: a thread on a CPU outside any system call
// in both rounds that got 36 % of a CPU (seen here with four jobs on two
// cores) is spinning; before, only half a CPU or more counted, and the
// busy loop came out "blocked (state R)". A thread that sleeps, or got
// almost nothing, is not.
func TestSpinningOnALoadedMachine(t *testing.T) {
	t.Parallel()
	task := func(state string, sys int, cpu time.Duration) *DumpThread {
		return &DumpThread{HasTask: true, Task: taskInfo{State: state, Syscall: sys, CPU: cpu}}
	}
	for _, c := range []struct {
		name string
		a, b *DumpThread
		want bool
	}{
		{"loaded spinner", task("R", -1, 270*time.Millisecond), task("R", -1, 630*time.Millisecond), true},
		{"whole CPU", task("S", 230, 0), task("R", -1, 900*time.Millisecond), true},
		{"sleep loop", task("S", 230, 100*time.Millisecond), task("S", 230, 120*time.Millisecond), false},
		{"runnable, no CPU", task("R", -1, 100*time.Millisecond), task("R", -1, 110*time.Millisecond), false},
		{"in a system call", task("R", 0, 0), task("R", 0, 400*time.Millisecond), false},
	} {
		v := view{a: c.a, b: c.b, gap: time.Second}
		if got := v.spinning(v.cpuShare()); got != c.want {
			t.Errorf("%s: spinning %v, want %v", c.name, got, c.want)
		}
	}
}

// TestVerdictMoving: a test thread whose stack changed between the rounds
// (here the recorded flock dump, then the same stack one line further) is
// moving — slow, not stuck — even when it sleeps at both moments.
func TestVerdictMoving(t *testing.T) {
	t.Parallel()
	ths, root := localDump(t, "flock_deadlock-gw0.txt", "flock_deadlock")
	const pid = 4343
	first := slices.Clone(ths)
	main := first[len(first)-1]
	main.NativeID, main.HasTask = pid, true
	main.Task = taskInfo{State: "S", Syscall: 230, CPU: 10 * time.Millisecond}
	first[len(first)-1] = main
	later := slices.Clone(first)
	moved := main
	moved.Frames = slices.Clone(main.Frames)
	moved.Frames[0].Line++
	later[len(later)-1] = moved
	now := time.Now()
	snap := &Snapshot{Rounds: []Round{
		{Taken: now, Procs: []ProcDump{{PID: pid, Threads: first}}},
		{Taken: now.Add(time.Second), Procs: []ProcDump{{PID: pid, Threads: later}}},
	}}
	in := DiagInput{Rootdir: root, Snapshot: snap, Workers: []WorkerState{{Unit: "gw0", Worker: "gw0", PID: pid, Test: "test_migrate_up.py::test_migrate_up", Phase: "call"}}}
	if v, cpu := Verdict(in, "gw0"); v != "moving" || cpu != 0 {
		t.Errorf("verdict %q, %.0f %%; want moving, 0 %%", v, cpu)
	}
	snap.Rounds[1].Procs[0].Threads = first
	if v, _ := Verdict(in, "gw0"); v != "stuck" {
		t.Errorf("same stacks: verdict %q, want stuck", v)
	}
}
