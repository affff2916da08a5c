package gotest

import (
	"sort"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/stackparse"
)

// parentTest is a test whose goroutine only waits for its subtests: in
// t.Run for a sequential one, or in the testing package for its parallel
// ones after its function returned. A dump's running tests list leaves it
// out (Go 1.21+) or lists it beside its subtests, and its goroutine does
// nothing of its own, but the goroutines its function started are its.
type parentTest struct {
	name     string
	root     *stackparse.TestRoot
	subtests []string // names of the subtests it waits for, as shown
}

// parentTests finds the roots waiting for subtests that are not already
// shown, named after their subtests (assigned: shown name -> root).
func parentTests(roots []*stackparse.TestRoot, assigned map[string]*stackparse.TestRoot, used map[*stackparse.TestRoot]bool) []parentTest {
	nameOf := make(map[*stackparse.TestRoot]string, len(assigned))
	for n, r := range assigned {
		nameOf[r] = n
	}
	children := make(map[*stackparse.Goroutine][]*stackparse.TestRoot)
	for _, c := range roots {
		if c.Parent != nil {
			children[c.Parent] = append(children[c.Parent], c)
		}
	}
	var out []parentTest
	for _, r := range roots {
		if used[r] || r.Paused || !idleRoot(r) {
			continue
		}
		pt := parentTest{root: r}
		for _, c := range children[r.Goroutine] {
			n := nameOf[c]
			if n == "" {
				n = c.Test + "/… (goroutine " + strconv.FormatInt(c.Goroutine.ID, 10) + ")"
			}
			pt.subtests = append(pt.subtests, n)
		}
		sort.Strings(pt.subtests)
		switch {
		case r.Test == "":
			pt.name = "a test (goroutine " + strconv.FormatInt(r.Goroutine.ID, 10) + ")"
		case r.Parent == nil:
			pt.name = r.Test
		default:
			// A subtest with subtests: its name is the common
			// prefix of theirs, when they are named.
			pt.name = r.Test + "/… (goroutine " + strconv.FormatInt(r.Goroutine.ID, 10) + ")"
			if len(pt.subtests) > 0 && !strings.Contains(pt.subtests[0], "…") {
				if i := strings.LastIndexByte(pt.subtests[0], '/'); i > 0 {
					pt.name = pt.subtests[0][:i]
				}
			}
		}
		if _, dup := assigned[pt.name]; dup {
			pt.name += " (goroutine " + strconv.FormatInt(r.Goroutine.ID, 10) + ")"
		}
		out = append(out, pt)
	}
	return out
}

// waitsForState says what a parent test does, for its summary's state:
// "waits for subtest TestA/x" or "waits for subtests TestA/x, TestA/y".
func (pt parentTest) waitsForState() string {
	switch len(pt.subtests) {
	case 0:
		return "waits for its subtests"
	case 1:
		return "waits for subtest " + pt.subtests[0]
	}
	list := pt.subtests
	more := ""
	if len(list) > 3 {
		more = " and " + strconv.Itoa(len(list)-3) + " more"
		list = list[:3]
	}
	return "waits for subtests " + strings.Join(list, ", ") + more
}

// parentSummary describes a parent test from its goroutine groups (the
// parent's own group first).
func parentSummary(pt parentTest, sg []StackGroup, in diagInput) TestSummary {
	h := &Hang{Test: pt.name, Phase: PhaseTest}
	if pt.root.InCleanup() {
		h.Phase = PhaseCleanup
	}
	state := pt.waitsForState()
	for _, g := range sg {
		gg := g.GoroutineGroup
		if gg.Role == "test" {
			gg.State = state
			gg.Location = ""
			if f, ok := pt.root.Goroutine.UserFrameIn(in.goroot, in.modules...); ok {
				gg.Location = RelLocation(f, in.base) // the t.Run call in the test's function
			}
			h.Location = gg.Location
		}
		h.Goroutines = append(h.Goroutines, gg)
	}
	h.State = state
	h.Summary = summarize(pt.name, h)
	return TestSummary{Test: pt.name, Phase: h.Phase, State: h.State, Location: h.Location, Summary: h.Summary, Goroutines: sg}
}
