package engine

// Tests of the engine against a fake runner: events and canned snapshots
// come from memory, so the capture policy's paths (stall → snapshot →
// hang, recovered, slow, killed, stopped, ghost, rerun, interrupt) run
// deterministically without go test. Each script waits for what the
// engine did (a snapshot taken, a live hang registered), never for time.

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
	"github.com/hangdog/hangdog/watchdog/report"
)

// fake is a runner adapter whose output is a script.
type fake struct {
	t       *testing.T
	argv    []string // the command it runs (a real, harmless process)
	unitPID int      // the process it names as every unit's
	script  func(f *fake, s core.Sink)
	snap    func(req core.SnapRequest) *core.Snapshot
	diag    func(s *core.Snapshot, req core.SnapRequest) []core.Diagnosis
	host    core.Host

	mu      sync.Mutex
	snaps   []core.SnapRequest
	stops   []string
	snapped chan struct{} // closed at the first snapshot's end
	stopped chan struct{} // closed at the first Stop
}

func newFake(t *testing.T) *fake {
	t.Helper()
	// The unit's process: a sleep the engine may look at and kill.
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &fake{t: t, argv: []string{"true"}, unitPID: cmd.Process.Pid,
		snapped: make(chan struct{}), stopped: make(chan struct{})}
}

func (f *fake) Name() string                             { return "fake" }
func (f *fake) Command(_ string, user []string) []string { return append([]string(nil), f.argv...) }
func (f *fake) Verbose([]string) bool                    { return false }
func (f *fake) RerunArgs(user []string, unit, test string) []string {
	return append(append([]string(nil), user...), "--only", unit+"::"+test)
}
func (f *fake) Parent(string) (string, bool) { return "", false }
func (f *fake) FindProcess(root int, unit string) (*proc.Process, error) {
	p, err := proc.Get(f.unitPID)
	if err != nil {
		return nil, nil
	}
	return &p, nil
}
func (f *fake) UnitProcesses(int, []string) []core.UnitProcess { return nil }
func (f *fake) Start(dir string, h core.Host)                  { f.host = h }
func (f *fake) Prepare(_ context.Context, argv, env []string) ([]string, []string, func(), error) {
	return argv, env, func() {}, nil
}
func (f *fake) DefaultHistory([]string) (string, error) { return "", nil }
func (f *fake) NewSource(o core.SourceOptions, s core.Sink) (core.Source, error) {
	return &fakeSource{f: f, sink: s}, nil
}

func (f *fake) Snapshot(req core.SnapRequest) *core.Snapshot {
	req.Ready()
	s := f.snap(req)
	f.mu.Lock()
	f.snaps = append(f.snaps, req)
	if len(f.snaps) == 1 {
		defer close(f.snapped)
	}
	f.mu.Unlock()
	return s
}

func (f *fake) Stop(unit string, pid int, dir string) (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, unit)
	if len(f.stops) == 1 {
		close(f.stopped)
	}
	return filepath.Join(dir, "final.txt"), ""
}

func (f *fake) Diagnose(s *core.Snapshot, req core.SnapRequest) []core.Diagnosis {
	return f.diag(s, req)
}

type fakeSource struct {
	f    *fake
	sink core.Sink
}

func (s *fakeSource) Scan(r io.Reader) error {
	s.f.script(s.f, s.sink)
	_, err := io.Copy(io.Discard, r)
	return err
}
func (s *fakeSource) Flush()       {}
func (s *fakeSource) Close() error { return nil }

// wait waits for ch, failing the test after a generous deadline.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(60 * time.Second):
		t.Errorf("timed out waiting for %s", what)
	}
}

// liveSnap is a snapshot that left the process running, with its files in
// a capture directory.
func liveSnap(t *testing.T) func(core.SnapRequest) *core.Snapshot {
	dir := t.TempDir()
	return func(req core.SnapRequest) *core.Snapshot {
		return &core.Snapshot{Kind: "snapshot", Seconds: 0.01, Dir: dir, Artifacts: map[string]string{"dump": filepath.Join(dir, "stacks.txt")}, Notes: []string{"a note"}}
	}
}

// stuck diagnoses every stalled test as stuck on a lock.
func stuck(verdict string) func(*core.Snapshot, core.SnapRequest) []core.Diagnosis {
	return func(_ *core.Snapshot, req core.SnapRequest) []core.Diagnosis {
		var out []core.Diagnosis
		for _, test := range req.Tests {
			out = append(out, core.Diagnosis{Test: test, Phase: report.PhaseTest, State: "sync.Mutex.Lock", Location: "x_test.go:7",
				Summary: test + " waits for a lock at x_test.go:7", Verdict: verdict,
				Goroutines: []report.GoroutineGroup{{Count: 1, IDs: []int64{7}, State: "sync.Mutex.Lock", Location: "x_test.go:7", Role: "test"}}})
		}
		return out
	}
}

func ev(unit, test string, a core.Action) core.Event {
	return core.Event{Unit: unit, Test: test, Action: a}
}

func fakeOpts(t *testing.T, stderr io.Writer) Options {
	return Options{Stall: 500 * time.Millisecond, Tick: 10 * time.Millisecond, KillAfter: time.Hour,
		ArtifactsDir: t.TempDir(), Stderr: stderr}
}

// TestFakeStallKilled: a test quiet past --stall is snapshotted (the
// process keeps running), reported as a hang with the diagnosis, and its
// process is stopped at --kill-after; the run exits "hung".
func TestFakeStallKilled(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.snap, f.diag = liveSnap(t), stuck("stuck")
	f.script = func(f *fake, s core.Sink) {
		s.Event(ev("u", "", "start"))
		s.Event(ev("u", "TestA", core.ActionRun))
		s.Event(ev("u", "TestA", core.ActionPass))
		s.Event(ev("u", "TestB", core.ActionRun))
		wait(f.t, f.stopped, "the kill")
		s.Event(ev("u", "", core.ActionFail))
	}
	var stderr bytes.Buffer
	o := fakeOpts(t, &syncBuffer{b: &stderr})
	o.KillAfter = time.Second
	run, err := Run(context.Background(), o, f)
	if err != nil {
		t.Fatal(err)
	}
	rep := run.Report
	if rep.ExitCode != ExitHung || rep.Reason != "hung" || rep.Runner != "fake" {
		t.Fatalf("exit %d reason %q runner %q", rep.ExitCode, rep.Reason, rep.Runner)
	}
	if len(rep.Hangs) != 1 {
		t.Fatalf("%d hangs", len(rep.Hangs))
	}
	h := rep.Hangs[0]
	if h.Test != "TestB" || h.Unit != "u" || h.Capture != "snapshot" || !h.Killed || h.Verdict != "stuck" ||
		h.Location != "x_test.go:7" || !strings.HasPrefix(h.Summary, "TestB waits for a lock") || h.PID != f.unitPID ||
		h.Artifacts["final_dump"] == "" || len(h.CaptureNotes) != 1 {
		t.Errorf("hang %+v", h)
	}
	if rep.Totals.Passed != 1 || rep.Totals.Hung != 1 {
		t.Errorf("totals %+v", rep.Totals)
	}
	if len(f.snaps) != 1 || len(f.snaps[0].Tests) != 1 || f.snaps[0].Tests[0] != "TestB" || f.snaps[0].Phase != report.PhaseTest {
		t.Errorf("snapshot requests %+v", f.snaps)
	}
	for _, want := range []string{"STALL u TestB", "HANG u TestB", "keeps running", "KILL u"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr has no %q:\n%s", want, stderr.String())
		}
	}
}

// TestFakeRecovered: a live hang whose test makes progress again leaves
// the hangs for the slow stalls, marked recovered; the run passes.
func TestFakeRecovered(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.snap, f.diag = liveSnap(t), stuck("stuck")
	var e *engine
	f.script = func(f *fake, s core.Sink) {
		e = s.(sink).e
		s.Event(ev("u", "TestA", core.ActionRun))
		wait(f.t, f.snapped, "the snapshot")
		waitFor(f.t, "the live hang", func() bool {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.live["u"] != nil
		})
		s.Event(core.Event{Unit: "u", Test: "TestA", Action: core.ActionOutput, Output: "still here\n"})
		s.Event(ev("u", "TestA", core.ActionPass))
		s.Event(ev("u", "", core.ActionPass))
	}
	run, err := Run(context.Background(), fakeOpts(t, nil), f)
	if err != nil {
		t.Fatal(err)
	}
	rep := run.Report
	if rep.ExitCode != ExitOK || len(rep.Hangs) != 0 || len(rep.Slow) != 1 || !rep.Slow[0].Recovered || rep.Totals.Hung != 0 {
		t.Fatalf("exit %d, hangs %d, slow %+v, totals %+v", rep.ExitCode, len(rep.Hangs), rep.Slow, rep.Totals)
	}
	if len(f.stops) != 0 {
		t.Errorf("a recovered test's process was stopped")
	}
}

// TestFakeSlow: a snapshot whose goroutines all moved is slow, not stuck:
// no hang, the stall is listed as slow, the test may pass.
func TestFakeSlow(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.snap, f.diag = liveSnap(t), stuck("moving")
	f.script = func(f *fake, s core.Sink) {
		s.Event(ev("u", "TestA", core.ActionRun))
		wait(f.t, f.snapped, "the snapshot")
		s.Event(ev("u", "TestA", core.ActionPass))
		s.Event(ev("u", "", core.ActionPass))
	}
	var stderr bytes.Buffer
	run, err := Run(context.Background(), fakeOpts(t, &syncBuffer{b: &stderr}), f)
	if err != nil {
		t.Fatal(err)
	}
	rep := run.Report
	if rep.ExitCode != ExitOK || len(rep.Hangs) != 0 || len(rep.Slow) == 0 || rep.Slow[0].Verdict != "moving" || rep.Slow[0].Recovered {
		t.Fatalf("exit %d, hangs %d, slow %+v", rep.ExitCode, len(rep.Hangs), rep.Slow)
	}
	if !strings.Contains(stderr.String(), "SLOW u TestA") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// TestFakeStopped: a snapshot that stopped the process (SIGQUIT) is a
// hang at once, killed, with no wait for --kill-after; a diagnosis with
// no goroutine of the test left makes a ghost, which is no hang.
func TestFakeStopped(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.snap = func(req core.SnapRequest) *core.Snapshot {
		req.BeforeStop()
		return &core.Snapshot{Kind: "sigquit", Stopped: true, Seconds: 0.2, Artifacts: map[string]string{"dump": "d.txt"}}
	}
	f.diag = func(s *core.Snapshot, req core.SnapRequest) []core.Diagnosis {
		out := stuck("")(s, req)
		for i := range out {
			if out[i].Test == "TestGhost" {
				out[i].Goroutines = nil // its function has returned
			}
		}
		return out
	}
	f.script = func(f *fake, s core.Sink) {
		s.Event(ev("u", "TestA", core.ActionRun))
		s.Event(ev("u", "TestGhost", core.ActionRun))
		wait(f.t, f.snapped, "the snapshot")
		s.Event(ev("u", "", core.ActionFail))
	}
	run, err := Run(context.Background(), fakeOpts(t, nil), f)
	if err != nil {
		t.Fatal(err)
	}
	rep := run.Report
	if rep.ExitCode != ExitHung || len(rep.Hangs) != 1 || rep.Totals.Hung != 1 {
		t.Fatalf("exit %d, hangs %+v", rep.ExitCode, rep.Hangs)
	}
	h := rep.Hangs[0]
	if h.Test != "TestA" || h.Capture != "sigquit" || !h.Killed || h.Artifacts["dump"] != "d.txt" || h.Verdict != "" {
		t.Errorf("hang %+v", h)
	}
	if len(f.stops) != 0 {
		t.Errorf("Stop called for a stopped snapshot")
	}
}

// TestFakeNoStacks: a snapshot with no stacks is still a hang, with the
// reason in its summary.
func TestFakeNoStacks(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.snap = func(req core.SnapRequest) *core.Snapshot {
		return &core.Snapshot{Kind: "sigquit", Stopped: true, Err: "the binary printed no goroutine dump", Errors: []string{"the binary printed no goroutine dump"}, Artifacts: map[string]string{}}
	}
	f.diag = func(*core.Snapshot, core.SnapRequest) []core.Diagnosis { return nil }
	f.script = func(f *fake, s core.Sink) {
		s.Event(ev("u", "TestA", core.ActionRun))
		wait(f.t, f.snapped, "the snapshot")
		s.Event(ev("u", "", core.ActionFail))
	}
	run, err := Run(context.Background(), fakeOpts(t, nil), f)
	if err != nil {
		t.Fatal(err)
	}
	if hs := run.Report.Hangs; len(hs) != 1 || !strings.HasSuffix(hs[0].Summary, "; the binary printed no goroutine dump") || hs[0].CaptureError == "" {
		t.Fatalf("hangs %+v", hs)
	}
}

// TestFakeRerun: --rerun-hung runs the hung test alone with the
// adapter's selection and a fresh adapter; a rerun that passes says the
// hang needs other tests beside it.
func TestFakeRerun(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.snap = func(req core.SnapRequest) *core.Snapshot {
		return &core.Snapshot{Kind: "sigquit", Stopped: true, Artifacts: map[string]string{}}
	}
	f.diag = stuck("")
	f.script = func(f *fake, s core.Sink) {
		s.Event(ev("u", "TestA", core.ActionRun))
		wait(f.t, f.snapped, "the snapshot")
		s.Event(ev("u", "", core.ActionFail))
	}
	var rerun *fake
	o := fakeOpts(t, nil)
	o.Args = []string{"-x"}
	o.RerunHung = true
	o.NewAdapter = func() core.Adapter {
		rerun = newFake(t)
		rerun.script = func(f *fake, s core.Sink) {
			s.Event(ev("u", "TestA", core.ActionRun))
			s.Event(ev("u", "TestA", core.ActionPass))
			s.Event(ev("u", "", core.ActionPass))
		}
		return rerun
	}
	run, err := Run(context.Background(), o, f)
	if err != nil {
		t.Fatal(err)
	}
	hs := run.Report.Hangs
	if len(hs) != 1 || hs[0].Rerun == nil || hs[0].Rerun.Result != "passed-alone" {
		t.Fatalf("hangs %+v", hs)
	}
	if got := strings.Join(hs[0].Rerun.Args, " "); got != "true" {
		t.Errorf("rerun command %q", got)
	}
	if rerun == nil || len(rerun.snaps) != 0 {
		t.Errorf("rerun adapter %+v", rerun)
	}
}

// TestFakeInterrupt: cancelling the run with a signal lists the tests
// still running, kills the runner's process (its output then ends) and
// exits 128 + the signal.
func TestFakeInterrupt(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.argv = []string{"sleep", "600"} // the runner: only the interrupt ends it
	f.snap, f.diag = liveSnap(t), stuck("stuck")
	ctx, cancel := context.WithCancelCause(context.Background())
	f.script = func(f *fake, s core.Sink) {
		s.Event(ev("u", "TestA", core.ActionRun))
		cancel(&InterruptedError{Signal: syscall.SIGTERM})
	}
	o := fakeOpts(t, nil)
	o.Stall = time.Hour
	run, err := Run(ctx, o, f)
	if err != nil {
		t.Fatal(err)
	}
	rep := run.Report
	if rep.ExitCode != 143 || rep.Reason != "interrupted" || len(rep.Interrupted) != 1 || rep.Interrupted[0].Test != "TestA" || rep.Interrupted[0].Unit != "u" {
		t.Fatalf("exit %d reason %q interrupted %+v", rep.ExitCode, rep.Reason, rep.Interrupted)
	}
}

// waitFor polls cond (a state the engine reaches on its own) until it
// holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the engine's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestFreed: a stuck test of one unit that moves again right after
// hangdog stopped another unit's process at --kill-after was waiting for
// what that process held: it stays reported as hung, says what freed it,
// and its own process is not stopped; later than freedWindow, or after a
// stop of its own unit, moving again is a recovery.
func TestFreed(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, c := range []struct {
		name      string
		killed    string
		ago       time.Duration
		freed     bool
		recovered bool
	}{
		{"just after another unit's stop", "u1", time.Second, true, false},
		{"long after", "u1", freedWindow + time.Second, false, true},
		{"no stop", "", 0, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &engine{tr: track.New(&fake{}), live: map[string]*liveHang{}, warned: map[string]bool{},
				stderr: &syncWriter{w: io.Discard}, words: core.GoWords}
			e.tr.Observe(&core.Event{Unit: "u2", Test: "TestWaiter", Action: core.ActionRun}, now.Add(-time.Minute))
			e.tr.Flag("u2", "TestWaiter")
			h := &report.Hang{Package: "u2", Test: "TestWaiter", Summary: "waits"}
			e.addHang("u2", h)
			e.live["u2"] = &liveHang{pkg: "u2", hangs: []*report.Hang{h}}
			if c.killed != "" {
				e.lastKill = kill{unit: c.killed, pid: 42, at: now.Add(-c.ago)}
			}
			e.recoverTest("u2", "TestWaiter", now)
			if got := h.FreedBy != ""; got != c.freed {
				t.Errorf("freed by %q, want freed %v", h.FreedBy, c.freed)
			}
			if h.Recovered != c.recovered || e.book.has("u2", "TestWaiter") == c.recovered {
				t.Errorf("recovered %v, in the hangs %v; want recovered %v", h.Recovered, e.book.has("u2", "TestWaiter"), c.recovered)
			}
			if c.freed && (e.live["u2"] != nil || !strings.Contains(h.Summary, "after hangdog stopped u1 (test binary 42")) {
				t.Errorf("live %v, summary %q", e.live["u2"], h.Summary)
			}
		})
	}
}
