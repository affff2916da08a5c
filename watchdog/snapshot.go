package watchdog

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/zap"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/internal/agent"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// The snapshot capture: with the agent in the test binary, a stall is
// looked at without stopping anything. Two goroutine dumps a CPU window
// apart tell stuck from slow, the CPU profile tells spinning from idle;
// the binary is stopped only at --kill-after.

// cpuWindow is the profile window, and so the time between the two
// goroutine dumps: long enough for ~100 samples of a spinning goroutine.
const cpuWindow = time.Second

// liveHang is a hang whose binary still runs, waiting for --kill-after.
type liveHang struct {
	pkg     string
	pid     int
	tests   []string
	hangs   []*Hang
	dir     string // the capture's artifacts directory
	killing bool
}

// snapshot captures a stalled binary through its agent. It reports false
// when the agent could not deliver a dump; the caller then falls back to
// SIGQUIT.
func (e *engine) snapshot(pkg string, bin proc.Process, tests []string, phase Phase, hangs []*Hang, procs []ProcessInfo, findings []Finding, procsPath string, started time.Time) bool {
	e.mu.Lock()
	dir := e.artifactPath(pkg, "capture")
	e.mu.Unlock()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return false
	}
	ctx := context.Background()
	e.log.Info("snapshot", zap.String("package", pkg), zap.Int("pid", bin.PID))
	// First a goroutine dump at once (the snapshot a person waits for),
	// then a CPU profile over cpuWindow with the heap, then a second dump
	// to compare with the first.
	s1, err := agent.Request(ctx, e.inj.Dir, bin.PID, agent.Req{Goroutines: true})
	if err != nil || s1 == nil || s1.Goroutines == "" {
		e.log.Info("snapshot failed", zap.Error(err))
		os.RemoveAll(dir)
		return false
	}
	captureSecs := time.Since(started).Seconds()
	arts := map[string]string{}
	keep := func(key, name, src string) string {
		if src == "" {
			return ""
		}
		dst := filepath.Join(dir, name)
		if err := copyFile(dst, src); err != nil {
			return ""
		}
		arts[key] = dst
		return dst
	}
	g1 := keep("goroutines_1", "goroutines-1.txt", s1.Goroutines)
	d1, _ := e.parseDump(g1)
	var agentErrs, notes []string
	agentErrs = append(agentErrs, s1.Errors...)
	notes = append(notes, s1.Notes...)
	cpu := ""
	// Block and mutex profiles sample the same window: empty for a plain
	// deadlock (nothing happens), telling for contention that crawls. The
	// CPU profile only when a goroutine is on a CPU (see perturb.go).
	win := agent.Req{CPU: cpuWindow, Heap: true, Block: true, Mutex: true}
	if !gotest.OnCPU(d1) {
		win.CPU = 0
		notes = append(notes, "cpu: not taken: no goroutine was running in the first dump (the profile's buffers could bring on a garbage collection)")
	}
	if s2, err := agent.Request(ctx, e.inj.Dir, bin.PID, win); err == nil && s2 != nil {
		cpu = keep("cpu", "cpu.pb.gz", s2.CPU)
		keep("heap", "heap.pb.gz", s2.Heap)
		keep("block", "block.pb.gz", s2.Block)
		keep("mutex", "mutex.pb.gz", s2.Mutex)
		agentErrs = append(agentErrs, s2.Errors...)
		notes = append(notes, s2.Notes...)
	}
	g2 := ""
	if s3, err := agent.Request(ctx, e.inj.Dir, bin.PID, agent.Req{Goroutines: true, GoroutinesProto: true}); err == nil && s3 != nil {
		g2 = keep("goroutines_2", "goroutines-2.txt", s3.Goroutines)
		keep("goroutine_proto", "goroutine.pb.gz", s3.GoroutinesProto)
		agentErrs = append(agentErrs, s3.Errors...)
		notes = append(notes, s3.Notes...)
	}
	if procsPath != "" {
		if keep("processes", "processes.json", procsPath) != "" {
			os.Remove(procsPath)
		}
	}
	d2 := d1
	if g2 != "" {
		if d, _ := e.parseDump(g2); d != nil {
			d2 = d
		}
	}
	if d2 == nil {
		os.RemoveAll(dir)
		return false
	}
	arts["dump"] = g2
	if g2 == "" {
		arts["dump"] = g1
	}
	cpuFrac, hot := cpuProfile(cpu, d2.GOROOT, e.userModules())
	diag := gotest.Diagnose(d2, gotest.DiagInput{Pkg: pkg, Tests: tests, Phase: phase, Modules: e.userModules(), Base: e.base})

	e.mu.Lock()
	var moving []*Hang
	for i, h := range hangs {
		h.Capture = "snapshot"
		h.CaptureSeconds = round3(captureSecs)
		h.PID = bin.PID
		h.Processes = procs
		h.Findings = findings
		h.Artifacts = arts
		h.CaptureError = strings.Join(agentErrs, "; ")
		h.CaptureNotes = notes
		if i < len(diag) {
			mergeDiagnosis(h, diag[i])
		}
		if phase == PhaseTestMain && gotest.AllAsleep(d1) && gotest.AllAsleep(d2) {
			h.Summary += "; " + gotest.DeadlockNote
		}
		h.Verdict, h.Changed = verdict(d1, d2, h, cpuFrac, hot)
		h.CPUPercent = round2(cpuFrac * 100)
		if hot.Func != "" && (h.Verdict == "spinning" || h.State == "running" || h.State == "runnable") {
			h.HotFunction = fmt.Sprintf("%s (%s)", hot.Func, gotest.RelLocation(hot, e.base))
		}
		switch h.Verdict {
		case "spinning":
			h.Summary += fmt.Sprintf("; spinning: %.0f%% of a CPU in %s", cpuFrac*100, h.HotFunction)
		case "moving":
			moving = append(moving, h)
		}
		if len(findings) > 0 {
			h.Summary += "; " + findings[0].Text
		}
	}
	if len(moving) == len(hangs) {
		// Slow, not stuck: the goroutines moved between the dumps.
		e.unflag(pkg, hangs)
		e.releasePackage(pkg)
		e.mu.Unlock()
		for _, h := range hangs {
			fmt.Fprintf(e.stderr, "hangdog: SLOW %s %s: quiet for %s, but its goroutines moved between two dumps %s apart: not stuck (dumps in %s)\n",
				pkg, hangName(h), fmtSeconds(h.StalledForSeconds), cpuWindow, dir)
		}
		return true
	}
	e.releasePackage(pkg)
	e.mu.Unlock()
	hangs = e.dropGhosts(pkg, hangs)
	if len(hangs) == 0 {
		return true
	}
	e.mu.Lock()
	e.live[pkg] = &liveHang{pkg: pkg, pid: bin.PID, tests: tests, hangs: hangs, dir: dir}
	e.mu.Unlock()
	e.writeHangArtifacts(pkg, hangs)
	e.printHangs(hangs)
	fmt.Fprintf(e.stderr, "hangdog: %s keeps running; it is stopped if it makes no progress for %s (--kill-after)\n", pkg, e.killAfter(hangs))
	return true
}

// unflag takes back hangs that turned out to be slow tests: they count
// again as running, and may stall again later. Called with e.mu held.
func (e *engine) unflag(pkg string, hangs []*Hang) {
	now := time.Now()
	for _, h := range hangs {
		e.tr.Unflag(pkg, h.Test, now)
		e.tr.Counts.Hung--
		e.removeHang(h)
		e.slow = append(e.slow, h)
	}
}

func (e *engine) removeHang(h *Hang) {
	for i, x := range e.hangs {
		if x == h {
			e.hangs = append(e.hangs[:i], e.hangs[i+1:]...)
			return
		}
	}
}

// verdict compares the goroutines of a hang in two dumps a CPU window
// apart: "spinning" (busy on a CPU in the test's code), "stuck" (the same
// stacks in both), or "moving" (they changed: slow, not stuck). changed
// lists the goroutines whose stacks differ.
func verdict(d1, d2 *stackparse.Dump, h *Hang, cpuFrac float64, hot stackparse.Frame) (string, []int64) {
	if cpuFrac >= 0.25 && hot.Func != "" {
		for _, g := range h.Goroutines {
			if g.State == "running" || g.State == "runnable" {
				return "spinning", nil
			}
		}
	}
	if d1 == nil || d1 == d2 {
		return "stuck", nil
	}
	before, after := byID(d1), byID(d2)
	var changed []int64
	moved := make(map[int64]bool)
	for _, gg := range h.Goroutines {
		for _, id := range gg.IDs {
			if now := after[id]; now == nil || !sameStack(before[id], now) {
				changed = append(changed, id)
				moved[id] = true
			}
		}
	}
	if len(changed) == 0 {
		return "stuck", nil
	}
	// The test's own goroutine decides: helpers may come and go.
	for _, gg := range h.Goroutines {
		if gg.Role != "test" {
			continue
		}
		for _, id := range gg.IDs {
			if moved[id] {
				return "moving", changed
			}
		}
		return "stuck", changed
	}
	return "moving", changed
}

// byID indexes the goroutines of a dump by id.
func byID(d *stackparse.Dump) map[int64]*stackparse.Goroutine {
	m := make(map[int64]*stackparse.Goroutine, len(d.Goroutines))
	for _, g := range d.Goroutines {
		m[g.ID] = g
	}
	return m
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func sameStack(a, b *stackparse.Goroutine) bool {
	if a == nil || b == nil || len(a.Frames) != len(b.Frames) || a.State != b.State {
		return false
	}
	for i := range a.Frames {
		if a.Frames[i].Func != b.Frames[i].Func || a.Frames[i].Line != b.Frames[i].Line {
			return false
		}
	}
	return true
}

// cpuProfile reads a CPU profile: the share of one CPU it saw used, and
// the innermost user-code frame where the most time went. goroot is where
// the binary's standard library sources are (the dump's GOROOT), so that a
// module whose path has no dot ("mycorp/platform") is still user code.
func cpuProfile(path, goroot string, modules []string) (float64, stackparse.Frame) {
	if path == "" {
		return 0, stackparse.Frame{}
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, stackparse.Frame{}
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return 0, stackparse.Frame{}
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			idx = i
		}
	}
	if idx < 0 || p.DurationNanos <= 0 {
		return 0, stackparse.Frame{}
	}
	var total int64
	by := make(map[stackparse.Frame]int64)
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		var frames []stackparse.Frame
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if ln.Function != nil {
					frames = append(frames, stackparse.Frame{Func: ln.Function.Name, File: ln.Function.Filename, Line: int(ln.Line)})
				}
			}
		}
		g := &stackparse.Goroutine{Frames: frames}
		if fr, ok := g.UserFrameIn(goroot, modules...); ok {
			by[fr] += v
		}
	}
	var hot stackparse.Frame
	var best int64
	keys := make([]stackparse.Frame, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Func < keys[j].Func })
	for _, k := range keys {
		if by[k] > best {
			hot, best = k, by[k]
		}
	}
	return float64(total) / float64(p.DurationNanos), hot
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// killAfter is the quiet time after which a stalled binary that the agent
// looked at is stopped: --kill-after, but never less than the threshold
// that found the stall.
func (e *engine) killAfter(hangs []*Hang) time.Duration {
	k := e.cfg.KillAfter
	if k <= 0 {
		k = DefaultKillAfter
	}
	for _, h := range hangs {
		k = max(k, time.Duration(h.ThresholdSeconds*float64(time.Second)))
	}
	return k
}

// checkLive stops the binaries of live hangs whose tests made no progress
// for --kill-after, and forgets those whose tests moved again. Called on
// every tick with e.mu held.
func (e *engine) checkLive(now time.Time) {
	for pkg, l := range e.live {
		if l.killing {
			continue
		}
		p := e.tr.Units[pkg]
		if p == nil || p.Done {
			delete(e.live, pkg)
			continue
		}
		last := time.Time{}
		alive := 0
		for _, h := range l.hangs {
			if h.Test == "" {
				last = maxTime(last, p.LastBeat())
				alive++
				continue
			}
			if t := p.Tests[h.Test]; t != nil && t.Flagged() {
				last = maxTime(last, t.LastBeat())
				alive++
			}
		}
		if alive == 0 {
			delete(e.live, pkg)
			continue
		}
		if now.Sub(last) >= e.killAfter(l.hangs) {
			l.killing = true
			e.tr.Capture(pkg)
			e.wg.Add(1)
			go e.killLive(l, now.Sub(last))
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// killLive stops the binary of a live hang: a last SIGQUIT dump, a grace
// period, then SIGKILL of its whole tree.
func (e *engine) killLive(l *liveHang, quiet time.Duration) {
	defer e.wg.Done()
	fmt.Fprintf(e.stderr, "hangdog: KILL %s: no progress for %s (--kill-after %s); stopping its test binary %d\n", l.pkg, fmtSeconds(quiet.Seconds()), e.killAfter(l.hangs), l.pid)
	e.log.Info("kill-after", zap.String("package", l.pkg), zap.Int("pid", l.pid))
	children, _ := proc.Descendants(l.pid)
	path := filepath.Join(l.dir, "goroutines-final.txt")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	var captureErr string
	if err == nil {
		c := newCollector(l.pkg, path, f, time.Now())
		e.mu.Lock()
		e.collectors[l.pkg] = c
		e.mu.Unlock()
		if err := proc.Quit(l.pid); err != nil {
			captureErr = fmt.Sprintf("SIGQUIT: %v", err)
		}
		e.waitDump(c, l.pid, &captureErr)
		e.mu.Lock()
		delete(e.collectors, l.pkg)
		e.mu.Unlock()
		f.Close()
	} else {
		_ = proc.KillTree(l.pid)
	}
	for _, c := range children {
		if alive(c.PID) {
			_ = proc.KillTree(c.PID)
		}
	}
	e.mu.Lock()
	for _, h := range l.hangs {
		h.Killed = true
		h.StalledForSeconds = round2(quiet.Seconds())
		if err == nil {
			h.Artifacts["final_dump"] = path
		}
		if captureErr != "" && h.CaptureError == "" {
			h.CaptureError = captureErr
		}
	}
	delete(e.live, l.pkg)
	e.releasePackage(l.pkg)
	e.mu.Unlock()
	e.writeHangArtifacts(l.pkg, l.hangs)
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
		if e.tr.Recover(pkg, test) {
			e.tr.Counts.Hung--
			e.removeHang(h)
			h.Recovered = true
			e.slow = append(e.slow, h)
			fmt.Fprintf(e.stderr, "hangdog: RECOVERED %s %s: it made progress again after it was reported stuck\n", pkg, test)
		}
	}
}
