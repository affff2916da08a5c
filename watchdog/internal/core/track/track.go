// Package track follows every unit and test of a run through the core's
// events and knows how long each has been Quiet: heartbeats, stalls, the
// run's counts and, when asked, a record per test and unit for the report
// writers. Package watchdog's engine owns one Tracker per run.
package track

import (
	"sort"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/report"
)

// Test is one running or paused test. Finished tests are dropped from
// the Tracker (only counters remain), so memory grows with the number of
// tests running at once, not with the size of the suite.
type Test struct {
	Name     string
	Paused   bool
	Started  time.Time // receipt time of the run event
	lastBeat time.Time // receipt time of the last event of this test or a subtest
	seq      int       // order of the run event within the package
	flagged  bool      // a stall was reported for it
	ghost    bool      // quiet, but none of its goroutines is left: its result is pending
	out      *tail     // its output, when tests are recorded
	errs     *tail     // its error lines (Go 1.27+ OutputType), when recorded
	typed    bool      // its output carried OutputType (Go 1.27+)
}

// Unit is one unit of the run (for go test, a package's test binary).
type Unit struct {
	Name      string
	Started   time.Time // first event
	lastBeat  time.Time // last event of any kind for this package
	Tests     map[string]*Test
	seq       int
	ran       int // tests that got a run event
	Done      bool
	result    core.Action
	elapsed   float64
	sawOutput bool  // any output was seen (a sign that the binary ran)
	flagged   bool  // a package-level stall was reported
	capturing bool  // a capture is in progress for this package
	sawBinary bool  // its test binary was seen running
	out       *tail // package-level output, when tests are recorded
	namer     core.Namer
}

// Counts are the test totals of a run.
type Counts struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Hung    int `json:"hung"`
}

// Tracker follows every unit and test of a run through the event stream
// and knows how long each has been quiet. It is not safe for concurrent use;
// the engine guards it with its own mutex. The tracker owns the state of
// its units and tests: the capture policy changes it only through the
// tracker's methods (Capture, Release, Flag, Unflag, Recover, Ghost,
// SawBinary) and reads it through Unit's and Test's.
type Tracker struct {
	// Record keeps a report.TestRun per test and a report.PackageRun per
	// unit (for JUnit and HTML); off, memory does not grow with the
	// number of tests. Set it before the first event.
	Record   bool
	Tests    []report.TestRun
	Packages []report.PackageRun

	Units  map[string]*Unit
	Order  []string // units in order of first appearance
	Counts Counts
	// FailedUnits are the units that failed, BuildFailed those of them
	// that did not build, in the order their results came.
	FailedUnits,
	BuildFailed []string

	namer core.Namer
}

// New returns an empty tracker of tests named as n names them (which test
// is a subtest of which).
func New(n core.Namer) *Tracker {
	return &Tracker{Units: make(map[string]*Unit), namer: n}
}

func (tr *Tracker) unit(name string, now time.Time) *Unit {
	p := tr.Units[name]
	if p == nil {
		p = &Unit{Name: name, Started: now, Tests: make(map[string]*Test), namer: tr.namer}
		if tr.Record {
			p.out = new(tail)
		}
		tr.Units[name] = p
		tr.Order = append(tr.Order, name)
	}
	return p
}

// parentOf returns the running test that name is a subtest of, choosing
// the nearest existing parent (a Go subtest's name may contain '/').
func (p *Unit) parentOf(name string) *Test {
	for q, ok := p.namer.Parent(name); ok; q, ok = p.namer.Parent(q) {
		if t := p.Tests[q]; t != nil {
			return t
		}
	}
	return nil
}

// beat records a heartbeat for a test and every test it is a subtest of:
// a parent becomes a leaf again when its last subtest ends, and its quiet
// time must count from then, not from its own last line.
func (p *Unit) beat(name string, now time.Time) {
	for t := p.Tests[name]; ; {
		if t != nil {
			t.lastBeat = now
		}
		q, ok := p.namer.Parent(name)
		if !ok {
			return
		}
		name = q
		t = p.Tests[name]
	}
}

// Observe updates the state with one event received at now.
func (tr *Tracker) Observe(e *core.Event, now time.Time) {
	if e.Unit == "" {
		return
	}
	p := tr.unit(e.Unit, now)
	p.lastBeat = now
	if e.Test == "" {
		switch e.Action {
		case core.ActionOutput:
			p.sawOutput = true
			if p.out != nil {
				p.out.write(e.Output)
			}
		case core.ActionBuildOutput:
			if p.out != nil {
				p.out.write(e.Output)
			}
		case core.ActionPass, core.ActionFail, core.ActionSkip:
			p.Done = true
			p.result = e.Action
			p.elapsed = e.Elapsed
			if e.Action == core.ActionFail {
				tr.FailedUnits = append(tr.FailedUnits, e.Unit)
				if e.BuildFailed {
					tr.BuildFailed = append(tr.BuildFailed, e.Unit)
				}
			}
			// Tests still running when the binary died get no terminal
			// event: forget them.
			for _, t := range p.Running() {
				tr.recordTest(p, t, "interrupted", now)
			}
			for _, t := range p.Tests {
				if t.Paused {
					tr.recordTest(p, t, "interrupted", now)
				}
			}
			for k := range p.Tests {
				delete(p.Tests, k)
			}
			tr.recordPackage(p, e, now)
		}
		return
	}
	switch e.Action {
	case core.ActionRun:
		p.seq++
		p.ran++
		t := &Test{Name: e.Test, Started: now, lastBeat: now, seq: p.seq}
		if tr.Record {
			t.out = new(tail)
		}
		p.Tests[e.Test] = t
		p.beat(e.Test, now)
	case core.ActionPause:
		if t := p.Tests[e.Test]; t != nil {
			t.Paused = true
		}
		p.beat(e.Test, now)
	case core.ActionCont:
		if t := p.Tests[e.Test]; t != nil {
			t.Paused = false
		}
		p.beat(e.Test, now)
	case core.ActionPass, core.ActionFail, core.ActionSkip:
		t := p.Tests[e.Test]
		if t == nil || !t.flagged {
			switch e.Action {
			case core.ActionPass:
				tr.Counts.Passed++
			case core.ActionFail:
				tr.Counts.Failed++
			default:
				tr.Counts.Skipped++
			}
		}
		if t != nil {
			tr.recordTest(p, t, string(e.Action), now)
		}
		delete(p.Tests, e.Test)
		p.beat(e.Test, now)
	case core.ActionOutput:
		if t := p.Tests[e.Test]; t != nil && t.out != nil {
			t.out.write(e.Output)
			if e.Typed {
				t.typed = true
			}
			if e.ErrorLine {
				if t.errs == nil {
					t.errs = new(tail)
				}
				t.errs.write(e.Output)
			}
		}
		p.beat(e.Test, now)
	default:
		p.beat(e.Test, now)
	}
}

// recordTest keeps the record of a test that ended (result is pass, fail,
// skip or interrupted; a test flagged as hung is recorded as hung).
func (tr *Tracker) recordTest(p *Unit, t *Test, result string, now time.Time) {
	if !tr.Record {
		return
	}
	if t.flagged {
		result = "hung"
	}
	r := report.TestRun{Package: p.Name, Test: t.Name, Result: result, Start: t.Started, ElapsedSeconds: now.Sub(t.Started).Seconds()}
	if result != "pass" && result != "skip" && t.out != nil {
		r.Output = t.out.String()
		r.OutputTyped = t.typed
		if t.errs != nil {
			r.Errors = t.errs.String()
		}
	}
	tr.Tests = append(tr.Tests, r)
}

func (tr *Tracker) recordPackage(p *Unit, e *core.Event, now time.Time) {
	if !tr.Record {
		return
	}
	r := report.PackageRun{Package: p.Name, Result: string(e.Action), Start: p.Started, End: now, ElapsedSeconds: e.Elapsed}
	if e.BuildFailed {
		r.Result = "build-failed"
	}
	if r.Result != "pass" && p.out != nil {
		r.Output = p.out.String()
	}
	tr.Packages = append(tr.Packages, r)
}

// FinishPending records the tests and packages that never finished when
// the stream ended (the run was interrupted, or a saved stream was cut).
func (tr *Tracker) FinishPending(now time.Time) {
	if !tr.Record {
		return
	}
	for _, p := range tr.Pending() {
		for _, t := range p.Tests {
			tr.recordTest(p, t, "interrupted", now)
		}
		result := "interrupted"
		for _, t := range p.Tests {
			if t.flagged {
				result = "hung"
			}
		}
		r := report.PackageRun{Package: p.Name, Result: result, Start: p.Started, End: now, ElapsedSeconds: now.Sub(p.Started).Seconds()}
		if p.out != nil {
			r.Output = p.out.String()
		}
		tr.Packages = append(tr.Packages, r)
	}
}

// MarkHung changes the record of a test (or, with test "", of a package)
// to hung, for hangs found after the fact in a dump.
func (tr *Tracker) MarkHung(pkg, test string) {
	if test == "" {
		for i := range tr.Packages {
			if tr.Packages[i].Package == pkg {
				tr.Packages[i].Result = "hung"
			}
		}
		return
	}
	for i := len(tr.Tests) - 1; i >= 0; i-- {
		if tr.Tests[i].Package == pkg && tr.Tests[i].Test == test {
			tr.Tests[i].Result = "hung"
			return
		}
	}
}

// RunningLeaves returns the running tests of p that have no running
// subtest, in run order. Paused tests wait for a parallel slot and parents
// wait for their subtests: neither can be the test that is stuck.
func (p *Unit) RunningLeaves() []*Test {
	notLeaf := make(map[string]bool)
	for name, t := range p.Tests {
		if t.Paused {
			continue
		}
		for q, ok := p.namer.Parent(name); ok; q, ok = p.namer.Parent(q) {
			notLeaf[q] = true
		}
	}
	var out []*Test
	for name, t := range p.Tests {
		if !t.Paused && !notLeaf[name] {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// Running returns every running (not paused) test of p in run order.
func (p *Unit) Running() []*Test {
	var out []*Test
	for _, t := range p.Tests {
		if !t.Paused {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// Stall is a test or unit found quiet past its threshold.
type Stall struct {
	Unit      string
	Tests     []*Test // stalled leaves; empty for a package-level stall
	Quiet     time.Duration
	Threshold time.Duration
}

// Stalls returns what has been quiet past its threshold at now and has not
// been reported yet. thresholdFor gives the threshold of a test of a
// package (test "" for
// the package level).
func (tr *Tracker) Stalls(now time.Time, thresholdFor func(pkg, test string) time.Duration) []Stall {
	var out []Stall
	for _, name := range tr.Order {
		p := tr.Units[name]
		if p.Done || p.capturing {
			continue
		}
		leaves := p.RunningLeaves()
		if len(leaves) > 0 {
			var st Stall
			for _, t := range leaves {
				if t.flagged || t.ghost {
					continue
				}
				th := thresholdFor(name, t.Name)
				if q := now.Sub(t.lastBeat); q >= th {
					st.Tests = append(st.Tests, t)
					if q > st.Quiet {
						st.Quiet, st.Threshold = q, th
					}
				}
			}
			if len(st.Tests) > 0 {
				st.Unit = name
				out = append(out, st)
			}
			continue
		}
		if len(p.Tests) > 0 || p.flagged {
			continue // only paused Tests: something else runs
		}
		th := thresholdFor(name, "")
		if q := now.Sub(p.lastBeat); q >= th {
			out = append(out, Stall{Unit: name, Quiet: q, Threshold: th})
		}
	}
	return out
}

// Pending returns the packages that have not finished, with their running
// tests, for the interrupt summary.
func (tr *Tracker) Pending() []*Unit {
	var out []*Unit
	for _, name := range tr.Order {
		if p := tr.Units[name]; !p.Done {
			out = append(out, p)
		}
	}
	return out
}
