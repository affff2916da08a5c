package engine

// This file is the engine's side of `hangdog analyze`: what a saved
// stream or log says once it has been read to its end.

import (
	"fmt"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/report"
)

// logHangs reports the hangs of the dumps found in an analysed log's
// text. Called at the end of the run with e.mu held.
func (e *engine) logHangs(r *core.LogResult) {
	for _, d := range r.Dumps {
		var hangs []*report.Hang
		for _, h := range d.Hangs {
			if e.book.has(d.Unit, h.Test) {
				continue
			}
			if e.tr.Record && h.Test != "" {
				r.Tests = append(r.Tests, report.TestRun{Package: d.Unit, Test: h.Test, Result: "hung", ElapsedSeconds: h.StalledForSeconds})
				for i := range r.Units {
					if r.Units[i].Package == d.Unit {
						r.Units[i].Result = "hung"
					}
				}
			}
			e.addHang(d.Unit, h)
			hangs = append(hangs, h)
		}
		e.printHangsLocked(hangs)
	}
}

// inputTimes sets the report's start and duration for an analysed input:
// those of the run in it, from its events' own times or its lines'
// timestamps, never the analysis's; none when it has no times. Called at
// the end with e.mu held.
func (e *engine) inputTimes(rep *report.Report, t *core.LogResult) {
	rep.AnalyzedAt = e.start
	switch {
	case !e.opts.Offline:
		rep.Times = report.TimesClock // a live stream: the clock is its time
	case !e.firstTime.IsZero():
		rep.Times = report.TimesEvents
		rep.Started, rep.DurationSeconds = e.firstTime, e.lastTime.Sub(e.firstTime).Seconds()
	case t != nil && t.Stamps > 0:
		rep.Times = report.TimesLog
		rep.Started, rep.DurationSeconds = time.Time{}, t.LastStamp.Sub(t.FirstStamp).Seconds()
		if t.Dated {
			rep.Started = t.FirstStamp
		}
	default:
		rep.Times = report.TimesNone
		rep.Started, rep.DurationSeconds = time.Time{}, 0
	}
}

// EmptyInputError says an analysed input held nothing hangdog reads: no
// test event, no test result line, no stack dump.
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
func (e *engine) emptyInput(t *core.LogResult) *EmptyInputError {
	if t == nil || len(e.tr.Order) > 0 || t.Results > 0 || t.Passed+t.Failed+t.Skipped > 0 || t.DumpCount > 0 || t.RunLines > 0 || len(e.book.hangs) > 0 {
		return nil
	}
	return &EmptyInputError{Lines: t.Lines}
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
			h := &report.Hang{Package: st.Unit, Phase: report.PhaseTestMain, Capture: "none", Goroutines: []report.GoroutineGroup{},
				StalledForSeconds: round2(st.Quiet.Seconds()), ThresholdSeconds: st.Threshold.Seconds(), ThresholdReason: "--stall"}
			h.Summary = fmt.Sprintf("%s: the stream ends while the package had been quiet for %s with no test running (init, TestMain, or a child holding its output)", st.Unit, fmtSeconds(h.StalledForSeconds))
			e.addHang(st.Unit, h)
			continue
		}
		for _, t := range tests {
			th, why := e.threshold(st.Unit, t.Name)
			q := e.lastTime.Sub(t.LastBeat())
			h := &report.Hang{Package: st.Unit, Test: t.Name, Phase: report.PhaseTest, Capture: "none", Goroutines: []report.GoroutineGroup{},
				StalledForSeconds: round2(q.Seconds()), ThresholdSeconds: th.Seconds(), ThresholdReason: why}
			h.Summary = fmt.Sprintf("%s: the stream ends while the test had been running for %s and quiet for %s (no goroutine dump in the stream)",
				t.Name, fmtSeconds(e.lastTime.Sub(t.Started).Seconds()), fmtSeconds(q.Seconds()))
			e.tr.Flag(st.Unit, t.Name)
			e.addHang(st.Unit, h)
		}
	}
	var cut []*report.Hang
	for _, h := range e.book.hangs {
		if h.Capture == "none" {
			cut = append(cut, h)
		}
	}
	e.printHangsLocked(cut)
}
