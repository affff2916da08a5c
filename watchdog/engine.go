package watchdog

import (
	"bufio"
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

	"github.com/hangdog/hangdog/watchdog/internal/agent"
	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/format"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
	"github.com/hangdog/hangdog/watchdog/internal/history"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
	"github.com/hangdog/hangdog/watchdog/internal/status"
	"github.com/hangdog/hangdog/watchdog/report"
)

// engine is the state of one run. mu guards everything below it.
type engine struct {
	cfg    Config
	runner goRunner // the adapter of the runner: go test
	log    *zap.Logger
	stderr *syncWriter
	start  time.Time

	rootPID   int
	artifacts string
	madeDir   bool
	base      string

	look *gotest.Lookup // package directories, test binaries, modules

	text      *textLog  // analyze: the input's non-JSON text
	empty     bool      // analyze: the input held nothing to read
	lastTime  time.Time // offline analyze: the stream's latest event time
	firstTime time.Time // offline analyze: the stream's earliest event time

	inj  *agent.Injection     // the agent in the test binaries; nil without
	live map[string]*liveHang // hangs whose binary still runs, by package
	slow []*Hang              // stalls that turned out slow, not stuck

	leaks *leakState // the leak check's results (leaks.go); nil when off

	hist   *history.History // nil without --history
	status *status.Line     // nil unless a status line is drawn

	mu         sync.Mutex
	tr         *track.Tracker
	out        format.Formatter
	collectors map[string]*collector
	hangs      []*Hang
	warnings   []string
	warned     map[string]bool
	seq        int
	stopping   bool
	// interruptedTests are the tests that were running when a signal
	// stopped the run.
	interruptedTests []RunningTest
	wg               sync.WaitGroup
}

// goRunner is what the engine asks of its runner adapter so far (see
// ARCHITECTURE.md for what is still to move behind it).
type goRunner interface {
	core.CommandBuilder
	core.Rerunner
	core.Namer
}

// Run runs the suite as configured, watches it, and returns the report of
// the run. The report is returned even with an error; its ExitCode is what
// the process should exit with. Cancelling ctx with an *InterruptedError
// cause stops the run: the tests still running are listed, every test
// process is killed, and the reports are written.
func Run(ctx context.Context, cfg Config) (*report.Run, error) {
	if err := cfg.Validate(); err != nil {
		return &report.Run{Report: &Report{Version: ReportVersion, Tool: "hangdog", Runner: gotest.Runner{}.Name(), ExitCode: ExitUsage, Reason: "error"}}, err
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	e := &engine{
		cfg:        cfg,
		runner:     gotest.Runner{},
		log:        cfg.Logger,
		stderr:     &syncWriter{w: cfg.Stderr},
		start:      time.Now(),
		tr:         track.New(gotest.Runner{}),
		collectors: make(map[string]*collector),
		warned:     make(map[string]bool),
		live:       make(map[string]*liveHang),
	}
	e.tr.Record = cfg.RecordTests || cfg.JUnitFile != "" || cfg.HTMLFile != "" ||
		cfg.HistoryFile != "" || cfg.GitHubActions || cfg.GitHubStepSummary != ""
	if e.log == nil {
		e.log = zap.NewNop()
	}
	lookGo := cfg.Go
	if lookGo == "" || len(cfg.RawCommand) > 0 {
		lookGo = "go"
	}
	e.look = &gotest.Lookup{Go: lookGo, Env: cfg.Env}
	if cfg.HistoryFile == "auto" {
		path, err := e.defaultHistory()
		if err != nil {
			e.warnOnce("history", fmt.Sprintf("hangdog: history: %v", err))
		}
		cfg.HistoryFile = path
	}
	if cfg.HistoryFile != "" {
		h, err := history.Open(cfg.HistoryFile)
		if err != nil {
			e.warnOnce("history", fmt.Sprintf("hangdog: history: %v", err))
		} else if h.Warning != nil {
			e.warnOnce("history", fmt.Sprintf("hangdog: history: %v (starting a new one)", h.Warning))
		}
		e.hist = h
	}
	if cfg.Status {
		e.status = status.New(cfg.Stdout, status.Options{TTY: true, NoColor: cfg.NoColor, Width: cfg.Width})
		e.cfg.Stdout = e.status
		e.stderr = &syncWriter{w: e.status.Also(cfg.Stderr)}
	}
	rep, err := e.run(ctx)
	run := &report.Run{Report: rep, Tests: e.tr.Tests, Packages: e.tr.Packages}
	sort.SliceStable(run.Tests, func(i, j int) bool { return run.Tests[i].Start.Before(run.Tests[j].Start) })
	sort.SliceStable(run.Packages, func(i, j int) bool { return run.Packages[i].Start.Before(run.Packages[j].Start) })
	if ferr := e.finish(run); ferr != nil && err == nil {
		err = ferr
	}
	return run, err
}

func (e *engine) command() []string {
	if len(e.cfg.RawCommand) > 0 {
		return e.cfg.RawCommand
	}
	g := e.cfg.Go
	if g == "" {
		g = "go"
	}
	return e.runner.Command(g, e.cfg.Args)
}

func (e *engine) run(ctx context.Context) (*Report, error) {
	argv := e.command()
	rep := &Report{Version: ReportVersion, Tool: "hangdog", Runner: e.runner.Name(), Command: argv, Started: e.start, Hangs: []*Hang{}}
	fail := func(err error) (*Report, error) {
		rep.ExitCode, rep.Reason = ExitInternal, "error"
		var pe *OutputPathError
		if errors.As(err, &pe) {
			rep.ExitCode = ExitUsage
		}
		rep.DurationSeconds = time.Since(e.start).Seconds()
		return rep, err
	}

	dir := e.cfg.Dir
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fail(fmt.Errorf("resolve directory: %w", err))
	}
	e.base = abs
	e.look.Dir = abs
	rep.Dir = abs
	if err := e.makeArtifactsDir(); err != nil {
		return fail(err)
	}

	name := e.cfg.Format
	if name == "" {
		name = "standard-quiet"
		if e.runner.Verbose(e.cfg.Args) {
			name = "standard-verbose"
		}
	}
	out, err := format.New(name, e.cfg.Stdout, format.Options{TempDir: e.artifacts})
	if err != nil {
		return fail(err)
	}
	e.out = out

	var jsonFile *os.File
	if e.cfg.JSONFile != "" {
		jsonFile, err = os.OpenFile(e.cfg.JSONFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fail(fmt.Errorf("open --jsonfile: %w", err))
		}
	}

	var stdout io.Reader
	wait := func() error { return nil }
	if e.cfg.Input != nil {
		tf, err := os.OpenFile(filepath.Join(e.artifacts, "input.log"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fail(fmt.Errorf("analyze: %w", err))
		}
		e.text = &textLog{f: tf, path: tf.Name(), record: e.tr.Record}
		defer tf.Close()
		rep.Command = []string{"hangdog", "analyze"}
		stdout = &unprefixReader{br: bufio.NewReaderSize(e.cfg.Input, 64<<10)}
	} else {
		env := e.cfg.Env
		useAgent := !e.cfg.NoAgent && len(e.cfg.RawCommand) == 0
		if useAgent {
			if v, ok := gotest.GoMinor(argv[0], abs, e.cfg.Env); ok && v < 24 && !gotest.VetOff(e.cfg.Args) {
				// Before Go 1.24, the vet step of go test cannot read
				// files that -overlay adds: the build would fail.
				useAgent = false
				e.warnOnce("agent", fmt.Sprintf("hangdog: go1.%d's vet cannot read overlay files: no agent in the test binaries, stalls are captured with SIGQUIT (Go 1.24+, or -vet=off, keeps the agent)", v))
			}
		}
		if useAgent {
			inj, err := agent.Prepare(ctx, agent.PrepareOptions{Go: argv[0], Dir: abs, Env: e.cfg.Env, Args: argv[2:], LeakGrace: e.cfg.leakGrace()})
			if err != nil {
				e.warnOnce("agent", fmt.Sprintf("hangdog: no agent in the test binaries (%v): stalls are captured with SIGQUIT", err))
			} else {
				e.inj = inj
				e.leaks = newLeakState(inj, abs, e.cfg.leakGrace())
				defer inj.Close()
				argv = append([]string{argv[0], "test"}, inj.Args...)
				rep.Command = argv
				if env == nil {
					env = os.Environ()
				}
				env = append(append([]string(nil), env...), inj.Env...)
			}
		}
		e.warnNoLeakCheck()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = abs
		cmd.Env = env
		cmd.Stderr = e.stderr
		proc.Configure(cmd)
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			return fail(fmt.Errorf("start %s: %w", argv[0], err))
		}
		e.log.Info("starting", zap.Strings("argv", argv), zap.String("dir", abs))
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
	if !e.cfg.Offline { // a saved stream is judged at its end, in its own time
		every(&tickWG, tickDone, e.cfg.tick(), e.checkStalls)
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
	e.finishPassive()
	e.wg.Wait() // captures in flight
	// Whatever the child left behind in its process group goes now.
	_ = proc.SignalGroup(e.rootPID, syscall.SIGKILL)
	if e.cfg.RerunHung && ctx.Err() == nil {
		e.rerunHung(ctx)
	}
	close(stopWatch)
	<-watchDone

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.text != nil {
		e.diagnoseText()
		e.leaks = e.text.leaks.state() // the LEAK lines of a hangdog run's log
		if e.cfg.Offline {
			e.offlineStalls()
		}
		if e.tr.Counts == (Counts{Hung: e.tr.Counts.Hung}) && len(e.tr.Order) == 0 {
			// A plain log: its own result lines are all there is.
			c := e.text.counts
			c.Hung = e.tr.Counts.Hung
			e.tr.Counts = c
			for _, r := range e.text.results {
				if !r.ok {
					e.tr.FailedUnits = append(e.tr.FailedUnits, r.pkg)
				}
			}
			e.tr.Tests = append(e.tr.Tests, e.text.tests...)
			e.tr.Packages = append(e.tr.Packages, e.text.packages...)
		}
	}
	end := time.Now()
	if e.cfg.Offline && !e.lastTime.IsZero() {
		end = e.lastTime
	}
	e.tr.FinishPending(end)
	if err := e.out.Close(); err != nil {
		e.addWarning(fmt.Sprintf("write test output: %v", err))
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
		e.addWarning(fmt.Sprintf("read go test output: %v", scanErr))
	}

	rep.Hangs = e.hangs
	rep.Slow = e.slow
	npkgs := len(e.tr.Order)
	if npkgs == 0 && e.text != nil {
		npkgs = len(e.text.results)
	}
	rep.Totals = totals(e.tr.Counts, npkgs)
	rep.FailedPackages = e.tr.FailedUnits
	rep.BuildFailures = e.tr.BuildFailed
	rep.DurationSeconds = time.Since(e.start).Seconds()
	if e.cfg.Input != nil {
		e.inputTimes(rep)
	}
	rep.ArtifactsDir = e.artifacts
	rep.Warnings = e.warnings
	e.leaks.fill(rep)
	if cause != nil {
		rep.Interrupted = e.interruptedTests
	}

	var ie *InterruptedError
	if cause == nil {
		if err := e.emptyInput(); err != nil {
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
	case len(e.hangs) > 0:
		rep.ExitCode, rep.Reason = ExitHung, "hung"
	case len(rep.BuildFailures) > 0:
		rep.ExitCode, rep.Reason = ExitFailed, "build-failed"
	case rep.Totals.Failed > 0 || len(rep.FailedPackages) > 0 || waitErr != nil:
		rep.ExitCode, rep.Reason = ExitFailed, "failed"
	case e.cfg.FailOnLeak && len(rep.Leaks) > 0:
		rep.ExitCode, rep.Reason = ExitLeaked, "leaked"
	default:
		rep.ExitCode, rep.Reason = ExitOK, "passed"
	}
	return rep, nil
}

// Counts are the test totals of a run.
type Counts = track.Counts

func totals(c Counts, pkgs int) Totals {
	return Totals{Passed: c.Passed, Failed: c.Failed, Skipped: c.Skipped, Hung: c.Hung, Packages: pkgs}
}

func (e *engine) makeArtifactsDir() error {
	if e.cfg.ArtifactsDir == "" {
		d, err := os.MkdirTemp("", "hangdog-")
		if err != nil {
			return fmt.Errorf("artifacts directory: %w", err)
		}
		e.artifacts, e.madeDir = d, true
		return nil
	}
	d, err := filepath.Abs(e.cfg.ArtifactsDir)
	if err != nil {
		return fmt.Errorf("artifacts directory: %w", err)
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return &OutputPathError{Flag: "--artifacts", Path: e.cfg.ArtifactsDir, Err: errnoOf(err)}
	}
	e.artifacts = d
	return nil
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

// addHang adds a hang to the report: its unit is its package (go test runs
// a package's tests in one binary). Called with e.mu held.
func (e *engine) addHang(h *Hang) {
	h.Unit = h.Package
	e.hangs = append(e.hangs, h)
}
