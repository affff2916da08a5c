package gotest

// The adapter's core.Snapshotter and core.Diagnoser. With the agent in the
// test binary, a stall is looked at without stopping anything: two
// goroutine dumps a CPU window apart tell stuck from slow, the CPU profile
// tells spinning from idle; the binary is stopped only at --kill-after.
// Without it (or when it does not answer), SIGQUIT makes the binary print
// its goroutines and exit, and the stream cuts the dump out of its output.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/internal/agent"
	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// CPUWindow is the profile window, and so the time between the two
// goroutine dumps: long enough for ~100 samples of a spinning goroutine.
const CPUWindow = time.Second

// dumps is the adapter's reading of a snapshot (core.Snapshot.Data): the
// first and the last goroutine dump (the same one after SIGQUIT) and the
// CPU profile of the window between them.
type dumps struct {
	first, last *stackparse.Dump
	cpu         string
}

// Snapshot implements core.Snapshotter.
func (a *Adapter) Snapshot(req core.SnapRequest) *core.Snapshot {
	if inj := a.agent(); inj != nil && agent.HasAgent(inj.Dir, req.Process.PID) {
		req.Ready() // nothing is stopped: no need to wait for the others
		if s := a.look(inj, req); s != nil {
			return s
		}
		a.host.Say(fmt.Sprintf("hangdog: the agent in %s's test binary did not answer; capturing with SIGQUIT", req.Unit))
	}
	return a.quit(req)
}

// look captures a stalled binary through its agent; nil when the agent
// could not deliver a dump.
func (a *Adapter) look(inj *agent.Injection, req core.SnapRequest) *core.Snapshot {
	pkg, pid := req.Unit, req.Process.PID
	dir := a.host.ArtifactPath(pkg, "capture")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil
	}
	ctx := context.Background()
	a.log.Info("snapshot", zap.String("package", pkg), zap.Int("pid", pid))
	// First a goroutine dump at once (the snapshot a person waits for),
	// then a CPU profile over CPUWindow with the heap, then a second dump
	// to compare with the first.
	s1, err := agent.Request(ctx, inj.Dir, pid, agent.Req{Goroutines: true})
	if err != nil || s1 == nil || s1.Goroutines == "" {
		a.log.Info("snapshot failed", zap.Error(err))
		os.RemoveAll(dir)
		return nil
	}
	snap := &core.Snapshot{Kind: "snapshot", Seconds: time.Since(req.Started).Seconds(), Dir: dir, Artifacts: map[string]string{}}
	keep := func(key, name, src string) string {
		if src == "" {
			return ""
		}
		dst := filepath.Join(dir, name)
		if err := copyFile(dst, src); err != nil {
			return ""
		}
		snap.Artifacts[key] = dst
		return dst
	}
	g1 := keep("goroutines_1", "goroutines-1.txt", s1.Goroutines)
	d1, _ := ParseDumpFile(g1)
	snap.Errors = append(snap.Errors, s1.Errors...)
	snap.Notes = append(snap.Notes, s1.Notes...)
	cpu := ""
	// Block and mutex profiles sample the same window: empty for a plain
	// deadlock (nothing happens), telling for contention that crawls. The
	// CPU profile only when a goroutine is on a CPU (see perturb.go).
	win := agent.Req{CPU: CPUWindow, Heap: true, Block: true, Mutex: true}
	if !OnCPU(d1) {
		win.CPU = 0
		snap.Notes = append(snap.Notes, "cpu: not taken: no goroutine was running in the first dump (the profile's buffers could bring on a garbage collection)")
	}
	if s2, err := agent.Request(ctx, inj.Dir, pid, win); err == nil && s2 != nil {
		cpu = keep("cpu", "cpu.pb.gz", s2.CPU)
		keep("heap", "heap.pb.gz", s2.Heap)
		keep("block", "block.pb.gz", s2.Block)
		keep("mutex", "mutex.pb.gz", s2.Mutex)
		snap.Errors = append(snap.Errors, s2.Errors...)
		snap.Notes = append(snap.Notes, s2.Notes...)
	}
	g2 := ""
	if s3, err := agent.Request(ctx, inj.Dir, pid, agent.Req{Goroutines: true, GoroutinesProto: true}); err == nil && s3 != nil {
		g2 = keep("goroutines_2", "goroutines-2.txt", s3.Goroutines)
		keep("goroutine_proto", "goroutine.pb.gz", s3.GoroutinesProto)
		snap.Errors = append(snap.Errors, s3.Errors...)
		snap.Notes = append(snap.Notes, s3.Notes...)
	}
	d2 := d1
	if g2 != "" {
		if d, _ := ParseDumpFile(g2); d != nil {
			d2 = d
		}
	}
	if d2 == nil {
		os.RemoveAll(dir)
		return nil
	}
	snap.Artifacts["dump"] = g2
	if g2 == "" {
		snap.Artifacts["dump"] = g1
	}
	snap.Data = &dumps{first: d1, last: d2, cpu: cpu}
	return snap
}

// quit sends SIGQUIT to a stalled test binary and collects the dump it
// prints (cut out of the stream) into the artifacts directory.
func (a *Adapter) quit(req core.SnapRequest) *core.Snapshot {
	pkg, pid := req.Unit, req.Process.PID
	s := a.source()
	dumpPath := a.host.ArtifactPath(pkg, "goroutines.txt")
	f, err := os.OpenFile(dumpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil || s == nil {
		req.Ready()
		if err == nil {
			f.Close()
			err = errors.New("no stream to read it from")
		}
		return &core.Snapshot{Err: fmt.Sprintf("create dump file: %v", err)}
	}
	c := s.collect(pkg, dumpPath, f)

	var captureErr string
	req.BeforeStop()
	a.log.Info("sigquit", zap.String("package", pkg), zap.Int("pid", pid))
	if err := proc.Quit(pid); errors.Is(err, proc.ErrNoProcess) {
		captureErr = "the test binary exited before it could be captured (the test may have moved on)"
	} else if err != nil {
		captureErr = fmt.Sprintf("SIGQUIT: %v", err)
	}
	a.waitDump(s, c, pid, &captureErr)
	writeErr := s.uncollect(c)
	if err := f.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil && captureErr == "" {
		captureErr = fmt.Sprintf("write dump: %v", writeErr)
	}
	d, perr := ParseDumpFile(dumpPath)
	if d == nil && captureErr == "" {
		captureErr = "the binary printed no goroutine dump"
		if perr != nil {
			captureErr += ": " + perr.Error()
		}
	}
	snap := &core.Snapshot{Kind: "sigquit", Stopped: true, Seconds: time.Since(req.Started).Seconds(),
		Artifacts: map[string]string{"dump": dumpPath}}
	if captureErr != "" {
		snap.Errors = []string{captureErr}
	}
	if d == nil {
		snap.Err = captureErr
		return snap
	}
	snap.Data = &dumps{first: d, last: d}
	return snap
}

// Stop implements core.Snapshotter: a last SIGQUIT dump into dir, a grace
// period, then SIGKILL of the binary's whole tree.
func (a *Adapter) Stop(unit string, pid int, dir string) (string, string) {
	path := filepath.Join(dir, "goroutines-final.txt")
	s := a.source()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil || s == nil {
		if f != nil {
			f.Close()
			os.Remove(path)
		}
		_ = proc.KillTree(pid)
		return "", ""
	}
	var captureErr string
	c := s.collect(unit, path, f)
	if err := proc.Quit(pid); err != nil {
		captureErr = fmt.Sprintf("SIGQUIT: %v", err)
	}
	a.waitDump(s, c, pid, &captureErr)
	s.uncollect(c)
	f.Close()
	return path, captureErr
}

// waitDump waits until the dump after SIGQUIT is complete: the package's
// result arrived, or the binary is gone and its output has been quiet for
// a moment. A binary that does not die within the grace period (it catches
// SIGQUIT) is killed.
func (a *Adapter) waitDump(s *Stream, c *collector, pid int, captureErr *string) {
	grace := a.opts.QuitGrace
	if grace <= 0 {
		grace = 15 * time.Second
	}
	deadline := time.Now().Add(grace)
	killed := false
	var goneAt time.Time
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			if !proc.Alive(pid) {
				if goneAt.IsZero() {
					goneAt = now
				}
				quiet := now.Sub(s.lastWrite(c))
				if now.Sub(goneAt) > 2*time.Second && quiet > time.Second {
					return
				}
				continue
			}
			if !killed && now.After(deadline) {
				killed = true
				_ = proc.KillTree(pid)
				if *captureErr == "" {
					*captureErr = fmt.Sprintf("no goroutine dump within %s of SIGQUIT (does the test catch SIGQUIT?); the binary was killed", grace)
				}
			}
		}
	}
}

// Diagnose implements core.Diagnoser: the per-test diagnosis of the last
// dump, and for a live snapshot the verdict of the two dumps and the CPU
// profile between them.
func (a *Adapter) Diagnose(s *core.Snapshot, req core.SnapRequest) []core.Diagnosis {
	ds, _ := s.Data.(*dumps)
	if ds == nil || ds.last == nil {
		return nil
	}
	mods := a.Look.Modules()
	diag := Diagnose(ds.last, DiagInput{Pkg: req.Unit, Tests: req.Tests, Phase: req.Phase, Modules: mods, Base: a.Look.Dir})
	if s.Stopped {
		return diag
	}
	cpuFrac, hot := CPUProfile(ds.cpu, ds.last.GOROOT, mods)
	for i := range diag {
		d := &diag[i]
		if req.Phase == PhaseTestMain && AllAsleep(ds.first) && AllAsleep(ds.last) {
			d.Summary += "; " + DeadlockNote
		}
		d.Verdict, d.Changed = Verdict(ds.first, ds.last, d.Goroutines, cpuFrac, hot)
		d.CPUPercent = round2(cpuFrac * 100)
		if hot.Func != "" && (d.Verdict == "spinning" || d.State == "running" || d.State == "runnable") {
			d.HotFunction = fmt.Sprintf("%s (%s)", hot.Func, RelLocation(hot, a.Look.Dir))
		}
		if d.Verdict == "spinning" {
			d.Summary += fmt.Sprintf("; spinning: %.0f%% of a CPU in %s", cpuFrac*100, d.HotFunction)
		}
	}
	return diag
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

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
