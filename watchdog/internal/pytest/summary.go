package pytest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// short is a node id without its file: "test_a.py::TestX::test_y" →
// "TestX::test_y".
func short(nodeid string) string {
	if _, rest, ok := strings.Cut(nodeid, "::"); ok {
		return rest
	}
	return nodeid
}

// who names a worker's test for a sentence: "test_up (gw1)".
func (d *diagnoser) who(ws WorkerState) string {
	name := short(ws.Test)
	if ws.Test == "" {
		name = "the process outside any test"
		if ws.Worker != "" {
			name = "worker " + ws.Worker + " outside any test"
			return name
		}
		return name
	}
	if ws.Worker != "" {
		return fmt.Sprintf("%s (%s)", name, ws.Worker)
	}
	return name
}

// whoPID names the process pid: a worker's test, else the process.
func (d *diagnoser) whoPID(pid int) string {
	if ws, ok := d.byPID[pid]; ok {
		return d.who(ws)
	}
	if p, ok := d.procOf(pid); ok {
		return fmt.Sprintf("process %d (%s)", pid, strings.Join(p, " "))
	}
	return fmt.Sprintf("process %d", pid)
}

func (d *diagnoser) procOf(pid int) ([]string, bool) {
	if d.in.Snapshot == nil || d.in.Snapshot.Forensics == nil {
		return nil, false
	}
	p, ok := d.in.Snapshot.Forensics.Process(pid)
	return p.Cmdline, ok
}

// base is a file's name for a sentence.
func base(path string) string {
	if path == "" {
		return "a file"
	}
	return filepath.Base(path)
}

// state says in a few words what a thread waits on (Diagnosis.State).
func (d *diagnoser) state(f finding) string {
	w := f.w
	switch w.kind {
	case waitLock:
		if w.what != "" {
			return "waits to acquire lock " + w.what
		}
		return "waits to acquire a lock"
	case waitCondition:
		return "waits on a threading condition, event or queue"
	case waitJoin:
		return "joins a thread"
	case waitFlock:
		return "waits for flock on " + orDash(w.file)
	case waitSocket, waitPipe:
		return "waits in " + orDash(w.what)
	case waitPoll:
		return "waits in poll/select"
	case waitChild:
		if w.what != "" {
			return "waits for " + w.what
		}
		return "waits for a child process"
	case waitSleep:
		return "sleeps in a loop"
	case waitSqlite:
		return "waits in sqlite's busy handler for " + orDash(w.file)
	case waitBusy:
		return fmt.Sprintf("spinning (%.0f %% of a CPU)", 100*max(w.cpu, 0))
	case waitMoving:
		return "running: its stack changed between the dumps"
	}
	if !f.v.a.HasTask {
		return "waits (no kernel view: the thread is not in the plugin's thread table)"
	}
	t := f.v.task()
	if t.Wchan != "" {
		return fmt.Sprintf("blocked (state %s in %s)", t.State, t.Wchan)
	}
	return fmt.Sprintf("blocked (state %s)", orDash(t.State))
}

// mainOf diagnoses the test thread of another process, for the other side.
func (d *diagnoser) mainOf(pid int) (finding, bool) {
	vs := d.views(pid)
	if len(vs) == 0 {
		return finding{}, false
	}
	return d.find(vs[0]), true
}

// summary is the one line of a stuck worker.
func (d *diagnoser) summary(ws WorkerState, main finding, helpers []finding) string {
	who := d.who(ws)
	if ws.Phase == "setup" || ws.Phase == "teardown" {
		who += ", in " + ws.Phase
		fixture := ws.Fixture
		if fixture == "" {
			fixture = fixtureOf(main.v.a.Frames, d.in.Rootdir)
		}
		if fixture != "" {
			who += " of fixture " + fixture
			if ws.FixtureScope != "" && ws.FixtureScope != "function" {
				who += " (" + ws.FixtureScope + " scope)"
			}
		}
		who += ","
	}
	at := ""
	if main.loc != "" {
		at = " at " + main.loc
	}
	w := main.w
	var s string
	switch w.kind {
	case waitFlock:
		s = d.flockLine(who, at, main)
	case waitSocket:
		s = fmt.Sprintf("%s waits in %s%s", who, w.what, at)
		if w.peer != 0 {
			s += ", whose other end is " + d.whoPID(w.peer)
			if o, ok := d.mainOf(w.peer); ok && o.w.kind == waitSocket && o.w.peer == main.v.pid {
				s += fmt.Sprintf(", which waits in %s at %s: the two tests wait for each other", verbOf(o.w.what), o.loc)
			} else if ok {
				s += fmt.Sprintf(", which %s at %s", o.stateStr, o.loc)
			}
		}
	case waitSqlite:
		s = fmt.Sprintf("%s waits in sqlite's busy handler for %s%s", who, base(w.file), at)
		if w.peer != 0 {
			s += ", locked by " + d.whoPID(w.peer)
			if o, ok := d.mainOf(w.peer); ok {
				s += fmt.Sprintf(", which holds its transaction open and %s at %s", o.stateStr, o.loc)
			}
		}
	case waitChild:
		s = fmt.Sprintf("%s %s%s", who, d.state(main), at)
		if w.child != nil {
			s += fmt.Sprintf(", which has not exited (state %s)", w.child.State)
		}
	case waitJoin:
		s = fmt.Sprintf("%s joins a thread%s", who, at) + d.threadsLine(helpers)
	case waitLock:
		s = d.lockLine(who, at, main)
	case waitBusy:
		s = fmt.Sprintf("%s is spinning%s (%.0f %% of a CPU between the two dumps)", who, at, 100*max(w.cpu, 0))
	case waitMoving:
		s = fmt.Sprintf("%s is running, not stuck: its stack changed between the dumps (now%s)", who, at)
	default:
		s = fmt.Sprintf("%s %s%s", who, d.state(main), at)
	}
	if len(ws.Queued) > 0 {
		where := ""
		if ws.Worker != "" {
			where = " on " + ws.Worker
		}
		s += fmt.Sprintf("; queued behind it%s: %s", where, strings.Join(ws.Queued, ", "))
	}
	return s
}

// verbOf is the call of a socket wait description ("recv on …" → "recv").
func verbOf(what string) string {
	v, _, _ := strings.Cut(what, " ")
	return v
}

// flockLine: "X holds a.lock and waits for b.lock, held by Y, which waits
// for a.lock: a lock-order deadlock between two workers".
func (d *diagnoser) flockLine(who, at string, f finding) string {
	w := f.w
	var b strings.Builder
	b.WriteString(who)
	if len(w.held) > 0 {
		names := make([]string, len(w.held))
		for i, h := range w.held {
			names[i] = base(h)
		}
		fmt.Fprintf(&b, " holds %s and", strings.Join(names, ", "))
	}
	fmt.Fprintf(&b, " waits for %s%s", base(w.file), at)
	if w.peer == 0 || d.in.Snapshot.Forensics == nil {
		return b.String()
	}
	fmt.Fprintf(&b, ", held by %s", d.whoPID(w.peer))
	other, holder := waitsFor(d.in.Snapshot.Forensics, w.peer)
	if other == "" {
		return b.String()
	}
	fmt.Fprintf(&b, ", which waits for %s", base(other))
	if holder == f.v.pid && slices.Contains(w.held, other) {
		workers := "two workers"
		if d.byPID[f.v.pid].Worker == "" || d.byPID[w.peer].Worker == "" {
			workers = "two processes"
		}
		fmt.Fprintf(&b, ": a lock-order deadlock between %s", workers)
	}
	return b.String()
}

// lockLine names the lock a thread waits for and, when a with statement
// around the call in the same thread's frames took the same lock (the
// source shows it), says so.
func (d *diagnoser) lockLine(who, at string, f finding) string {
	w := f.w
	if w.what == "" {
		return fmt.Sprintf("%s waits to acquire a lock%s", who, at)
	}
	s := fmt.Sprintf("%s waits to acquire %s%s", who, w.what, at)
	if slices.Contains(d.src.heldBy(f.v.a.Frames[1:], d.in.Rootdir), w.what) {
		s += ", which its own thread already holds: a lock acquired twice by one thread"
	}
	return s
}

// threadsLine describes the other threads of a test that joins a thread:
// a lock-order deadlock when each waits for a lock another holds (the
// with statements around their frames show what they hold).
func (d *diagnoser) threadsLine(helpers []finding) string {
	if len(helpers) == 0 {
		return ""
	}
	held := map[int][]string{}
	var locks []string
	for i, h := range helpers {
		if h.w.kind != waitLock || h.verdict != "stuck" || h.w.what == "" {
			continue
		}
		held[i] = d.src.heldBy(h.v.a.Frames, d.in.Rootdir)
		locks = append(locks, fmt.Sprintf("%s holds %s and waits for %s at %s", h.v.a.Name,
			orDash(strings.Join(held[i], ", ")), h.w.what, h.loc))
	}
	cycle := len(held) >= 2
	for i := range held {
		heldElsewhere := false
		for j, hs := range held {
			if j != i && slices.Contains(hs, helpers[i].w.what) {
				heldElsewhere = true
			}
		}
		cycle = cycle && heldElsewhere
	}
	if cycle {
		return fmt.Sprintf("; thread %s: a lock-order deadlock between %d threads of the test",
			strings.Join(locks, ", thread "), len(locks))
	}
	var parts []string
	for _, h := range helpers {
		parts = append(parts, fmt.Sprintf("thread %s %s at %s", h.v.a.Name, h.stateStr, h.loc))
	}
	return "; " + strings.Join(parts, "; ") + ", and never ends"
}
