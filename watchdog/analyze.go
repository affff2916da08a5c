package watchdog

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/report"
)

// This file is the engine's side of `hangdog analyze`: reading a stream or
// a log instead of running go test.

// unprefixReader strips a CI prefix (a timestamp, a step name) from lines
// that carry a test2json event after it, so that a CI log of go test -json
// reads as the stream. Other lines pass through untouched; memory is
// bounded by the bufio buffer (a longer line passes through in pieces).
type unprefixReader struct {
	br      *bufio.Reader
	pending []byte
	err     error
}

var eventStart = []byte(`{"Time":"`)

func (u *unprefixReader) Read(p []byte) (int, error) {
	for len(u.pending) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		line, err := u.br.ReadSlice('\n')
		u.err = err
		if err == bufio.ErrBufferFull {
			u.err = nil
			u.pending = line
			break
		}
		if len(line) > 0 && line[0] != '{' {
			if i := bytes.Index(line, eventStart); i > 0 && !bytes.ContainsAny(line[:i], "{\"") {
				line = line[i:]
			}
		}
		u.pending = line
	}
	n := copy(p, u.pending)
	u.pending = u.pending[n:]
	return n, nil
}

// textLog keeps the non-JSON text of an analysed input (a plain go test
// log, a CI log) in a private file, and notes the package result lines in
// it, so that dumps in it can be diagnosed at the end.
type textLog struct {
	f       *os.File
	path    string
	line    int
	partial bool
	// results are the "FAIL\tpkg" and "ok  \tpkg" lines, by line number.
	results []pkgLine
	cur     []byte // the current line, up to a bound
	err     error
	counts  Counts
	// record keeps TestRun and PackageRun records from the log's own
	// result lines (a plain log has no events); a test's package is
	// known only at its package's result line.
	record   bool
	pending  []report.TestRun
	tests    []report.TestRun
	packages []report.PackageRun
	// runs follows the "=== RUN" lines of a -v log that have no result
	// line yet; unfinished holds, for each line that starts a dump, the
	// tests still running there (see runningAt).
	runs       runLog
	unfinished []unfinishedAt
}

// resultLine matches "--- PASS: TestX (1.23s)" (also FAIL and SKIP).
var resultLine = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) \(([\d.]+)s\)`)

type pkgLine struct {
	line int
	pkg  string
	ok   bool
}

// ciPrefix matches the timestamps CI systems put before every line.
var ciPrefix = regexp.MustCompile(`^(\d{4}-\d\d-\d\d[T ][\d:.]+Z?\s|\[[\d:.]+\]\s)`)

func (t *textLog) write(chunk []byte, end bool) {
	if t.err == nil {
		_, t.err = t.f.Write(chunk)
	}
	if len(t.cur) < 4096 {
		t.cur = append(t.cur, chunk[:min(len(chunk), 4096-len(t.cur))]...)
	}
	if !end {
		return
	}
	t.line++
	l := ciPrefix.ReplaceAllString(strings.TrimRight(string(t.cur), "\r\n"), "")
	t.cur = t.cur[:0]
	switch {
	case strings.HasPrefix(l, "FAIL\t"):
		t.pkgResult(strings.SplitN(l, "\t", 3)[1], false)
	case strings.HasPrefix(l, "ok  \t"):
		t.pkgResult(strings.SplitN(l, "\t", 3)[1], true)
	}
	t.runs.line(t.line, l)
	if mayStartDump(l) {
		t.unfinished = append(t.unfinished, unfinishedAt{t.line, t.runs.leaves()})
	}
	l = strings.TrimLeft(l, " ")
	if m := resultLine.FindStringSubmatch(l); m != nil && t.record {
		secs, _ := strconv.ParseFloat(m[3], 64)
		t.pending = append(t.pending, report.TestRun{Test: m[2], Result: strings.ToLower(m[1]), ElapsedSeconds: secs})
	}
	switch {
	case strings.HasPrefix(l, "--- PASS: "):
		t.counts.Passed++
	case strings.HasPrefix(l, "--- FAIL: "):
		t.counts.Failed++
	case strings.HasPrefix(l, "--- SKIP: "):
		t.counts.Skipped++
	}
}

// pkgResult notes a package's result line: the tests seen since the last
// one belong to it.
func (t *textLog) pkgResult(pkg string, ok bool) {
	t.results = append(t.results, pkgLine{t.line, pkg, ok})
	if !t.record {
		return
	}
	for i := range t.pending {
		t.pending[i].Package = pkg
	}
	t.tests = append(t.tests, t.pending...)
	t.pending = t.pending[:0]
	result := "pass"
	if !ok {
		result = "fail"
	}
	t.packages = append(t.packages, report.PackageRun{Package: pkg, Result: result})
}

// pkgAfter returns the package of the first result line after line.
func (t *textLog) pkgAfter(line int) string {
	for _, r := range t.results {
		if r.line > line {
			return r.pkg
		}
	}
	return ""
}

// diagnoseText explains the dumps found in the text of an analysed input.
// Called at the end of the run with e.mu held.
func (e *engine) diagnoseText() {
	t := e.text
	if t == nil || t.line == 0 {
		return
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		e.addWarning(fmt.Sprintf("read back the log: %v", err))
		return
	}
	dumps, err := stackparse.Parse(t.f)
	if err != nil {
		e.addWarning(fmt.Sprintf("parse the log: %v", err))
	}
	for _, d := range dumps {
		if len(d.Goroutines) == 0 {
			continue
		}
		pkg := t.pkgAfter(d.StartLine)
		diag, ok := e.dumpHangs(d, pkg, t.runningAt(d.StartLine), d.Reason)
		if !ok {
			continue
		}
		var hangs []*Hang
		for _, h := range diag {
			if e.alreadyHung(h.Package, h.Test) {
				continue
			}
			h.Artifacts = map[string]string{"log": t.path, "dump_line": fmt.Sprint(d.StartLine)}
			h.ThresholdReason = "the test binary's own dump"
			e.tr.counts.Hung++
			if t.record && h.Test != "" {
				t.tests = append(t.tests, report.TestRun{Package: pkg, Test: h.Test, Result: "hung", ElapsedSeconds: h.StalledForSeconds})
				for i := range t.packages {
					if t.packages[i].Package == pkg {
						t.packages[i].Result = "hung"
					}
				}
			}
			e.hangs = append(e.hangs, h)
			hangs = append(hangs, h)
		}
		e.printHangsLocked(hangs)
	}
}

// offlineStalls reports, at the end of a saved stream, the tests that were
// still running when it ended and had been quiet past their threshold in
// the stream's own time: the run was cut (CI killed the job) while they
// hung. Called with e.mu held.
func (e *engine) offlineStalls() {
	if e.lastTime.IsZero() {
		return
	}
	for _, st := range e.tr.stalls(e.lastTime, e.thresholdDur) {
		tests := st.tests
		if len(tests) == 0 {
			h := &Hang{Package: st.pkg, Phase: PhaseTestMain, Capture: "none", Goroutines: []GoroutineGroup{},
				StalledForSeconds: round2(st.quiet.Seconds()), ThresholdSeconds: st.threshold.Seconds(), ThresholdReason: "--stall"}
			h.Summary = fmt.Sprintf("%s: the stream ends while the package had been quiet for %s with no test running (init, TestMain, or a child holding its output)", st.pkg, fmtSeconds(h.StalledForSeconds))
			e.tr.counts.Hung++
			e.hangs = append(e.hangs, h)
			continue
		}
		for _, t := range tests {
			th, why := e.threshold(st.pkg, t.name)
			q := e.lastTime.Sub(t.lastBeat)
			h := &Hang{Package: st.pkg, Test: t.name, Phase: PhaseTest, Capture: "none", Goroutines: []GoroutineGroup{},
				StalledForSeconds: round2(q.Seconds()), ThresholdSeconds: th.Seconds(), ThresholdReason: why}
			h.Summary = fmt.Sprintf("%s: the stream ends while the test had been running for %s and quiet for %s (no goroutine dump in the stream)",
				t.name, fmtSeconds(e.lastTime.Sub(t.started).Seconds()), fmtSeconds(q.Seconds()))
			t.flagged = true
			e.tr.counts.Hung++
			e.hangs = append(e.hangs, h)
		}
	}
	var cut []*Hang
	for _, h := range e.hangs {
		if h.Capture == "none" {
			cut = append(cut, h)
		}
	}
	e.printHangsLocked(cut)
}
