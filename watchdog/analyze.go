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
	"time"

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
	results  []pkgLine
	cur      []byte // the current line, up to a bound
	dumps    int    // goroutine dumps found in the text
	runLines int    // "=== RUN" lines
	// The lines' timestamp prefixes: the first and last read, how many.
	// dated is false for a time of day without a date ("[10:04:05]").
	firstStamp, lastStamp time.Time
	stamps                int
	dated                 bool
	err                   error
	counts                Counts
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
	leaks      leakLog // the LEAK lines of hangdog's own summary (leaks.go)
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
	l := strings.TrimRight(string(t.cur), "\r\n")
	var stamp time.Time
	if m := ciPrefix.FindString(l); m != "" {
		stamp = t.stamp(strings.TrimSpace(m))
		l = l[len(m):]
	}
	// Other decorations of a log's lines (journald, line numbers, a
	// timestamp cut short): stripped as the dump parser strips them.
	if n := stackparse.LinePrefixLen([]byte(l)); n > 0 {
		l = l[n:]
	}
	t.cur = t.cur[:0]
	switch {
	case strings.HasPrefix(l, "FAIL\t"):
		t.pkgResult(l, false, stamp)
	case strings.HasPrefix(l, "ok  \t"):
		t.pkgResult(l, true, stamp)
	}
	t.runs.line(t.line, l)
	if mayStartDump(l) {
		t.unfinished = append(t.unfinished, unfinishedAt{t.line, t.runs.leaves()})
	}
	l = strings.TrimLeft(l, " ")
	t.leaks.line(l)
	if m := resultLine.FindStringSubmatch(l); m != nil && t.record {
		secs, _ := strconv.ParseFloat(m[3], 64)
		r := report.TestRun{Test: m[2], Result: strings.ToLower(m[1]), ElapsedSeconds: secs}
		if !stamp.IsZero() {
			r.Start = stamp.Add(-time.Duration(secs * float64(time.Second)))
		}
		t.pending = append(t.pending, r)
	}
	if strings.HasPrefix(l, "=== RUN ") {
		t.runLines++
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

// stampLayouts are the timestamp prefixes ciPrefix matches, dated first.
var stampLayouts = []struct {
	layout string
	dated  bool
}{
	{"2006-01-02T15:04:05.999999999Z", true}, {"2006-01-02T15:04:05.999999999", true},
	{"2006-01-02 15:04:05.999999999Z", true}, {"2006-01-02 15:04:05.999999999", true},
	{"[15:04:05.999999999]", false},
}

// stamp reads a line's timestamp prefix and notes it; the zero time when
// it is not one.
func (t *textLog) stamp(s string) time.Time {
	for _, l := range stampLayouts {
		ts, err := time.Parse(l.layout, s)
		if err != nil {
			continue
		}
		if !l.dated && t.stamps > 0 && ts.Before(t.lastStamp) {
			ts = ts.Add(24 * time.Hour * time.Duration(1+int(t.lastStamp.Sub(ts)/(24*time.Hour)))) // past midnight
		}
		if t.stamps == 0 {
			t.firstStamp, t.dated = ts, l.dated
		}
		if ts.After(t.lastStamp) || t.stamps == 0 {
			t.lastStamp = ts
		}
		t.stamps++
		return ts
	}
	return time.Time{}
}

// pkgResult notes a package's result line ("ok  \tpkg\t0.12s", "FAIL\tpkg
// 0.1s"), read at stamp (zero when the log has no times): the tests seen
// since the last one belong to it.
func (t *textLog) pkgResult(line string, ok bool, stamp time.Time) {
	f := strings.SplitN(line, "\t", 4)
	pkg := f[1]
	t.results = append(t.results, pkgLine{t.line, pkg, ok})
	if !t.record {
		return
	}
	p := report.PackageRun{Package: pkg, Result: "pass"}
	if !ok {
		p.Result = "fail"
	}
	if len(f) > 2 {
		if w := strings.Fields(f[2]); len(w) > 0 {
			if d, err := time.ParseDuration(w[0]); err == nil {
				p.ElapsedSeconds = d.Seconds()
			}
		}
	}
	if !stamp.IsZero() {
		p.End = stamp
		p.Start = stamp.Add(-time.Duration(p.ElapsedSeconds * float64(time.Second)))
	}
	for i := range t.pending {
		t.pending[i].Package = pkg
		if s := t.pending[i].Start; !s.IsZero() && s.Before(p.Start) {
			p.Start = s
		}
	}
	t.tests = append(t.tests, t.pending...)
	t.pending = t.pending[:0]
	t.packages = append(t.packages, p)
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
		t.dumps++
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
			e.tr.Counts.Hung++
			if t.record && h.Test != "" {
				t.tests = append(t.tests, report.TestRun{Package: pkg, Test: h.Test, Result: "hung", ElapsedSeconds: h.StalledForSeconds})
				for i := range t.packages {
					if t.packages[i].Package == pkg {
						t.packages[i].Result = "hung"
					}
				}
			}
			e.addHang(h)
			hangs = append(hangs, h)
		}
		e.printHangsLocked(hangs)
	}
}

// inputTimes sets the report's start and duration for an analysed input:
// those of the run in it, from its events' own times or its lines'
// timestamps, never the analysis's; none when it has no times. Called at
// the end with e.mu held.
func (e *engine) inputTimes(rep *Report) {
	rep.AnalyzedAt = e.start
	t := e.text
	switch {
	case !e.cfg.Offline:
		rep.Times = report.TimesClock // a live stream: the clock is its time
	case !e.firstTime.IsZero():
		rep.Times = report.TimesEvents
		rep.Started, rep.DurationSeconds = e.firstTime, e.lastTime.Sub(e.firstTime).Seconds()
	case t != nil && t.stamps > 0:
		rep.Times = report.TimesLog
		rep.Started, rep.DurationSeconds = time.Time{}, t.lastStamp.Sub(t.firstStamp).Seconds()
		if t.dated {
			rep.Started = t.firstStamp
		}
	default:
		rep.Times = report.TimesNone
		rep.Started, rep.DurationSeconds = time.Time{}, 0
	}
}

// EmptyInputError says an analysed input held nothing hangdog reads: no
// test2json event, no go test result line, no goroutine dump.
type EmptyInputError struct {
	Lines int // lines of other text
}

func (e *EmptyInputError) Error() string {
	found := "empty"
	if e.Lines > 0 {
		found = fmt.Sprintf("%d lines of other text", e.Lines)
	}
	return fmt.Sprintf("no test events, test results or goroutine dump found (%s)", found)
}

// emptyInput reports whether the analysed input held nothing to read.
// Called at the end with e.mu held.
func (e *engine) emptyInput() *EmptyInputError {
	t := e.text
	if t == nil || len(e.tr.Order) > 0 || len(t.results) > 0 || t.counts != (Counts{}) || t.dumps > 0 || t.runLines > 0 || len(e.hangs) > 0 {
		return nil
	}
	return &EmptyInputError{Lines: t.line}
}

// offlineStalls reports, at the end of a saved stream, the tests that were
// still running when it ended and had been quiet past their threshold in
// the stream's own time: the run was cut (CI killed the job) while they
// hung. Called with e.mu held.
func (e *engine) offlineStalls() {
	if e.lastTime.IsZero() {
		return
	}
	for _, st := range e.tr.Stalls(e.lastTime, e.thresholdDur) {
		tests := st.Tests
		if len(tests) == 0 {
			h := &Hang{Package: st.Unit, Phase: PhaseTestMain, Capture: "none", Goroutines: []GoroutineGroup{},
				StalledForSeconds: round2(st.Quiet.Seconds()), ThresholdSeconds: st.Threshold.Seconds(), ThresholdReason: "--stall"}
			h.Summary = fmt.Sprintf("%s: the stream ends while the package had been quiet for %s with no test running (init, TestMain, or a child holding its output)", st.Unit, fmtSeconds(h.StalledForSeconds))
			e.tr.Counts.Hung++
			e.addHang(h)
			continue
		}
		for _, t := range tests {
			th, why := e.threshold(st.Unit, t.Name)
			q := e.lastTime.Sub(t.LastBeat())
			h := &Hang{Package: st.Unit, Test: t.Name, Phase: PhaseTest, Capture: "none", Goroutines: []GoroutineGroup{},
				StalledForSeconds: round2(q.Seconds()), ThresholdSeconds: th.Seconds(), ThresholdReason: why}
			h.Summary = fmt.Sprintf("%s: the stream ends while the test had been running for %s and quiet for %s (no goroutine dump in the stream)",
				t.Name, fmtSeconds(e.lastTime.Sub(t.Started).Seconds()), fmtSeconds(q.Seconds()))
			e.tr.Flag(st.Unit, t.Name)
			e.tr.Counts.Hung++
			e.addHang(h)
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
