package engine

// This file stops a run on a signal: the list of running tests, and the
// kill of every process of the run.

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
	"github.com/hangdog/hangdog/watchdog/report"
)

// interrupt stops the run on a signal: it lists the tests that were
// running and kills every process of the run.
func (e *engine) interrupt(cause error) {
	if s, ok := e.src.(core.Syncer); ok {
		s.Sync() // the tests that started just before the signal
	}
	now := time.Now()
	e.mu.Lock()
	e.stopping = true
	var list []report.RunningTest
	for _, p := range e.tr.Pending() {
		for _, t := range p.Running() {
			list = append(list, report.RunningTest{
				Package: e.packageOf(p.Name, t.Name), Unit: p.Name, Test: t.Name,
				RunningSeconds: round2(now.Sub(t.Started).Seconds()),
				QuietSeconds:   round2(now.Sub(t.LastBeat()).Seconds()),
			})
		}
	}
	e.interruptedTests = list
	e.mu.Unlock()

	var b strings.Builder
	fmt.Fprintf(&b, "hangdog: %v: stopping the run\n", cause)
	if len(list) == 0 {
		b.WriteString("hangdog: no test was running\n")
	} else {
		b.WriteString("hangdog: tests still running:\n")
		sort.SliceStable(list, func(i, j int) bool { return list[i].RunningSeconds > list[j].RunningSeconds })
		for _, t := range list {
			fmt.Fprintf(&b, "    %s %s (running %s, quiet %s)\n", t.Unit, t.Test,
				fmtSeconds(t.RunningSeconds), fmtSeconds(t.QuietSeconds))
		}
	}
	io.WriteString(e.stderr, b.String())
	e.log.Info("interrupted", zap.Error(cause), zap.Int("running", len(list)))
	e.killAll()
}

// killAll kills every process of the run: the child's process group and
// every descendant (a test may have moved a child to a group of its own).
func (e *engine) killAll() {
	if e.rootPID <= 0 {
		return
	}
	_ = proc.KillTree(e.rootPID)
	_ = proc.SignalGroup(e.rootPID, syscall.SIGKILL)
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func fmtSeconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(100 * time.Millisecond).String()
}
