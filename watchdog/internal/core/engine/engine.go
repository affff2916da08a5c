package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/history"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
	"github.com/hangdog/hangdog/watchdog/internal/status"
	"github.com/hangdog/hangdog/watchdog/report"
)

// engine is the state of one run. mu guards everything below it. The
// engine never holds mu while it calls the adapter, whose stream calls
// back into the engine (Sink) with its own lock held.
type engine struct {
	opts   Options
	a      core.Adapter
	log    *zap.Logger
	stderr *syncWriter
	start  time.Time

	rootPID   int
	artifacts string
	madeDir   bool
	base      string

	words     core.Words // what messages call the runner's things
	src       core.Source
	logPath   string    // analyze: the private copy of the input's text
	empty     bool      // analyze: the input held nothing to read
	lastTime  time.Time // offline analyze: the stream's latest event time
	firstTime time.Time // offline analyze: the stream's earliest event time

	hist   *history.History // nil without --history
	status *status.Line     // nil unless a status line is drawn

	mu       sync.Mutex
	tr       *track.Tracker
	book     book
	live     map[string]*liveHang // hangs whose process still runs, by unit
	lastKill kill                 // the last stop of a live hang's process
	warnings []string
	warned   map[string]bool
	seq      int
	stopping bool
	// interruptedTests are the tests that were running when a signal
	// stopped the run.
	interruptedTests []report.RunningTest
	wg               sync.WaitGroup
}

// Run runs the suite with adapter a, watches it, and returns the report
// of the run. The report is returned even with an error; its ExitCode is
// what the process should exit with. Cancelling ctx with an
// *InterruptedError cause stops the run: the tests still running are
// listed, every test process is killed, and the reports are written.
func Run(ctx context.Context, opts Options, a core.Adapter) (*report.Run, error) {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	e := &engine{
		opts:   opts,
		a:      a,
		log:    opts.Logger,
		stderr: &syncWriter{w: opts.Stderr},
		start:  time.Now(),
		tr:     track.New(a),
		warned: make(map[string]bool),
		live:   make(map[string]*liveHang),
		words:  core.GoWords,
	}
	if w, ok := a.(core.Worded); ok {
		e.words = w.Words()
	}
	e.tr.Record = opts.RecordTests || opts.JUnitFile != "" || opts.HTMLFile != "" ||
		opts.HistoryFile != "" || opts.GitHubActions || opts.GitHubStepSummary != ""
	if e.log == nil {
		e.log = zap.NewNop()
	}
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	abs, absErr := filepath.Abs(dir)
	e.base = abs
	a.Start(abs, host{e})
	if opts.HistoryFile == "auto" {
		var path string
		err := absErr
		if err == nil {
			path, err = a.DefaultHistory(opts.Args)
		}
		if err != nil {
			e.warnOnce("history", fmt.Sprintf("hangdog: history: %v", err))
		}
		e.opts.HistoryFile = path
	}
	if e.opts.HistoryFile != "" {
		h, err := history.Open(e.opts.HistoryFile)
		if err != nil {
			e.warnOnce("history", fmt.Sprintf("hangdog: history: %v", err))
		} else if h.Warning != nil {
			e.warnOnce("history", fmt.Sprintf("hangdog: history: %v (starting a new one)", h.Warning))
		}
		e.hist = h
	}
	if opts.Status {
		e.status = status.New(opts.Stdout, status.Options{TTY: true, NoColor: opts.NoColor, Width: opts.Width})
		e.opts.Stdout = e.status
		e.stderr = &syncWriter{w: e.status.Also(opts.Stderr)}
	}
	rep, err := e.run(ctx, absErr)
	run := &report.Run{Report: rep, Tests: e.tr.Tests, Packages: e.tr.Packages}
	sort.SliceStable(run.Tests, func(i, j int) bool { return run.Tests[i].Start.Before(run.Tests[j].Start) })
	sort.SliceStable(run.Packages, func(i, j int) bool { return run.Packages[i].Start.Before(run.Packages[j].Start) })
	if ferr := e.finish(run); ferr != nil && err == nil {
		err = ferr
	}
	return run, err
}

// command is the argv of the run: the raw command, or the adapter's.
func (e *engine) command() []string {
	if len(e.opts.RawCommand) > 0 {
		return e.opts.RawCommand
	}
	return e.a.Command(e.program(), e.opts.Args)
}

func (e *engine) program() string {
	if e.opts.Program != "" {
		return e.opts.Program
	}
	return e.a.Name()
}

func (e *engine) run(ctx context.Context, absErr error) (*report.Report, error) {
	argv := e.command()
	rep := &report.Report{Version: report.Version, Tool: "hangdog", Runner: e.a.Name(), Command: argv, Started: e.start, Hangs: []*report.Hang{}}
	fail := func(err error) (*report.Report, error) {
		rep.ExitCode, rep.Reason = ExitInternal, "error"
		var pe *OutputPathError
		if errors.As(err, &pe) {
			rep.ExitCode = ExitUsage
		}
		rep.DurationSeconds = time.Since(e.start).Seconds()
		return rep, err
	}
	if absErr != nil {
		return fail(fmt.Errorf("resolve directory: %w", absErr))
	}
	rep.Dir = e.base
	if err := e.makeArtifactsDir(); err != nil {
		return fail(err)
	}

	so := core.SourceOptions{User: e.opts.Args, Format: e.opts.Format, Stdout: e.opts.Stdout, TempDir: e.artifacts, Record: e.tr.Record}
	if e.opts.Input != nil {
		tf, err := os.OpenFile(filepath.Join(e.artifacts, "input.log"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fail(fmt.Errorf("analyze: %w", err))
		}
		defer tf.Close()
		so.Log, e.logPath = tf, tf.Name()
	}
	src, err := e.a.NewSource(so, sink{e})
	if err != nil {
		return fail(err)
	}
	e.src = src

	var jsonFile *os.File
	if e.opts.JSONFile != "" {
		jsonFile, err = os.OpenFile(e.opts.JSONFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fail(fmt.Errorf("open --jsonfile: %w", err))
		}
	}

	var stdout io.Reader
	wait := func() error { return nil }
	if e.opts.Input != nil {
		rep.Command = []string{"hangdog", "analyze"}
		stdout = e.opts.Input
	} else {
		env := e.opts.Env
		if len(e.opts.RawCommand) == 0 {
			var done func()
			var err error
			argv, env, done, err = e.a.Prepare(ctx, argv, env)
			if err != nil {
				if jsonFile != nil {
					jsonFile.Close()
				}
				return fail(err)
			}
			defer done()
			rep.Command = argv
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = e.base
		cmd.Env = env
		cmd.Stderr = e.stderr
		proc.Configure(cmd)
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			return fail(fmt.Errorf("start %s: %w", argv[0], err))
		}
		e.log.Info("starting", zap.Strings("argv", argv), zap.String("dir", e.base))
		// Below a reaper, which kills whatever the run leaves, even when
		// we are killed (SIGKILL) ourselves.
		run, err := proc.StartReaped(cmd)
		if err != nil {
			if jsonFile != nil {
				jsonFile.Close()
			}
			return fail(fmt.Errorf("start %s: %w", argv[0], err))
		}
		e.rootPID = run.PID
		if run.Reaper != 0 {
			e.log.Info("reaper", zap.Int("pid", run.Reaper), zap.Int("child", run.PID), zap.String("cgroup", run.Cgroup), zap.String("nocgroup", run.NoCgroup))
		}
		if tree, _, why := proc.Supported(); !tree {
			e.warnOnce("proc", "hangdog: "+why+": stalls are reported but test binaries cannot be captured on this OS")
		}
		stdout, wait = pipe, run.Wait
	}

	// Stop everything on interrupt.
	var cause error
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		select {
		case <-ctx.Done():
			cause = context.Cause(ctx)
			e.interrupt(cause)
		case <-stopWatch:
		}
	}()

	// Check heartbeats.
	tickDone := make(chan struct{})
	var tickWG sync.WaitGroup
	if !e.opts.Offline { // a saved stream is judged at its end, in its own time
		every(&tickWG, tickDone, e.opts.tick(), e.checkStalls)
	}
	if e.status != nil {
		every(&tickWG, tickDone, 250*time.Millisecond, e.updateStatus)
	}

	var r io.Reader = stdout
	var tee *teeWriter
	if jsonFile != nil {
		tee = &teeWriter{w: jsonFile}
		r = io.TeeReader(stdout, tee)
	}
	scanErr := e.scan(ctx, r)
	waitErr := wait()
	close(tickDone)
	tickWG.Wait()
	e.src.Flush() // dumps the stream was still reading
	e.wg.Wait()   // captures in flight
	// Whatever the child left behind in its process group goes now.
	_ = proc.SignalGroup(e.rootPID, syscall.SIGKILL)
	if e.opts.RerunHung && ctx.Err() == nil {
		e.rerunHung(ctx)
	}
	resumed := e.resume(ctx)
	close(stopWatch)
	<-watchDone

	var logRes *core.LogResult
	if lr, ok := e.src.(core.LogReader); ok && e.opts.Input != nil {
		res, err := lr.EndLog()
		if err != nil {
			e.mu.Lock()
			e.addWarning(err.Error())
			e.mu.Unlock()
		}
		logRes = &res
	}
	outErr := e.src.Close()

	e.mu.Lock()
	defer e.mu.Unlock()
	if logRes != nil {
		e.logHangs(logRes)
		if e.opts.Offline {
			e.offlineStalls()
		}
		if e.tr.Counts == (track.Counts{}) && len(e.tr.Order) == 0 {
			// A plain log: its own result lines are all there is.
			e.tr.Counts = track.Counts{Passed: logRes.Passed, Failed: logRes.Failed, Skipped: logRes.Skipped}
			e.tr.FailedUnits = append(e.tr.FailedUnits, logRes.FailedUnits...)
			e.tr.Tests = append(e.tr.Tests, logRes.Tests...)
			e.tr.Packages = append(e.tr.Packages, logRes.Units...)
		}
	}
	end := time.Now()
	if e.opts.Offline && !e.lastTime.IsZero() {
		end = e.lastTime
	}
	e.tr.FinishPending(end)
	if outErr != nil {
		e.addWarning(fmt.Sprintf("write test output: %v", outErr))
	}
	if tee != nil && tee.err != nil {
		e.addWarning(fmt.Sprintf("write --jsonfile: %v", tee.err))
	}
	if jsonFile != nil {
		if err := jsonFile.Close(); err != nil {
			e.addWarning(fmt.Sprintf("close --jsonfile: %v", err))
		}
	}
	if scanErr != nil {
		e.addWarning(fmt.Sprintf("read %s output: %v", e.words.Runner, scanErr))
	}

	rep.Hangs = e.book.hangs
	rep.Slow = e.book.slow
	npkgs := len(e.tr.Order)
	if npkgs == 0 && logRes != nil {
		npkgs = logRes.Results
	}
	rep.Totals = totals(e.tr.Counts, e.book.hung(), npkgs)
	rep.FailedPackages = e.tr.FailedUnits
	rep.BuildFailures = e.tr.BuildFailed
	rep.DurationSeconds = time.Since(e.start).Seconds()
	if e.opts.Input != nil {
		e.inputTimes(rep, logRes)
	}
	rep.ArtifactsDir = e.artifacts
	rep.Warnings = e.warnings
	if lr, ok := e.a.(core.LeakReporter); ok && e.opts.Input == nil {
		leaks, checks, warns := lr.LeakReport()
		rep.Leaks, rep.LeakChecks = leaks, checks
		rep.Warnings = append(rep.Warnings, warns...)
	}
	if logRes != nil && len(logRes.Leaks) > 0 {
		rep.Leaks = logRes.Leaks // the LEAK lines of a hangdog run's log
	}
	if cause != nil {
		rep.Interrupted = e.interruptedTests
	}

	var ie *InterruptedError
	if cause == nil {
		if err := e.emptyInput(logRes); err != nil {
			e.empty = true
			rep.ExitCode, rep.Reason = ExitInternal, "error"
			return rep, err
		}
	}
	switch {
	case errors.As(cause, &ie):
		rep.ExitCode, rep.Reason = ie.ExitCode(), "interrupted"
	case cause != nil:
		rep.ExitCode, rep.Reason = ExitInterrupted, "interrupted"
	case len(e.book.hangs) > 0:
		rep.ExitCode, rep.Reason = ExitHung, "hung"
	case len(rep.BuildFailures) > 0:
		rep.ExitCode, rep.Reason = ExitFailed, "build-failed"
	case rep.Totals.Failed > 0 || len(rep.FailedPackages) > 0 || waitErr != nil:
		rep.ExitCode, rep.Reason = ExitFailed, "failed"
	case e.opts.FailOnLeak && len(rep.Leaks) > 0:
		rep.ExitCode, rep.Reason = ExitLeaked, "leaked"
	default:
		rep.ExitCode, rep.Reason = ExitOK, "passed"
	}
	if f, ok := e.a.(core.Finisher); ok && cause == nil {
		if code, reason, ok := f.Finish(rep, waitErr); ok {
			rep.ExitCode, rep.Reason = code, reason
		}
	}
	if resumed != nil {
		e.mergeResumed(rep, resumed)
	}
	return rep, nil
}

func totals(c track.Counts, hung, units int) report.Totals {
	return report.Totals{Passed: c.Passed, Failed: c.Failed, Skipped: c.Skipped, Hung: hung, Packages: units}
}

// warnOnce prints a warning the first time key is seen.
func (e *engine) warnOnce(key, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.warned[key] {
		return
	}
	e.warned[key] = true
	e.addWarning(msg)
	fmt.Fprintln(e.stderr, msg)
}

func (e *engine) addWarning(msg string) { e.warnings = append(e.warnings, msg) }

// addHang adds a hang of unit to the report; its package is where its
// test is defined (the adapter's Packager; else the unit). Called with
// e.mu held.
func (e *engine) addHang(unit string, h *report.Hang) {
	h.Package = e.packageOf(unit, h.Test)
	e.book.add(unit, h)
}

// packageOf names where test of unit is defined, for the report.
func (e *engine) packageOf(unit, test string) string {
	if p, ok := e.a.(core.Packager); ok && test != "" {
		if pkg := p.Package(unit, test); pkg != "" {
			return pkg
		}
	}
	return unit
}
