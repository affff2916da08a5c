package format

import (
	"strconv"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// compact implements gotestsum's compact formats:
//
//   - dots: "[pkg]" when a package runs its first test, then "·" for a
//     passed test, "✖" for a failed one, "↷" for a skipped one.
//   - pkgname: one line per package: "✓  pkg (1.2s)", "✖  pkg (1.2s)",
//     "∅  pkg" (no tests), with " (cached)" and " (coverage: …)".
//   - pkgname-and-test-fails: pkgname, plus the output of each failed test
//     when it fails.
//   - testname: "PASS pkg.TestX (0.00s)" per test (the output of a failed
//     test first), and "PASS pkg", "FAIL pkg" or "EMPTY pkg" per package.
//
// Package paths are printed in full. Build errors, non-JSON text and
// package output that is not go test's own framing (a panic in TestMain)
// are printed as they come. Output of tests that never finished is printed
// when their package ends (not by gotestsum).
type compact struct {
	name     string
	w        *errWriter
	st       *store
	pkgs     map[string]*cpkg
	dotsLine bool // dots: something printed since the last newline
}

type cpkg struct {
	tests    int
	cached   bool
	coverage string
	out      map[string]*held // output of running tests, by name
	order    []string         // tests in out, in start order
}

func newCompact(name string, w *errWriter, st *store) *compact {
	return &compact{name: name, w: w, st: st, pkgs: map[string]*cpkg{}}
}

func (f *compact) keepsOutput() bool { return f.name == TestName || f.name == PkgNameAndTestFails }

func (f *compact) pkg(name string) *cpkg {
	p := f.pkgs[name]
	if p == nil {
		p = &cpkg{out: map[string]*held{}}
		f.pkgs[name] = p
	}
	return p
}

func (f *compact) Text(chunk []byte, end bool) {
	f.w.Write(chunk)
	if f.name == Dots && len(chunk) > 0 {
		f.dotsLine = chunk[len(chunk)-1] != '\n'
	}
}

func (f *compact) print(s string) {
	if f.dotsLine {
		f.w.WriteString("\n")
		f.dotsLine = false
	}
	f.w.WriteString(s)
}

func (f *compact) Event(e *testjson.Event) {
	switch e.Action {
	case testjson.ActionBuildOutput:
		f.print(e.Output)
		return
	case testjson.ActionBuildFail:
		return
	}
	p := f.pkg(e.Package)
	if e.Test != "" {
		f.testEvent(p, e)
		return
	}
	switch e.Action {
	case testjson.ActionOutput:
		if strings.Contains(e.Output, "\t(cached)") {
			p.cached = true
		}
		if i := strings.Index(e.Output, "coverage: "); i >= 0 {
			p.coverage = strings.TrimRight(e.Output[i:], "\n")
			if j := strings.Index(p.coverage, "\t"); j >= 0 {
				p.coverage = p.coverage[:j]
			}
		}
		if f.name != PkgName && f.name != Dots && isPkgFailureOutput(e.Output, e.Package) {
			f.print(e.Output)
		}
	case testjson.ActionPass, testjson.ActionFail, testjson.ActionSkip:
		f.packageDone(e, p)
	}
}

func (f *compact) testEvent(p *cpkg, e *testjson.Event) {
	switch e.Action {
	case testjson.ActionRun:
		p.tests++
		if f.name == Dots && p.tests == 1 {
			f.w.WriteString("[" + e.Package + "]")
			f.dotsLine = true
		}
	case testjson.ActionOutput:
		if f.keepsOutput() {
			h := p.out[e.Test]
			if h == nil {
				h = &held{}
				p.out[e.Test] = h
				p.order = append(p.order, e.Test)
			}
			f.st.writeString(h, e.Output)
		}
	case testjson.ActionPass, testjson.ActionFail, testjson.ActionSkip:
		if f.name == Dots {
			switch e.Action {
			case testjson.ActionPass:
				f.w.WriteString("·")
			case testjson.ActionFail:
				f.w.WriteString("✖")
			default:
				f.w.WriteString("↷")
			}
			f.dotsLine = true
			return
		}
		h := p.out[e.Test]
		if e.Action == testjson.ActionFail && h != nil {
			f.st.writeTo(h, f.w)
		}
		if h != nil {
			f.st.reset(h)
			delete(p.out, e.Test)
		}
		if f.name == TestName {
			f.print(strings.ToUpper(string(e.Action)) + " " + e.Package + "." + e.Test +
				" (" + strconvElapsed(e.Elapsed) + "s)\n")
		}
	}
}

func (f *compact) packageDone(e *testjson.Event, p *cpkg) {
	// Output of tests that never finished: their binary died.
	for _, name := range p.order {
		if h := p.out[name]; h != nil {
			f.st.writeTo(h, f.w)
			f.st.reset(h)
		}
	}
	delete(f.pkgs, e.Package)
	empty := e.Action == testjson.ActionSkip || e.Action == testjson.ActionPass && p.tests == 0
	var b strings.Builder
	switch f.name {
	case Dots:
		return
	case TestName:
		switch {
		case empty:
			b.WriteString("EMPTY ")
		default:
			b.WriteString(strings.ToUpper(string(e.Action)) + " ")
		}
		b.WriteString(e.Package)
		if p.cached {
			b.WriteString(" (cached)")
		}
	default:
		switch {
		case empty:
			b.WriteString("∅")
		case e.Action == testjson.ActionFail:
			b.WriteString("✖")
		default:
			b.WriteString("✓")
		}
		b.WriteString("  " + e.Package)
		switch {
		case p.cached:
			b.WriteString(" (cached)")
		case e.Elapsed != 0:
			b.WriteString(" (" + (time.Duration(e.Elapsed*1000) * time.Millisecond).String() + ")")
		}
	}
	if p.coverage != "" {
		b.WriteString(" (" + p.coverage + ")")
	}
	b.WriteString("\n")
	f.print(b.String())
}

func (f *compact) Close() error {
	for name, p := range f.pkgs {
		for _, t := range p.order {
			if h := p.out[t]; h != nil {
				f.st.writeTo(h, f.w)
				f.st.reset(h)
			}
		}
		delete(f.pkgs, name)
	}
	if f.dotsLine {
		f.w.WriteString("\n")
	}
	return closeErr(f.w, f.st)
}

// isPkgFailureOutput reports package output that is not go test's own
// framing: a panic or exit in TestMain or init, or anything else a user
// must see.
func isPkgFailureOutput(out, pkg string) bool {
	switch out {
	case "PASS\n", "FAIL\n", "testing: warning: no tests to run\n":
		return false
	}
	return !strings.HasPrefix(out, "FAIL\t"+pkg) && !strings.HasPrefix(out, "ok  \t"+pkg) &&
		!strings.HasPrefix(out, "?   \t"+pkg) && !strings.HasPrefix(out, "-test.shuffle ") &&
		!strings.Contains(out, "coverage: ")
}

func strconvElapsed(s float64) string { return strconv.FormatFloat(s, 'f', 2, 64) }
