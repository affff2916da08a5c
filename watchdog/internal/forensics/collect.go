package forensics

import (
	"errors"
	"fmt"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// Collect takes a snapshot of the processes pids and all their descendants:
// their states and wait channels (per thread), open files, sockets and
// file locks, plus the related processes outside the trees that hold what
// they wait for (see Snapshot.Processes). PIDs that do not exist are
// skipped; if none exists the error wraps proc.ErrNoProcess.
//
// It costs a few /proc reads per process and descriptor. Finding who
// holds the other end of a local TCP connection, or an OFD lock, scans the
// descriptors of every visible process, only when a tree process needs it.
// Reading another user's processes needs root (or CAP_SYS_PTRACE); what
// cannot be read is noted in Snapshot.Errors.
//
// On macOS the snapshot has the process tree (no threads, files, sockets
// or locks) and the error wraps errors.ErrUnsupported: a non-nil snapshot
// with an error is partial, not wrong. On other systems the snapshot is
// nil and the error wraps errors.ErrUnsupported.
func Collect(pids []int) (*Snapshot, error) {
	c := &collector{
		snap:  &Snapshot{Taken: time.Now()},
		index: map[int]int{},
	}
	for _, root := range pids {
		if _, dup := c.index[root]; dup {
			continue
		}
		p, err := proc.Get(root)
		if errors.Is(err, proc.ErrNoProcess) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("forensics: collect: %w", err)
		}
		c.snap.Roots = append(c.snap.Roots, root)
		c.add(p, root, "")
		desc, err := proc.Descendants(root)
		if err != nil {
			c.note(err)
		}
		for _, d := range desc {
			if _, dup := c.index[d.PID]; !dup {
				c.add(d, root, "")
			}
		}
	}
	if len(c.snap.Roots) == 0 {
		return nil, fmt.Errorf("forensics: collect %v: %w", pids, proc.ErrNoProcess)
	}
	if err := c.details(); err != nil {
		return c.snap, err
	}
	return c.snap, nil
}

// collector builds one Snapshot.
type collector struct {
	snap  *Snapshot
	index map[int]int // PID → index in snap.Processes
}

// add appends a process; related says why a process outside the trees
// was added (root is then 0).
func (c *collector) add(p proc.Process, root int, related string) *Process {
	fp := Process{
		PID: p.PID, PPID: p.PPID, PGID: p.PGID,
		Root: root, Related: related,
		Cmdline: p.Cmdline, Exe: p.Exe, Cwd: p.Cwd,
		State: p.State, Wchan: p.Wchan, Start: p.Start,
	}
	if fp.Cmdline == nil {
		fp.Cmdline = []string{}
	}
	if age := p.Age(c.snap.Taken); age > 0 {
		fp.AgeSeconds = age.Round(10 * time.Millisecond).Seconds()
	}
	c.index[p.PID] = len(c.snap.Processes)
	c.snap.Processes = append(c.snap.Processes, fp)
	return &c.snap.Processes[len(c.snap.Processes)-1]
}

// note records a non-fatal error.
func (c *collector) note(err error) {
	c.snap.Errors = append(c.snap.Errors, err.Error())
}

// has reports whether pid is in the snapshot.
func (c *collector) has(pid int) bool {
	_, ok := c.index[pid]
	return ok
}
