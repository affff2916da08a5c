package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/policy"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// checkStalls looks for tests and packages quiet past their threshold and
// starts a capture for each. It runs on every tick.
func (e *engine) checkStalls(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		return
	}
	e.checkLive(now)
	b := new(barrier)
	for _, st := range e.tr.Stalls(now, e.thresholdDur) {
		p := e.tr.Units[st.Unit]
		e.tr.Capture(st.Unit)
		if len(st.Tests) == 0 {
			e.wg.Add(1)
			go e.capturePackage(st, b.join())
			continue
		}
		var names []string
		var hangs []*Hang
		stalled := make(map[string]bool)
		for _, t := range st.Tests {
			e.tr.Flag(st.Unit, t.Name)
			names = append(names, t.Name)
			stalled[t.Name] = true
			th, why := e.threshold(st.Unit, t.Name)
			h := &Hang{
				Package: st.Unit, Test: t.Name, Phase: PhaseTest,
				StalledForSeconds: round2(now.Sub(t.LastBeat()).Seconds()),
				ThresholdSeconds:  th.Seconds(),
				ThresholdReason:   why,
				Capture:           "none",
				Goroutines:        []GoroutineGroup{},
			}
			hangs = append(hangs, h)
			e.addHang(st.Unit, h)
			fmt.Fprintf(e.stderr, "hangdog: STALL %s %s: no progress for %s (threshold %s); %s\n",
				st.Unit, t.Name, fmtSeconds(h.StalledForSeconds), th, e.words.Capture)
			e.log.Info("stall", zap.String("package", st.Unit), zap.String("test", t.Name), zap.Duration("quiet", now.Sub(t.LastBeat())))
		}
		var others []string
		for _, t := range p.Running() {
			if !stalled[t.Name] {
				others = append(others, t.Name)
			}
		}
		for _, h := range hangs {
			h.AlsoStopped = policy.WithoutAncestors(e.a, others, names)
		}
		e.wg.Add(1)
		go e.captureTests(st.Unit, names, hangs, b.join())
	}
}

// captureTests captures the binary of pkg where tests have stalled.
func (e *engine) captureTests(pkg string, tests []string, hangs []*Hang, at *arrival) {
	started := time.Now()
	defer e.wg.Done()
	defer at.arrive()
	if e.opts.Input != nil {
		e.failCapture(pkg, hangs, "hangdog analyze reads a stream: no test binary can be captured from it (run the suite under hangdog for a diagnosis)")
		return
	}
	bin, err := e.a.FindProcess(e.rootPID, pkg)
	if bin == nil {
		msg := "the test binary was not found in the process tree"
		if err != nil {
			msg += ": " + err.Error()
		}
		e.mu.Lock()
		for _, h := range hangs {
			h.CaptureError = msg
			h.Summary = fmt.Sprintf("%s: no progress for %s; %s", h.Test, fmtSeconds(h.StalledForSeconds), msg)
		}
		e.releasePackage(pkg)
		e.mu.Unlock()
		e.printHangs(hangs)
		return
	}
	e.captureBinary(pkg, *bin, tests, PhaseTest, hangs, at, started)
}

// capturePackage handles a package quiet past its threshold with no test
// running: the binary is in init or TestMain (testmain), or it has exited
// and something holds its output pipe (exit), or it has not started yet.
func (e *engine) capturePackage(st track.Stall, at *arrival) {
	started := time.Now()
	defer e.wg.Done()
	defer at.arrive()
	if e.opts.Input != nil {
		e.mu.Lock()
		e.releasePackage(st.Unit)
		e.mu.Unlock()
		return
	}
	bin, _ := e.a.FindProcess(e.rootPID, st.Unit)
	e.mu.Lock()
	p := e.tr.Units[st.Unit]
	now := time.Now()
	phase, stall := policy.UnitStall(bin != nil, p.HasRun())
	if !stall {
		// Built but not running yet (waiting for a slot), or between
		// the build and the binary: not a stall.
		e.tr.Release(st.Unit, now)
		e.mu.Unlock()
		return
	}
	if bin != nil {
		e.tr.SawBinary(st.Unit)
	}
	e.tr.Flag(st.Unit, "")
	h := &Hang{
		Package: st.Unit, Phase: phase,
		StalledForSeconds: round2(st.Quiet.Seconds()),
		ThresholdSeconds:  st.Threshold.Seconds(),
		ThresholdReason:   "--stall",
		Capture:           "none",
		Goroutines:        []GoroutineGroup{},
	}
	e.addHang(st.Unit, h)
	what := e.words.NoTest
	if phase == PhaseExit {
		what = e.words.Exited
	}
	fmt.Fprintf(e.stderr, "hangdog: STALL %s: no progress for %s (threshold %s); %s\n",
		st.Unit, fmtSeconds(h.StalledForSeconds), st.Threshold, what)
	e.log.Info("package stall", zap.String("package", st.Unit), zap.String("phase", string(phase)))
	e.mu.Unlock()

	if bin != nil {
		e.captureBinary(st.Unit, *bin, nil, PhaseTestMain, []*Hang{h}, at, started)
		return
	}
	e.captureExit(st.Unit, h)
}

// releasePackage ends a capture: the tests that were running in the
// stopped binary will get no event, and the package's quiet time starts
// anew (a package that still does not finish is then an exit stall).
// Called with e.mu held.
func (e *engine) releasePackage(pkg string) {
	e.tr.Release(pkg, time.Now())
}

// captureBinary snapshots a stalled unit's process through the adapter
// (which looks without stopping it where it can), takes its forensics
// first, diagnoses the snapshot and reports the hangs: live ones wait for
// --kill-after, stopped ones are over.
func (e *engine) captureBinary(pkg string, bin proc.Process, tests []string, phase Phase, hangs []*Hang, at *arrival, started time.Time) {
	procs := []ProcessInfo{processInfo(bin, "test-binary")}
	children, _ := proc.Descendants(bin.PID)
	for _, c := range children {
		procs = append(procs, processInfo(c, "child"))
	}
	findings, procsPath := e.forensics(pkg, bin)
	req := core.SnapRequest{Unit: pkg, Process: bin, Tests: tests, Phase: phase, Started: started, BeforeStop: at.wait, Ready: at.arrive}
	snap := e.a.Snapshot(req)
	if snap.Kind == "" {
		e.failCapture(pkg, hangs, snap.Err)
		return
	}
	arts := snap.Artifacts
	if procsPath != "" {
		if snap.Dir == "" {
			arts["processes"] = procsPath
		} else if dst := filepath.Join(snap.Dir, "processes.json"); os.Rename(procsPath, dst) == nil {
			arts["processes"] = dst
		}
	}
	if snap.Stopped {
		// The process is gone: its children serve nobody now and may
		// hold the unit's output pipe.
		for i := 1; i < len(procs); i++ {
			if proc.Alive(procs[i].PID) && proc.KillTree(procs[i].PID) == nil {
				procs[i].Killed = true
			}
		}
		e.mu.Lock()
		e.releasePackage(pkg)
		e.mu.Unlock()
	}
	diag := e.a.Diagnose(snap, req)

	e.mu.Lock()
	var moving []*Hang
	for i, h := range hangs {
		h.Capture = snap.Kind
		h.CaptureSeconds = round3(snap.Seconds)
		h.Killed = snap.Stopped
		h.PID = bin.PID
		h.CaptureError = strings.Join(snap.Errors, "; ")
		h.CaptureNotes = snap.Notes
		h.Artifacts = arts
		h.Processes = procs
		h.Findings = findings
		if diag == nil {
			h.Summary = fmt.Sprintf("%s: no progress for %s; %s", hangName(h), fmtSeconds(h.StalledForSeconds), snap.Err)
			continue
		}
		if i < len(diag) {
			mergeDiagnosis(h, diag[i])
		}
		if h.Verdict == "moving" {
			moving = append(moving, h)
		}
		if len(findings) > 0 && !(i < len(diag) && diag[i].Explained) {
			h.Summary += "; " + findings[0].Text
		} else if snap.Stopped && len(children) > 0 {
			h.Summary += fmt.Sprintf("; child process %d (%s) was still running", children[0].PID, cmdString(children[0].Cmdline))
		}
	}
	if !snap.Stopped && len(moving) == len(hangs) {
		// Slow, not stuck: the goroutines moved between the dumps.
		e.unflag(pkg, hangs)
		e.releasePackage(pkg)
		e.mu.Unlock()
		for _, h := range hangs {
			fmt.Fprintf(e.stderr, "hangdog: SLOW %s %s: quiet for %s, but its %ss moved between two dumps %s apart: not stuck (dumps in %s)\n",
				pkg, hangName(h), fmtSeconds(h.StalledForSeconds), e.words.Stack, compareWindow, snap.Dir)
		}
		return
	}
	if !snap.Stopped {
		e.releasePackage(pkg)
	}
	e.mu.Unlock()
	hangs = e.dropGhosts(pkg, hangs)
	if len(hangs) == 0 {
		return
	}
	if !snap.Stopped {
		e.mu.Lock()
		e.live[pkg] = &liveHang{pkg: pkg, pid: bin.PID, tests: tests, hangs: hangs, dir: snap.Dir}
		e.mu.Unlock()
	}
	e.writeHangArtifacts(pkg, hangs)
	e.printHangs(hangs)
	if l, ok := e.a.(core.HangListener); ok {
		for _, h := range hangs {
			l.Hung(pkg, h.Test)
		}
	}
	if !snap.Stopped {
		fmt.Fprintf(e.stderr, "hangdog: %s keeps running; it is stopped if it makes no progress for %s (--kill-after)\n", pkg, e.killAfter(hangs))
	}
}

// compareWindow is the time between the two stacks of a live snapshot
// (both adapters take them a second apart).
const compareWindow = time.Second

// unflag takes back hangs that turned out to be slow tests: they count
// again as running, and may stall again later. Called with e.mu held.
func (e *engine) unflag(pkg string, hangs []*Hang) {
	now := time.Now()
	for _, h := range hangs {
		e.tr.Unflag(pkg, h.Test, now)
		e.book.toSlow(h)
	}
}

// dropGhosts takes back the hangs of tests that have no goroutine left in
// the dump: a parallel test's result can be reported long after its
// function returned, so it looks quiet while nothing of it runs.
func (e *engine) dropGhosts(pkg string, hangs []*Hang) []*Hang {
	e.mu.Lock()
	defer e.mu.Unlock()
	var keep []*Hang
	for _, h := range hangs {
		if !policy.Ghost(h.Test, len(h.Goroutines), h.CaptureError) {
			keep = append(keep, h)
			continue
		}
		e.book.remove(h)
		e.tr.Ghost(pkg, h.Test)
		fmt.Fprintf(e.stderr, "hangdog: %s %s was quiet, but no goroutine of it is left: it has finished and its result is not reported yet; not a hang\n", pkg, h.Test)
	}
	return keep
}

func hangName(h *Hang) string {
	if h.Test != "" {
		return h.Test
	}
	return h.Unit
}

func (e *engine) failCapture(pkg string, hangs []*Hang, msg string) {
	e.mu.Lock()
	for _, h := range hangs {
		h.CaptureError = msg
		h.Summary = fmt.Sprintf("%s: no progress for %s; %s", hangName(h), fmtSeconds(h.StalledForSeconds), msg)
	}
	e.releasePackage(pkg)
	e.mu.Unlock()
	e.printHangs(hangs)
}

func processInfo(p proc.Process, role string) ProcessInfo {
	return ProcessInfo{PID: p.PID, PPID: p.PPID, State: p.State, Wchan: p.Wchan, Cmdline: p.Cmdline, Role: role}
}

func cmdString(argv []string) string {
	s := strings.Join(argv, " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// mergeDiagnosis copies what the dump told about a hang into h.
func mergeDiagnosis(h *Hang, d core.Diagnosis) {
	if h.Phase == PhaseTest && d.Phase != "" {
		h.Phase = d.Phase // Go: test or cleanup; pytest: setup, call, teardown
	}
	h.State, h.Location, h.Summary = d.State, d.Location, d.Summary
	if d.Goroutines != nil {
		h.Goroutines = d.Goroutines
	}
	h.Verdict, h.Changed, h.CPUPercent, h.HotFunction = d.Verdict, d.Changed, d.CPUPercent, d.HotFunction
}
