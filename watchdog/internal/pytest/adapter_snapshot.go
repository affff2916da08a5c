package pytest

// This file is the adapter's core.Snapshotter and core.Diagnoser: the
// stacks of every process at once (Take), their diagnosis, the stop of a
// worker at --kill-after.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// snapData is the adapter's reading of a snapshot (core.Snapshot.Data).
type snapData struct {
	in DiagInput
}

// Snapshot implements core.Snapshotter: the stacks of every process of the
// run at once, twice a second apart, with their threads' states and the
// forensics of all of them; nothing is stopped.
func (a *Adapter) Snapshot(req core.SnapRequest) *core.Snapshot {
	req.Ready()
	ts := a.state.Targets(req.Unit)
	dir := a.host.ArtifactPath(req.Unit, "capture")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return &core.Snapshot{Err: fmt.Sprintf("capture directory: %v", err)}
	}
	start := time.Now()
	snap, err := Take(context.Background(), ts, SnapshotOptions{})
	if snap == nil {
		return &core.Snapshot{Err: fmt.Sprintf("no stacks: %v", err)}
	}
	out := &core.Snapshot{Kind: "snapshot", Dir: dir, Artifacts: map[string]string{},
		Seconds: start.Sub(req.Started).Seconds() + snap.Elapsed.Seconds(),
		Data:    &snapData{in: a.diagInput(req.Unit, snap)}}
	if err != nil {
		out.Errors = append(out.Errors, err.Error())
	}
	if snap.ForensicsError != "" {
		out.Errors = append(out.Errors, "forensics: "+snap.ForensicsError)
	}
	for i, r := range snap.Rounds {
		for _, p := range r.Procs {
			name := p.Worker
			if name == "" {
				name = "main"
			}
			path := filepath.Join(dir, fmt.Sprintf("stacks-%s-%d.txt", name, i+1))
			if os.WriteFile(path, p.Raw, 0o600) != nil {
				continue
			}
			if p.PID == a.pidOf(req.Unit) {
				out.Artifacts["dump"] = path
				out.Artifacts[fmt.Sprintf("stacks_%d", i+1)] = path
			}
			if !p.Sent || !p.Complete {
				if p.Note != "" {
					out.Notes = append(out.Notes, fmt.Sprintf("%s (pid %d): %s", name, p.PID, p.Note))
				}
			}
		}
	}
	return out
}

// Diagnose implements core.Diagnoser: one diagnosis per stalled test of
// the unit (a worker runs one test at a time), or of the unit itself.
func (a *Adapter) Diagnose(s *core.Snapshot, req core.SnapRequest) []core.Diagnosis {
	sd, _ := s.Data.(*snapData)
	if sd == nil {
		return nil
	}
	ds := Diagnose(sd.in)
	if len(ds) == 0 {
		return nil
	}
	v, cpu := Verdict(sd.in, req.Unit)
	for i := range ds {
		ds[i].Explained = true // the summary names the other side itself
		ds[i].Verdict, ds[i].CPUPercent = v, float64(int64(cpu*10000+0.5))/100
	}
	if len(req.Tests) == 0 {
		d := ds[0]
		d.Test = ""
		return []core.Diagnosis{d}
	}
	out := make([]core.Diagnosis, len(req.Tests))
	for i, t := range req.Tests {
		out[i] = ds[0]
		for _, d := range ds {
			if d.Test == t {
				out[i] = d
			}
		}
		out[i].Test = t
	}
	return out
}

// Stop implements core.Snapshotter: a last dump of the worker into dir,
// then SIGKILL of its tree (xdist replaces a worker it lost and runs the
// tests stranded behind it).
func (a *Adapter) Stop(unit string, pid int, dir string) (string, string) {
	var mine []Target
	for _, t := range a.state.Targets(unit) {
		if t.PID == pid {
			mine = append(mine, t)
		}
	}
	path, msg := "", ""
	if len(mine) > 0 {
		if snap, err := Take(context.Background(), mine, SnapshotOptions{Rounds: 1}); snap != nil && len(snap.Rounds) > 0 && len(snap.Rounds[0].Procs) > 0 {
			p := filepath.Join(dir, "stacks-final.txt")
			if os.WriteFile(p, snap.Rounds[0].Procs[0].Raw, 0o600) == nil {
				path = p
			}
		} else if err != nil {
			msg = err.Error()
		}
	}
	if err := proc.KillTree(pid); err != nil && !errors.Is(err, proc.ErrNoProcess) {
		msg = fmt.Sprintf("kill: %v", err)
	}
	return path, msg
}

// diagInput is what Diagnose needs of a snapshot of unit: the processes
// that run tests and, when the stuck unit is xdist's controller (which
// runs none), the controller too.
func (a *Adapter) diagInput(unit string, snap *Snapshot) DiagInput {
	ws := a.state.Workers()
	if unit == ControllerUnit {
		if pid := a.pidOf(unit); pid != 0 {
			ws = append(ws, WorkerState{Unit: ControllerUnit, PID: pid})
		}
	}
	return DiagInput{Rootdir: a.state.Rootdir(), Workers: ws, Stuck: []string{unit}, Snapshot: snap}
}

// pidOf is the process of unit as its events said (0 if none).
func (a *Adapter) pidOf(unit string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.units[unit]; u != nil {
		return u.pid
	}
	return 0
}
