package gotest

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// diagInput is what the engine knows about a hang before reading the dump.
type diagInput struct {
	pkg     string
	tests   []string // stalled leaf tests, in run order; empty for a package-level stall
	phase   Phase
	modules []string // module paths of the user's code, preferred for locations
	base    string   // directory that locations are made relative to
	goroot  string   // the dump's GOROOT (stackparse.Dump.GOROOT), to tell user code from the standard library
}

// DiagInput is what the engine knows about a hang before reading the
// dump.
type DiagInput struct {
	Pkg     string
	Tests   []string // stalled leaf tests, in run order; empty for a package-level stall
	Phase   Phase
	Modules []string // module paths of the user's code, preferred for locations
	Base    string   // directory that locations are made relative to
}

// Diagnose explains the hangs of one package from its goroutine dump (see
// diagnose): the go test adapter's diagnosis of a snapshot, one per
// stalled test in the order of in.Tests (or one for a package-level
// stall).
func Diagnose(d *stackparse.Dump, in DiagInput) []core.Diagnosis {
	hangs := diagnose(d, diagInput{pkg: in.Pkg, tests: in.Tests, phase: in.Phase, modules: in.Modules, base: in.Base})
	out := make([]core.Diagnosis, len(hangs))
	for i, h := range hangs {
		out[i] = core.Diagnosis{Test: h.Test, Phase: h.Phase, State: h.State, Location: h.Location, Summary: h.Summary, Goroutines: h.Goroutines}
	}
	return out
}

// diagnose explains the hangs of one package from its goroutine dump. It
// returns one Hang per stalled test (or one for a package-level stall) with
// Test, Phase, State, Location, Goroutines and Summary filled in.
func diagnose(d *stackparse.Dump, in diagInput) []*Hang {
	in.goroot = d.GOROOT
	if len(in.tests) == 0 {
		return []*Hang{diagnoseMain(d, in)}
	}
	roots := stackparse.TestRoots(d)
	assigned := assignRoots(roots, in.tests)
	out := make([]*Hang, 0, len(in.tests))
	for _, name := range in.tests {
		h := &Hang{Package: in.pkg, Test: name, Phase: PhaseTest}
		r := assigned[name]
		if r == nil {
			h.Summary = fmt.Sprintf("%s: no goroutine of this test was found in the dump", name)
			out = append(out, h)
			continue
		}
		if r.InCleanup() {
			h.Phase = PhaseCleanup
		}
		h.Goroutines = groups(r.Members, r.Goroutine, in)
		fillFromTestGroup(h)
		h.Summary = summarize(name, h)
		out = append(out, h)
	}
	return out
}

// assignRoots maps each stalled test name to the goroutine running it.
// Top-level tests are found by function name. Subtests never appear by
// name in a stack: among the leaf tRunner goroutines under the same
// top-level test and at the same depth, goroutines are paired with tests in
// creation order (goroutine id order follows t.Run order).
func assignRoots(roots []*stackparse.TestRoot, tests []string) map[string]*stackparse.TestRoot {
	out := make(map[string]*stackparse.TestRoot)
	used := make(map[*stackparse.TestRoot]bool)
	type key struct {
		top   string
		depth int
	}
	want := make(map[key][]string)
	var keys []key
	for _, t := range tests {
		top, _, _ := strings.Cut(t, "/")
		k := key{top, strings.Count(t, "/")}
		if want[k] == nil {
			keys = append(keys, k)
		}
		want[k] = append(want[k], t)
	}
	depth := func(r *stackparse.TestRoot) int {
		n := 0
		for p := r.Parent; p != nil && n < 64; n++ {
			var next *stackparse.Goroutine
			for _, q := range roots {
				if q.Goroutine == p {
					next = q.Parent
					break
				}
			}
			p = next
		}
		return n
	}
	// Pass 0 wants a goroutine that does its own work at the test's
	// depth; pass 1 any that does its own work (before Go 1.21 a
	// subtest's parent goroutine is not printed, so depth is unknown);
	// pass 2 takes what is left.
	for pass := 0; pass < 3; pass++ {
		for _, k := range keys {
			var cands []*stackparse.TestRoot
			for _, r := range roots {
				if used[r] || r.Test != k.top {
					continue
				}
				if pass < 2 && idleRoot(r) || pass == 0 && depth(r) != k.depth {
					continue
				}
				cands = append(cands, r)
			}
			sort.Slice(cands, func(i, j int) bool { return cands[i].Goroutine.ID < cands[j].Goroutine.ID })
			names := want[k]
			i := 0
			for _, name := range names {
				if out[name] != nil || i >= len(cands) {
					continue
				}
				out[name] = cands[i]
				used[cands[i]] = true
				i++
			}
		}
	}
	return out
}

// idleRoot reports whether a test goroutine only waits for others: in the
// testing package, or in t.Run for a subtest.
func idleRoot(r *stackparse.TestRoot) bool {
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

// diagnoseMain explains a binary stalled outside any test: init, TestMain
// before or after m.Run.
func diagnoseMain(d *stackparse.Dump, in diagInput) *Hang {
	h := &Hang{Package: in.pkg, Phase: in.phase}
	inTest := make(map[*stackparse.Goroutine]bool)
	for _, r := range stackparse.TestRoots(d) {
		for _, g := range r.Members {
			inTest[g] = true
		}
	}
	var main *stackparse.Goroutine
	var members []*stackparse.Goroutine
	for _, g := range d.Goroutines {
		if inTest[g] || stackparse.Classify(g) == stackparse.WaitRuntime {
			continue
		}
		isMain := false
		for _, f := range g.Frames {
			if f.Func == "main.main" || f.FuncName() == "TestMain" {
				isMain = true
				break
			}
		}
		if isMain && main == nil {
			main = g
			members = append(members, g)
			continue
		}
		if _, ok := g.UserFrameIn(in.goroot, in.modules...); ok {
			members = append(members, g)
		}
	}
	h.Goroutines = groups(members, main, in)
	fillFromTestGroup(h)
	h.Summary = summarize(in.pkg, h)
	return h
}

// groups buckets the goroutines of a hang, the test's own goroutine first.
func groups(gs []*stackparse.Goroutine, test *stackparse.Goroutine, in diagInput) []GoroutineGroup {
	buckets := stackparse.Group(gs, stackparse.GroupOptions{})
	out := make([]GoroutineGroup, 0, len(buckets))
	for _, b := range buckets {
		out = append(out, groupOf(b, test, in))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Role == "test") != (out[j].Role == "test") {
			return out[i].Role == "test"
		}
		return out[i].Count > out[j].Count
	})
	return out
}

// groupOf describes one bucket; its role is "test" when it holds the
// goroutine running the test.
func groupOf(b *stackparse.Bucket, test *stackparse.Goroutine, in diagInput) GoroutineGroup {
	g := b.Goroutines[0]
	gg := GoroutineGroup{
		IDs:         b.IDs,
		Count:       b.Count,
		Role:        "helper",
		State:       stackparse.Classify(g).String(),
		WaitMinutes: g.WaitMinutes,
	}
	for _, m := range b.Goroutines {
		if m == test {
			gg.Role = "test"
		}
	}
	f, ok := g.UserFrameIn(in.goroot, in.modules...)
	if !ok && len(g.Frames) > 0 {
		f, ok = g.Frames[0], true
	}
	if ok {
		// A frame whose location line was missing or cut: the next
		// frame that has one, and say so.
		loc, cut := g.LocationFrame(f)
		if loc.File != "" {
			gg.Location = RelLocation(loc, in.base)
		}
		gg.Function = loc.Func
		if cut {
			gg.LocationCut = f.Func
		}
	}
	if g.CreatedBy != nil {
		gg.CreatedBy = g.CreatedBy.Func
	}
	if a, ok := g.WaitAddress(); ok {
		gg.WaitAddress = fmt.Sprintf("%#x", a)
	}
	for _, f := range g.Frames {
		if f.File == "" {
			gg.Stack = append(gg.Stack, f.Func+" (location missing or cut)")
			continue
		}
		gg.Stack = append(gg.Stack, fmt.Sprintf("%s %s:%d", f.Func, f.File, f.Line))
	}
	return gg
}

func fillFromTestGroup(h *Hang) {
	for _, g := range h.Goroutines {
		if g.Role == "test" {
			h.State, h.Location = g.State, g.Location
			return
		}
	}
}

// RelLocation prints a frame as file:line, relative to base when the file
// is below it.
func RelLocation(f stackparse.Frame, base string) string {
	file := f.File
	if base != "" && filepath.IsAbs(file) {
		if rel, err := filepath.Rel(base, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = filepath.ToSlash(rel)
		}
	}
	return fmt.Sprintf("%s:%d", file, f.Line)
}

// waitPhrase says what a goroutine in state does, for summaries:
// "wait(s) on a sync.Mutex" or "is busy".
func waitPhrase(state string, plural bool) string {
	verb := "waits on "
	if plural {
		verb = "wait on "
	}
	switch state {
	case "running", "runnable":
		if plural {
			return "are running (busy)"
		}
		return "is running (busy)"
	case "chan receive":
		return verb + "a channel receive"
	case "chan send":
		return verb + "a channel send"
	case "chan receive (nil chan)", "chan send (nil chan)":
		return verb + "a nil channel"
	case "select":
		return verb + "a select"
	case "select (no cases)":
		return verb + "an empty select"
	case "sync.Mutex.Lock":
		return verb + "a sync.Mutex"
	case "sync.RWMutex.RLock":
		return verb + "a sync.RWMutex read lock"
	case "sync.RWMutex.Lock":
		return verb + "a sync.RWMutex"
	case "sync.WaitGroup.Wait":
		return verb + "a sync.WaitGroup"
	case "sync.Cond.Wait":
		return verb + "a sync.Cond"
	case "IO wait":
		return verb + "I/O"
	case "syscall":
		return verb + "a system call"
	case "sleep":
		if plural {
			return "sleep"
		}
		return "sleeps"
	case "semacquire":
		return verb + "a semaphore (semacquire)"
	case "":
		return verb + "something unknown"
	}
	if strings.HasPrefix(state, "waits for ") {
		return state // a parent test: "waits for subtest TestA/x"
	}
	return verb + state
}

func shortLoc(loc string) string {
	if i := strings.LastIndexByte(loc, '/'); i >= 0 && strings.Count(loc, "/") > 2 {
		return loc[i+1:]
	}
	return loc
}

// summarize writes the one line a person reads first, for example
// "TestTransfer: 2 goroutines wait on a sync.Mutex at bank.go:18 while the
// test waits on a sync.WaitGroup at bank_test.go:22".
func summarize(name string, h *Hang) string {
	subject := name
	who := "the test"
	switch h.Phase {
	case PhaseCleanup:
		subject += " (in t.Cleanup)"
		who = "the cleanup"
	case PhaseTestMain:
		who = "TestMain"
	}
	testPart := ""
	// Helpers with the same state at the same place read as one: their
	// stacks may differ further out (two closures calling one function).
	type key struct{ state, loc string }
	counts := make(map[key]int)
	var order []key
	for _, g := range h.Goroutines {
		if g.Role == "test" {
			testPart = who + " " + waitPhrase(g.State, false)
			if g.Location != "" && g.Location != ":0" {
				testPart += " at " + shortLoc(g.Location)
			}
			continue
		}
		if g.State == "runtime" || g.State == "other" {
			continue
		}
		if strings.HasPrefix(g.Function, "testing.") || strings.HasPrefix(g.Function, "testing/") {
			continue // the testing package's machinery (a synctest bubble's runner): listed, not news
		}
		k := key{g.State, g.Location}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k] += g.Count
	}
	var helpers []string
	for i, k := range order {
		if i == 3 {
			helpers = append(helpers, fmt.Sprintf("%d more", len(order)-i))
			break
		}
		n := counts[k]
		what := "1 goroutine"
		if n > 1 {
			what = fmt.Sprintf("%d goroutines", n)
		}
		helpers = append(helpers, fmt.Sprintf("%s %s at %s", what, waitPhrase(k.state, n > 1), shortLoc(k.loc)))
	}
	switch {
	case testPart == "" && len(helpers) == 0:
		return subject + ": no goroutine of it was found in the dump"
	case testPart == "":
		return subject + ": " + strings.Join(helpers, "; ")
	case len(helpers) == 0:
		return subject + ": " + testPart
	}
	return subject + ": " + strings.Join(helpers, "; ") + " while " + testPart
}

// RunningLeaves returns the tests of a running tests list that have no
// subtest in the list.
func RunningLeaves(list []stackparse.RunningTest) []string {
	var out []string
	for _, t := range list {
		leaf := true
		for _, u := range list {
			if strings.HasPrefix(u.Name, t.Name+"/") {
				leaf = false
				break
			}
		}
		if leaf {
			out = append(out, t.Name)
		}
	}
	return out
}

// DumpTests names the tests a dump shows running, for a dump with no
// running tests list: top-level tests by function, subtests (whose names
// stacks never show) by goroutine, "TestA/… (goroutine 7)", in goroutine
// id order, which is how assignRoots pairs them back. Roots that only wait
// (for subtests, or paused in t.Parallel) are left out.
func DumpTests(d *stackparse.Dump) []string {
	roots := stackparse.TestRoots(d)
	sort.SliceStable(roots, func(i, j int) bool { return roots[i].Goroutine.ID < roots[j].Goroutine.ID })
	seen := make(map[string]bool)
	var out []string
	for _, r := range roots {
		if r.Test == "" || idleRoot(r) {
			continue
		}
		name := r.Test
		if isSubtest(r) {
			name += "/… (goroutine " + strconv.FormatInt(r.Goroutine.ID, 10) + ")"
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
