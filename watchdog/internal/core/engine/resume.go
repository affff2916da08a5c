package engine

// The resume: when stopping a hung test ended the whole run (a runner
// with one process, pytest without xdist), the tests it had not run yet
// run in a second run, and its results join the first's, so that the
// report describes every test.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/report"
)

// resume runs what the run left unrun, when the adapter says so; nil when
// there is nothing to resume.
func (e *engine) resume(ctx context.Context) *resumed {
	r, ok := e.a.(core.Resumer)
	if !ok || ctx.Err() != nil || e.opts.NewAdapter == nil || e.opts.Input != nil {
		return nil
	}
	e.mu.Lock()
	hangs := append([]*report.Hang(nil), e.book.hangs...)
	e.mu.Unlock()
	dir := filepath.Join(e.artifacts, "resume")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.warnOnce("resume", fmt.Sprintf("hangdog: resume: %v", err))
		return nil
	}
	args, why, ok := r.ResumeArgs(e.opts.Args, hangs, dir)
	if !ok {
		os.Remove(dir)
		return nil
	}
	sub := e.opts
	sub.Args, sub.RawCommand, sub.Dir = args, nil, e.base
	sub.JSONFile, sub.ReportJSON, sub.JUnitFile, sub.HTMLFile = "", "", "", ""
	sub.GitHubActions, sub.GitHubStepSummary, sub.HistoryFile = false, "", ""
	sub.ArtifactsDir, sub.RerunHung, sub.Status, sub.nested = dir, false, false, true
	sub.Stdout, sub.Stderr = e.opts.Stdout, e.stderr
	fmt.Fprintf(e.stderr, "hangdog: RESUME: %s; the tests not run yet run in a second %s\n", why, e.words.Runner)
	e.log.Info("resume")
	run, err := Run(ctx, sub, sub.NewAdapter())
	if err != nil {
		e.warnOnce("resume", fmt.Sprintf("hangdog: resume: %v", err))
	}
	if run == nil || run.Report == nil {
		return nil
	}
	return &resumed{run, why, args}
}

// resumed is a second run and why it ran.
type resumed struct {
	*report.Run
	why  string
	args []string // the user's arguments of the second run
}

// mergeResumed adds the second run's results to the report of the first.
// Called with e.mu held, after the first's exit code is known.
func (e *engine) mergeResumed(rep *report.Report, r *resumed) {
	sr := r.Report
	rep.Resumed = &report.Resume{Why: r.why, Args: r.args, ExitCode: sr.ExitCode, Reason: sr.Reason, ArtifactsDir: sr.ArtifactsDir}
	rep.Hangs = append(rep.Hangs, sr.Hangs...)
	rep.Slow = append(rep.Slow, sr.Slow...)
	t, st := &rep.Totals, sr.Totals
	t.Passed += st.Passed
	t.Failed += st.Failed
	t.Skipped += st.Skipped
	t.Hung += st.Hung
	t.Errors += st.Errors
	t.XFailed += st.XFailed
	t.XPassed += st.XPassed
	rep.FailedPackages = append(rep.FailedPackages, sr.FailedPackages...)
	rep.Warnings = append(rep.Warnings, sr.Warnings...)
	e.tr.Tests = append(e.tr.Tests, r.Tests...)
	e.tr.Packages = append(e.tr.Packages, r.Packages...)
	switch {
	case rep.ExitCode == ExitHung || sr.ExitCode == ExitHung:
		rep.ExitCode, rep.Reason = ExitHung, "hung"
	case rep.ExitCode == ExitOK:
		rep.ExitCode, rep.Reason = sr.ExitCode, sr.Reason
	}
}
