package proc

import (
	"sort"
	"strings"
)

// children indexes a process list by parent PID, each list in PID order.
func children(all []Process) map[int][]Process {
	kids := make(map[int][]Process)
	for _, p := range all {
		if p.PID == p.PPID { // never loop, whatever the input says
			continue
		}
		kids[p.PPID] = append(kids[p.PPID], p)
	}
	for _, k := range kids {
		sort.Slice(k, func(i, j int) bool { return k[i].PID < k[j].PID })
	}
	return kids
}

// descendants walks the tree below root breadth first.
func descendants(all []Process, root int) []Process {
	kids := children(all)
	var out []Process
	seen := map[int]bool{root: true}
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range kids[pid] {
			if seen[c.PID] {
				continue
			}
			seen[c.PID] = true
			out = append(out, c)
			queue = append(queue, c.PID)
		}
	}
	return out
}

// testFlagAt returns the index of the first -test.* argument after argv[0], or -1.
func testFlagAt(argv []string) int {
	for i, a := range argv {
		if i > 0 && strings.HasPrefix(a, "-test.") {
			return i
		}
	}
	return -1
}

// testBinaries implements TestBinaries over a snapshot; see there.
func testBinaries(all []Process, goPID int) []Process {
	kids := children(all)
	var out []Process
	// walk returns whether a test binary was found at or below p.
	var walk func(p Process) bool
	walk = func(p Process) bool {
		switch testFlagAt(p.Cmdline) {
		case 1: // a test binary: its own children are its business
			out = append(out, p)
			return true
		case -1:
			found := false
			for _, c := range kids[p.PID] {
				found = walk(c) || found
			}
			return found
		default: // an -exec wrapper, or an emulator running the binary in-process
			found := false
			for _, c := range kids[p.PID] {
				found = walk(c) || found
			}
			if !found {
				out = append(out, p)
			}
			return true
		}
	}
	for _, c := range kids[goPID] {
		walk(c)
	}
	return out
}
