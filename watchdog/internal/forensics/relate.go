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
	if n := r.snaps[i].Name; n != "" {
		return n
	}
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

// appendNew appends the values not yet in s.
func appendNew[T comparable](s []T, vs ...T) []T {
	for _, v := range vs {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
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
