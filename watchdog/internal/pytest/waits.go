package pytest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/forensics"
)

// waitKind is what a thread waits for.
type waitKind string

// The kinds of wait the diagnosis tells apart.
const (
	waitLock      waitKind = "lock"      // threading Lock/RLock acquire
	waitCondition waitKind = "condition" // threading Condition/Event wait, queue get
	waitJoin      waitKind = "join"      // Thread.join
	waitFlock     waitKind = "flock"     // flock(2) on a file
	waitSocket    waitKind = "socket"    // recv, accept, connect, send on a socket
	waitPipe      waitKind = "pipe"      // read or write on a pipe
	waitPoll      waitKind = "poll"      // poll/select on descriptors
	waitChild     waitKind = "child"     // wait for a child process
	waitSleep     waitKind = "sleep"     // a sleep loop
	waitSqlite    waitKind = "sqlite"    // sqlite's busy handler, inside execute
	waitBusy      waitKind = "busy"      // on a CPU the whole time
	waitMoving    waitKind = "moving"    // its stack changed between the dumps
	waitUnknown   waitKind = "unknown"
)

// wait is what one thread waits for, with the evidence.
type wait struct {
	kind waitKind
	// what names the object: a lock's source expression, a file, a
	// socket's endpoints, a child's command line.
	what string
	// file is the path of a locked file or database.
	file string
	// peer is the process at the other side (the lock's or database's
	// holder, the socket's other end, the child), 0 when unknown;
	// inode the socket waited on.
	peer  int
	inode uint64
	// held are the files this thread's process holds flock locks on.
	held []string
	// cpu is the share of one CPU the thread used between the rounds.
	cpu float64
	// child is the child process waited for.
	child *forensics.Process
}

// view is one thread seen in both rounds.
type view struct {
	pid     int
	a, b    *DumpThread // b is nil with one round
	gap     time.Duration
	rootdir string
	src     *sources
	fs      *forensics.Snapshot
}

// task returns the kernel's view of the thread in the first round that has
// it blocked in a system call, else the first round's (Syscall -1 when
// neither round read it).
func (v view) task() taskInfo {
	if v.a.HasTask && v.a.Task.Syscall >= 0 {
		return v.a.Task
	}
	if v.b != nil && v.b.HasTask && v.b.Task.Syscall >= 0 {
		return v.b.Task
	}
	if !v.a.HasTask {
		return taskInfo{Syscall: -1} // not read: no system call known (0 is read(2))
	}
	return v.a.Task
}

// same reports whether the thread's stack is the same in both rounds.
func (v view) same() bool {
	return v.b == nil || slices.Equal(v.a.Frames, v.b.Frames)
}

// cpuShare is the share of one CPU the thread used between the rounds, -1
// when unknown.
func (v view) cpuShare() float64 {
	if v.b == nil || !v.a.HasTask || !v.b.HasTask || v.gap <= 0 {
		return -1
	}
	return float64(v.b.Task.CPU-v.a.Task.CPU) / float64(v.gap)
}

// spinThreshold is the share of a CPU above which a thread that is on a
// CPU (state R, in no system call) in both rounds counts as spinning. A
// loaded machine gives a spinning thread far less than a whole CPU (13 %
// was seen in CI, 36 % here with four jobs on two cores), while a loop that
// polls with a sleep of 10 ms uses a few per cent and sleeps in most
// samples.
const spinThreshold = 0.05

// spinning reports whether the thread spun between the rounds: most of a
// CPU, or on a CPU outside any system call in both rounds and using more
// than spinThreshold of one.
func (v view) spinning(cpu float64) bool {
	if cpu >= 0.5 {
		return true
	}
	if v.b == nil || !v.a.HasTask || !v.b.HasTask {
		return false
	}
	onCPU := func(t taskInfo) bool { return t.State == "R" && t.Syscall < 0 }
	return onCPU(v.a.Task) && onCPU(v.b.Task) && cpu > spinThreshold
}

// classify says what the thread waits for, from its Python stack, its
// system call and the forensics.
func (v view) classify() wait {
	w := wait{cpu: v.cpuShare()}
	t := v.task()
	frames := v.a.Frames
	top := Frame{}
	if len(frames) > 0 {
		top = frames[0]
	}
	if v.spinning(w.cpu) {
		w.kind = waitBusy
		return w
	}
	k := kindOfSyscall(t.Syscall)
	if slices.Contains([]string{"locks_lock_inode_wait", "flock_lock_inode_wait"}, t.Wchan) {
		k = sysFlock
	}
	switch k {
	case sysFlock:
		w.kind = waitFlock
		v.flock(&w)
		return w
	case sysRead, sysWrite, sysAccept, sysConnect:
		v.descriptor(&w, k, int(t.Args[0]))
		return w
	case sysPollFDs, sysSelect:
		w.kind = waitPoll
		v.polled(&w, t)
		return w
	case sysPoll:
		w.kind = waitPoll
		return w
	case sysWait:
		w.kind = waitChild
		v.childOf(&w)
		return w
	case sysSleep:
		if v.sqlite(&w) {
			return w
		}
		w.kind = waitSleep
		return w
	case sysFutex:
		switch {
		case stdFrame(top, "threading.py", "_wait_for_tstate_lock", "join"):
			w.kind = waitJoin
		case stdFrame(top, "threading.py", "wait"), stdFrame(top, "queue.py", "get", "put"):
			w.kind = waitCondition
		default:
			w.kind = waitLock
			if i := innermostUser(frames, v.rootdir); i == 0 {
				w.what = lockExpr(v.src.line(frames[0].File, frames[0].Line))
			}
		}
		return w
	}
	if !v.a.HasTask && innermostUser(frames, v.rootdir) == 0 {
		// No kernel view of the thread (the thread table did not list
		// it): the source line says what it waits on, if anything.
		src := v.src.line(frames[0].File, frames[0].Line)
		switch {
		case lockExpr(src) != "":
			w.kind, w.what = waitLock, lockExpr(src)
			return w
		case strings.Contains(src, "sleep("):
			w.kind = waitSleep
			return w
		}
	}
	switch {
	case stdFrame(top, "subprocess.py", "_try_wait", "wait", "communicate"):
		w.kind = waitChild
		v.childOf(&w)
	case stdFrame(top, "threading.py", "_wait_for_tstate_lock", "join"):
		w.kind = waitJoin
	case !v.same():
		w.kind = waitMoving
	default:
		w.kind = waitUnknown
	}
	return w
}

// proc returns the forensics' view of the thread's process.
func (v view) proc(pid int) (forensics.Process, bool) {
	if v.fs == nil {
		return forensics.Process{}, false
	}
	return v.fs.Process(pid)
}

// flock finds the lock the process waits for in /proc/locks, its holder,
// and the locks the process holds.
func (v view) flock(w *wait) {
	if v.fs == nil {
		return
	}
	w.held = heldLocks(v.fs, v.pid)
	for _, l := range v.fs.Locks {
		if !l.Waiting || !(l.PID == v.pid || slices.Contains(l.PIDs, v.pid)) {
			continue
		}
		w.file, w.what = l.Path, l.Path
		for _, h := range v.fs.Locks {
			if h.ID == l.ID && !h.Waiting {
				w.peer = h.PID
			}
		}
		return
	}
}

// heldLocks lists the files pid holds a flock or POSIX lock on.
func heldLocks(fs *forensics.Snapshot, pid int) []string {
	var held []string
	for _, l := range fs.Locks {
		if !l.Waiting && (l.PID == pid || slices.Contains(l.PIDs, pid)) && l.Path != "" {
			held = append(held, l.Path)
		}
	}
	slices.Sort(held)
	return slices.Compact(held)
}

// waitsFor returns the file pid waits to lock, "" when none.
func waitsFor(fs *forensics.Snapshot, pid int) (string, int) {
	for _, l := range fs.Locks {
		if l.Waiting && (l.PID == pid || slices.Contains(l.PIDs, pid)) {
			for _, h := range fs.Locks {
				if h.ID == l.ID && !h.Waiting {
					return l.Path, h.PID
				}
			}
			return l.Path, 0
		}
	}
	return "", 0
}

// descriptor classifies a wait in a system call on descriptor fd.
func (v view) descriptor(w *wait, k sysKind, fd int) {
	w.kind = waitUnknown
	p, ok := v.proc(v.pid)
	if !ok {
		return
	}
	for _, f := range p.Files {
		if f.FD != fd {
			continue
		}
		switch f.Kind {
		case forensics.KindPipe:
			w.kind, w.what = waitPipe, f.Target
		case forensics.KindSocket:
			w.kind, w.inode = waitSocket, f.Inode
			v.socketPeer(w, k)
		default:
			w.what = f.Target
		}
		return
	}
}

// polled classifies a poll or select on descriptors as a wait on the
// first socket (or pipe) among them: Python's socket timeouts poll the
// socket before each recv, send, accept or connect.
func (v view) polled(w *wait, t taskInfo) {
	p, ok := v.proc(v.pid)
	if !ok {
		return
	}
	for _, fd := range t.Polled {
		for _, f := range p.Files {
			if f.FD != fd || (f.Kind != forensics.KindSocket && f.Kind != forensics.KindPipe) {
				continue
			}
			k := sysRead
			if t.PollWrite {
				k = sysWrite
			}
			if f.Kind == forensics.KindSocket && v.listening(f.Inode) {
				k = sysAccept
			}
			v.descriptor(w, k, fd)
			return
		}
	}
}

// listening reports whether the socket inode is a listener.
func (v view) listening(inode uint64) bool {
	for _, s := range v.fs.Sockets {
		if s.Inode == inode {
			return s.State == "LISTEN"
		}
	}
	return false
}

// socketPeer describes the socket w.inode and finds the process at its
// other end.
func (v view) socketPeer(w *wait, k sysKind) {
	verb := map[sysKind]string{sysRead: "recv", sysWrite: "send", sysAccept: "accept", sysConnect: "connect"}[k]
	for _, s := range v.fs.Sockets {
		if s.Inode != w.inode {
			continue
		}
		switch {
		case s.Proto == "unix":
			w.what = fmt.Sprintf("%s on a Unix socket %s", verb, orDash(s.Path))
		case s.State == "LISTEN":
			w.what = fmt.Sprintf("accept on %s", s.Local)
		default:
			if s.State == "SYN_SENT" {
				verb = "connect"
			}
			w.what = fmt.Sprintf("%s on a TCP connection %s → %s", verb, s.Local, s.Remote)
			for _, o := range v.fs.Sockets {
				if o.Inode != s.Inode && o.Local == s.Remote && o.Remote == s.Local {
					for _, pid := range o.PIDs {
						if pid != v.pid {
							w.peer = pid
						}
					}
				}
			}
		}
		return
	}
}

func orDash(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}

// childOf finds the child process the thread waits for.
func (v view) childOf(w *wait) {
	if v.fs == nil {
		return
	}
	for i := range v.fs.Processes {
		c := v.fs.Processes[i]
		if c.PPID == v.pid {
			w.child, w.peer = &c, c.PID
			w.what = fmt.Sprintf("child %d (%s)", c.PID, strings.Join(c.Cmdline, " "))
			return
		}
	}
}

// sqlite recognises sqlite's busy handler: a sleep inside the user's call
// to execute (or commit) with a database file open that another process
// holds a POSIX lock on.
func (v view) sqlite(w *wait) bool {
	i := innermostUser(v.a.Frames, v.rootdir)
	src := ""
	if i == 0 {
		src = v.src.line(v.a.Frames[0].File, v.a.Frames[0].Line)
	}
	p, ok := v.proc(v.pid)
	if !ok {
		return false
	}
	for _, f := range p.Files {
		if f.Kind != forensics.KindFile || f.Inode == 0 {
			continue
		}
		for _, l := range v.fs.Locks {
			if l.Class == "POSIX" && l.Access == "WRITE" && !l.Waiting && l.PID != v.pid && l.Dev == f.Dev && l.Inode == f.Inode {
				w.kind, w.file, w.what, w.peer = waitSqlite, f.Target, f.Target, l.PID
				return true
			}
		}
	}
	if strings.Contains(src, ".execute") || strings.Contains(src, ".commit(") {
		for _, f := range p.Files {
			if ext := filepath.Ext(f.Target); ext == ".db" || ext == ".sqlite" || ext == ".sqlite3" {
				w.kind, w.file, w.what = waitSqlite, f.Target, f.Target
				return true
			}
		}
	}
	return false
}
