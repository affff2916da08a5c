package gotest

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
	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/report"
)

// This file is the adapter's side of `hangdog analyze`: reading a saved
// go test -json stream or a plain log instead of running go test.

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

// TextLog keeps the non-JSON text of an analysed input (a plain go test
// log, a CI log) in a private file, and notes the package result lines in
// it, so that dumps in it can be diagnosed at the end.
type TextLog struct {
	f       *os.File
	path    string
	line    int
	partial bool
	// results are the "FAIL\tpkg" and "ok  \tpkg" lines, by line number.
	results   []pkgLine
	cur       []byte // the current line, up to a bound
	dumpCount int    // goroutine dumps found in the text
	runLines  int    // "=== RUN" lines
	// The lines' timestamp prefixes: the first and last read, how many.
	// dated is false for a time of day without a date ("[10:04:05]").
	firstStamp, lastStamp time.Time
	stamps                int
	dated                 bool
	err                   error
	counts                track.Counts
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

func (t *TextLog) write(chunk []byte, end bool) {
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
func (t *TextLog) stamp(s string) time.Time {
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
func (t *TextLog) pkgResult(line string, ok bool, stamp time.Time) {
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
func (t *TextLog) pkgAfter(line int) string {
	for _, r := range t.results {
		if r.line > line {
			return r.pkg
		}
	}
	return ""
}

// NewTextLog returns the log of an analysed input's text, kept in f (a
// private file at path); record keeps TestRun and PackageRun records of
// its result lines.
func NewTextLog(f *os.File, record bool) *TextLog {
	return &TextLog{f: f, path: f.Name(), record: record}
}

// End diagnoses the dumps found in the text of an analysed input and
// returns what the text held. Called once, at the end of the stream.
func (t *TextLog) End(a *Adapter) (core.LogResult, error) {
	r := core.LogResult{Path: t.path}
	var err error
	if t.line > 0 {
		r.Dumps, err = t.dumps(a)
	}
	r.Lines, r.Results, r.DumpCount, r.RunLines = t.line, len(t.results), t.dumpCount, t.runLines
	r.Passed, r.Failed, r.Skipped = t.counts.Passed, t.counts.Failed, t.counts.Skipped
	for _, p := range t.results {
		if !p.ok {
			r.FailedUnits = append(r.FailedUnits, p.pkg)
		}
	}
	r.Tests, r.Units = t.tests, t.packages
	r.Stamps, r.FirstStamp, r.LastStamp, r.Dated = t.stamps, t.firstStamp, t.lastStamp, t.dated
	r.Leaks = t.leaks.Leaks()
	return r, err
}

// dumps reads back the log's text and diagnoses the dumps in it.
func (t *TextLog) dumps(a *Adapter) ([]core.LogDump, error) {
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read back the log: %v", err)
	}
	dumps, err := stackparse.Parse(t.f)
	if err != nil {
		err = fmt.Errorf("parse the log: %v", err)
	}
	var out []core.LogDump
	for _, d := range dumps {
		if len(d.Goroutines) == 0 {
			continue
		}
		t.dumpCount++
		pkg := t.pkgAfter(d.StartLine)
		hangs, ok := a.DumpHangs(d, pkg, t.runningAt(d.StartLine), d.Reason)
		if !ok {
			continue
		}
		for _, h := range hangs {
			h.Artifacts = map[string]string{"log": t.path, "dump_line": fmt.Sprint(d.StartLine)}
			h.ThresholdReason = "the test binary's own dump"
		}
		out = append(out, core.LogDump{Unit: pkg, Line: d.StartLine, Hangs: hangs})
	}
	return out, err
}
