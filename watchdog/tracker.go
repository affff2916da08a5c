package watchdog

import (
	"sort"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/testjson"
	"github.com/hangdog/hangdog/watchdog/report"
)

// testState is one running or paused test. Finished tests are dropped from
// the tracker (only counters remain), so memory grows with the number of
// tests running at once, not with the size of the suite.
type testState struct {
	name     string
	paused   bool
	started  time.Time // receipt time of the run event
	lastBeat time.Time // receipt time of the last event of this test or a subtest
	seq      int       // order of the run event within the package
	flagged  bool      // a stall was reported for it
	ghost    bool      // quiet, but none of its goroutines is left: its result is pending
	out      *tail     // its output, when tests are recorded
	errs     *tail     // its error lines (Go 1.27+ OutputType), when recorded
	typed    bool      // its output carried OutputType (Go 1.27+)
}

// pkgState is one package of the run.
type pkgState struct {
	name      string
	started   time.Time // first event
	lastBeat  time.Time // last event of any kind for this package
	tests     map[string]*testState
	seq       int
	ran       int // tests that got a run event
	done      bool
	result    testjson.Action
	elapsed   float64
	output    bool  // any output was seen (a sign that the binary ran)
	flagged   bool  // a package-level stall was reported
	capturing bool  // a capture is in progress for this package
	sawBinary bool  // its test binary was seen running
	out       *tail // package-level output, when tests are recorded
}

// Counts are the test totals of a run.
type Counts struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Hung    int `json:"hung"`
}

// tracker follows every package and test of a run through the event stream
// and knows how long each has been quiet. It is not safe for concurrent use;
// the engine guards it with its own mutex.
type tracker struct {
	// record keeps a report.TestRun per test and a report.PackageRun per
	// package (for JUnit and HTML); off, memory does not grow with the
	// number of tests.
	record   bool
	tests    []report.TestRun
	packages []report.PackageRun

	pkgs   map[string]*pkgState
	order  []string // packages in order of first appearance
	counts Counts
	failedPkgs,
	buildFailed []string
}

func newTracker() *tracker {
	return &tracker{pkgs: make(map[string]*pkgState)}
}

func (tr *tracker) pkg(name string, now time.Time) *pkgState {
	p := tr.pkgs[name]
	if p == nil {
		p = &pkgState{name: name, started: now, tests: make(map[string]*testState)}
		if tr.record {
			p.out = new(tail)
		}
		tr.pkgs[name] = p
		tr.order = append(tr.order, name)
	}
	return p
}

// parentOf returns the running test that name is a subtest of, choosing
// the longest existing prefix at a '/' (subtest names may contain '/').
func (p *pkgState) parentOf(name string) *testState {
	for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
		if t := p.tests[name[:i]]; t != nil {
			return t
		}
	}
	return nil
}

// beat records a heartbeat for a test and every test it is a subtest of:
// a parent becomes a leaf again when its last subtest ends, and its quiet
// time must count from then, not from its own last line.
func (p *pkgState) beat(name string, now time.Time) {
	for t := p.tests[name]; ; {
		if t != nil {
			t.lastBeat = now
		}
		i := strings.LastIndexByte(name, '/')
		if i <= 0 {
			return
		}
		name = name[:i]
		t = p.tests[name]
	}
}

// observe updates the state with one event received at now.
func (tr *tracker) observe(e *testjson.Event, now time.Time) {
	if e.Package == "" {
		return
	}
	p := tr.pkg(e.Package, now)
	p.lastBeat = now
	if e.Test == "" {
		switch e.Action {
		case testjson.ActionOutput:
			p.output = true
			if p.out != nil {
				p.out.write(e.Output)
			}
		case testjson.ActionBuildOutput:
			if p.out != nil {
				p.out.write(e.Output)
			}
		case testjson.ActionPass, testjson.ActionFail, testjson.ActionSkip:
			p.done = true
			p.result = e.Action
			p.elapsed = e.Elapsed
			if e.Action == testjson.ActionFail {
				tr.failedPkgs = append(tr.failedPkgs, e.Package)
				if e.FailedBuild != "" {
					tr.buildFailed = append(tr.buildFailed, e.Package)
				}
			}
			// Tests still running when the binary died get no terminal
			// event: forget them.
			for _, t := range p.running() {
				tr.recordTest(p, t, "interrupted", now)
			}
			for _, t := range p.tests {
				if t.paused {
					tr.recordTest(p, t, "interrupted", now)
				}
			}
			for k := range p.tests {
				delete(p.tests, k)
			}
			tr.recordPackage(p, e, now)
		}
		return
	}
	switch e.Action {
	case testjson.ActionRun:
		p.seq++
		p.ran++
		t := &testState{name: e.Test, started: now, lastBeat: now, seq: p.seq}
		if tr.record {
			t.out = new(tail)
		}
		p.tests[e.Test] = t
		p.beat(e.Test, now)
	case testjson.ActionPause:
		if t := p.tests[e.Test]; t != nil {
			t.paused = true
		}
		p.beat(e.Test, now)
	case testjson.ActionCont:
		if t := p.tests[e.Test]; t != nil {
			t.paused = false
		}
		p.beat(e.Test, now)
	case testjson.ActionPass, testjson.ActionFail, testjson.ActionSkip:
		t := p.tests[e.Test]
		if t == nil || !t.flagged {
			switch e.Action {
			case testjson.ActionPass:
				tr.counts.Passed++
			case testjson.ActionFail:
				tr.counts.Failed++
			default:
				tr.counts.Skipped++
			}
		}
		if t != nil {
			tr.recordTest(p, t, string(e.Action), now)
		}
		delete(p.tests, e.Test)
		p.beat(e.Test, now)
	case testjson.ActionOutput:
		if t := p.tests[e.Test]; t != nil && t.out != nil {
			t.out.write(e.Output)
			if e.OutputType != "" {
				t.typed = true
			}
			if e.IsError() {
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
func (tr *tracker) recordTest(p *pkgState, t *testState, result string, now time.Time) {
	if !tr.record {
		return
	}
	if t.flagged {
		result = "hung"
	}
	r := report.TestRun{Package: p.name, Test: t.name, Result: result, Start: t.started, ElapsedSeconds: now.Sub(t.started).Seconds()}
	if result != "pass" && result != "skip" && t.out != nil {
		r.Output = t.out.String()
		r.OutputTyped = t.typed
		if t.errs != nil {
			r.Errors = t.errs.String()
		}
	}
	tr.tests = append(tr.tests, r)
}

func (tr *tracker) recordPackage(p *pkgState, e *testjson.Event, now time.Time) {
	if !tr.record {
		return
	}
	r := report.PackageRun{Package: p.name, Result: string(e.Action), Start: p.started, End: now, ElapsedSeconds: e.Elapsed}
	if e.FailedBuild != "" {
		r.Result = "build-failed"
	}
	if r.Result != "pass" && p.out != nil {
		r.Output = p.out.String()
	}
	tr.packages = append(tr.packages, r)
}

// finishPending records the tests and packages that never finished when
// the stream ended (the run was interrupted, or a saved stream was cut).
func (tr *tracker) finishPending(now time.Time) {
	if !tr.record {
		return
	}
	for _, p := range tr.pending() {
		for _, t := range p.tests {
			tr.recordTest(p, t, "interrupted", now)
		}
		result := "interrupted"
		for _, t := range p.tests {
			if t.flagged {
				result = "hung"
			}
		}
		r := report.PackageRun{Package: p.name, Result: result, Start: p.started, End: now, ElapsedSeconds: now.Sub(p.started).Seconds()}
		if p.out != nil {
			r.Output = p.out.String()
		}
		tr.packages = append(tr.packages, r)
	}
}

// markHung changes the record of a test (or, with test "", of a package)
// to hung, for hangs found after the fact in a dump.
func (tr *tracker) markHung(pkg, test string) {
	if test == "" {
		for i := range tr.packages {
			if tr.packages[i].Package == pkg {
				tr.packages[i].Result = "hung"
			}
		}
		return
	}
	for i := len(tr.tests) - 1; i >= 0; i-- {
		if tr.tests[i].Package == pkg && tr.tests[i].Test == test {
			tr.tests[i].Result = "hung"
			return
		}
	}
}

// tail keeps the last report.MaxTestOutput bytes written to it.
type tail struct {
	buf   []byte
	start int // ring start when full
	full  bool
}

func (t *tail) write(s string) {
	const max = report.MaxTestOutput
	if len(s) >= max {
		t.buf = append(t.buf[:0], s[len(s)-max:]...)
		t.start, t.full = 0, true
		return
	}
	if !t.full {
		if len(t.buf)+len(s) <= max {
			t.buf = append(t.buf, s...)
			return
		}
		// Fill up, then wrap.
		n := max - len(t.buf)
		t.buf = append(t.buf, s[:n]...)
		s = s[n:]
		t.full = true
		t.start = 0
	}
	for len(s) > 0 {
		n := copy(t.buf[t.start:], s)
		s = s[n:]
		t.start = (t.start + n) % max
	}
}

func (t *tail) String() string {
	if !t.full {
		return string(t.buf)
	}
	return string(t.buf[t.start:]) + string(t.buf[:t.start])
}

// runningLeaves returns the running tests of p that have no running
// subtest, in run order. Paused tests wait for a parallel slot and parents
// wait for their subtests: neither can be the test that is stuck.
func (p *pkgState) runningLeaves() []*testState {
	notLeaf := make(map[string]bool)
	for name, t := range p.tests {
		if t.paused {
			continue
		}
		for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
			notLeaf[name[:i]] = true
		}
	}
	var out []*testState
	for name, t := range p.tests {
		if !t.paused && !notLeaf[name] {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// running returns every running (not paused) test of p in run order.
func (p *pkgState) running() []*testState {
	var out []*testState
	for _, t := range p.tests {
		if !t.paused {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// stall is a test or package found quiet past its threshold.
type stall struct {
	pkg       string
	tests     []*testState // stalled leaves; empty for a package-level stall
	quiet     time.Duration
	threshold time.Duration
}

// stalls returns what has been quiet past its threshold at now and has not
// been reported yet. thresholdFor gives the threshold of a test of a
// package (test "" for
// the package level).
func (tr *tracker) stalls(now time.Time, thresholdFor func(pkg, test string) time.Duration) []stall {
	var out []stall
	for _, name := range tr.order {
		p := tr.pkgs[name]
		if p.done || p.capturing {
			continue
		}
		leaves := p.runningLeaves()
		if len(leaves) > 0 {
			var st stall
			for _, t := range leaves {
				if t.flagged || t.ghost {
					continue
				}
				th := thresholdFor(name, t.name)
				if q := now.Sub(t.lastBeat); q >= th {
					st.tests = append(st.tests, t)
					if q > st.quiet {
						st.quiet, st.threshold = q, th
					}
				}
			}
			if len(st.tests) > 0 {
				st.pkg = name
				out = append(out, st)
			}
			continue
		}
		if len(p.tests) > 0 || p.flagged {
			continue // only paused tests: something else runs
		}
		th := thresholdFor(name, "")
		if q := now.Sub(p.lastBeat); q >= th {
			out = append(out, stall{pkg: name, quiet: q, threshold: th})
		}
	}
	return out
}

// pending returns the packages that have not finished, with their running
// tests, for the interrupt summary.
func (tr *tracker) pending() []*pkgState {
	var out []*pkgState
	for _, name := range tr.order {
		if p := tr.pkgs[name]; !p.done {
			out = append(out, p)
		}
	}
	return out
}
