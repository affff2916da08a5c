package forensics

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// FindingKind is what a Finding is about.
type FindingKind string

// The kinds of Finding. Relate returns them in this order (processes in
// D state and running children together, in process order); PipeHolder
// comes from PipeHolders.
const (
	// LockCycle: processes of two or more snapshots (or one snapshot and
	// related processes) each hold a file lock the next one waits for.
	LockCycle FindingKind = "lock_cycle"
	// LockWait: a process of the stalled tree waits for a file lock; the
	// text names the holder, or says it is unknown.
	LockWait FindingKind = "lock_wait"
	// PortConnect: a process of the stalled tree is connected or
	// connecting to a local port another process listens on.
	PortConnect FindingKind = "port_connect"
	// PortClient: the stalled tree listens on a port other processes are
	// connected or connecting to.
	PortClient FindingKind = "port_client"
	// PortHeld: another snapshot's tree listens on a fixed port (outside
	// the ephemeral range), the kind a test that binds or dials a fixed
	// port waits for.
	PortHeld FindingKind = "port_held"
	// Uninterruptible: a process of the stalled tree has a thread in
	// state D; it cannot be killed until the kernel call returns.
	Uninterruptible FindingKind = "uninterruptible"
	// ChildRunning: a descendant of the stalled test binary is still running.
	ChildRunning FindingKind = "child_running"
	// PipeHolder: a process holds the write end of a pipe go test reads
	// (from PipeHolders, not Relate).
	PipeHolder FindingKind = "pipe_holder"
)

func (k FindingKind) String() string { return string(k) }

// Finding is one fact a person can act on.
type Finding struct {
	Kind FindingKind `json:"kind"`
	// Text is one line, naming the processes ("package X's test binary
	// (pid 123)") and the files or ports.
	Text string `json:"text"`
	// PIDs are the processes involved, the waiting one first.
	PIDs []int `json:"pids"`
	// Paths are the lock files involved; Port is the TCP port.
	Paths []string `json:"paths,omitempty"`
	Port  int      `json:"port,omitempty"`
}

// Relate returns what the snapshot of a stalled test binary shows, using
// the snapshots of other test binaries of the same run to name their
// processes: lock cycles first, then lock waits, local TCP ports, and, in
// process order, processes in uninterruptible sleep and running children. Snapshots need not have
// been taken at the same instant, but the closer the better: a lock can
// change hands between two Collect calls. The result is deterministic for
// given snapshots; nil if there is nothing to say.
func Relate(stalled *Snapshot, others ...*Snapshot) []Finding {
	r := newRelater(append([]*Snapshot{stalled}, others...))
	var out []Finding
	out = append(out, r.locks()...)
	out = append(out, dedupe(r.ports())...)
	out = append(out, r.children()...)
	return out
}

// relater answers questions across snapshots; snaps[0] is the stalled one.
type relater struct {
	snaps []*Snapshot
	owner map[int]int     // PID of a tree process → index of its snapshot
	procs map[int]Process // every process seen, tree entries preferred
}

func newRelater(snaps []*Snapshot) *relater {
	r := &relater{owner: map[int]int{}, procs: map[int]Process{}}
	for _, s := range snaps {
		if s != nil {
			r.snaps = append(r.snaps, s)
		}
	}
	for i, s := range r.snaps {
		for _, p := range s.Processes {
			if _, ok := r.owner[p.PID]; ok {
				continue
			}
			if p.inTree() {
				r.owner[p.PID] = i
				r.procs[p.PID] = p
			} else if _, ok := r.procs[p.PID]; !ok {
				r.procs[p.PID] = p
			}
		}
	}
	return r
}

// stalledTree reports whether pid belongs to the stalled snapshot's trees.
func (r *relater) stalledTree(pid int) bool {
	i, ok := r.owner[pid]
	return ok && i == 0
}

// binary names the test binary a snapshot's root is.
func (r *relater) binary(i int, root int) string {
	if l := r.snaps[i].Label; l != "" {
		return "package " + l + "'s test binary"
	}
	if p, ok := r.procs[root]; ok && len(p.Cmdline) > 0 {
		return "test binary " + filepath.Base(p.Cmdline[0])
	}
	return "test binary"
}

// describe names a process for a finding's text.
func (r *relater) describe(pid int) string {
	p, known := r.procs[pid]
	if i, ok := r.owner[pid]; ok {
		bin := r.binary(i, p.Root)
		if p.PID == p.Root {
			return fmt.Sprintf("%s (pid %d)", bin, pid)
		}
		return fmt.Sprintf("%s (pid %d, started by %s)", command(p), pid, bin)
	}
	if !known {
		return fmt.Sprintf("pid %d", pid)
	}
	if isTestBinary(p) {
		if p.Cwd != "" {
			return fmt.Sprintf("test binary %s (pid %d, in %s)", filepath.Base(p.Cmdline[0]), pid, p.Cwd)
		}
		return fmt.Sprintf("test binary %s (pid %d)", filepath.Base(p.Cmdline[0]), pid)
	}
	return fmt.Sprintf("%s (pid %d)", command(p), pid)
}

// isTestBinary reports whether p looks like a test binary run by go test
// (-test.* flags after the program name).
func isTestBinary(p Process) bool {
	return len(p.Cmdline) > 1 && strings.HasPrefix(p.Cmdline[1], "-test.")
}

// command is a short quoted command line: "`sleep 3600`".
func command(p Process) string {
	if len(p.Cmdline) == 0 {
		return "process"
	}
	args := append([]string{filepath.Base(p.Cmdline[0])}, p.Cmdline[1:]...)
	s := strings.Join(args, " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return "`" + s + "`"
}

// lockEdge is one waiter → holder relation from one snapshot's locks.
type lockEdge struct {
	waiter, holder int
	held, wanted   Lock
}

func (e lockEdge) path() string {
	if e.held.Path != "" {
		return e.held.Path
	}
	if e.wanted.Path != "" {
		return e.wanted.Path
	}
	return fmt.Sprintf("inode %d on device %s", e.held.Inode, e.held.Dev)
}

// sentence is the one-line text of a lock wait.
func (r *relater) sentence(e lockEdge) string {
	if e.waiter == e.holder {
		return fmt.Sprintf("%s waits for the lock file %s that it holds itself through another open file (%s): flock and OFD locks belong to the open file, not the process",
			r.describe(e.waiter), e.path(), lockDesc(e.wanted))
	}
	return fmt.Sprintf("%s holds the lock file %s that %s waits for (%s)",
		r.describe(e.holder), e.path(), r.describe(e.waiter), lockDesc(e.wanted))
}

// lockDesc describes a lock request: "exclusive flock", "shared POSIX lock
// on bytes 10-29".
func lockDesc(l Lock) string {
	access := map[string]string{"WRITE": "exclusive", "READ": "shared"}[l.Access]
	if access == "" {
		access = strings.ToLower(l.Access)
	}
	class := map[string]string{"FLOCK": "flock", "POSIX": "POSIX lock", "OFDLCK": "OFD lock"}[l.Class]
	if class == "" {
		class = l.Class
	}
	s := access + " " + class
	if l.Range != "0-EOF" && l.Range != "" {
		s += " on bytes " + l.Range
	}
	return s
}

// edges returns the lock waits of every snapshot, deduplicated.
func (r *relater) edges() []lockEdge {
	type key struct {
		w, h int
		f    fileKey
	}
	seen := map[key]bool{}
	var out []lockEdge
	for _, s := range r.snaps {
		for _, g := range lockGroups(s.Locks) {
			if g[0].Waiting {
				continue
			}
			for _, w := range g[1:] {
				for _, wp := range w.PIDs {
					for _, hp := range g[0].PIDs {
						k := key{wp, hp, g[0].file()}
						if !seen[k] {
							seen[k] = true
							out = append(out, lockEdge{waiter: wp, holder: hp, held: g[0], wanted: w})
						}
					}
				}
			}
		}
	}
	return out
}

// actor is who takes part in a lock cycle: a snapshot (all its tree's
// processes) as its index ≥ 0, a process outside every tree as -PID.
func (r *relater) actor(pid int) int {
	if i, ok := r.owner[pid]; ok {
		return i
	}
	return -pid
}

// locks returns the lock cycle through the stalled snapshot, if any, and
// the stalled tree's other lock waits.
func (r *relater) locks() []Finding {
	edges := r.edges()
	var out []Finding
	inCycle := map[int]bool{} // edge index
	if cycle := r.cycle(edges); cycle != nil {
		var texts []string
		f := Finding{Kind: LockCycle}
		for _, i := range cycle {
			e := edges[i]
			inCycle[i] = true
			texts = append(texts, r.sentence(e))
			f.PIDs = appendNew(f.PIDs, e.waiter, e.holder)
			f.Paths = appendNew(f.Paths, e.path())
		}
		f.Text = "lock cycle: " + strings.Join(texts, "; ")
		out = append(out, f)
	}
	waiting := map[int]bool{}
	for i, e := range edges {
		if !r.stalledTree(e.waiter) {
			continue
		}
		waiting[e.waiter] = true
		if !inCycle[i] {
			out = append(out, Finding{Kind: LockWait, Text: r.sentence(e), PIDs: appendNew(nil, e.waiter, e.holder), Paths: []string{e.path()}})
		}
	}
	// Lock waits /proc/locks did not attribute (an OFD request has no PID).
	for _, p := range r.snaps[0].Processes {
		wchan, ok := p.lockWaiting()
		if !p.inTree() || !ok || waiting[p.PID] {
			continue
		}
		f := Finding{Kind: LockWait, PIDs: []int{p.PID}}
		var held []string
		for _, s := range r.snaps {
			for _, l := range s.Locks {
				if !l.Waiting && p.hasFile(l.file()) && !slices.Contains(l.PIDs, p.PID) {
					f.PIDs = appendNew(f.PIDs, l.PIDs...)
					name := l.Path
					if name == "" {
						name = fmt.Sprintf("inode %d on device %s", l.Inode, l.Dev)
					}
					f.Paths = appendNew(f.Paths, name)
					held = appendNew(held, fmt.Sprintf("%s (%s)", name, lockDesc(l)))
				}
			}
		}
		f.Text = fmt.Sprintf("%s waits for a file lock (wchan %s) that /proc/locks does not attribute", r.describe(p.PID), wchan)
		if len(held) > 0 {
			f.Text += "; locked files it has open: " + strings.Join(held, ", ")
		}
		out = append(out, f)
	}
	return out
}

// cycle finds the shortest cycle of lock waits through the stalled
// snapshot and returns its edges in order, starting with the stalled
// tree's wait; nil if there is none.
func (r *relater) cycle(edges []lockEdge) []int {
	parent := map[int]int{} // actor → index of the edge that reached it
	queue := []int{0}
	seen := map[int]bool{0: true}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for i, e := range edges {
			if r.actor(e.waiter) != a {
				continue
			}
			next := r.actor(e.holder)
			if next == 0 {
				if a == 0 && e.waiter == e.holder {
					continue // a process waiting for itself: a lock_wait, not a cycle
				}
				path := []int{i}
				for at := a; at != 0; {
					path = append(path, parent[at])
					at = r.actor(edges[parent[at]].waiter)
				}
				slices.Reverse(path)
				return path
			}
			if !seen[next] {
				seen[next] = true
				parent[next] = i
				queue = append(queue, next)
			}
		}
	}
	return nil
}

// appendNew appends the values not yet in s.
func appendNew[T comparable](s []T, vs ...T) []T {
	for _, v := range vs {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}

// connectsTo reports whether TCP socket conn is a client connection (or
// attempt) to listener l.
func connectsTo(conn, l Socket) bool {
	if conn.State == "LISTEN" || !conn.Remote.IsValid() || !l.Local.IsValid() || conn.Remote.Port() != l.Local.Port() {
		return false
	}
	if conn.Local.Port() == l.Local.Port() {
		return false // the server side of an accepted connection
	}
	la := l.Local.Addr().Unmap()
	return la.IsUnspecified() || la == conn.Remote.Addr().Unmap()
}

// sockets returns the TCP sockets of every snapshot, one per inode, with
// the PIDs merged.
func (r *relater) sockets() []Socket {
	byIno := map[uint64]int{}
	var out []Socket
	for _, s := range r.snaps {
		for _, so := range s.Sockets {
			if so.Proto == "unix" {
				continue
			}
			if i, ok := byIno[so.Inode]; ok {
				out[i].PIDs = appendNew(out[i].PIDs, so.PIDs...)
				continue
			}
			byIno[so.Inode] = len(out)
			so.PIDs = slices.Clone(so.PIDs)
			out = append(out, so)
		}
	}
	return out
}

// split returns the PIDs of a socket inside and outside the stalled tree.
func (r *relater) split(pids []int) (in, out []int) {
	for _, pid := range pids {
		if r.stalledTree(pid) {
			in = append(in, pid)
		} else {
			out = append(out, pid)
		}
	}
	return in, out
}

func (r *relater) describeAll(pids []int) string {
	var ds []string
	for _, pid := range pids {
		ds = append(ds, r.describe(pid))
	}
	return strings.Join(ds, " and ")
}

// ports returns what the stalled tree's TCP sockets connect to, who
// connects to its listeners, and the fixed ports other snapshots listen on.
func (r *relater) ports() []Finding {
	all := r.sockets()
	var out []Finding
	mentioned := map[uint64]bool{}
	for _, s := range all {
		mine, _ := r.split(s.PIDs)
		if len(mine) == 0 {
			continue
		}
		if s.State == "LISTEN" {
			var clients []int
			var states []string
			for _, o := range all {
				if _, theirs := r.split(o.PIDs); len(theirs) > 0 && connectsTo(o, s) {
					clients = appendNew(clients, theirs...)
					states = appendNew(states, o.State)
				}
			}
			if len(clients) > 0 {
				out = append(out, Finding{Kind: PortClient, Port: int(s.Local.Port()),
					PIDs: append(slices.Clone(mine), clients...),
					Text: fmt.Sprintf("%s listens on %s; %s %s connected or connecting to it (%s)",
						r.describeAll(mine), s.Local, r.describeAll(clients), isAre(len(clients)), strings.Join(states, ", "))})
			}
			continue
		}
		if !s.Remote.IsValid() || accepted(s, all) {
			continue // the server side of a connection: see the listener
		}
		var server []int
		verb := "listens"
		l, haveListener := listenerFor(s, all)
		if haveListener {
			mentioned[l.Inode] = true
		}
		if peer, ok := peerOf(s, all); ok {
			_, server = r.split(peer.PIDs)
			verb = "serves it"
		}
		if len(server) == 0 && haveListener {
			_, server = r.split(l.PIDs)
			verb = "listens"
		}
		port := int(s.Remote.Port())
		switch {
		case len(server) > 0 && s.State == "SYN_SENT":
			out = append(out, Finding{Kind: PortConnect, Port: port, PIDs: append(slices.Clone(mine), server...),
				Text: fmt.Sprintf("%s is trying to connect (SYN_SENT) to %s, where %s listens without accepting", r.describeAll(mine), s.Remote, r.describeAll(server))})
		case len(server) > 0:
			out = append(out, Finding{Kind: PortConnect, Port: port, PIDs: append(slices.Clone(mine), server...),
				Text: fmt.Sprintf("%s is connected to %s (%s), where %s %s", r.describeAll(mine), s.Remote, s.State, r.describeAll(server), verb)})
		case s.State == "SYN_SENT":
			out = append(out, Finding{Kind: PortConnect, Port: port, PIDs: mine,
				Text: fmt.Sprintf("%s is trying to connect (SYN_SENT) to %s and gets no answer", r.describeAll(mine), s.Remote)})
		}
	}
	for i, snap := range r.snaps[1:] {
		lo, hi := 32768, 60999 // Linux's default ip_local_port_range
		if len(snap.EphemeralPorts) == 2 {
			lo, hi = snap.EphemeralPorts[0], snap.EphemeralPorts[1]
		}
		for _, s := range snap.Sockets {
			port := int(s.Local.Port())
			if s.State != "LISTEN" || !s.Local.IsValid() || (port >= lo && port <= hi) || mentioned[s.Inode] {
				continue
			}
			var pids []int
			for _, pid := range s.PIDs {
				if r.owner[pid] == i+1 {
					pids = append(pids, pid)
				}
			}
			if len(pids) == 0 {
				continue
			}
			mentioned[s.Inode] = true
			out = append(out, Finding{Kind: PortHeld, Port: port, PIDs: pids,
				Text: fmt.Sprintf("%s listens on %s, a fixed port (outside the ephemeral range %d-%d): a test that binds or dials port %d waits while it is held",
					r.describeAll(pids), s.Local, lo, hi, port)})
		}
	}
	return out
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// stateNames spells out proc(5) states.
var stateNames = map[string]string{
	"R": "running", "S": "sleeping", "D": "uninterruptible sleep", "Z": "zombie",
	"T": "stopped", "t": "traced", "I": "idle", "X": "dead",
}

// children reports the stalled tree's processes in state D and the
// descendants of its roots that still run.
func (r *relater) children() []Finding {
	var out []Finding
	for _, p := range r.snaps[0].Processes {
		if !p.inTree() || p.State == "Z" || p.State == "X" {
			continue
		}
		age := (time.Duration(p.AgeSeconds * float64(time.Second))).Round(time.Second)
		if d := p.uninterruptible(); len(d) > 0 {
			out = append(out, Finding{Kind: Uninterruptible, PIDs: []int{p.PID},
				Text: fmt.Sprintf("%s has %d thread(s) in uninterruptible sleep (D, wchan %s): it cannot be killed until that kernel call returns (disk or network file system I/O)",
					r.describe(p.PID), len(d), orUnknown(d[0].Wchan))})
			continue
		}
		if p.PID == p.Root {
			continue
		}
		out = append(out, Finding{Kind: ChildRunning, PIDs: []int{p.PID, p.PPID},
			Text: fmt.Sprintf("%s is still running after %s: state %s (%s), wchan %s",
				r.describe(p.PID), age, p.State, stateNames[p.State], orUnknown(p.Wchan))})
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// PipeHolders finds the processes of process group pgid (every visible
// process if pgid <= 0) that hold the write end of one of the pipes (see
// proc.PipeHolders: pass the inodes of proc.ReadPipes(goPID) once the test
// binary has exited) and returns one PipeHolder finding each. The
// snapshots, if any, name the holders ("started by package X's test
// binary"). Linux only; elsewhere the error wraps errors.ErrUnsupported.
func PipeHolders(pgid int, inodes map[uint64]bool, known ...*Snapshot) ([]Finding, error) {
	hs, err := proc.PipeHolders(pgid, inodes)
	if err != nil {
		return nil, fmt.Errorf("forensics: %w", err)
	}
	r := newRelater(known)
	var out []Finding
	for _, h := range hs {
		if _, ok := r.procs[h.PID]; !ok {
			r.procs[h.PID] = Process{PID: h.PID, PPID: h.PPID, Cmdline: h.Cmdline, Cwd: h.Cwd, State: h.State, Wchan: h.Wchan}
		}
		var fds []string
		for _, fd := range h.FDs {
			fds = append(fds, fmt.Sprint(fd.Num))
		}
		out = append(out, Finding{Kind: PipeHolder, PIDs: []int{h.PID},
			Text: fmt.Sprintf("%s holds the write end of a pipe go test reads (fd %s; state %s, wchan %s): go test waits until it exits",
				r.describe(h.PID), strings.Join(fds, ", "), h.State, orUnknown(h.Wchan))})
	}
	return out, nil
}

// dedupe drops findings whose text repeats an earlier one's (several
// sockets of one process connecting to the same port).
func dedupe(fs []Finding) []Finding {
	seen := map[string]bool{}
	return slices.DeleteFunc(fs, func(f Finding) bool {
		dup := seen[f.Text]
		seen[f.Text] = true
		return dup
	})
}
