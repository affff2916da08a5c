package engine

// This file writes what describes a run once it ends (reports, JUnit,
// HTML, GitHub outputs, history) and keeps the live status line.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/ghactions"
	"github.com/hangdog/hangdog/watchdog/internal/htmlreport"
	"github.com/hangdog/hangdog/watchdog/internal/junit"
	"github.com/hangdog/hangdog/watchdog/internal/status"
	"github.com/hangdog/hangdog/watchdog/report"
)

// finish writes everything that describes a finished run: the closing
// summary, the JUnit, HTML and GitHub outputs, the history, and last the
// JSON reports (so that they hold the warnings of the others).
func (e *engine) finish(run *report.Run) error {
	rep := run.Report
	if e.status != nil {
		if err := e.status.Close(); err != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("status line: %v", err))
		}
	}
	if rep.ExitCode != ExitUsage && !e.empty && !e.opts.nested { // an empty input is one line, said by the caller
		e.printSummary(rep)
	}
	warn := func(what string, err error) {
		if err != nil {
			msg := fmt.Sprintf("%s: %v", what, err)
			rep.Warnings = append(rep.Warnings, msg)
			fmt.Fprintf(e.stderr, "hangdog: %s\n", msg)
		}
	}
	if e.opts.JUnitFile != "" {
		warn("write --junitfile", writeFileWith(e.opts.JUnitFile, func(w io.Writer) error { return junit.Write(w, run) }))
	}
	if e.opts.HTMLFile != "" {
		warn("write --html", writeFileWith(e.opts.HTMLFile, func(w io.Writer) error { return htmlreport.Write(w, run) }))
	}
	if e.opts.GitHubActions {
		warn("GitHub annotations", ghactions.Annotations(e.opts.Stdout, run, ""))
	}
	if e.opts.GitHubStepSummary != "" {
		warn("GitHub step summary", appendFileWith(e.opts.GitHubStepSummary, func(w io.Writer) error { return ghactions.StepSummary(w, run) }))
	}
	if e.hist != nil && rep.Reason != "error" {
		e.hist.Record(run)
		warn("save history", e.hist.Save())
	}
	if len(rep.Hangs) == 0 && e.logPath != "" {
		os.Remove(e.logPath) // nothing refers to the analysed log
	}
	if len(rep.Hangs) == 0 && e.madeDir {
		// Nothing was captured: leave no empty directory behind.
		if os.Remove(e.artifacts) == nil {
			rep.ArtifactsDir = ""
		}
	} else if len(rep.Hangs) > 0 {
		warn("write report", writeJSONFile(filepath.Join(e.artifacts, "report.json"), rep))
	}
	if e.opts.ReportJSON != "" {
		if err := writeJSONFile(e.opts.ReportJSON, rep); err != nil {
			rep.ExitCode, rep.Reason = ExitInternal, "error"
			return err
		}
	}
	return nil
}

// writeFileWith writes a file private to the user through write.
func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// appendFileWith appends to a file (created private to the user).
func appendFileWith(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// updateStatus redraws the status line: counts, running tests, the
// longest-running ones with their quiet time, and an ETA when the history
// knows how many tests a run has.
func (e *engine) updateStatus(now time.Time) {
	e.mu.Lock()
	snap := status.Snapshot{
		Passed: e.tr.Counts.Passed, Failed: e.tr.Counts.Failed,
		Skipped: e.tr.Counts.Skipped, Hung: e.book.hung(),
	}
	for _, p := range e.tr.Pending() {
		for _, t := range p.RunningLeaves() {
			snap.Running++
			snap.Longest = append(snap.Longest, status.RunningTest{
				Package: p.Name, Test: t.Name,
				Running: now.Sub(t.Started), Quiet: now.Sub(t.LastBeat()),
			})
		}
	}
	e.mu.Unlock()
	sort.Slice(snap.Longest, func(i, j int) bool { return snap.Longest[i].Running > snap.Longest[j].Running })
	if len(snap.Longest) > status.MaxLongest {
		snap.Longest = snap.Longest[:status.MaxLongest]
	}
	if c, ok := e.a.(core.Collector); ok {
		snap.Total = c.Collected()
	}
	if e.hist != nil && snap.Total == 0 {
		snap.Total = e.hist.Len()
		done := snap.Passed + snap.Failed + snap.Skipped + snap.Hung
		if snap.Total > 0 && done > 0 && done < snap.Total {
			elapsed := now.Sub(e.start)
			snap.ETA = time.Duration(float64(elapsed) * float64(snap.Total-done) / float64(done))
		}
	}
	if err := e.status.Update(snap); err != nil {
		e.log.Info("status line", zap.Error(err))
	}
}
