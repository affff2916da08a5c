package gotest

import (
	"strings"

	"github.com/hangdog/hangdog/stackparse"
)

// goroutineFilter decides which goroutines a summary shows.
type goroutineFilter struct {
	o      SummaryOptions
	goroot string // the dump's GOROOT, as known so far
	// Goroutines with one stack share their frames (SummarizeDumps):
	// judge each stack once.
	kinds map[*stackparse.Frame]stackKind
}

func newGoroutineFilter(o SummaryOptions) *goroutineFilter {
	return &goroutineFilter{o: o, kinds: make(map[*stackparse.Frame]stackKind)}
}

// hidden reports a goroutine of the runtime or the testing package, left
// out unless All.
func (f *goroutineFilter) hidden(g *stackparse.Goroutine) bool {
	if f.o.All {
		return false
	}
	if stackparse.Classify(g) == stackparse.WaitRuntime {
		return true
	}
	var k stackKind
	if len(g.Frames) > 0 {
		var ok bool
		if k, ok = f.kinds[&g.Frames[0]]; !ok {
			k = kindOfStack(g.Frames, f.goroot)
			f.kinds[&g.Frames[0]] = k
		}
	}
	return k == stackInMRun || k == stackTesting && !hasUserCreator(g, f.goroot)
}

// keep reports whether g is shown: not hidden, and in the states and
// packages asked for (tests are filtered elsewhere).
func (f *goroutineFilter) keep(g *stackparse.Goroutine) bool {
	if f.hidden(g) {
		return false
	}
	if len(f.o.States) > 0 {
		st := stackparse.Classify(g).String()
		ok := false
		for _, w := range f.o.States {
			ok = ok || strings.EqualFold(strings.TrimSpace(w), st)
		}
		if !ok {
			return false
		}
	}
	if f.o.Package != nil {
		ok := false
		for _, fr := range g.Frames {
			ok = ok || f.o.Package.MatchString(fr.Package())
		}
		if !ok {
			return false
		}
	}
	return true
}

// testingInternal reports goroutines of the testing package's own
// machinery: the test binary's main goroutine waiting in m.Run (directly
// or through TestMain) for the tests to finish, and the timeout alarm.
// They are hidden like runtime goroutines: nothing in them is stuck that
// is not already shown by a test.
func testingInternal(g *stackparse.Goroutine, goroot string) bool {
	k := kindOfStack(g.Frames, goroot)
	return k == stackInMRun || k == stackTesting && !hasUserCreator(g, goroot)
}

type stackKind int

const (
	stackUser    stackKind = iota // has a frame outside the standard library
	stackInMRun                   // waits inside testing.(*M).Run
	stackTesting                  // only testing and other standard library code
	stackStdlib                   // only the standard library, not testing
)

func kindOfStack(frames []stackparse.Frame, goroot string) stackKind {
	testing := false
	for _, f := range frames {
		if f.Func == "testing.(*M).Run" {
			// Waiting for the tests: every frame inside m.Run is
			// the testing package's or the runtime's.
			return stackInMRun
		}
		if f.IsRuntime() {
			continue
		}
		if !f.IsStdlibIn(goroot) {
			return stackUser
		}
		if f.Package() == "testing" {
			testing = true
		}
	}
	if testing {
		return stackTesting
	}
	return stackStdlib
}

// hasUserCreator reports whether a goroutine was started from user code.
func hasUserCreator(g *stackparse.Goroutine, goroot string) bool {
	return g.CreatedBy != nil && !g.CreatedBy.IsStdlibIn(goroot)
}
