package forensics

import "slices"

// lockGroups splits /proc/locks into groups: a lock followed by the
// requests queued behind it.
func lockGroups(locks []Lock) [][]Lock {
	var groups [][]Lock
	for i := 0; i < len(locks); {
		j := i + 1
		for j < len(locks) && locks[j].ID == locks[i].ID && locks[j].Waiting {
			j++
		}
		groups = append(groups, locks[i:j])
		i = j
	}
	return groups
}

// holders returns the PIDs that hold lock l among procs: l.PID, and every
// process with a descriptor on the file whose fdinfo shows the lock.
func holders(l Lock, procs []Process) []int {
	var pids []int
	if l.PID > 0 {
		pids = append(pids, l.PID)
	}
	for _, p := range procs {
		if p.holdsThroughFD(l) {
			pids = append(pids, p.PID)
		}
	}
	slices.Sort(pids)
	return slices.Compact(pids)
}

// holdsThroughFD reports whether one of p's descriptors shows lock l in
// its fdinfo, that is, whether p shares the open file description that
// holds it.
func (p Process) holdsThroughFD(l Lock) bool {
	want := FileLock{Class: l.Class, Access: l.Access, Range: l.Range}
	for _, f := range p.Files {
		if f.Dev == l.Dev && f.Inode == l.Inode && slices.Contains(f.Locks, want) {
			return true
		}
	}
	return false
}

// waiters returns the PIDs that wait for request l among procs: l.PID, or
// for an OFD request (PID -1) the processes with the file open and a
// thread in a lock wait that do not hold the lock themselves.
func waiters(l Lock, holding []int, procs []Process) []int {
	if l.PID > 0 {
		return []int{l.PID}
	}
	var pids []int
	for _, p := range procs {
		if _, ok := p.lockWaiting(); !ok || slices.Contains(holding, p.PID) {
			continue
		}
		if p.hasFile(l.file()) {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// hasFile reports whether p has the file open.
func (p Process) hasFile(k fileKey) bool {
	for _, f := range p.Files {
		if f.Dev == k.dev && f.Inode == k.inode {
			return true
		}
	}
	return false
}
