package pytest

// This file is how a pytest run ends: its totals and exit status
// (core.Finisher) and the second run of what a stopped run without xdist
// left unrun (core.Resumer).

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hangdog/hangdog/watchdog/report"
)

// Finish implements core.Finisher: totals in pytest's categories (a test
// hangdog reported as hung counts as hung only, whatever pytest reported
// of it afterwards: xdist's crash report, a replacement's skip, a pass
// once a stop freed it), and pytest's exit status mapped onto hangdog's.
func (a *Adapter) Finish(rep *report.Report, waitErr error) (int, string, bool) {
	a.mu.Lock()
	t := a.results.Totals()
	exit := a.exit
	h := a.hungResults.Totals()
	t.Passed, t.Failed, t.Error = max(t.Passed-h.Passed, 0), max(t.Failed-h.Failed, 0), max(t.Error-h.Error, 0)
	t.Skipped, t.XFailed, t.XPassed = max(t.Skipped-h.Skipped, 0), max(t.XFailed-h.XFailed, 0), max(t.XPassed-h.XPassed, 0)
	ctl := a.controller != 0
	a.mu.Unlock()
	rep.Totals.Passed, rep.Totals.Failed, rep.Totals.Skipped = t.Passed, t.Failed, t.Skipped
	if ctl && rep.Totals.Packages > 0 {
		rep.Totals.Packages-- // the controller's unit runs no test: not a worker
	}
	rep.Totals.Errors, rep.Totals.XFailed, rep.Totals.XPassed = t.Error, t.XFailed, t.XPassed
	status := 0
	switch {
	case exit != nil:
		status = *exit
	case waitErr != nil:
		status = -1
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) && ee.ExitCode() >= 0 {
			status = ee.ExitCode()
		}
	}
	hung := len(rep.Hangs) > 0
	code := ExitCode(status, hung)
	reason := map[int]string{0: "passed", 1: "failed", 3: "hung", ExitPytestInterrupted: "pytest-interrupted",
		ExitPytestInternal: "pytest-internal-error", ExitPytestUsage: "pytest-usage", ExitPytestNoTests: "no-tests"}[code]
	if reason == "" {
		reason = "failed"
	}
	return code, reason, true
}

// ResumeArgs implements core.Resumer: a run without xdist whose one
// process hangdog stopped at a hang leaves the tests after the hung one
// unrun; they run in a second pytest that deselects every test that
// finished and every hung one (the plugin's --hangdog-deselect-from).
func (a *Adapter) ResumeArgs(user []string, hangs []*report.Hang, dir string) ([]string, string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var killed []string
	for _, h := range hangs {
		if h.Unit == MainUnit && h.Killed {
			killed = append(killed, h.Test)
		}
	}
	if len(killed) == 0 || a.exit != nil {
		return nil, "", false // no stop by hangdog, or the session ended by itself
	}
	skip := make(map[string]bool, len(a.mainFinished)+len(killed))
	for id := range a.mainFinished {
		skip[id] = true
	}
	for _, id := range killed {
		if id != "" {
			skip[id] = true
		}
	}
	if a.mainCollected > 0 && len(skip) >= a.mainCollected {
		return nil, "", false // nothing left
	}
	ids := make([]string, 0, len(skip))
	for id := range skip {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	path := filepath.Join(dir, "deselect.txt")
	if err := os.WriteFile(path, []byte(strings.Join(ids, "\n")+"\n"), 0o600); err != nil {
		a.host.Warn(fmt.Sprintf("pytest: resume: %v", err))
		return nil, "", false
	}
	left := a.mainCollected - len(skip)
	why := fmt.Sprintf("stopping %s ended the session with %d of %d tests not run", strings.Join(nonEmpty(killed), ", "), left, a.mainCollected)
	return ResumeArgs(user, path), why, true
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s == "" {
			s = "the session"
		}
		out = append(out, s)
	}
	return out
}
