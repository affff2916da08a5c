package forensics

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// procRoot is where procfs is mounted.
const procRoot = "/proc"

// maxHops bounds how far related processes are followed: a tree process
// waits for a lock held by X (hop 1), X waits for a lock held by Y (hop 2)
// … Four hops show any cycle of up to four processes outside the trees.
const maxHops = 4

// maxPeers bounds how many clients of one listening socket are added as
// related processes: a busy server's clients are not all of interest.
const maxPeers = 8

// Supported reports whether this OS gives the full snapshot; Linux does.
func Supported() (full bool, why string) { return true, "" }

// tables are the system-wide /proc files a snapshot relates processes by.
type tables struct {
	locks []Lock
	tcp   []Socket // tcp and tcp6
	unix  []Socket
	byIno map[uint64]Socket
}

// details fills threads, files, sockets and locks, and adds the related
// processes.
func (c *collector) details() error {
	if b, err := os.ReadFile(procRoot + "/sys/net/ipv4/ip_local_port_range"); err == nil {
		c.snap.EphemeralPorts = parsePortRange(b)
	}
	// The lock and socket tables first, the processes' files after: a
	// file seen open after a lock was seen held is probably still held
	// through it, while in the other order a lock taken in between would
	// have no file to name it.
	t := c.readTables()
	for i := range c.snap.Processes {
		c.fill(&c.snap.Processes[i])
	}
	for hop := 0; hop < maxHops; hop++ {
		n := len(c.snap.Processes)
		c.relateLocks(t)
		if hop == 0 {
			c.relateSockets(t)
		}
		if len(c.snap.Processes) == n {
			break
		}
		for i := n; i < len(c.snap.Processes); i++ {
			c.fill(&c.snap.Processes[i])
		}
	}
	c.snap.Locks = c.selectLocks(t.locks)
	c.snap.Sockets = c.selectSockets(t)
	return nil
}

// readTables reads /proc/locks and the socket tables of the first root's
// network namespace (the test binary's, which can differ from ours).
func (c *collector) readTables() tables {
	var t tables
	if b, err := os.ReadFile(procRoot + "/locks"); err != nil {
		c.note(fmt.Errorf("forensics: %w", err))
	} else if t.locks, err = parseLocks(bytes.NewReader(b)); err != nil {
		c.note(err)
	}
	net := procRoot + "/" + strconv.Itoa(c.snap.Roots[0]) + "/net/"
	if _, err := os.Stat(net); err != nil {
		net = procRoot + "/net/"
	}
	for _, proto := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(net + proto)
		if err != nil {
			if !os.IsNotExist(err) { // no tcp6 without IPv6
				c.note(fmt.Errorf("forensics: %w", err))
			}
			continue
		}
		ss, err := parseTCP(bytes.NewReader(b), proto, binary.NativeEndian)
		if err != nil {
			c.note(err)
		}
		t.tcp = append(t.tcp, ss...)
	}
	if b, err := os.ReadFile(net + "unix"); err == nil {
		var err error
		if t.unix, err = parseUnix(bytes.NewReader(b)); err != nil {
			c.note(err)
		}
	}
	t.byIno = map[uint64]Socket{}
	for _, s := range slices.Concat(t.tcp, t.unix) {
		if s.Inode != 0 {
			t.byIno[s.Inode] = s
		}
	}
	return t
}

// fill reads the threads and open files of p. A process that exited in
// the meantime keeps what proc gave.
func (c *collector) fill(p *Process) {
	dir := procRoot + "/" + strconv.Itoa(p.PID)
	p.Threads = readThreads(dir)
	fds, err := proc.OpenFiles(p.PID)
	if err != nil {
		if !errors.Is(err, proc.ErrNoProcess) {
			c.note(err)
		}
		return
	}
	var mounts map[int]string
	if b, err := os.ReadFile(dir + "/mountinfo"); err == nil {
		mounts = parseMountinfo(b)
	}
	p.Files = make([]File, 0, len(fds))
	for _, fd := range fds {
		f := File{FD: fd.Num, Target: fd.Target, Kind: kindOf(fd.Target)}
		switch {
		case fd.Read && fd.Write:
			f.Mode = "rw"
		case fd.Write:
			f.Mode = "w"
		default:
			f.Mode = "r"
		}
		if b, err := os.ReadFile(dir + "/fdinfo/" + strconv.Itoa(fd.Num)); err == nil {
			fi := parseFdinfo(b)
			f.Flags = fi.flags
			if m, ok := accessMode(fi.flags); ok {
				f.Mode = m
			}
			f.Locks = fi.locks
			if f.Kind == KindFile || f.Kind == KindOther {
				f.Dev, f.Inode = mounts[fi.mntID], fi.ino
			}
		}
		if f.Kind == KindPipe || f.Kind == KindSocket {
			f.Inode, _ = bracketInode(fd.Target)
		}
		p.Files = append(p.Files, f)
	}
}

// readThreads reads the state and wait channel of every thread under dir.
func readThreads(dir string) []Thread {
	d, err := os.Open(dir + "/task")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var ts []Thread
	for _, name := range names {
		tid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(dir + "/task/" + name + "/stat")
		if err != nil {
			continue // exited
		}
		t := Thread{TID: tid, State: parseTaskState(stat)}
		if w, err := os.ReadFile(dir + "/task/" + name + "/wchan"); err == nil {
			if s := strings.TrimSpace(string(w)); s != "0" {
				t.Wchan = s
			}
		}
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b Thread) int { return a.TID - b.TID })
	return ts
}

// kindOf classifies a descriptor's link target.
func kindOf(target string) FileKind {
	switch {
	case strings.HasPrefix(target, "pipe:["):
		return KindPipe
	case strings.HasPrefix(target, "socket:["):
		return KindSocket
	case strings.HasPrefix(target, "anon_inode:"):
		return KindAnon
	case strings.HasPrefix(target, "/") && !strings.HasSuffix(target, " (deleted)"):
		return KindFile
	}
	return KindOther
}

// bracketInode returns N of "pipe:[N]" or "socket:[N]".
func bracketInode(target string) (uint64, bool) {
	_, s, ok := strings.Cut(target, ":[")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	return n, err == nil
}

// relateLocks adds the holders of the locks the snapshot's processes wait for.
func (c *collector) relateLocks(t tables) {
	var unresolved []Lock // no live holder known: OFD locks (PID -1), or a locker that exited while a child kept the descriptor
	for _, g := range lockGroups(t.locks) {
		held := g[0]
		if held.Waiting {
			continue // a queue whose lock line we did not see
		}
		hs := holders(held, c.snap.Processes)
		var waiting []int
		for _, w := range g[1:] {
			for _, pid := range waiters(w, hs, c.snap.Processes) {
				if c.has(pid) {
					waiting = append(waiting, pid)
				}
			}
		}
		if len(waiting) == 0 {
			continue
		}
		why := fmt.Sprintf("holds a %s lock on %s:%d that %d waits for", held.Class, held.Dev, held.Inode, waiting[0])
		// The PID /proc/locks names is the locker. It may have closed
		// its descriptor (or exited) while a child that inherited it
		// keeps the lock: then it has the file no longer open, and the
		// holder is found through fdinfo below.
		found := false
		for _, pid := range hs {
			if !c.has(pid) {
				if p, err := proc.Get(pid); err == nil && p.State != "Z" {
					tmp := Process{PID: pid}
					c.fill(&tmp)
					if tmp.hasFile(held.file()) {
						c.add(p, 0, why)
					}
				}
			}
			if i, ok := c.index[pid]; ok && (c.snap.Processes[i].hasFile(held.file()) || c.snap.Processes[i].Files == nil) {
				found = true
			}
		}
		if !found {
			unresolved = append(unresolved, held)
		}
	}
	if len(unresolved) > 0 {
		c.scan(func(p *Process) string {
			for _, l := range unresolved {
				if p.holdsThroughFD(l) {
					return fmt.Sprintf("shares the open file that holds a %s lock on %s:%d a snapshot process waits for", l.Class, l.Dev, l.Inode)
				}
			}
			return ""
		}, true)
	}
}

// relateSockets adds the processes at the other end of the tree's local
// TCP connections, and the clients of its listeners.
func (c *collector) relateSockets(t tables) {
	want := map[uint64]string{} // socket inode → why its holder is related
	var mine []Socket
	for _, p := range c.snap.Processes {
		if !p.inTree() {
			continue
		}
		for _, f := range p.Files {
			if s, ok := t.byIno[f.Inode]; ok && f.Kind == KindSocket && s.Proto != "unix" {
				mine = append(mine, s)
			}
		}
	}
	for _, s := range mine {
		if s.State == "LISTEN" {
			n := 0
			for _, o := range t.tcp {
				if o.Inode != 0 && o.State != "LISTEN" && connectsTo(o, s) && n < maxPeers {
					want[o.Inode] = fmt.Sprintf("connects to %s (%s)", o.Remote, o.State)
					n++
				}
			}
			continue
		}
		if peer, ok := peerOf(s, t.tcp); ok {
			want[peer.Inode] = fmt.Sprintf("holds the other end of %s→%s", s.Local, s.Remote)
		} else if l, ok := listenerFor(s, t.tcp); ok {
			want[l.Inode] = fmt.Sprintf("listens on %s", l.Local)
		}
	}
	for _, p := range c.snap.Processes {
		for _, f := range p.Files {
			if f.Kind == KindSocket {
				delete(want, f.Inode)
			}
		}
	}
	if len(want) == 0 {
		return
	}
	c.scan(func(p *Process) string {
		for _, f := range p.Files {
			if why, ok := want[f.Inode]; ok && f.Kind == KindSocket {
				return why
			}
		}
		return ""
	}, false)
}

// PortOwner returns the processes, among all those visible, that hold a
// TCP socket listening on port (any address, IPv4 or IPv6), in PID order.
// It reads our network namespace's /proc/net/tcp{,6} and scans every
// process's descriptors. The watchdog calls it when a stalled test's
// frames or output name a port, to say who holds it.
func PortOwner(port int) ([]int, error) {
	inodes := map[uint64]bool{}
	for _, proto := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(procRoot + "/net/" + proto)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("forensics: port owner: %w", err)
		}
		ss, _ := parseTCP(bytes.NewReader(b), proto, binary.NativeEndian)
		for _, s := range ss {
			if s.State == "LISTEN" && s.Inode != 0 && int(s.Local.Port()) == port {
				inodes[s.Inode] = true
			}
		}
	}
	if len(inodes) == 0 {
		return nil, nil
	}
	all, err := proc.List()
	if err != nil {
		return nil, fmt.Errorf("forensics: port owner: %w", err)
	}
	var pids []int
	for _, p := range all {
		fds, err := proc.OpenFiles(p.PID)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if ino, ok := bracketInode(fd.Target); ok && strings.HasPrefix(fd.Target, "socket:") && inodes[ino] {
				pids = append(pids, p.PID)
				break
			}
		}
	}
	return pids, nil
}
