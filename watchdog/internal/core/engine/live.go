package engine

// Live hangs: a stalled process a live snapshot looked at keeps running until its
// tests make progress again (recovered) or stay quiet for --kill-after
// (killed).

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core/policy"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// liveHang is a hang whose binary still runs, waiting for --kill-after.
type liveHang struct {
	pkg     string
	pid     int
	tests   []string
	hangs   []*Hang
	dir     string // the capture's artifacts directory
	killing bool
}

// killAfter is the quiet time after which a stalled binary that the agent
// looked at is stopped: --kill-after, but never less than the threshold
// that found the stall.
func (e *engine) killAfter(hangs []*Hang) time.Duration {
	ths := make([]time.Duration, len(hangs))
	for i, h := range hangs {
		ths[i] = time.Duration(h.ThresholdSeconds * float64(time.Second))
	}
	return policy.KillAfter(e.opts.KillAfter, DefaultKillAfter, ths...)
}

// checkLive stops the binaries of live hangs whose tests made no progress
// for --kill-after, and forgets those whose tests moved again. Called on
// every tick with e.mu held.
func (e *engine) checkLive(now time.Time) {
	for pkg, l := range e.live {
		if l.killing {
			continue
		}
		tests := make([]string, len(l.hangs))
		for i, h := range l.hangs {
			tests[i] = h.Test
		}
		last, alive, done := e.tr.StillHung(pkg, tests)
		switch policy.Live(done, alive, now.Sub(last), e.killAfter(l.hangs)) {
		case policy.LiveForget:
			delete(e.live, pkg)
		case policy.LiveKill:
			l.killing = true
			e.tr.Capture(pkg)
			e.wg.Add(1)
			go e.killLive(l, now.Sub(last))
		}
	}
}

// killLive stops the process of a live hang through the adapter (Go: a
// last SIGQUIT dump, a grace period, then SIGKILL of its whole tree) and
// kills what it started.
func (e *engine) killLive(l *liveHang, quiet time.Duration) {
	defer e.wg.Done()
	fmt.Fprintf(e.stderr, "hangdog: KILL %s: no progress for %s (--kill-after %s); stopping its %s %d\n", l.pkg, fmtSeconds(quiet.Seconds()), e.killAfter(l.hangs), e.words.Process, l.pid)
	e.log.Info("kill-after", zap.String("package", l.pkg), zap.Int("pid", l.pid))
	children, _ := proc.Descendants(l.pid)
	path, captureErr := e.a.Stop(l.pkg, l.pid, l.dir)
	for _, c := range children {
		if proc.Alive(c.PID) {
			_ = proc.KillTree(c.PID)
		}
	}
	e.mu.Lock()
	for _, h := range l.hangs {
		h.Killed = true
		h.StalledForSeconds = round2(quiet.Seconds())
		if path != "" {
			h.Artifacts["final_dump"] = path
		}
		if captureErr != "" && h.CaptureError == "" {
			h.CaptureError = captureErr
		}
	}
	delete(e.live, l.pkg)
	e.releasePackage(l.pkg)
	e.lastKill = kill{unit: l.pkg, pid: l.pid, at: time.Now()}
	e.mu.Unlock()
	e.writeHangArtifacts(l.pkg, l.hangs)
}

// freedWindow is how soon after hangdog stopped a unit's process a stuck
// test of another unit that moves again counts as freed by that stop.
const freedWindow = 3 * time.Second

// kill is the last stop of a live hang's process.
type kill struct {
	unit string
	pid  int
	at   time.Time
}

// recover notes that a test reported as stuck made progress after all.
// Called from Event with e.mu held, before the event is observed.
func (e *engine) recoverTest(pkg, test string, now time.Time) {
	l := e.live[pkg]
	if l == nil || l.killing {
		return
	}
	for _, h := range l.hangs {
		if h.Test != test {
			continue
		}
		if k := e.lastKill; k.unit != "" && k.unit != pkg && now.Sub(k.at) < freedWindow && h.FreedBy == "" {
			// Freed by that stop: it waited for what the stopped process
			// held. It stays a hang (its result is not counted), and its
			// process is not stopped.
			h.FreedBy = k.unit
			h.Summary += fmt.Sprintf("; it moved again %s after hangdog stopped %s (%s %d, --kill-after), which held what it waited for",
				fmtSeconds(now.Sub(k.at).Seconds()), k.unit, e.words.Process, k.pid)
			delete(e.live, pkg)
			e.releasePackage(pkg)
			fmt.Fprintf(e.stderr, "hangdog: FREED %s %s: it moved again when hangdog stopped %s; still reported as hung\n", pkg, test, k.unit)
			continue
		}
		if e.tr.Recover(pkg, test) {
			h.Recovered = true
			e.book.toSlow(h)
			fmt.Fprintf(e.stderr, "hangdog: RECOVERED %s %s: it made progress again after it was reported stuck\n", pkg, test)
		}
	}
}
