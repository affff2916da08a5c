package watchdog

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

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
	cpuFrac, hot := gotest.CPUProfile(cpu, d2.GOROOT, e.userModules())
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
		h.Verdict, h.Changed = gotest.Verdict(d1, d2, h.Goroutines, cpuFrac, hot)
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
