package pytest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The hanging fixture suites of testdata/pytest/hang run for real under
// /usr/bin/python3 -m pytest with hangdog's plugin, in their own process
// group, killed when the test ends.

// hangRun is one pytest run of a hanging fixture suite.
type hangRun struct {
	t        testing.TB
	cmd      *exec.Cmd
	dir      string // the run's private directory (HANGDOG_PYTEST_DIR)
	hang     string // the fixtures' rendezvous directory (HANG_DIR)
	rootdir  string
	out      string // pytest's output file
	done     chan struct{}
	deadline time.Time
}

// startRun starts pytest on testdata/pytest/hang/<name> with args.
func startRun(t testing.TB, name string, args ...string) *hangRun {
	t.Helper()
	in := python(t)
	needXdist(t, in)
	root := fixture(t, filepath.Join("hang", name))
	d, err := NewRunDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &hangRun{t: t, dir: d.Path, hang: t.TempDir(), rootdir: root, done: make(chan struct{}),
		deadline: time.Now().Add(60 * time.Second)}
	r.out = filepath.Join(t.TempDir(), "output.txt")
	out, err := os.Create(r.out)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	runner := Runner{Interpreter: in, Module: true,
		Environ: append(os.Environ(), "HANG_DIR="+r.hang, "PYTHONDONTWRITEBYTECODE=1")}
	argv := runner.Command(in.Path, append([]string{"-p", "no:cacheprovider", "-q"}, args...))
	r.cmd = exec.Command(argv[0], argv[1:]...)
	r.cmd.Dir = root
	r.cmd.Env = runner.Env(d.Path)
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
func (r *hangRun) waitFor(what string, cond func() bool) {
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
func (r *hangRun) output() string {
	b, _ := os.ReadFile(r.out)
	return string(b)
}

// waitMarkers waits for the fixture's rendezvous files.
func (r *hangRun) waitMarkers(names ...string) {
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

// events reads every events file of the run with the package's decoder
// into a Processes.
func (r *hangRun) events() *Processes {
	files, _ := filepath.Glob(filepath.Join(r.dir, "events-*.jsonl"))
	p := &Processes{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if e, err := decodeEvent(line); err == nil { // the last line may be cut
				p.Observe(e)
			}
		}
	}
	return p
}

// settled waits until tests processes run a test with each of the named
// threads in their thread table and off the CPU, and each test's main
// thread is off the
// CPU — or, with running, on it and using CPU time — and, under xdist,
// the controller's queue of its worker starts with its test. (execnet's threads, started with
// _thread, are in no thread table.)
func (r *hangRun) settled(tests int, running bool, threads ...string) *Processes {
	r.t.Helper()
	var p *Processes
	cpu0 := map[int]time.Duration{}
	r.waitFor(fmt.Sprintf("%d tests blocked, threads %v in their tables", tests, threads), func() bool {
		p = r.events()
		n := 0
		seen := map[string]bool{}
		for _, t := range p.Targets() {
			for _, th := range t.Threads {
				if !slices.Contains(threads, th.Name) {
					continue
				}
				// a named thread counts once it is off the CPU
				if ti, err := readTask(t.PID, th.NativeID); err == nil && ti.State != "R" {
					seen[th.Name] = true
				}
			}
		}
		for _, w := range p.Workers() {
			if w.Test == "" || w.Phase == "" {
				continue
			}
			ti, err := readTask(w.PID, w.PID)
			if err != nil || (ti.State == "R") != running {
				return false
			}
			if q := p.queue(w.Worker); w.Worker != "" && (len(q) == 0 || q[0] != w.Test) {
				return false // the controller has not yet seen the test start (its queue)
			}
			if running {
				// On a CPU is not yet in the loop (the marker's line ran
				// on it too): wait for 50 ms of CPU time after the first look.
				if _, ok := cpu0[w.PID]; !ok {
					cpu0[w.PID] = ti.CPU
				}
				if ti.CPU-cpu0[w.PID] < 50*time.Millisecond {
					return false
				}
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
	return p
}

// snapshot takes a snapshot of every process of the run.
func (r *hangRun) snapshot(p *Processes) (*Snapshot, []WorkerState, string) {
	r.t.Helper()
	ts, ws, rootdir := p.Targets(), p.Workers(), p.Rootdir()
	snap, err := Take(context.Background(), ts, SnapshotOptions{})
	if err != nil {
		r.t.Fatalf("Take: %v", err)
	}
	for _, rd := range snap.Rounds {
		for i, p := range rd.Procs {
			if ts[i].Skip == "" && (!p.Sent || !p.Complete) {
				r.t.Errorf("pid %d (%q): sent %v, complete %v: %s; its dump:\n%s", p.PID, p.Worker, p.Sent, p.Complete, p.Note, p.Raw)
			}
		}
	}
	return snap, ws, rootdir
}
