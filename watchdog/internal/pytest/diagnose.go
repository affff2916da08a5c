package pytest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/report"
)

// WorkerState is what the plugin's events say about one process of the
// run when the snapshot was taken.
type WorkerState struct {
	// Unit is the core's unit of the process (the worker, or MainUnit);
	// Worker the worker's id ("gw0"), "" without xdist.
	Unit   string
	Worker string
	PID    int
	// Test is the node id running on it ("" outside any test), Phase
	// pytest's phase (setup, call, teardown), Fixture and FixtureScope
	// the fixture being set up or torn down, if any.
	Test, Phase           string
	Fixture, FixtureScope string
	// Queued are the tests queued behind Test on this worker, in order.
	Queued []string
}

// DiagInput is what Diagnose works on.
type DiagInput struct {
	// Rootdir is pytest's rootdir (hello's rootdir): locations are
	// relative to it.
	Rootdir string
	// Workers are the processes of the run that run tests
	// (Processes.Workers: every worker, or the one process without
	// xdist); the other side of a wait is named through them.
	Workers []WorkerState
	// Stuck names the stalled units (WorkerState.Unit) to diagnose; nil
	// means every worker running a test.
	Stuck []string
	// Snapshot is Take's result for the run's processes.
	Snapshot *Snapshot
}

// Diagnose returns one diagnosis per stuck worker: its test (or, with Test
// "", the worker stuck outside any test), phase, the innermost frame in
// the user's code, what its thread waits on and who is at the other side,
// the threads grouped by stack, and one summary line. It reads the user's
// source lines (to name a lock) and nothing else; it never fails: what the
// snapshot lacks is left out (a worker that was not signalled gets a
// diagnosis saying "no stacks" and why).
func Diagnose(in DiagInput) []core.Diagnosis {
	d := newDiagnoser(in)
	var out []core.Diagnosis
	for _, ws := range in.Workers {
		if in.Stuck == nil && ws.Test == "" || in.Stuck != nil && !slices.Contains(in.Stuck, ws.Unit) {
			continue
		}
		out = append(out, d.diagnose(ws))
	}
	return out
}

// diagnoser holds what every diagnosis of one snapshot shares.
type diagnoser struct {
	in    DiagInput
	src   *sources
	byPID map[int]WorkerState
}

func newDiagnoser(in DiagInput) *diagnoser {
	d := &diagnoser{in: in, src: &sources{}, byPID: map[int]WorkerState{}}
	for _, w := range in.Workers {
		d.byPID[w.PID] = w
	}
	return d
}

// procDumps returns the dumps of pid in the first two rounds.
func (d *diagnoser) procDumps(pid int) (a, b *ProcDump) {
	s := d.in.Snapshot
	if s == nil {
		return nil, nil
	}
	for r := 0; r < len(s.Rounds) && r < 2; r++ {
		for i := range s.Rounds[r].Procs {
			if p := &s.Rounds[r].Procs[i]; p.PID == pid {
				if r == 0 {
					a = p
				} else {
					b = p
				}
			}
		}
	}
	return a, b
}

// views returns every thread of pid seen in the first round, matched with
// the second, the test's thread (the main thread) first.
func (d *diagnoser) views(pid int) []view {
	a, b := d.procDumps(pid)
	if a == nil {
		return nil
	}
	var vs []view
	for i := range a.Threads {
		s := d.in.Snapshot
		v := view{pid: pid, a: &a.Threads[i], rootdir: d.in.Rootdir, src: d.src, fs: s.Forensics}
		if len(s.Rounds) > 1 {
			v.gap = s.Rounds[1].Taken.Sub(s.Rounds[0].Taken)
		}
		if b != nil {
			for j := range b.Threads {
				if b.Threads[j].Ident == v.a.Ident {
					v.b = &b.Threads[j]
				}
			}
		}
		if v.a.NativeID == pid {
			vs = append([]view{v}, vs...)
		} else {
			vs = append(vs, v)
		}
	}
	return vs
}

// relevant reports whether a thread belongs in the diagnosis: not
// hangdog's own (the plugin's threads), and running user code unless it is
// the test's (main) thread.
func (v view) relevant(main bool) bool {
	if strings.HasPrefix(v.a.Name, "hangdog") {
		return false
	}
	return main || innermostUser(v.a.Frames, v.rootdir) >= 0
}

// finding is one diagnosed thread: where it is and what it waits on.
type finding struct {
	v        view
	w        wait
	loc, fn  string // innermost user frame
	verdict  string // stuck, moving, spinning
	stateStr string
}

func (d *diagnoser) find(v view) finding {
	f := finding{v: v, w: v.classify()}
	if i := innermostUser(v.a.Frames, d.in.Rootdir); i >= 0 {
		f.loc, f.fn = location(v.a.Frames[i], d.in.Rootdir), v.a.Frames[i].Func
	} else if len(v.a.Frames) > 0 {
		f.loc, f.fn = location(v.a.Frames[0], d.in.Rootdir), v.a.Frames[0].Func
	}
	switch {
	case f.w.kind == waitBusy:
		f.verdict = "spinning"
	case !v.same():
		f.verdict = "moving"
	default:
		f.verdict = "stuck"
	}
	f.stateStr = d.state(f)
	return f
}

// diagnose diagnoses one worker.
func (d *diagnoser) diagnose(ws WorkerState) core.Diagnosis {
	diag := core.Diagnosis{Test: ws.Test, Phase: report.Phase(ws.Phase)}
	vs := d.views(ws.PID)
	if len(vs) == 0 {
		a, _ := d.procDumps(ws.PID)
		why := "no stacks"
		if a != nil && a.Note != "" {
			why = "no stacks: " + a.Note
		}
		diag.State = why
		diag.Summary = fmt.Sprintf("%s: %s", d.who(ws), why)
		return diag
	}
	main := d.find(vs[0])
	var helpers []finding
	for _, v := range vs[1:] {
		if v.relevant(false) {
			helpers = append(helpers, d.find(v))
		}
	}
	diag.State, diag.Location, diag.Verdict = main.stateStr, main.loc, main.verdict
	diag.Goroutines = groups(append([]finding{main}, helpers...))
	diag.Summary = d.summary(ws, main, helpers)
	return diag
}

// groups turns findings into the report's groups of identical stacks.
func groups(fs []finding) []report.GoroutineGroup {
	var gs []report.GoroutineGroup
	index := map[string]int{}
	for i, f := range fs {
		stack := make([]string, len(f.v.a.Frames))
		for j, fr := range f.v.a.Frames {
			stack[j] = fmt.Sprintf("%s (%s)", fr.Func, location(fr, f.v.rootdir))
		}
		role := "helper"
		if i == 0 {
			role = "test"
		}
		key := role + "\x00" + f.stateStr + "\x00" + strings.Join(stack, "\n")
		if k, ok := index[key]; ok {
			gs[k].Count++
			gs[k].IDs = append(gs[k].IDs, int64(f.v.a.NativeID))
			continue
		}
		index[key] = len(gs)
		gs = append(gs, report.GoroutineGroup{
			IDs: []int64{int64(f.v.a.NativeID)}, Count: 1, Role: role,
			State: f.stateStr, Location: f.loc, Function: f.fn, Stack: stack,
		})
	}
	return gs
}

// Verdict says of the test thread of unit (WorkerState.Unit) whether it
// was "stuck" (the same stack in both rounds), "spinning" (on a CPU the
// whole time) or "moving" (its stack changed: slow, not stuck), with the
// percentage of one CPU it used between the rounds (-1 when unknown), for
// the report's verdict and cpu_percent. "" when the snapshot has no
// stacks of the unit.
func Verdict(in DiagInput, unit string) (string, float64) {
	d := newDiagnoser(in)
	for _, ws := range in.Workers {
		if ws.Unit != unit {
			continue
		}
		vs := d.views(ws.PID)
		if len(vs) == 0 {
			return "", -1
		}
		f := d.find(vs[0])
		cpu := f.w.cpu
		if cpu >= 0 {
			cpu *= 100
		}
		return f.verdict, cpu
	}
	return "", -1
}
