package format

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// goTest prints what plain `go test` (standard-quiet) or `go test -v`
// (standard-verbose) prints for the same run, rebuilt from the event
// stream. The stream differs from both in known ways, which it undoes:
//
//   - Like go test with several packages, each package's output is printed
//     as one block, in the order the packages first appear in the stream;
//     the first package's output streams (verbose), the others are held.
//   - In the stream a subtest's "--- PASS: T/sub" line comes right after
//     the subtest; go test -v prints it, indented, after its parent's
//     line. Verbose holds these lines in the parent until it reports.
//   - test2json drops the "=== NAME  T" lines go test -v prints when log
//     output switches tests; verbose prints them again.
//   - Without -v, go test prints nothing for a passing package but its
//     "ok" line, and for a failing one the binary's output, where a failed
//     test shows as "--- FAIL: T (0.00s)" followed by its t.Log lines and
//     the blocks of its failed subtests, indented. Quiet keeps each test's
//     log lines until the test's result is known.
//   - Tests that never finish (the binary died or was killed) keep their
//     held lines; quiet prints them, after the test's "=== RUN" line,
//     before the crash report ("panic: ", "fatal error: ", "SIGQUIT: quit")
//     or else before the package's final line. (go test without -v loses
//     them.)
//
// Lines that go test prints but the stream does not carry ("exit status
// 3" of a binary that exits) cannot be restored.
type goTest struct {
	verbose bool
	w       *errWriter
	st      *store
	pkgs    map[string]*gpkg
	order   []*gpkg // packages not yet printed, in order of first event
	anyFail bool
}

// gpkg is a package being printed. Its tests stay in tests until the
// package ends (a result can arrive after a test's "--- FAIL" line), so
// memory grows with the number of tests of one package, not of the run.
type gpkg struct {
	name      string
	out       held // output not yet printed
	streaming bool // verbose: out goes straight to the writer
	tests     map[string]*gtest
	open      []*gtest // tests without a result, in start order
	summary   strings.Builder
	done      bool
	failed    bool
	lastName  string // verbose: the test go test -v last named
	bench     bool   // benchmarks ran: go test shows the output of a passing package
	midLine   bool   // package-level output is inside a line
}

type gtest struct {
	name    string
	parent  *gtest
	depth   int
	buf     held // quiet: log lines and failed subtests; verbose: subtests' result lines
	done    bool
	midLine bool
	kind    lineKind // of the line being printed, while midLine

	bench     bool   // a benchmark (or sub-benchmark)
	benchName string // quiet: "BenchmarkX-8", from its result line
}

func newGoTest(w *errWriter, st *store, verbose bool) *goTest {
	return &goTest{verbose: verbose, w: w, st: st, pkgs: map[string]*gpkg{}}
}

func (f *goTest) pkg(name string) *gpkg {
	if p := f.pkgs[name]; p != nil {
		return p
	}
	p := &gpkg{name: name, tests: map[string]*gtest{}}
	f.pkgs[name] = p
	f.order = append(f.order, p)
	if f.verbose && len(f.order) == 1 {
		p.streaming = true
	}
	return p
}

// test returns the named test, creating it (and finding its parent: the
// longest existing test whose name is a prefix up to a '/'; subtest names
// may themselves contain '/').
func (p *gpkg) test(name string) *gtest {
	if t := p.tests[name]; t != nil {
		return t
	}
	t := &gtest{name: name, bench: strings.HasPrefix(name, "Benchmark")}
	if t.bench {
		p.bench = true
	}
	for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
		if parent := p.tests[name[:i]]; parent != nil {
			t.parent, t.depth = parent, parent.depth+1
			break
		}
	}
	p.tests[name] = t
	p.open = append(p.open, t)
	return t
}

func (f *goTest) emit(p *gpkg, s string) {
	if p.streaming {
		f.w.WriteString(s)
		return
	}
	f.st.writeString(&p.out, s)
}

// emitHeld moves the bytes of h to p's output.
func (f *goTest) emitHeld(p *gpkg, h *held) {
	if p.streaming {
		f.st.writeTo(h, f.w)
	} else {
		f.st.writeTo(h, heldWriter{f.st, &p.out})
	}
	f.st.reset(h)
}

func (f *goTest) Text(chunk []byte, end bool) { f.w.Write(chunk) }

func (f *goTest) Event(e *testjson.Event) {
	switch e.Action {
	case testjson.ActionBuildOutput:
		f.w.WriteString(e.Output)
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
		if !p.midLine && isSummaryLine(e.Output, p.name) {
			f.finishOpen(p)
			if !f.verbose {
				p.summary.WriteString(e.Output)
			}
		}
		p.midLine = !strings.HasSuffix(e.Output, "\n")
		f.emit(p, e.Output)
	case testjson.ActionPass, testjson.ActionFail, testjson.ActionSkip:
		f.finishOpen(p)
		p.done = true
		p.failed = e.Action == testjson.ActionFail
		f.anyFail = f.anyFail || p.failed
		if !f.verbose && !p.failed && !p.bench {
			f.st.reset(&p.out)
		}
		f.advance()
	}
}

func (f *goTest) testEvent(p *gpkg, e *testjson.Event) {
	t := p.test(e.Test)
	switch e.Action {
	case testjson.ActionOutput:
		f.testOutput(p, t, e.Output)
	case testjson.ActionPass, testjson.ActionSkip, testjson.ActionFail:
		if !t.done { // no result line in the stream
			line := ""
			if e.Action == testjson.ActionFail {
				line = fmt.Sprintf("--- FAIL: %s (%.2fs)\n", t.name, e.Elapsed)
			}
			f.result(p, t, line)
		}
	}
}

func (f *goTest) testOutput(p *gpkg, t *gtest, s string) {
	kind := t.kind
	if !t.midLine {
		kind = classify(s)
	}
	atStart := !t.midLine
	t.midLine = !strings.HasSuffix(s, "\n")
	t.kind = kind
	if t.bench && f.benchOutput(p, t, s, kind, atStart) {
		return
	}
	switch kind {
	case lineFraming:
		if f.verbose {
			p.lastName = t.name
			f.emit(p, s)
		}
	case lineReport:
		if !atStart {
			return // rest of a report line: printed with its start
		}
		rt := t
		if name := reportName(s); name != t.name {
			if other := p.tests[name]; other != nil {
				rt = other
			}
		}
		if rt.done {
			f.emit(p, s)
			return
		}
		f.result(p, rt, s)
	case lineLog:
		if f.verbose {
			if atStart && p.lastName != t.name {
				f.emit(p, "=== NAME  "+t.name+"\n")
				p.lastName = t.name
			}
			f.emit(p, s)
			return
		}
		if t.done {
			f.emit(p, s)
			return
		}
		f.st.writeString(&t.buf, s)
	default:
		if atStart && !f.verbose && isDeathLine(s) {
			// The binary is dying: show what the tests still running
			// logged before the crash report.
			f.finishOpen(p)
		}
		f.emit(p, s)
	}
}

// benchOutput handles the lines of a benchmark that go test prints
// differently from the stream, and reports whether it did:
//
//   - "=== RUN   BenchmarkX" is not printed by go test, with or without -v;
//   - without -v, the "BenchmarkX" line before the run is not printed, and
//     the benchmark's log lines follow its result line under
//     "--- BENCH: BenchmarkX-8".
func (f *goTest) benchOutput(p *gpkg, t *gtest, s string, kind lineKind, atStart bool) bool {
	if kind == lineFraming {
		p.lastName = t.name
		return true
	}
	if f.verbose || kind != lineDirect {
		return false
	}
	if atStart && s == t.name+"\n" {
		return true
	}
	if atStart && strings.HasPrefix(s, t.name) {
		if name, _, ok := strings.Cut(s, " "); ok {
			t.benchName, _, _ = strings.Cut(name, "\t")
		}
	}
	f.emit(p, s)
	if strings.HasSuffix(s, "\n") && t.benchName != "" && t.buf.len() > 0 {
		f.emit(p, "--- BENCH: "+t.benchName+"\n")
		f.emitHeld(p, &t.buf)
	}
	return true
}

// isDeathLine reports the first line of a crash report: a panic, a fatal
// runtime error or a SIGQUIT dump.
func isDeathLine(s string) bool {
	return strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") ||
		strings.HasPrefix(s, "SIGQUIT: quit")
}

// result records t's result line (line is "" for a passed test with no
// line in the stream).
func (f *goTest) result(p *gpkg, t *gtest, line string) {
	t.done = true
	if i := slices.Index(p.open, t); i >= 0 {
		p.open = slices.Delete(p.open, i, i+1)
	}
	header := strings.TrimLeft(line, " ")
	if t.parent != nil && t.parent.done {
		// With go test -json -v, test2json sees go test -v's own order:
		// a subtest's result line comes, indented, after its parent's.
		// The parent has been printed: so is this line, as it is.
		if f.verbose || strings.HasPrefix(header, "--- FAIL: ") {
			f.emit(p, line)
			f.emitHeld(p, &t.buf)
		} else {
			f.st.reset(&t.buf)
		}
		return
	}
	if f.verbose {
		if t.parent == nil {
			f.emit(p, header)
			f.emitHeld(p, &t.buf)
			p.lastName = t.name
			return
		}
		dst := heldWriter{f.st, &t.parent.buf}
		dst.Write([]byte(strings.Repeat("    ", t.depth) + header))
		f.st.writeTo(&t.buf, dst)
		f.st.reset(&t.buf)
		return
	}
	if !strings.HasPrefix(header, "--- FAIL: ") {
		f.st.reset(&t.buf) // go test shows only failed tests
		return
	}
	f.block(p, t, header)
}

// block prints (or adds to the parent) header and t's held lines.
func (f *goTest) block(p *gpkg, t *gtest, header string) {
	if t.parent == nil {
		f.emit(p, header)
		f.emitHeld(p, &t.buf)
		return
	}
	in := &indenter{w: heldWriter{f.st, &t.parent.buf}, prefix: []byte("    ")}
	in.Write([]byte(header))
	f.st.writeTo(&t.buf, in)
	f.st.reset(&t.buf)
}

// finishOpen prints what is held for tests that have no result and will
// get none: their binary has ended. Subtests go into their parents first.
func (f *goTest) finishOpen(p *gpkg) {
	if len(p.open) == 0 {
		return
	}
	open := slices.Clone(p.open)
	slices.SortStableFunc(open, func(a, b *gtest) int { return b.depth - a.depth })
	for _, t := range open {
		t.done = true
		if t.buf.len() == 0 {
			continue
		}
		if f.verbose {
			if t.parent == nil {
				f.emitHeld(p, &t.buf)
			} else {
				f.st.writeTo(&t.buf, heldWriter{f.st, &t.parent.buf})
				f.st.reset(&t.buf)
			}
			continue
		}
		f.block(p, t, "=== RUN   "+t.name+"\n")
	}
	p.open = p.open[:0]
}

// advance prints finished packages at the head of the order, and lets the
// next package stream (verbose).
func (f *goTest) advance() {
	for len(f.order) > 0 && f.order[0].done {
		f.flushPkg(f.order[0])
		f.order = f.order[1:]
		if f.verbose && len(f.order) > 0 {
			next := f.order[0]
			f.st.writeTo(&next.out, f.w)
			f.st.reset(&next.out)
			next.streaming = true
		}
	}
}

func (f *goTest) flushPkg(p *gpkg) {
	delete(f.pkgs, p.name)
	if !f.verbose && p.done && !p.failed && !p.bench {
		f.w.WriteString(p.summary.String())
		return
	}
	f.st.writeTo(&p.out, f.w)
	f.st.reset(&p.out)
}

// Close prints packages that never finished (all their output: whether
// they passed is unknown), then go test's final "FAIL" if a package failed.
func (f *goTest) Close() error {
	for _, p := range f.order {
		f.finishOpen(p)
		f.flushPkg(p)
	}
	f.order = nil
	if f.anyFail {
		f.w.WriteString("FAIL\n")
	}
	return closeErr(f.w, f.st)
}
