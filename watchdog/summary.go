package watchdog

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/stackparse"
)

// StacksVersion is the version of the `hangdog stacks --json` format.
const StacksVersion = 1

// DumpSummary is what `hangdog stacks` says of one goroutine dump: the
// goroutines grouped per test, most important first. Its JSON form is a
// documented contract (README, "hangdog stacks").
type DumpSummary struct {
	Version      int                  `json:"version"`
	Kind         string               `json:"kind"`
	Reason       string               `json:"reason,omitempty"`
	StartLine    int                  `json:"start_line"`
	Goroutines   int                  `json:"goroutines"`
	RunningTests []SummaryRunningTest `json:"running_tests"`
	Tests        []TestSummary        `json:"tests"`
	Other        []GoroutineGroup     `json:"other"`
	Buckets      []GoroutineGroup     `json:"buckets"`
	Hidden       int                  `json:"hidden"` // runtime goroutines left out (see All)
	Warnings     []stackparse.Warning `json:"warnings"`
	Filtered     bool                 `json:"filtered,omitempty"`
	LockGroups   []LockGroup          `json:"lock_groups,omitempty"`
}

// SummaryRunningTest is an entry of a dump's "running tests:" list.
type SummaryRunningTest struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// TestSummary is the goroutines of one test in a dump.
type TestSummary struct {
	Test       string           `json:"test"`
	Phase      Phase            `json:"phase"`
	State      string           `json:"state"`
	Location   string           `json:"location"`
	Summary    string           `json:"summary"`
	Goroutines []GoroutineGroup `json:"goroutines"`
}

// LockGroup is a set of goroutines waiting on the same lock, WaitGroup or
// channel address.
type LockGroup struct {
	Address string  `json:"address"`
	State   string  `json:"state"`
	IDs     []int64 `json:"ids"`
}

// SummaryOptions filter and shape a DumpSummary.
type SummaryOptions struct {
	All          bool           // keep runtime-internal goroutines
	Test         *regexp.Regexp // only tests whose name matches
	States       []string       // only goroutines in these states (canonical names)
	Package      *regexp.Regexp // only goroutines with a frame in a matching package
	KeepPointers bool           // group by argument values too
	Modules      []string       // module paths preferred for locations
	Base         string         // directory locations are made relative to
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
	}
	return "goroutines"
}

// SummarizeDump groups and explains the goroutines of one dump.
func SummarizeDump(d *stackparse.Dump, o SummaryOptions) *DumpSummary {
	s := &DumpSummary{
		Version:      StacksVersion,
		Kind:         kindName(d.Kind),
		Reason:       d.Reason,
		StartLine:    d.StartLine,
		RunningTests: []SummaryRunningTest{},
		Tests:        []TestSummary{},
		Other:        []GoroutineGroup{},
		Buckets:      []GoroutineGroup{},
		Warnings:     d.Warnings,
	}
	if s.Warnings == nil {
		s.Warnings = []stackparse.Warning{}
	}
	for _, g := range d.Goroutines {
		s.Goroutines += max(g.Count, 1)
	}
	for _, rt := range d.RunningTests {
		s.RunningTests = append(s.RunningTests, SummaryRunningTest{Name: rt.Name, Seconds: rt.Duration.Seconds()})
	}
	in := diagInput{modules: o.Modules, base: o.Base}
	keep := func(g *stackparse.Goroutine) bool {
		if !o.All && stackparse.Classify(g) == stackparse.WaitRuntime {
			return false
		}
		if len(o.States) > 0 {
			st := stackparse.Classify(g).String()
			ok := false
			for _, w := range o.States {
				ok = ok || strings.EqualFold(strings.TrimSpace(w), st)
			}
			if !ok {
				return false
			}
		}
		if o.Package != nil {
			ok := false
			for _, f := range g.Frames {
				ok = ok || o.Package.MatchString(f.Package())
			}
			if !ok {
				return false
			}
		}
		return true
	}
	s.Filtered = len(o.States) > 0 || o.Package != nil || o.Test != nil

	// Tests: from the running list when there is one (it has subtest
	// names), else from the tRunner goroutines' functions.
	roots := stackparse.TestRoots(d)
	var names []string
	if len(d.RunningTests) > 0 {
		names = runningLeaves(d.RunningTests)
	}
	assigned := assignRoots(roots, names)
	for _, r := range roots {
		found := false
		for _, a := range assigned {
			found = found || a == r
		}
		if !found && !idleRoot(r) {
			name := r.Test
			if r.Parent != nil {
				name += "/…"
			}
			if _, dup := assigned[name]; !dup {
				assigned[name] = r
				names = append(names, name)
			} else {
				assigned[name+" (goroutine "+strconv.FormatInt(r.Goroutine.ID, 10)+")"] = r
				names = append(names, name+" (goroutine "+strconv.FormatInt(r.Goroutine.ID, 10)+")")
			}
		}
	}
	inTest := make(map[*stackparse.Goroutine]bool)
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
		h.Goroutines = groups(members, r.Goroutine, in)
		fillFromTestGroup(h)
		h.Summary = summarize(name, h)
		s.Tests = append(s.Tests, TestSummary{Test: name, Phase: h.Phase, State: h.State, Location: h.Location, Summary: h.Summary, Goroutines: h.Goroutines})
	}
	// Parents waiting for subtests are bookkeeping, not news.
	for _, r := range roots {
		if idleRoot(r) {
			inTest[r.Goroutine] = true
		}
	}
	var other, all []*stackparse.Goroutine
	for _, g := range d.Goroutines {
		if !keep(g) {
			if !o.All && stackparse.Classify(g) == stackparse.WaitRuntime {
				s.Hidden += max(g.Count, 1)
			}
			continue
		}
		all = append(all, g)
		if !inTest[g] && o.Test == nil {
			other = append(other, g)
		}
	}
	s.Other = groups(other, nil, in)
	s.Buckets = bucketsOf(all, in, o.KeepPointers)
	s.LockGroups = lockGroups(all)
	return s
}

func bucketsOf(gs []*stackparse.Goroutine, in diagInput, keepPointers bool) []GoroutineGroup {
	bs := stackparse.Group(gs, stackparse.GroupOptions{KeepPointers: keepPointers})
	out := make([]GoroutineGroup, 0, len(bs))
	for _, b := range bs {
		out = append(out, groupOf(b, nil, in))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
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
	var out []LockGroup
	for _, k := range order {
		if len(m[k]) > 1 {
			out = append(out, LockGroup{Address: fmt.Sprintf("%#x", k.addr), State: k.state, IDs: m[k]})
		}
	}
	return out
}
