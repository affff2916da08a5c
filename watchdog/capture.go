package watchdog

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/internal/agent"
	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/policy"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
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
			e.tr.Counts.Hung++
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
			e.addHang(h)
			fmt.Fprintf(e.stderr, "hangdog: STALL %s %s: no progress for %s (threshold %s); capturing its goroutines\n",
				st.Unit, t.Name, fmtSeconds(h.StalledForSeconds), th)
			e.log.Info("stall", zap.String("package", st.Unit), zap.String("test", t.Name), zap.Duration("quiet", now.Sub(t.LastBeat())))
		}
		var others []string
		for _, t := range p.Running() {
			if !stalled[t.Name] {
				others = append(others, t.Name)
			}
		}
		for _, h := range hangs {
			h.AlsoStopped = policy.WithoutAncestors(e.runner, others, names)
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
	if e.cfg.Input != nil {
		e.failCapture(pkg, hangs, "hangdog analyze reads a stream: no test binary can be captured from it (run the suite under hangdog for a diagnosis)")
		return
	}
	bin, err := e.findBinary(pkg)
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
	if e.cfg.Input != nil {
		e.mu.Lock()
		e.releasePackage(st.Unit)
		e.mu.Unlock()
		return
	}
	bin, _ := e.findBinary(st.Unit)
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
	e.tr.Counts.Hung++
	h := &Hang{
		Package: st.Unit, Phase: phase,
		StalledForSeconds: round2(st.Quiet.Seconds()),
		ThresholdSeconds:  st.Threshold.Seconds(),
		ThresholdReason:   "--stall",
		Capture:           "none",
		Goroutines:        []GoroutineGroup{},
	}
	e.addHang(h)
	what := "the test binary runs no test (init or TestMain)"
	if phase == PhaseExit {
		what = "the test binary has exited but its result never came"
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

// captureBinary sends SIGQUIT to a stalled test binary, collects the dump
// it prints into the artifacts directory and diagnoses it.
func (e *engine) captureBinary(pkg string, bin proc.Process, tests []string, phase Phase, hangs []*Hang, at *arrival, started time.Time) {
	procs := []ProcessInfo{processInfo(bin, "test-binary")}
	children, _ := proc.Descendants(bin.PID)
	for _, c := range children {
		procs = append(procs, processInfo(c, "child"))
	}
	findings, procsPath := e.forensics(pkg, bin)
	if e.inj != nil && agent.HasAgent(e.inj.Dir, bin.PID) {
		at.arrive() // nothing is stopped: no need to wait for the others
		if e.snapshot(pkg, bin, tests, phase, hangs, procs, findings, procsPath, started) {
			return
		}
		fmt.Fprintf(e.stderr, "hangdog: the agent in %s's test binary did not answer; capturing with SIGQUIT\n", pkg)
	}
	e.mu.Lock()
	dumpPath := e.artifactPath(pkg, "goroutines.txt")
	e.mu.Unlock()
	f, err := os.OpenFile(dumpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		e.failCapture(pkg, hangs, fmt.Sprintf("create dump file: %v", err))
		return
	}
	c := newCollector(pkg, dumpPath, f, time.Now())
	e.mu.Lock()
	e.collectors[pkg] = c
	e.mu.Unlock()

	var captureErr string
	at.wait()
	e.log.Info("sigquit", zap.String("package", pkg), zap.Int("pid", bin.PID))
	if err := proc.Quit(bin.PID); errors.Is(err, proc.ErrNoProcess) {
		captureErr = "the test binary exited before it could be captured (the test may have moved on)"
	} else if err != nil {
		captureErr = fmt.Sprintf("SIGQUIT: %v", err)
	}
	e.waitDump(c, bin.PID, &captureErr)
	// The binary is gone: its children serve nobody now and may hold the
	// package's output pipe.
	for i := 1; i < len(procs); i++ {
		if alive(procs[i].PID) && proc.KillTree(procs[i].PID) == nil {
			procs[i].Killed = true
		}
	}

	e.mu.Lock()
	delete(e.collectors, pkg)
	writeErr := c.err
	e.releasePackage(pkg)
	e.mu.Unlock()
	if err := f.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil && captureErr == "" {
		captureErr = fmt.Sprintf("write dump: %v", writeErr)
	}

	d, perr := e.parseDump(dumpPath)
	if d == nil && captureErr == "" {
		captureErr = "the binary printed no goroutine dump"
		if perr != nil {
			captureErr += ": " + perr.Error()
		}
	}
	e.mu.Lock()
	for _, h := range hangs {
		h.Capture = "sigquit"
		h.CaptureSeconds = round3(time.Since(started).Seconds())
		h.Killed = true
		h.PID = bin.PID
		h.CaptureError = captureErr
		h.Artifacts = map[string]string{"dump": dumpPath}
		if procsPath != "" {
			h.Artifacts["processes"] = procsPath
		}
		h.Processes = procs
		h.Findings = findings
	}
	e.mu.Unlock()
	if d != nil {
		diag := gotest.Diagnose(d, gotest.DiagInput{Pkg: pkg, Tests: tests, Phase: phase, Modules: e.userModules(), Base: e.base})
		e.mu.Lock()
		for i, h := range hangs {
			if i < len(diag) {
				mergeDiagnosis(h, diag[i])
			}
			if len(findings) > 0 {
				h.Summary += "; " + findings[0].Text
			} else if len(children) > 0 {
				h.Summary += fmt.Sprintf("; child process %d (%s) was still running", children[0].PID, cmdString(children[0].Cmdline))
			}
		}
		e.mu.Unlock()
	} else {
		e.mu.Lock()
		for _, h := range hangs {
			h.Summary = fmt.Sprintf("%s: no progress for %s; %s", hangName(h), fmtSeconds(h.StalledForSeconds), captureErr)
		}
		e.mu.Unlock()
	}
	hangs = e.dropGhosts(pkg, hangs)
	if len(hangs) == 0 {
		return
	}
	e.writeHangArtifacts(pkg, hangs)
	e.printHangs(hangs)
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
		e.tr.Counts.Hung--
		e.removeHang(h)
		e.tr.Ghost(pkg, h.Test)
		fmt.Fprintf(e.stderr, "hangdog: %s %s was quiet, but no goroutine of it is left: it has finished and its result is not reported yet; not a hang\n", pkg, h.Test)
	}
	return keep
}

func hangName(h *Hang) string {
	if h.Test != "" {
		return h.Test
	}
	return h.Package
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

// waitDump waits until the dump after SIGQUIT is complete: the package's
// result arrived, or the binary is gone and its output has been quiet for
// a moment. A binary that does not die within the grace period (it catches
// SIGQUIT) is killed.
func (e *engine) waitDump(c *collector, pid int, captureErr *string) {
	deadline := time.Now().Add(e.cfg.quitGrace())
	killed := false
	var goneAt time.Time
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			if !alive(pid) {
				if goneAt.IsZero() {
					goneAt = now
				}
				e.mu.Lock()
				quiet := now.Sub(c.lastWrite)
				e.mu.Unlock()
				if now.Sub(goneAt) > 2*time.Second && quiet > time.Second {
					return
				}
				continue
			}
			if !killed && now.After(deadline) {
				killed = true
				_ = proc.KillTree(pid)
				if *captureErr == "" {
					*captureErr = fmt.Sprintf("no goroutine dump within %s of SIGQUIT (does the test catch SIGQUIT?); the binary was killed", e.cfg.quitGrace())
				}
			}
		}
	}
}

// alive reports whether pid still runs (a zombie does not).
func alive(pid int) bool {
	p, err := proc.Get(pid)
	return err == nil && p.State != "Z" && p.State != "X"
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
	if h.Phase == PhaseTest && d.Phase == PhaseCleanup {
		h.Phase = PhaseCleanup
	}
	h.State, h.Location, h.Summary = d.State, d.Location, d.Summary
	if d.Goroutines != nil {
		h.Goroutines = d.Goroutines
	}
}

// parseDump reads a dump file and returns the dump that matters: the last
// one with goroutines (a crash after a SIGQUIT prints two).
func (e *engine) parseDump(path string) (*stackparse.Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dumps, err := stackparse.Parse(f)
	var best *stackparse.Dump
	for _, d := range dumps {
		if len(d.Goroutines) > 0 && d.Kind != stackparse.KindRace {
			best = d
		}
	}
	return best, err
}
