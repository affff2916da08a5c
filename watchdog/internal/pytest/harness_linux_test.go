package pytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The hanging fixture suites of testdata/pytest/hang run for real under
// /usr/bin/python3 -m pytest with the stand-in plugin of
// testdata/snapplugin (the snapshot part of the contract), in their own
// process group, killed when the test ends.

// pythonWithPytest returns an interpreter that imports pytest and xdist,
// or skips the test.
func pythonWithPytest(t testing.TB) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3"} {
		if err := exec.Command(py, "-c", "import pytest, xdist").Run(); err == nil {
			return py
		}
	}
	t.Skip("no interpreter with pytest and pytest-xdist (/usr/bin/python3)")
	return ""
}

// run is one pytest run of a fixture suite.
type run struct {
	t        testing.TB
	cmd      *exec.Cmd
	dir      string // the plugin's directory (HANGDOG_PYTEST_DIR)
	hang     string // the fixtures' rendezvous directory (HANG_DIR)
	rootdir  string
	out      string // pytest's output file
	done     chan struct{}
	deadline time.Time
}

// startRun starts pytest on testdata/pytest/hang/<name> with args.
func startRun(t testing.TB, name string, args ...string) *run {
	t.Helper()
	py := pythonWithPytest(t)
	root, err := filepath.Abs(filepath.Join("..", "..", "..", "testdata", "pytest", "hang", name))
	if err != nil {
		t.Fatal(err)
	}
	plugin, err := filepath.Abs(filepath.Join("testdata", "snapplugin"))
	if err != nil {
		t.Fatal(err)
	}
	r := &run{t: t, dir: t.TempDir(), hang: t.TempDir(), rootdir: root, done: make(chan struct{}),
		deadline: time.Now().Add(60 * time.Second)}
	r.out = filepath.Join(r.dir, "output.txt")
	out, err := os.Create(r.out)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	argv := append([]string{"-m", "pytest", "-p", "hangdog_snaptest", "-p", "no:cacheprovider", "-q"}, args...)
	r.cmd = exec.Command(py, argv...)
	r.cmd.Dir = root
	r.cmd.Env = append(os.Environ(), "HANGDOG_PYTEST_DIR="+r.dir, "PYTHONPATH="+plugin,
		"HANG_DIR="+r.hang, "PYTHONDONTWRITEBYTECODE=1")
	r.cmd.Stdout, r.cmd.Stderr = out, out
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := r.cmd.Process.Pid
	go func() {
		r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-r.done
		// SIGKILL is delivered at once but a process dies on its own
		// time (a worker's exit releases its locks); wait for the group
		// to empty, within a generous bound.
		left := groupMembers(pgid)
		for end := time.Now().Add(20 * time.Second); len(left) > 0 && time.Now().Before(end); left = groupMembers(pgid) {
			time.Sleep(10 * time.Millisecond)
		}
		if len(left) > 0 {
			t.Errorf("processes of group %d left 20 s after the kill: %v", pgid, left)
		}
		if t.Failed() {
			t.Logf("pytest's output:\n%s", r.output())
		}
	})
	return r
}

// groupMembers lists the processes of process group pgid (zombies
// excluded: their parent reaps them).
func groupMembers(pgid int) []int {
	es, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range es {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitFor polls cond until it holds or the run's deadline (generous: the
// machine may be loaded), then fails with what.
func (r *run) waitFor(what string, cond func() bool) {
	r.t.Helper()
	for !cond() {
		if time.Now().After(r.deadline) {
			r.t.Fatalf("timed out waiting for %s; pytest's output:\n%s", what, r.output())
		}
		select {
		case <-r.done:
			r.t.Fatalf("pytest exited waiting for %s:\n%s", what, r.output())
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// output is what pytest wrote so far.
func (r *run) output() string {
	b, _ := os.ReadFile(r.out)
	return string(b)
}

// waitMarkers waits for the fixture's rendezvous files.
func (r *run) waitMarkers(names ...string) {
	r.t.Helper()
	r.waitFor(fmt.Sprintf("marker files %v", names), func() bool {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(r.hang, n)); err != nil {
				return false
			}
		}
		return true
	})
}

// procEvents is what the events file of one process said.
type procEvents struct {
	PID     int
	Worker  string
	Signal  int
	Stacks  string
	Rootdir string
	Threads []ThreadInfo
	Test    string
	Phase   string
	Fixture string
}

// events reads every events file of the run.
func (r *run) events() map[int]*procEvents {
	files, _ := filepath.Glob(filepath.Join(r.dir, "events-*.jsonl"))
	out := map[int]*procEvents{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e struct {
				PID     int          `json:"pid"`
				Worker  string       `json:"worker"`
				Ev      string       `json:"ev"`
				Signal  *int         `json:"signal"`
				Stacks  string       `json:"stacks"`
				Rootdir string       `json:"rootdir"`
				Threads []ThreadInfo `json:"threads"`
				NodeID  string       `json:"nodeid"`
				When    string       `json:"when"`
				Name    string       `json:"name"`
			}
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue // the last line may be cut
			}
			p := out[e.PID]
			if p == nil {
				p = &procEvents{PID: e.PID}
				out[e.PID] = p
			}
			p.Worker = e.Worker
			switch e.Ev {
			case "hello":
				if e.Signal != nil {
					p.Signal = *e.Signal
				}
				p.Stacks, p.Rootdir = e.Stacks, e.Rootdir
			case "threads":
				p.Threads = e.Threads
			case "start":
				p.Test, p.Phase, p.Fixture = e.NodeID, "", ""
			case "phase":
				p.Test, p.Phase, p.Fixture = e.NodeID, e.When, ""
			case "fixture":
				p.Fixture = e.Name
			case "finish":
				p.Test, p.Phase, p.Fixture = "", "", ""
			}
		}
	}
	return out
}

// settled waits until tests processes run a test with each of the named
// threads in their thread table, and each test's main thread is off the
// CPU — or, with running, on it. (execnet's threads, started with
// _thread, are in no thread table.)
func (r *run) settled(tests int, running bool, threads ...string) map[int]*procEvents {
	r.t.Helper()
	var evs map[int]*procEvents
	r.waitFor(fmt.Sprintf("%d tests blocked, threads %v in their tables", tests, threads), func() bool {
		evs = r.events()
		n := 0
		seen := map[string]bool{}
		for _, p := range evs {
			if p.Test == "" || p.Phase == "" {
				continue
			}
			for _, th := range p.Threads {
				seen[th.Name] = true
			}
			ti, err := readTask(p.PID, p.PID)
			if err != nil || (ti.State == "R") != running {
				return false
			}
			n++
		}
		for _, name := range threads {
			if !seen[name] {
				return false
			}
		}
		return n >= tests
	})
	return evs
}

// targets turns the events into the snapshot's targets and the
// diagnosis's worker states.
func targetsOf(evs map[int]*procEvents) ([]Target, []WorkerState, string) {
	var ts []Target
	var ws []WorkerState
	rootdir := ""
	for _, p := range evs {
		ts = append(ts, Target{PID: p.PID, Worker: p.Worker, Signal: p.Signal, Stacks: p.Stacks, Threads: p.Threads})
		if p.Worker != "" || len(evs) == 1 {
			ws = append(ws, WorkerState{Worker: p.Worker, PID: p.PID, Test: p.Test, Phase: p.Phase, Fixture: p.Fixture})
		}
		rootdir = p.Rootdir
	}
	return ts, ws, rootdir
}

// snapshot takes a snapshot of every process of the run.
func (r *run) snapshot(evs map[int]*procEvents) (*Snapshot, []WorkerState, string) {
	r.t.Helper()
	ts, ws, rootdir := targetsOf(evs)
	snap, err := Take(context.Background(), ts, SnapshotOptions{})
	if err != nil {
		r.t.Fatalf("Take: %v", err)
	}
	for _, rd := range snap.Rounds {
		for _, p := range rd.Procs {
			if !p.Sent || !p.Complete {
				r.t.Errorf("pid %d (%q): sent %v, complete %v: %s; its dump:\n%s", p.PID, p.Worker, p.Sent, p.Complete, p.Note, p.Raw)
			}
		}
	}
	return snap, ws, rootdir
}
