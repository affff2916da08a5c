package engine

import (
	"fmt"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/forensics"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
	"github.com/hangdog/hangdog/watchdog/report"
)

// forensics snapshots a stalled unit's processes, files, sockets and
// locks, and those of the run's other units' processes, writes them to
// processes.json in the artifacts, and returns what relates them (a lock
// another package's binary holds, a port it serves). It runs before the
// binary is stopped.
func (e *engine) forensics(pkg string, bin proc.Process) ([]report.Finding, string) {
	if full, why := forensics.Supported(); !full {
		e.warnOnce("forensics", "hangdog: "+why+": no process forensics (files, sockets, locks) on this OS")
	}
	stalled, err := forensics.Collect([]int{bin.PID})
	if stalled == nil {
		e.log.Info("forensics failed", zap.String("package", pkg), zap.Error(err))
		return nil, ""
	}
	stalled.Label = pkg
	if e.words.UnitProcess != "" {
		stalled.Name = fmt.Sprintf(e.words.UnitProcess, pkg)
	}
	var others []*forensics.Snapshot
	e.mu.Lock()
	var pending []string
	for _, p := range e.tr.Pending() {
		pending = append(pending, p.Name)
	}
	e.mu.Unlock()
	for _, u := range e.a.UnitProcesses(e.rootPID, pending) {
		if u.Process.PID == bin.PID {
			continue
		}
		s, _ := forensics.Collect([]int{u.Process.PID})
		if s == nil {
			continue
		}
		s.Label = u.Unit
		if e.words.UnitProcess != "" {
			s.Name = fmt.Sprintf(e.words.UnitProcess, u.Unit)
		}
		others = append(others, s)
	}
	var out []report.Finding
	for _, f := range forensics.Relate(stalled, others...) {
		out = append(out, report.Finding{Kind: string(f.Kind), Text: f.Text, PIDs: f.PIDs, Paths: f.Paths, Port: f.Port})
	}
	e.mu.Lock()
	path := e.artifactPath(pkg, "processes.json")
	e.mu.Unlock()
	doc := struct {
		Stalled  *forensics.Snapshot   `json:"stalled"`
		Others   []*forensics.Snapshot `json:"others"`
		Findings []report.Finding      `json:"findings"`
	}{stalled, others, out}
	if err := writeJSONFile(path, doc); err != nil {
		e.mu.Lock()
		e.addWarning(fmt.Sprintf("write %s: %v", filepath.Base(path), err))
		e.mu.Unlock()
		return out, ""
	}
	return out, path
}
