// Package proc finds and controls the processes behind a `go test` run: the
// test binaries below the go command, the processes of its process group and
// whoever holds the go command's pipes. The watchdog uses it to decide which
// process to send SIGQUIT to and what to kill when it gives up, and to start
// the go command below a reaper (StartReaped) that leaves nothing of the run
// behind, even when the watchdog is killed.
//
// Linux reads /proc and offers everything. macOS reads ps(1): the tree,
// groups, states and start times, no open files. Other systems (Windows)
// return errors wrapping errors.ErrUnsupported that say what is missing;
// callers print such an error once and carry on without the feature.
//
// Every listing is a snapshot: processes start and exit while it is taken.
// A process that exits in the middle of being read is left out, never
// reported as an error.
package proc

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// ErrNoProcess is returned (wrapped) by Get and OpenFiles when no process
// has the PID, or it exited while being read.
var ErrNoProcess = errors.New("no such process")

// Process is what the system tells about one process at the time it was read.
type Process struct {
	PID, PPID, PGID int

	// State is the scheduler state as one letter with Linux's meaning:
	// R running, S sleeping, D uninterruptible (disk) sleep, Z zombie,
	// T stopped, t traced, I idle kernel thread, X dead.
	// On macOS ps's U (uninterruptible) is reported as D and I (idle,
	// asleep for more than 20 s) as S.
	State string

	// Cmdline is the argument vector. On Linux it is exact; on macOS it
	// is ps's space-joined command split at spaces, so arguments that
	// contain spaces come out split. Empty for zombies and kernel threads.
	Cmdline []string

	// Exe is the path of the executable (Linux; empty elsewhere, or when
	// the process belongs to another user and we are not root).
	Exe string

	// Cwd is the working directory: for a test binary, its package
	// directory. Linux: always filled when readable. macOS: filled only
	// by Get and TestBinaries (it costs an lsof(8) run per process).
	Cwd string

	// Wchan is the kernel function the main thread sleeps in (Linux),
	// for example "futex_do_wait", "anon_pipe_read", "do_wait",
	// "hrtimer_nanosleep", "ep_poll". Empty when running or unknown.
	Wchan string

	// Start is when the process started, to about 10 ms on Linux and to
	// the second on macOS. Zero if unknown.
	Start time.Time
}

// Age is how long the process has been running at now, or 0 if Start is unknown.
func (p Process) Age(now time.Time) time.Duration {
	if p.Start.IsZero() {
		return 0
	}
	return now.Sub(p.Start)
}

// String is a short description for logs: "1234 (S) pkg.test -test.v=test2json".
func (p Process) String() string {
	cmd := strings.Join(p.Cmdline, " ")
	if len(cmd) > 120 {
		cmd = cmd[:117] + "..."
	}
	return fmt.Sprintf("%d (%s) %s", p.PID, p.State, cmd)
}

// FD is one open file descriptor of a process.
type FD struct {
	Num int
	// Target is what the descriptor refers to, as readlink of
	// /proc/PID/fd/N gives it: "pipe:[123]", "socket:[456]",
	// "anon_inode:[eventpoll]" or a path.
	Target string
	// Read and Write tell how the descriptor was opened: a pipe's read
	// end is Read only, its write end Write only.
	Read, Write bool
}

// PipeInode returns the inode number of a "pipe:[N]" target.
func PipeInode(target string) (uint64, bool) {
	s, ok := strings.CutPrefix(target, "pipe:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// ReadPipes returns the inodes of the pipes process pid has open for
// reading. For the go command these are the output pipes of the test
// binaries it runs (and whatever it inherited); see PipeHolders.
func ReadPipes(pid int) (map[uint64]bool, error) {
	fds, err := OpenFiles(pid)
	if err != nil {
		return nil, err
	}
	inodes := map[uint64]bool{}
	for _, fd := range fds {
		if ino, ok := PipeInode(fd.Target); ok && fd.Read {
			inodes[ino] = true
		}
	}
	return inodes, nil
}

// Holder is a process with the descriptors it holds on pipes of interest.
type Holder struct {
	Process
	FDs []FD
}

// PipeHolders returns the processes of process group pgid that hold the
// write end of one of the given pipes, in PID order, with those
// descriptors; pgid <= 0 searches every visible process (a grandchild may
// have moved to a group or session of its own).
//
// This finds the "every test passed but the package never finishes" hang:
// the go command reads a test binary's output pipe until every writer has
// closed it, and a child the binary started kept a copy. Pass the inodes
// from ReadPipes(goPID), once the test binary has exited (while it runs, it
// is a writer too). The go command holds only the read ends, so it is not
// in the result.
//
// Processes whose descriptors cannot be read (gone, or another user's) are
// skipped. Linux only; elsewhere the error wraps errors.ErrUnsupported.
func PipeHolders(pgid int, inodes map[uint64]bool) ([]Holder, error) {
	if _, files, why := Supported(); !files {
		return nil, unsupported("find pipe holders", why)
	}
	var procs []Process
	var err error
	if pgid > 0 {
		procs, err = InGroup(pgid)
	} else {
		procs, err = List()
	}
	if err != nil {
		return nil, err
	}
	var holders []Holder
	for _, p := range procs {
		fds, err := OpenFiles(p.PID)
		if err != nil {
			continue
		}
		var hit []FD
		for _, fd := range fds {
			if ino, ok := PipeInode(fd.Target); ok && fd.Write && inodes[ino] {
				hit = append(hit, fd)
			}
		}
		if len(hit) > 0 {
			holders = append(holders, Holder{Process: p, FDs: hit})
		}
	}
	return holders, nil
}

// Descendants returns the children of pid, their children and so on, any
// depth, each parent before its children (breadth first, PID order among
// siblings). pid itself is not included. A process that was re-parented
// (its parent exited) is no longer a descendant: use InGroup to find those.
func Descendants(pid int) ([]Process, error) {
	all, err := snapshot()
	if err != nil {
		return nil, err
	}
	return filled(descendants(all, pid)), nil
}

// InGroup returns every process whose process group is pgid, in PID order,
// including orphans re-parented to init (or a subreaper) that were started
// inside the group.
func InGroup(pgid int) ([]Process, error) {
	all, err := snapshot()
	if err != nil {
		return nil, err
	}
	var out []Process
	for _, p := range all {
		if p.PGID == pgid {
			out = append(out, p)
		}
	}
	return filled(out), nil
}

// List returns every process visible to us, in PID order.
func List() ([]Process, error) {
	all, err := snapshot()
	if err != nil {
		return nil, err
	}
	return filled(all), nil
}

// Get returns the process with the given PID; the error wraps ErrNoProcess
// if there is none.
func Get(pid int) (Process, error) {
	if pid <= 0 {
		return Process{}, fmt.Errorf("proc: get %d: %w", pid, ErrNoProcess)
	}
	p, err := get(pid)
	if err != nil {
		return Process{}, err
	}
	fill(&p)
	fillCwd(&p)
	return p, nil
}

// filled adds the costly details (fill) to a snapshot's processes.
func filled(ps []Process) []Process {
	for i := range ps {
		fill(&ps[i])
	}
	return ps
}

// TestBinaries returns the test binaries the go command goPID is running,
// in tree order, each with its Cwd (the package directory).
//
// A test binary is a descendant of goPID whose first argument is a
// -test.* flag (cmd/go always passes -test.paniconexit0, plus
// -test.v=test2json with -json and -test.timeout). With `go test -exec
// PROG` the binary runs below PROG at any depth, and PROG's own argv holds
// the same flags after the binary's path: such a wrapper is reported only if
// no test binary runs below it (an emulator that runs the binary in-process).
// Test binaries started by a test binary (a test that runs `go test`
// itself) are not reported: only the outermost ones belong to goPID's run.
func TestBinaries(goPID int) ([]Process, error) {
	all, err := snapshot()
	if err != nil {
		return nil, err
	}
	bins := filled(testBinaries(all, goPID))
	for i := range bins {
		fillCwd(&bins[i])
	}
	return bins, nil
}

// unsupported builds the error for an operation this OS does not offer.
func unsupported(op, why string) error {
	return fmt.Errorf("proc: %s on %s: %s: %w", op, runtime.GOOS, why, errors.ErrUnsupported)
}

// Alive reports whether pid still runs (a zombie does not).
func Alive(pid int) bool {
	p, err := Get(pid)
	return err == nil && p.State != "Z" && p.State != "X"
}
