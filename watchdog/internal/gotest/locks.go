package gotest

// Goroutines that wait on the same lock, and possible lock-order
// inversions between them.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/stackparse"
)

// maxCycleCandidates bounds the goroutines lockCycles compares pairwise.
const maxCycleCandidates = 256

// lockCycles finds pairs of goroutines blocked in sync.Mutex.Lock where
// each has, among the arguments of its non-standard-library frames, a
// pointer to an object that contains (within maxObject bytes) the mutex
// the other waits on, and that object is not the one holding its own
// awaited mutex. See LockCycle.
func lockCycles(gs []*stackparse.Goroutine, testOf map[*stackparse.Goroutine]string, goroot string) []LockCycle {
	const maxObject = 256
	type cand struct {
		g    *stackparse.Goroutine
		addr uint64
		ptrs []uint64
	}
	var cs []cand
	for _, g := range gs {
		if len(cs) == maxCycleCandidates {
			break
		}
		if stackparse.Classify(g) != stackparse.WaitMutex {
			continue
		}
		a, ok := g.WaitAddress()
		if !ok {
			continue
		}
		var ptrs []uint64
		for _, f := range g.Frames {
			if f.IsStdlibIn(goroot) {
				continue
			}
			ptrs = append(ptrs, argWords(f.Args)...)
		}
		if len(ptrs) > 0 {
			cs = append(cs, cand{g, a, ptrs})
		}
	}
	holder := func(ptrs []uint64, addr uint64) uint64 {
		var best uint64
		for _, p := range ptrs {
			if p <= addr && addr-p < maxObject && p > best {
				best = p
			}
		}
		return best
	}
	out := []LockCycle{}
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			x, y := cs[i], cs[j]
			if x.addr == y.addr {
				continue
			}
			xo, yo := holder(x.ptrs, y.addr), holder(y.ptrs, x.addr)
			if xo == 0 || yo == 0 || xo == holder(x.ptrs, x.addr) || yo == holder(y.ptrs, y.addr) {
				continue
			}
			lc := LockCycle{
				IDs:       []int64{x.g.ID, y.g.ID},
				Addresses: []string{fmt.Sprintf("%#x", x.addr), fmt.Sprintf("%#x", y.addr)},
				Objects:   []string{fmt.Sprintf("%#x", xo), fmt.Sprintf("%#x", yo)},
			}
			if t := testOf[x.g]; t != "" && t == testOf[y.g] {
				lc.Test = t
			}
			out = append(out, lc)
		}
	}
	return out
}

// argWords returns the argument words printed reliably as non-zero hex
// values (not "0x…?", not "...").
func argWords(args string) []uint64 {
	var out []uint64
	for _, w := range strings.Split(args, ",") {
		w = strings.Trim(strings.TrimSpace(w), "{}")
		if !strings.HasPrefix(w, "0x") || strings.HasSuffix(w, "?") {
			continue
		}
		if v, err := strconv.ParseUint(w[2:], 16, 64); err == nil && v >= 0x1000 {
			out = append(out, v)
		}
	}
	return out
}

// lockGroups finds goroutines blocked on the same address.
func lockGroups(gs []*stackparse.Goroutine) []LockGroup {
	type key struct {
		addr  uint64
		state string
	}
	m := make(map[key][]int64)
	var order []key
	for _, g := range gs {
		w := stackparse.Classify(g)
		if !w.Blocked() {
			continue
		}
		a, ok := g.WaitAddress()
		if !ok || a == 0 {
			continue
		}
		k := key{a, w.String()}
		if m[k] == nil {
			order = append(order, k)
		}
		m[k] = append(m[k], g.ID)
	}
	out := []LockGroup{}
	for _, k := range order {
		if len(m[k]) > 1 {
			out = append(out, LockGroup{Address: fmt.Sprintf("%#x", k.addr), State: k.state, IDs: m[k]})
		}
	}
	return out
}
