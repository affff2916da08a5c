package stackparse

import (
	"sort"
	"strings"
)

// This file holds what TestRoots infers where a dump does not say: the
// parents of subtests in dumps without parent ids, the test of a goroutine
// whose stack is unavailable, and the test of a synctest bubble.

// unavailableRoot makes a root of the one goroutine whose stack was not
// printed and that testing.(*T).Run created, when exactly one test of the
// running tests list is run by no other root (Go 1.23 prints such dumps
// for a test spinning where it cannot be stopped).
func unavailableRoot(d *Dump, roots []*TestRoot) *TestRoot {
	var cand *Goroutine
	for _, g := range d.Goroutines {
		if g.StackUnavailable && len(g.Frames) == 0 && g.CreatedBy != nil && g.CreatedBy.Func == "testing.(*T).Run" {
			if cand != nil {
				return nil // two: which is which cannot be told
			}
			cand = g
		}
	}
	if cand == nil || len(d.RunningTests) == 0 {
		return nil
	}
	// Leaves of the list, and the tests other roots run: sets, so that
	// a list of thousands of subtests costs O(n).
	hasChild := make(map[string]bool, len(d.RunningTests))
	for _, rt := range d.RunningTests {
		for i := strings.LastIndexByte(rt.Name, '/'); i > 0; i = strings.LastIndexByte(rt.Name[:i], '/') {
			hasChild[rt.Name[:i]] = true
		}
	}
	covered := make(map[string]bool, len(roots))
	for _, r := range roots {
		if !r.Waiting {
			covered[r.Test] = true
		}
	}
	var missing string
	n := 0
	for _, rt := range d.RunningTests {
		if hasChild[rt.Name] {
			continue
		}
		top, _, _ := strings.Cut(rt.Name, "/")
		if !covered[top] {
			missing = top
			n++
		}
	}
	if n != 1 {
		return nil
	}
	return &TestRoot{Goroutine: cand, Test: missing, StackUnavailable: true}
}

// joinBubbles makes the goroutine running a test that waits in
// synctest.Test for its bubble a member of the bubble's root (see
// TestRoot.Bubble) and drops it from roots.
func joinBubbles(roots []*TestRoot, rootOf map[*Goroutine]*TestRoot, byID map[int64]*Goroutine) []*TestRoot {
	drop := make(map[*TestRoot]bool)
	for _, r := range roots {
		g := r.Goroutine
		if g.CreatedBy == nil || g.CreatedBy.Func != "testing/synctest.testingSynctestTest" {
			continue
		}
		r.Bubble = true
		// The creator runs testingSynctestTest, created in turn by
		// synctest.Test on the test's goroutine.
		cur := byID[g.ParentID]
		for i := 0; cur != nil && i < 4; i++ {
			if o := rootOf[cur]; o != nil && o != r && o.Test == r.Test {
				drop[o] = true
				rootOf[cur] = r
				break
			}
			cur = byID[cur.ParentID]
		}
	}
	if len(drop) == 0 {
		return roots
	}
	out := roots[:0]
	for _, r := range roots {
		if !drop[r] {
			out = append(out, r)
		}
	}
	return out
}

// waitsForSubtests reports a root that only waits for subtests: in t.Run,
// or in the testing package for its parallel subtests (not paused).
func waitsForSubtests(r *TestRoot) bool {
	if r.Paused || r.StackUnavailable {
		return false
	}
	if r.Waiting {
		return true
	}
	for _, f := range r.Goroutine.Frames {
		if f.IsRuntime() {
			continue
		}
		return f.Func == "testing.(*T).Run"
	}
	return false
}

// closerBefore reports whether id a is a better guess than b for the
// creator of goroutine c: below c and closer to it, or b above c.
func closerBefore(a, b, c int64) bool {
	if (a < c) != (b < c) {
		return a < c
	}
	return a > b
}

// inferParents links subtests to parents in dumps without parent ids (see
// TestRoot.Parent).
func inferParents(roots []*TestRoot) {
	var parents []*TestRoot
	for _, r := range roots {
		if waitsForSubtests(r) {
			parents = append(parents, r)
		}
	}
	if len(parents) == 0 {
		return
	}
	isChild := func(c *TestRoot) bool {
		if c.Test == "" {
			return false
		}
		fn := Frame{Func: c.Func}
		return strings.HasPrefix(fn.FuncName(), c.Test+".") && !c.InCleanup()
	}
	// Parents waiting for parallel subtests have no function: pair them,
	// in creation order, with the tests whose first subtests follow them.
	var unnamed []*TestRoot
	for _, p := range parents {
		if p.Test == "" {
			unnamed = append(unnamed, p)
		}
	}
	if len(unnamed) > 0 {
		first := make(map[string]int64) // test -> lowest subtest id
		for _, c := range roots {
			if isChild(c) {
				if id, ok := first[c.Test]; !ok || c.Goroutine.ID < id {
					first[c.Test] = c.Goroutine.ID
				}
			}
		}
		for _, p := range parents {
			if p.Test != "" {
				delete(first, p.Test) // a named parent of its own
			}
		}
		type ts struct {
			name string
			id   int64
		}
		var tests []ts
		for n, id := range first {
			tests = append(tests, ts{n, id})
		}
		sort.Slice(tests, func(i, j int) bool { return tests[i].id < tests[j].id })
		sort.Slice(unnamed, func(i, j int) bool { return unnamed[i].Goroutine.ID < unnamed[j].Goroutine.ID })
		if len(tests) == len(unnamed) {
			// Goroutine ids follow creation order only roughly
			// (each P takes ids in batches): one of each pairs
			// whatever the ids, several only in id order.
			ok := len(tests) == 1
			if !ok {
				ok = true
				for i := range tests {
					ok = ok && unnamed[i].Goroutine.ID < tests[i].id
				}
			}
			for i := range tests {
				if ok {
					unnamed[i].Test = tests[i].name
				}
			}
		}
	}
	byTest := make(map[string][]*TestRoot, len(parents))
	for _, p := range parents {
		byTest[p.Test] = append(byTest[p.Test], p)
	}
	for _, c := range roots {
		if c.Parent != nil || !isChild(c) {
			continue
		}
		var best *TestRoot
		for _, p := range byTest[c.Test] {
			if p == c {
				continue
			}
			if p.Func != "" && p.Func != c.Func && !strings.HasPrefix(c.Func, p.Func+".") {
				continue
			}
			if p.Func == c.Func {
				continue
			}
			// The most specific function; among equals, the last
			// created before c (ids roughly follow creation).
			if best == nil || len(p.Func) > len(best.Func) ||
				len(p.Func) == len(best.Func) && closerBefore(p.Goroutine.ID, best.Goroutine.ID, c.Goroutine.ID) {
				best = p
			}
		}
		if best != nil {
			c.Parent = best.Goroutine
		}
	}
}
