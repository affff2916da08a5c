package stackparse

import "strings"

// TestRoot is a goroutine running a test function (in testing.tRunner, or
// a benchmark in testing.(*B).runN, or an example in testing.runExample),
// with the goroutines attributed to it.
type TestRoot struct {
	Goroutine *Goroutine // the goroutine running testing.tRunner
	// Func is the test function: the frame just above testing.tRunner,
	// e.g. "example.com/a.TestHang.func1". While the goroutine is in
	// testing code it is the nearest frame above tRunner outside the
	// standard library (a cleanup: "example.com/a.TestHang.func2"), or ""
	// when there is none (a parent waiting for its subtests).
	Func string
	// Test is the top-level test name derived from Func: "TestHang" for
	// "example.com/a.TestHang.func1" (also Benchmark…, Fuzz…, Example…).
	// A parent waiting for its subtests takes it from a subtest (Go
	// 1.21+, which prints parent ids); it is "" when nothing tells.
	// Subtest names never appear in stacks: take them from the running
	// tests list or the test2json stream.
	Test string
	// Parent is the tRunner goroutine of the parent test for subtests
	// ("created by testing.(*T).Run in goroutine N", Go 1.21+), else nil.
	// Dumps older than Go 1.21 print no parent ids; there a subtest's
	// parent is inferred: the goroutine of a test of the same name that
	// only waits for subtests (in t.Run, or in tRunner for its parallel
	// subtests) whose function, when known, encloses the subtest's
	// function. A parent waiting for its parallel subtests shows no
	// function of its own: the only such parent is paired with the only
	// test whose subtests have no other parent; several are paired in
	// goroutine id order when that is consistent, else left unnamed.
	Parent *Goroutine
	// Waiting is set when the goroutine waits in the testing package
	// rather than in user code: no frame between its top and tRunner is
	// outside the standard library (a parent test waiting for its
	// subtests, or the testing package's own code), or it is Paused. Such
	// a root is not where a hang is.
	Waiting bool
	// Paused is set when the test waits in t.Parallel for a parallel
	// slot (the -parallel limit) or for its sequential siblings.
	Paused bool
	// Bubble is set for the goroutine that runs the function given to
	// synctest.Test (Go 1.25+), inside the bubble: it runs the test. The
	// test's own goroutine, waiting in synctest.Test for the bubble, is
	// not a root of its own but a member of this one.
	Bubble bool
	// StackUnavailable is set for a root made of a goroutine whose stack
	// was not printed ("goroutine running on other thread"), created by
	// testing.(*T).Run while one test that no other goroutine runs was
	// in the running tests list: it is taken to run that test.
	StackUnavailable bool
	// Members holds the root and every goroutine it created, directly or
	// through chains of created-by parents (ParentID). Goroutines whose
	// parent is no longer in the dump (or dumps older than Go 1.21, which
	// print no parent) are attributed by the name of the function that
	// created them: "created by example.com/a.TestHang.func1.2" goes to
	// TestHang's first root.
	Members []*Goroutine
}

// anchors are the testing functions that call a test, benchmark or example
// function directly.
var anchors = map[string]bool{
	"testing.tRunner":    true,
	"testing.(*B).runN":  true,
	"testing.runExample": true,
}

// agentWrapper is in the name of the function through which hangdog's
// agent calls a test function ("example.com/a.(*hangdogAgent_leaks).wrap.func1").
const agentWrapper = ".(*hangdogAgent_leaks).wrap.func"

// driverFuncs call tRunner for the test binary's main runner, which is not
// a test itself.
var driverFuncs = map[string]bool{
	"testing.runTests":       true,
	"testing.runFuzzTests":   true,
	"testing.runFuzzing":     true,
	"testing.(*M).Run":       true,
	"testing.runTests.func1": true,
	"testing.RunTests":       true,
}

// TestRoots finds the goroutines that run tests in d and attributes the
// other goroutines to them. Roots are in input order. It costs O(n) map
// work plus, for each goroutine, a walk up its created-by chain.
func TestRoots(d *Dump) []*TestRoot {
	var roots []*TestRoot
	byID := make(map[int64]*Goroutine, len(d.Goroutines))
	rootOf := make(map[*Goroutine]*TestRoot)
	parentIDs := false
	for _, g := range d.Goroutines {
		if g.ID != 0 {
			byID[g.ID] = g
		}
		parentIDs = parentIDs || g.ParentID != 0
		if r := newRoot(g, d.GOROOT); r != nil {
			roots = append(roots, r)
			rootOf[g] = r
		}
	}
	if r := unavailableRoot(d, roots); r != nil {
		roots = append(roots, r)
		rootOf[r.Goroutine] = r
	}
	roots = joinBubbles(roots, rootOf, byID)
	for _, r := range roots {
		g := r.Goroutine
		if g.CreatedBy != nil && g.CreatedBy.Func == "testing.(*T).Run" && g.ParentID != 0 {
			if p := byID[g.ParentID]; p != nil && rootOf[p] != nil {
				r.Parent = p
			}
		}
	}
	if !parentIDs {
		inferParents(roots)
	}
	// Parents in testing code learn their name from a subtest.
	for _, r := range roots {
		if r.Test == "" && r.Parent == nil {
			for _, c := range roots {
				if c.Parent == r.Goroutine && c.Test != "" {
					r.Test = c.Test
					break
				}
			}
		}
	}
	for _, r := range roots {
		if r.Test == "" && r.Parent != nil {
			if pr := rootOf[r.Parent]; pr != nil {
				r.Test = pr.Test
			}
		}
	}
	byTest := make(map[string]*TestRoot)
	for _, r := range roots {
		if r.Test == "" {
			continue
		}
		if prev, ok := byTest[r.Test]; !ok || (prev.Parent != nil && r.Parent == nil) {
			byTest[r.Test] = r
		}
	}
	for _, g := range d.Goroutines {
		if r := rootOf[g]; r != nil {
			r.Members = append(r.Members, g)
			continue
		}
		if r := attribute(g, byID, rootOf, byTest); r != nil {
			r.Members = append(r.Members, g)
		}
	}
	return roots
}

// attribute walks g's created-by chain to a root, falling back to the name
// of the creating function where the chain breaks.
func attribute(g *Goroutine, byID map[int64]*Goroutine, rootOf map[*Goroutine]*TestRoot, byTest map[string]*TestRoot) *TestRoot {
	seen := 0
	for cur := g; cur != nil && seen < 10000; seen++ {
		if r := rootOf[cur]; r != nil {
			return r
		}
		if cur.CreatedBy != nil {
			if name := testName(cur.CreatedBy.Func); name != "" {
				if r := byTest[name]; r != nil && (cur.ParentID == 0 || byID[cur.ParentID] == nil) {
					return r
				}
			}
		}
		if cur.ParentID == 0 || cur.ParentID == cur.ID {
			return nil
		}
		next := byID[cur.ParentID]
		if next == nil {
			// The parent exited: with GODEBUG=tracebackancestors the
			// creation chain is still printed.
			for _, a := range cur.Ancestors {
				if p := byID[a.ID]; p != nil {
					next = p
					break
				}
			}
		}
		cur = next
	}
	return nil
}

func newRoot(g *Goroutine, goroot string) *TestRoot {
	at := -1
	for i, f := range g.Frames {
		if anchors[f.Func] {
			at = i
			break
		}
	}
	if at < 0 {
		return nil
	}
	if at+1 < len(g.Frames) && driverFuncs[g.Frames[at+1].Func] {
		return nil // the binary's main runner on goroutine 1
	}
	// hangdog's agent (its leak check) calls each test function through
	// a wrapper: the test is what the wrapper calls.
	for at > 0 && strings.Contains(g.Frames[at-1].Func, agentWrapper) {
		at--
	}
	r := &TestRoot{Goroutine: g, Waiting: true}
	for i := at - 1; i >= 0; i-- {
		f := g.Frames[i]
		if f.Func == "testing.(*T).Parallel" {
			r.Paused = true
		}
		if !f.IsStdlibIn(goroot) {
			r.Waiting = false
		}
	}
	if r.Paused {
		r.Waiting = true
	}
	// Func: the frame right above the anchor, unless that is testing
	// code (cleanups, waiting for subtests); then the nearest frame
	// above it outside the standard library.
	for i := at - 1; i >= 0; i-- {
		f := g.Frames[i]
		if i == at-1 && f.Package() != "testing" {
			r.Func = f.Func
			break
		}
		if !f.IsStdlibIn(goroot) {
			r.Func = f.Func
			break
		}
	}
	r.Test = testName(r.Func)
	return r
}

// testName returns the top-level test, benchmark, fuzz target or example
// that the function belongs to: "TestHang" for "example.com/a.TestHang",
// "example.com/a.TestHang.func1.2" or "example.com/a.TestHang.gowrap1", and
// "" if it does not belong to one.
func testName(fn string) string {
	_, name := splitFunc(fn)
	if name == "" || strings.HasPrefix(name, "(") {
		return ""
	}
	top, _, _ := strings.Cut(name, ".")
	for _, p := range [...]string{"Test", "Benchmark", "Fuzz", "Example"} {
		if rest, ok := strings.CutPrefix(top, p); ok {
			if rest == "" || rest[0] == '_' || !isLower(rest[0]) {
				return top
			}
		}
	}
	return ""
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// InCleanup reports whether the test's goroutine is running functions
// registered with t.Cleanup.
func (r *TestRoot) InCleanup() bool {
	for _, f := range r.Goroutine.Frames {
		switch f.Func {
		case "testing.(*common).runCleanup", "testing.(*common).Cleanup.func1":
			return true
		}
	}
	return false
}

// MainState tells whether a test binary's main goroutine is inside TestMain
// but not in m.Run, i.e. in setup or teardown code that the testing
// package's timeout alarm does not cover. It looks for the goroutine that
// runs a TestMain function (goroutine 1 in practice). frame is the
// innermost user frame of that goroutine (the TestMain frame itself if
// there is none below it). For other dumps it returns false and a zero
// Frame.
func MainState(d *Dump) (inTestMain bool, frame Frame) {
	for _, g := range d.Goroutines {
		tm := -1
		for i, f := range g.Frames {
			if f.FuncName() == "TestMain" && !f.IsStdlibIn(d.GOROOT) {
				tm = i
				break
			}
		}
		if tm < 0 {
			continue
		}
		for _, f := range g.Frames[:tm] {
			if f.Func == "testing.(*M).Run" {
				return false, Frame{}
			}
		}
		if uf, ok := g.UserFrameIn(d.GOROOT); ok {
			return true, uf
		}
		return true, g.Frames[tm]
	}
	return false, Frame{}
}
