// Package forensics records what the processes of a stalled test binary
// hold and wait for — child processes, open files, pipes, TCP and Unix
// sockets, file locks — and relates several such snapshots into findings a
// person can act on ("package X's test binary holds the lock file F that
// package Y's test binary waits for"). The watchdog collects one Snapshot
// per stalled test binary (it becomes processes.json in the artifacts) and
// prints the findings of Relate in its report.
//
// Linux reads /proc: /proc/PID/{stat,task,fd,fdinfo,mountinfo},
// /proc/locks, /proc/net/tcp, /proc/net/tcp6 and /proc/net/unix. macOS
// gets the process tree only (from ps(1), through package proc): no files,
// sockets or locks, and Collect says so with an error wrapping
// errors.ErrUnsupported next to the partial snapshot. Other systems
// (Windows) get nothing but that error.
//
// A snapshot is not atomic: processes start, exit and change state while it
// is taken, and each /proc file is read once. A process that exits while
// being read is left out; a file that cannot be read is noted in
// Snapshot.Errors and the rest is kept.
package forensics

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Snapshot is what a set of processes (the roots given to Collect and
// their descendants) held and waited for at one moment. Its JSON form is
// part of hangdog's report: field names are snake_case and stable.
type Snapshot struct {
	// Label names what the roots are, normally the import path of the
	// package whose test binary they are; Relate then writes "package
	// <Label>'s test binary". Collect leaves it empty: the caller sets it.
	Label string `json:"label,omitempty"`
	// Name, when set, is the whole name of the roots in a finding's text
	// ("worker gw1"), for a runner whose processes are not test binaries.
	Name string `json:"name,omitempty"`

	// Taken is when Collect started.
	Taken time.Time `json:"taken"`

	// Roots are the PIDs given to Collect that existed.
	Roots []int `json:"roots"`

	// Processes are the roots, each followed by its descendants (parents
	// before children), then the related processes: those outside the
	// trees that hold a lock a tree process waits for, or sit at the other
	// end of a local TCP connection of a tree process (and, transitively,
	// what those wait for, a few hops deep).
	Processes []Process `json:"processes"`

	// Sockets are the TCP and Unix sockets the processes hold, in inode order.
	Sockets []Socket `json:"sockets,omitempty"`

	// Locks are the entries of /proc/locks that involve the processes:
	// locks they hold or wait for, and locks on files they have open, in
	// /proc/locks order (each lock followed by its waiters).
	Locks []Lock `json:"locks,omitempty"`

	// EphemeralPorts is the range the kernel picks local ports from
	// (net.ipv4.ip_local_port_range). A listener outside it was bound to a
	// fixed port, the kind two packages can fight over.
	EphemeralPorts []int `json:"ephemeral_ports,omitempty"`

	// Errors lists what could not be read; the rest of the snapshot is valid.
	Errors []string `json:"errors,omitempty"`
}

// Process is one process as the snapshot saw it.
type Process struct {
	PID  int `json:"pid"`
	PPID int `json:"ppid"`
	PGID int `json:"pgid"`

	// Root is the PID given to Collect that this process descends from
	// (its own PID for a root), 0 for a related process.
	Root int `json:"root,omitempty"`

	// Related says why a process outside the trees was collected, for
	// example "holds a lock 1 waits for" or "listens on 127.0.0.1:8080";
	// empty for tree processes.
	Related string `json:"related,omitempty"`

	Cmdline []string `json:"cmdline"`
	Exe     string   `json:"exe,omitempty"`
	Cwd     string   `json:"cwd,omitempty"`

	// State is the main thread's scheduler state (R S D Z T t I X, as in
	// proc(5)); Wchan is the kernel function it sleeps in. A Go program
	// blocks in system calls on other threads: see Threads.
	State string `json:"state"`
	Wchan string `json:"wchan,omitempty"`

	Start time.Time `json:"start,omitzero"`
	// AgeSeconds is how long the process had run when the snapshot was
	// taken, to the 10 ms that /proc gives.
	AgeSeconds float64 `json:"age_seconds"`

	// Threads are every thread's state and wait channel (Linux), in TID order.
	Threads []Thread `json:"threads,omitempty"`

	// Files are the open descriptors (Linux), in descriptor order.
	Files []File `json:"files,omitempty"`
}

// Thread is one thread of a process.
type Thread struct {
	TID   int    `json:"tid"`
	State string `json:"state"`
	Wchan string `json:"wchan,omitempty"`
}

// FileKind classifies what a descriptor refers to.
type FileKind string

// The kinds of File.
const (
	KindFile   FileKind = "file"   // a path: regular file, directory, device
	KindPipe   FileKind = "pipe"   // pipe:[inode]
	KindSocket FileKind = "socket" // socket:[inode]
	KindAnon   FileKind = "anon"   // anon_inode:[eventpoll] and friends
	KindOther  FileKind = "other"  // anything else (net:[…], deleted paths …)
)

func (k FileKind) String() string { return string(k) }

// File is one open descriptor.
type File struct {
	FD int `json:"fd"`
	// Target is the descriptor's link as readlink(2) of /proc/PID/fd/N
	// gives it: a path, "pipe:[123]", "socket:[456]", "anon_inode:[…]".
	Target string   `json:"target"`
	Kind   FileKind `json:"kind"`
	// Mode is the access mode: "r", "w" or "rw".
	Mode string `json:"mode"`
	// Flags are the open flags in octal as /proc/PID/fdinfo/N shows them
	// (for example "02" for O_RDWR; "02002002" adds O_CLOEXEC and O_APPEND).
	Flags string `json:"flags,omitempty"`
	// Dev is the file's device as /proc/locks writes it (major:minor in
	// hex) and Inode its inode: together they name the file a lock is on.
	// Pipes and sockets have an inode and no device.
	Dev   string `json:"dev,omitempty"`
	Inode uint64 `json:"inode,omitempty"`
	// Locks are the flock and OFD locks held through this descriptor's
	// open file description (the "lock:" lines of fdinfo). Every process
	// sharing the description — a child that inherited the descriptor —
	// shows them, not only the one that took the lock.
	Locks []FileLock `json:"locks,omitempty"`
}

// FileLock is a lock as fdinfo shows it on a descriptor.
type FileLock struct {
	Class  string `json:"class"`
	Access string `json:"access"`
	Range  string `json:"range"`
}

// Socket is one TCP or Unix socket held by the snapshot's processes.
type Socket struct {
	Inode uint64 `json:"inode"`
	// Proto is "tcp", "tcp6" or "unix".
	Proto string `json:"proto"`
	// Local and Remote are the TCP endpoints ("127.0.0.1:8080",
	// "[::1]:443"); Remote is omitted for a listener.
	Local  netip.AddrPort `json:"local,omitzero"`
	Remote netip.AddrPort `json:"remote,omitzero"`
	// Path is a Unix socket's bound path ("@name" for the abstract
	// namespace); empty for the client end of a connection.
	Path string `json:"path,omitempty"`
	// Type is a Unix socket's type: "stream", "dgram" or "seqpacket".
	Type string `json:"type,omitempty"`
	// State is the TCP state as ss(8) names it (LISTEN, ESTABLISHED,
	// SYN_SENT, TIME_WAIT …) or, for Unix sockets, LISTEN, UNCONNECTED,
	// CONNECTING, CONNECTED or DISCONNECTING.
	State string `json:"state"`
	// PIDs are the snapshot's processes that hold the socket.
	PIDs []int `json:"pids"`
}

// Lock is one line of /proc/locks: a lock held, or (Waiting) a request
// blocked behind the lock with the same ID.
type Lock struct {
	// ID is the lock's ordinal in /proc/locks; waiters repeat the ID of
	// the lock they are queued behind. IDs are only meaningful within one
	// snapshot.
	ID int `json:"id"`
	// Waiting marks a blocked request (the "->" lines). Depth is 1 for a
	// request queued directly behind the lock and more for a request
	// queued behind another request (which waits for the lock too).
	Waiting bool `json:"waiting,omitempty"`
	Depth   int  `json:"depth,omitempty"`
	// Class is FLOCK (flock(2)), POSIX (fcntl(2) or lockf(3) record
	// lock), OFDLCK (open file description lock), or LEASE, DELEG, ….
	Class string `json:"class"`
	// Kind is ADVISORY or MANDATORY (leases: ACTIVE, BREAKING, BREAKER).
	Kind string `json:"kind"`
	// Access is WRITE (exclusive) or READ (shared); UNLCK for a lease
	// being broken.
	Access string `json:"access"`
	// PID is the process /proc/locks names: the locker or requester, -1
	// for OFD locks, which belong to no process.
	PID int `json:"pid"`
	// Dev (major:minor, hex) and Inode identify the locked file.
	Dev   string `json:"dev"`
	Inode uint64 `json:"inode"`
	// Range is the byte range "START-END" or "START-EOF"; flock locks
	// always cover "0-EOF".
	Range string `json:"range"`
	// Path is the locked file's path, when one of the snapshot's
	// processes has it open.
	Path string `json:"path,omitempty"`
	// PIDs are the processes of the snapshot that hold the lock — PID and
	// every process sharing the open file description that holds it — or,
	// for a request, that wait for it (for an OFD request, whose PID is
	// -1: the processes with the file open and a thread in a lock wait).
	PIDs []int `json:"pids,omitempty"`
}

// fileKey is a locked file's identity in /proc/locks.
type fileKey struct {
	dev   string
	inode uint64
}

func (l Lock) file() fileKey { return fileKey{l.Dev, l.Inode} }

// Process returns the snapshot's process with the given PID.
func (s *Snapshot) Process(pid int) (Process, bool) {
	for _, p := range s.Processes {
		if p.PID == pid {
			return p, true
		}
	}
	return Process{}, false
}

// PortOwner returns the snapshot's processes that hold a TCP socket
// listening on port (any address, IPv4 or IPv6), in PID order.
func (s *Snapshot) PortOwner(port int) []int {
	var pids []int
	for _, so := range s.Sockets {
		if so.State == "LISTEN" && so.Local.IsValid() && int(so.Local.Port()) == port {
			pids = append(pids, so.PIDs...)
		}
	}
	slices.Sort(pids)
	return slices.Compact(pids)
}

// inTree reports whether p is one of the roots or their descendants.
func (p Process) inTree() bool { return p.Root != 0 }

// lockWaitWchans are the kernel functions a thread sleeps in while waiting
// for a file lock (Linux 6.x): flock(2) in locks_lock_inode_wait, fcntl(2)
// F_SETLKW and F_OFD_SETLKW in fcntl_setlk; older kernels named them
// flock_lock_inode_wait and do_lock_file_wait.
var lockWaitWchans = []string{"locks_lock_inode_wait", "fcntl_setlk", "flock_lock_inode_wait", "do_lock_file_wait", "posix_lock_inode_wait"}

// lockWaiting reports whether a thread of p waits for a file lock, and the
// wait channel it sleeps in.
func (p Process) lockWaiting() (string, bool) {
	for _, t := range p.Threads {
		if slices.Contains(lockWaitWchans, t.Wchan) {
			return t.Wchan, true
		}
	}
	if slices.Contains(lockWaitWchans, p.Wchan) {
		return p.Wchan, true
	}
	return "", false
}

// uninterruptible returns the threads of p in state D (the main thread's
// state when Threads is empty).
func (p Process) uninterruptible() []Thread {
	var d []Thread
	for _, t := range p.Threads {
		if t.State == "D" {
			d = append(d, t)
		}
	}
	if len(p.Threads) == 0 && p.State == "D" {
		d = append(d, Thread{TID: p.PID, State: "D", Wchan: p.Wchan})
	}
	return d
}

// sortSockets orders sockets by inode.
func sortSockets(ss []Socket) {
	slices.SortFunc(ss, func(a, b Socket) int { return cmp.Compare(a.Inode, b.Inode) })
}

// devString formats a device number the way /proc/locks does.
func devString(major, minor uint32) string {
	return fmt.Sprintf("%02x:%02x", major, minor)
}
