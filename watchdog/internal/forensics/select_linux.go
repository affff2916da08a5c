package forensics

// This file scans the machine's processes for the files, locks and
// sockets a stalled tree shares with them, and keeps the ones that matter.

import (
	"slices"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// scan looks at every visible process outside the snapshot and adds those
// for which match returns a reason. It reads each process's descriptors
// (and with fdinfo, their fdinfo too), so it is the costly part of Collect.
func (c *collector) scan(match func(*Process) string, fdinfo bool) {
	all, err := proc.List()
	if err != nil {
		c.note(err)
		return
	}
	for _, pp := range all {
		if c.has(pp.PID) || pp.State == "Z" || pp.State == "X" {
			continue // a zombie holds nothing, though /proc/locks may still name it
		}
		p := Process{PID: pp.PID}
		if fdinfo {
			c.fill(&p)
		} else {
			fds, err := proc.OpenFiles(pp.PID)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				if ino, ok := bracketInode(fd.Target); ok && strings.HasPrefix(fd.Target, "socket:") {
					p.Files = append(p.Files, File{FD: fd.Num, Target: fd.Target, Kind: KindSocket, Inode: ino})
				}
			}
		}
		if why := match(&p); why != "" {
			c.add(pp, 0, why)
		}
	}
}

// selectLocks keeps the lock groups that involve the snapshot: a process
// of it holds or waits, or has the file open. It names the files and fills
// the PIDs.
func (c *collector) selectLocks(all []Lock) []Lock {
	procs := c.snap.Processes
	var out []Lock
	for _, g := range lockGroups(all) {
		keep := false
		group := slices.Clone(g)
		var hs []int
		for i := range group {
			l := &group[i]
			if l.Waiting {
				l.PIDs = waiters(*l, hs, procs)
			} else {
				l.PIDs = holders(*l, procs)
				hs = l.PIDs
			}
			for _, pid := range l.PIDs {
				keep = keep || c.has(pid)
			}
			l.PIDs = slices.DeleteFunc(l.PIDs, func(pid int) bool {
				i, ok := c.index[pid]
				if !ok {
					return true
				}
				// A locker that closed its descriptor holds nothing.
				p := c.snap.Processes[i]
				return !l.Waiting && p.Files != nil && !p.hasFile(l.file())
			})
			if path, ok := c.pathOf(l.file()); ok {
				l.Path = path
				keep = true
			}
		}
		if keep {
			out = append(out, group...)
		}
	}
	return out
}

// pathOf returns the path under which a snapshot process has the file open.
func (c *collector) pathOf(k fileKey) (string, bool) {
	for _, p := range c.snap.Processes {
		for _, f := range p.Files {
			if f.Kind == KindFile && f.Dev == k.dev && f.Inode == k.inode {
				return f.Target, true
			}
		}
	}
	return "", false
}

// selectSockets returns the TCP and Unix sockets the snapshot's processes hold.
func (c *collector) selectSockets(t tables) []Socket {
	byIno := map[uint64]*Socket{}
	var order []uint64
	for _, p := range c.snap.Processes {
		for _, f := range p.Files {
			s, ok := t.byIno[f.Inode]
			if f.Kind != KindSocket || !ok {
				continue
			}
			if byIno[f.Inode] == nil {
				s.PIDs = nil
				byIno[f.Inode] = &s
				order = append(order, f.Inode)
			}
			if so := byIno[f.Inode]; !slices.Contains(so.PIDs, p.PID) {
				so.PIDs = append(so.PIDs, p.PID)
			}
		}
	}
	out := make([]Socket, 0, len(order))
	for _, ino := range order {
		out = append(out, *byIno[ino])
	}
	sortSockets(out)
	return out
}
