package gotest

import (
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/stackparse"
)

// SummarizeDumps reads every dump in r (anything ReadDumps reads) and
// hands the summary of each to each as soon as the dump is complete, in
// input order. Memory stays bounded by one dump at a time, and within a
// dump by its distinct stacks rather than its size: goroutines with the
// same stack share their frames (stackparse.Parser.ShareFrames), so a
// goroutine costs its header fields only. The error is that of reading r.
func SummarizeDumps(r io.Reader, o SummaryOptions, each func(*DumpSummary)) error {
	if o.BucketsOnly {
		return bucketDumps(r, o, each)
	}
	p := &stackparse.Parser{
		ShareFrames: !o.KeepPointers,
		OnDump: func(d *stackparse.Dump) {
			each(SummarizeDump(d, o))
			d.Goroutines = nil // summarized: let them go
		},
	}
	_, err := ScanDumps(r, p)
	return err
}

// bucketDumps is SummarizeDumps with BucketsOnly: goroutines are grouped
// as they are parsed and dropped, but for one per bucket.
func bucketDumps(r io.Reader, o SummaryOptions, each func(*DumpSummary)) error {
	f := newGoroutineFilter(o)
	gopts := stackparse.GroupOptions{KeepPointers: o.KeepPointers}
	var cur *stackparse.Dump
	var gr *stackparse.Grouper
	hidden := 0
	start := func(d *stackparse.Dump) {
		if d != cur {
			cur, gr, hidden = d, stackparse.NewGrouper(gopts), 0
			f.kinds = make(map[*stackparse.Frame]stackKind)
		}
	}
	p := &stackparse.Parser{
		ShareFrames: !o.KeepPointers,
		OnGoroutine: func(d *stackparse.Dump, g *stackparse.Goroutine) {
			start(d)
			f.goroot = d.GOROOT
			if !f.keep(g) {
				if f.hidden(g) {
					hidden += max(g.Count, 1)
				}
				return
			}
			b := gr.Add(g)
			if len(b.Goroutines) > 1 {
				b.Goroutines = b.Goroutines[:1]
			}
			if len(b.IDs) > MaxBucketIDs {
				b.IDs = b.IDs[:MaxBucketIDs]
			}
		},
		OnDump: func(d *stackparse.Dump) {
			start(d)
			s := SummarizeDump(&stackparse.Dump{
				Kind: d.Kind, Reason: d.Reason, TimeoutAfter: d.TimeoutAfter, RunningTests: d.RunningTests,
				Warnings: d.Warnings, StartLine: d.StartLine, NumGoroutines: d.NumGoroutines, WarningsDropped: d.WarningsDropped,
			}, o)
			s.BucketsOnly = true
			s.Filtered = len(o.States) > 0 || o.Package != nil
			s.Hidden = hidden
			in := diagInput{modules: o.Modules, base: o.Base, goroot: d.GOROOT}
			for _, b := range gr.Buckets() {
				s.Buckets = append(s.Buckets, bucketGroup(b, nil, in))
			}
			sort.SliceStable(s.Buckets, func(i, j int) bool { return s.Buckets[i].Count > s.Buckets[j].Count })
			cur, gr = nil, nil
			each(s)
		},
	}
	_, err := ScanDumps(r, p)
	return err
}

// kindName names a dump kind for JSON.
func kindName(k stackparse.DumpKind) string {
	switch k {
	case stackparse.KindSIGQUIT:
		return "sigquit"
	case stackparse.KindTestTimeout:
		return "test-timeout"
	case stackparse.KindDeadlock:
		return "deadlock"
	case stackparse.KindPanic:
		return "panic"
	case stackparse.KindFatal:
		return "fatal"
	case stackparse.KindProfile:
		return "profile"
	case stackparse.KindRace:
		return "race"
	}
	return "goroutines"
}

// SummarizeDump groups and explains the goroutines of one dump.
func SummarizeDump(d *stackparse.Dump, o SummaryOptions) *DumpSummary {
	s := &DumpSummary{
		Version:         StacksVersion,
		Kind:            kindName(d.Kind),
		Reason:          d.Reason,
		StartLine:       d.StartLine,
		Goroutines:      d.NumGoroutines,
		RunningTests:    []SummaryRunningTest{},
		Tests:           []TestSummary{},
		Other:           []StackGroup{},
		Buckets:         []StackGroup{},
		LockGroups:      []LockGroup{},
		LockCycles:      []LockCycle{},
		Warnings:        make([]SummaryWarning, 0, len(d.Warnings)),
		WarningsDropped: d.WarningsDropped,
	}
	for _, w := range d.Warnings {
		s.Warnings = append(s.Warnings, SummaryWarning{Line: w.Line, Text: w.Text, Msg: w.Msg})
	}
	if s.Goroutines == 0 {
		for _, g := range d.Goroutines {
			s.Goroutines += max(g.Count, 1)
		}
	}
	for _, rt := range d.RunningTests {
		s.RunningTests = append(s.RunningTests, SummaryRunningTest{Name: rt.Name, Seconds: rt.Duration.Seconds()})
	}
	in := diagInput{modules: o.Modules, base: o.Base, goroot: d.GOROOT}
	gopts := stackparse.GroupOptions{KeepPointers: o.KeepPointers}
	f := newGoroutineFilter(o)
	f.goroot = d.GOROOT
	hidden, keep := f.hidden, f.keep
	s.Filtered = len(o.States) > 0 || o.Package != nil || o.Test != nil

	// Tests: from the running list when there is one (it has subtest
	// names), else from the tRunner goroutines' functions.
	roots := stackparse.TestRoots(d)
	var names []string
	if len(d.RunningTests) > 0 {
		names = RunningLeaves(d.RunningTests)
	}
	assigned := assignRoots(roots, names)
	used := make(map[*stackparse.TestRoot]bool, len(assigned))
	for _, r := range assigned {
		used[r] = true
	}
	for _, r := range roots {
		if used[r] || idleRoot(r) {
			continue
		}
		name := r.Test
		if name == "" {
			name = r.Func
		}
		if isSubtest(r) {
			// Subtest names never appear in stacks: say which
			// goroutine runs it instead.
			name += "/… (goroutine " + strconv.FormatInt(r.Goroutine.ID, 10) + ")"
		} else if _, dup := assigned[name]; dup {
			name += " (goroutine " + strconv.FormatInt(r.Goroutine.ID, 10) + ")"
		}
		assigned[name] = r
		used[r] = true
		names = append(names, name)
	}
	inTest := make(map[*stackparse.Goroutine]bool)
	testGs := make(map[*stackparse.Goroutine]bool) // goroutines running a listed test
	testOf := make(map[*stackparse.Goroutine]string)
	matched := make(map[*stackparse.Goroutine]bool) // members of the tests shown (with --test)
	for _, name := range names {
		r := assigned[name]
		if r == nil {
			continue
		}
		if o.Test != nil && !o.Test.MatchString(name) {
			for _, g := range r.Members {
				inTest[g] = true
			}
			continue
		}
		var members []*stackparse.Goroutine
		for _, g := range r.Members {
			inTest[g] = true
			testOf[g] = name
			matched[g] = true
			if keep(g) || g == r.Goroutine && !s.Filtered {
				members = append(members, g)
			}
		}
		if len(members) == 0 {
			continue
		}
		h := &Hang{Test: name, Phase: PhaseTest}
		if r.InCleanup() {
			h.Phase = PhaseCleanup
		}
		testGs[r.Goroutine] = true
		sg := stackGroups(members, r.Goroutine, nil, in, gopts)
		for _, g := range sg {
			h.Goroutines = append(h.Goroutines, g.GoroutineGroup)
		}
		fillFromTestGroup(h)
		h.Summary = summarize(name, h)
		s.Tests = append(s.Tests, TestSummary{Test: name, Phase: h.Phase, State: h.State, Location: h.Location, Summary: h.Summary, Goroutines: sg})
	}
	// Parents waiting for subtests are shown under their test as such;
	// tests paused in t.Parallel are bookkeeping, not news.
	for _, pt := range parentTests(roots, assigned, used) {
		r := pt.root
		used[r] = true
		if o.Test != nil && !o.Test.MatchString(pt.name) {
			for _, g := range r.Members {
				inTest[g] = true
			}
			continue
		}
		var members []*stackparse.Goroutine
		for _, g := range r.Members {
			inTest[g] = true
			testOf[g] = pt.name
			matched[g] = true
			if keep(g) || g == r.Goroutine && !s.Filtered {
				members = append(members, g)
			}
		}
		if len(members) == 0 {
			continue
		}
		testGs[r.Goroutine] = true
		sg := stackGroups(members, r.Goroutine, nil, in, gopts)
		s.Tests = append(s.Tests, parentSummary(pt, sg, in))
	}
	for _, r := range roots {
		if idleRoot(r) && !used[r] && !o.All {
			inTest[r.Goroutine] = true // with --all: among the others
		}
	}
	var other, all []*stackparse.Goroutine
	for _, g := range d.Goroutines {
		if !keep(g) {
			if hidden(g) {
				s.Hidden += max(g.Count, 1)
			}
			continue
		}
		if o.Test != nil && !matched[g] {
			continue // only the goroutines of the tests asked for
		}
		all = append(all, g)
		if !inTest[g] && o.Test == nil {
			other = append(other, g)
		}
	}
	s.Buckets = stackGroups(all, nil, testGs, in, gopts)
	if len(other) == len(all) && len(testGs) == 0 {
		s.Other = s.Buckets // no test: the same grouping
	} else {
		s.Other = stackGroups(other, nil, nil, in, gopts)
	}
	if d.Kind == stackparse.KindRace {
		for i := range s.Tests {
			s.Tests[i].Summary = raceSummary(s.Tests[i])
		}
	}
	s.LockGroups = lockGroups(all)
	s.LockCycles = lockCycles(all, testOf, d.GOROOT)
	return s
}

// isSubtest reports whether a test goroutine runs a subtest: its parent
// is known (Go 1.21+ print it), or, for older dumps, it runs a closure of
// the test function (TestParent.func1) rather than the test function
// itself, outside a cleanup.
func isSubtest(r *stackparse.TestRoot) bool {
	if r.Parent != nil {
		return true
	}
	if r.Test == "" || r.InCleanup() || r.Bubble {
		return false
	}
	fn := stackparse.Frame{Func: r.Func}
	return strings.HasPrefix(fn.FuncName(), r.Test+".")
}

// stackGroups buckets goroutines, the test's own goroutine first, then by
// count, largest first.
// A bucket's role is "test" when it holds test (the goroutine running the
// test) or, with test nil, one of the goroutines in tests.
func stackGroups(gs []*stackparse.Goroutine, test *stackparse.Goroutine, tests map[*stackparse.Goroutine]bool, in diagInput, opts stackparse.GroupOptions) []StackGroup {
	buckets := stackparse.Group(gs, opts)
	out := make([]StackGroup, 0, len(buckets))
	for _, b := range buckets {
		sg := bucketGroup(b, test, in)
		for _, g := range b.Goroutines {
			if tests[g] {
				sg.Role = "test"
			}
		}
		out = append(out, sg)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Role == "test") != (out[j].Role == "test") {
			return out[i].Role == "test"
		}
		return out[i].Count > out[j].Count
	})
	return out
}

// bucketGroup describes one bucket.
func bucketGroup(b *stackparse.Bucket, test *stackparse.Goroutine, in diagInput) StackGroup {
	g0 := b.Goroutines[0]
	sg := StackGroup{GoroutineGroup: groupOf(b, test, in), Labels: g0.Labels, Race: g0.Race,
		LockedToThread: g0.Locked, Durable: g0.Durable, SynctestBubble: g0.Bubble}
	if len(g0.Frames) == 0 && g0.StackUnavailable {
		sg.StackUnavailable = true
		sg.Stack = []string{}
	}
	// Aggregated profiles have no goroutine ids.
	ids := make([]int64, 0, len(sg.IDs))
	for _, id := range sg.IDs {
		if id != 0 {
			ids = append(ids, id)
		}
	}
	sg.IDs = ids
	return sg
}

// raceSummary is the line to read first for a test in a race report: the
// accesses that race, and where, instead of what the goroutines wait on
// (they are all running when the race detector reports).
func raceSummary(t TestSummary) string {
	var acc []string
	for _, g := range t.Goroutines {
		if g.Race != "" {
			acc = append(acc, g.Race+" at "+shortLoc(g.Location))
		}
	}
	if len(acc) == 0 {
		return t.Summary
	}
	return t.Test + ": data race: " + strings.Join(acc, "; ")
}
