package forensics

// This file relates file locks: who holds the lock another binary waits
// for, and lock cycles between the run's binaries.

import (
	"fmt"
	"slices"
	"strings"
)

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
