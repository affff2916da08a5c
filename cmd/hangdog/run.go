package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hangdog/hangdog/watchdog"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "devel"

// usageError is a mistake in how hangdog was called.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// exitError carries the exit code of a finished run.
type exitError struct {
	code int
	err  error // nil when the run itself went fine
}

func (e *exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}

// inputError is inputs that could not be read, or held nothing the
// subcommand reads (no test events, no goroutine dump): one line each.
type inputError struct{ errs []error }

func (e *inputError) Error() string { return errors.Join(e.errs...).Error() }

// errHelp is returned after --help or --version was printed.
var errHelp = errors.New("help requested")

// exitCode maps the result of run onto the process exit code. This is the
// one place where errors become exit codes.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	var ee *exitError
	var pe *watchdog.OutputPathError
	var ie *inputError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return watchdog.ExitOK
	case errors.As(err, &pe):
		// An output that cannot be written, found before the run: the
		// line names the flag and the path; no usage hint.
		fmt.Fprintf(stderr, "hangdog: %v\n", pe)
		return watchdog.ExitUsage
	case errors.As(err, &ie):
		for _, e := range ie.errs {
			fmt.Fprintf(stderr, "hangdog: %v\n", e)
		}
		return watchdog.ExitInternal
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "hangdog: %v\nRun 'hangdog --help' for usage.\n", ue.err)
		return watchdog.ExitUsage
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintf(stderr, "hangdog: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "hangdog: %v\n", err)
	return watchdog.ExitInternal
}

const usageHead = `Usage: hangdog [flags] [--] [go test args]
       hangdog pytest [flags] [-- pytest args]   (see hangdog pytest --help)
       hangdog stacks [flags] [FILE|-]...    (see hangdog stacks --help)
       hangdog analyze [flags] [FILE|-]...   (see hangdog analyze --help)

hangdog runs 'go test -json [go test args]' (default package pattern ./...),
shows the output as go test would, and watches every test. A test that makes
no progress for --stall is reported at once; hangdog captures the goroutines
of its test binary and tells which test is stuck, on which line, and why.
The rest of the suite keeps running.

Flags:
`

const usageTail = `
Exit codes (the README has one table for every subcommand):
  0    all tests passed
  1    a test failed, a package failed to build, or go test failed
  2    hangdog was called wrongly: a bad flag or value, or an output path
       that cannot be written (found before anything runs)
  3    a hang was detected (wins over 1)
  4    hangdog itself failed: could not start go, could not write a report,
       or an input could not be read or held nothing to read
  130  interrupted by SIGINT;  143  by SIGTERM
`

type options struct {
	dir        string
	format     string
	jsonFile   string
	reportJSON string
	artifacts  string
	stall      time.Duration
	stallFor   []string
	quitGrace  time.Duration
	raw        bool
	rerunHung  bool
	junitFile  string
	htmlFile   string
	history    string
	noStatus   bool
	noAgent    bool
	leaks      bool
	failOnLeak bool
	leakGrace  time.Duration
	killAfter  time.Duration
	logFile    string
	logLevel   string
	logFormat  string
	version    bool
	help       bool
	// hangdog pytest
	python string
	module bool
}

func newFlagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("hangdog", pflag.ContinueOnError)
	fs.SetInterspersed(false)
	fs.StringVarP(&o.dir, "dir", "C", "", "run go test in `DIR` (default: the current directory)")
	fs.StringVar(&o.format, "format", "", "output format: standard-quiet (default; standard-verbose with -v), standard-verbose, dots, pkgname, testname, pkgname-and-test-fails")
	fs.StringVar(&o.jsonFile, "jsonfile", "", "write the raw go test -json event stream to `FILE`, byte for byte")
	fs.StringVar(&o.reportJSON, "report-json", "", "write the JSON report of the run to `FILE`")
	fs.StringVar(&o.junitFile, "junitfile", "", "write a JUnit XML report to `FILE` (hung tests are failures)")
	fs.StringVar(&o.htmlFile, "html", "", "write a self-contained HTML report (timeline, hangs, failures) to `FILE`")
	fs.StringVar(&o.history, "history", "", "keep per-test durations in `FILE` for adaptive stall thresholds and the progress ETA; --history alone uses the default path (see README)")
	fs.Lookup("history").NoOptDefVal = "auto"
	fs.BoolVar(&o.noStatus, "no-status", false, "never draw the live status line (it is drawn only when stdout is a terminal)")
	fs.StringVar(&o.artifacts, "artifacts", "", "write dumps and parsed reports to `DIR` (default: a new private directory under the OS temp dir)")
	fs.DurationVar(&o.stall, "stall", watchdog.DefaultStall, "a running test with no output or event for this `duration` is stalled")
	fs.StringArrayVar(&o.stallFor, "stall-for", nil, "per-test stall threshold, `PATTERN=DURATION` (regexp on the full test name; repeatable; first match wins)")
	fs.DurationVar(&o.killAfter, "kill-after", watchdog.DefaultKillAfter, "stop a stalled test binary (last goroutine dump, then SIGKILL of its tree) after this `duration` without progress; until then it is only looked at (never less than --stall)")
	fs.BoolVar(&o.noAgent, "no-agent", false, "do not inject the snapshot agent into test binaries: a stall is then captured with SIGQUIT at once, which stops the binary")
	fs.BoolVar(&o.leaks, "leaks", false, "report the tests that leave goroutines blocked after they ended (needs the agent)")
	fs.BoolVar(&o.failOnLeak, "fail-on-leak", false, "check for leaks, and a leak fails the run with exit code 5 (a hang or a failed test wins)")
	fs.DurationVar(&o.leakGrace, "leak-grace", watchdog.DefaultLeakGrace, "how long a test's goroutines may outlive it before they count as leaked")
	fs.DurationVar(&o.quitGrace, "quit-grace", 15*time.Second, "how long a stalled test binary gets to print its goroutines after SIGQUIT before it is killed")
	fs.BoolVar(&o.rerunHung, "rerun-hung", false, "after the suite, run each hung test again by itself to tell a deadlock in the test from a hang that needs other tests beside it (default: on when the CI environment variable is set)")
	fs.BoolVar(&o.raw, "raw-command", false, "the arguments are a command that prints a go test -json stream, run instead of go test")
	fs.StringVar(&o.logFile, "log-file", "", "write hangdog's own log (stalls, captures, kills) to `FILE` (default: no log)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", "console", "log format: console or json")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help and exit")
	fs.SortFlags = false
	return fs
}

func usage(w io.Writer, fs *pflag.FlagSet) {
	io.WriteString(w, usageHead)
	io.WriteString(w, flagUsages(fs))
	io.WriteString(w, usageTail)
}

// run is hangdog without the process around it: it parses args, runs the
// suite and returns an error that exitCode maps onto the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	_, noColor := os.LookupEnv("NO_COLOR")
	return runEnv(ctx, args, stdin, stdout, stderr, environment{
		ci:                os.Getenv("CI") != "",
		githubActions:     os.Getenv("GITHUB_ACTIONS") == "true",
		githubStepSummary: os.Getenv("GITHUB_STEP_SUMMARY"),
		noColor:           noColor,
	})
}

// environment is what hangdog reads of its environment, read once here at
// the edge.
type environment struct {
	ci                bool   // CI is set: --rerun-hung defaults to on
	githubActions     bool   // GITHUB_ACTIONS=true: annotations and a step summary
	githubStepSummary string // GITHUB_STEP_SUMMARY
	noColor           bool   // NO_COLOR is set
}

// runEnv is run with the environment given.
func runEnv(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env environment) error {
	if len(args) > 0 && args[0] == "stacks" {
		return runStacks(ctx, args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "analyze" {
		return runAnalyze(ctx, args[1:], stdin, stdout, stderr, env)
	}
	py := len(args) > 0 && args[0] == "pytest"
	if py {
		args = args[1:]
	}
	var o options
	fs := newFlagSet(&o)
	help := usage
	if py {
		addPytestFlags(fs, &o)
		help = pytestUsage
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			help(stdout, fs)
			return errHelp
		}
		return &usageError{err}
	}
	if o.help {
		help(stdout, fs)
		return errHelp
	}
	if py {
		if err := goOnlyFlags(fs); err != nil {
			return &usageError{err}
		}
	}
	if o.version {
		fmt.Fprintf(stdout, "hangdog %s\n", version)
		return errHelp
	}
	cfg := watchdog.Config{
		Dir:          o.dir,
		Args:         fs.Args(),
		Stdout:       stdout,
		Stderr:       stderr,
		Format:       o.format,
		JSONFile:     o.jsonFile,
		ReportJSON:   o.reportJSON,
		ArtifactsDir: o.artifacts,
		Stall:        o.stall,
		QuitGrace:    o.quitGrace,
		RerunHung:    o.rerunHung,
		NoAgent:      o.noAgent,
		KillAfter:    o.killAfter,
	}
	cfg.Leaks, cfg.FailOnLeak, cfg.LeakGrace = o.leaks, o.failOnLeak, o.leakGrace
	if o.leakGrace <= 0 {
		return &usageError{fmt.Errorf("--leak-grace must be positive, got %v", o.leakGrace)}
	}
	if o.killAfter <= 0 {
		return &usageError{fmt.Errorf("--kill-after must be positive, got %v", o.killAfter)}
	}
	if !fs.Changed("rerun-hung") {
		cfg.RerunHung = env.ci
	}
	cfg.JUnitFile, cfg.HTMLFile, cfg.HistoryFile = o.junitFile, o.htmlFile, o.history
	cfg.GitHubActions = env.githubActions
	if env.githubActions {
		cfg.GitHubStepSummary = env.githubStepSummary
	}
	if !o.noStatus && isTerminal(stdout) {
		cfg.Status = true
		cfg.NoColor = env.noColor
		cfg.Width = func() int { return terminalWidth(stdout) }
	}
	if py {
		cfg.Runner, cfg.Python, cfg.PythonModule, cfg.QuitGrace = "pytest", o.python, o.module, 0
		if isTerminal(stdout) {
			cfg.Terminal = true
			cfg.Width = func() int { return terminalWidth(stdout) }
		}
	}
	if o.stall <= 0 {
		return &usageError{fmt.Errorf("--stall must be positive, got %v", o.stall)}
	}
	if o.dir != "" {
		if fi, err := os.Stat(o.dir); err != nil || !fi.IsDir() {
			return &usageError{fmt.Errorf("--dir %s: not a directory", o.dir)}
		}
	}
	if o.quitGrace <= 0 {
		return &usageError{fmt.Errorf("--quit-grace must be positive, got %v", o.quitGrace)}
	}
	for _, s := range o.stallFor {
		r, err := watchdog.ParseStallRule(s)
		if err != nil {
			return &usageError{fmt.Errorf("--stall-for: %w", err)}
		}
		cfg.StallFor = append(cfg.StallFor, r)
	}
	if o.raw {
		if len(cfg.Args) == 0 {
			return &usageError{errors.New("--raw-command needs a command after --")}
		}
		cfg.RawCommand, cfg.Args = cfg.Args, nil
	}
	if err := checkFormat(o.format); err != nil {
		return &usageError{err}
	}
	// Every output path is checked before the log file is opened and
	// before go is run at all.
	if err := cfg.Validate(); err != nil {
		return &exitError{code: watchdog.ExitUsage, err: err}
	}
	if err := watchdog.CheckOutputFile("--log-file", o.logFile); err != nil {
		return err
	}
	logger, closeLog, err := newLogger(o)
	if err != nil {
		return &usageError{err}
	}
	defer closeLog()
	cfg.Logger = logger

	res, err := watchdog.Run(ctx, cfg)
	rep := res.Report
	var pe *watchdog.PythonError
	if errors.As(err, &pe) {
		return &usageError{pe}
	}
	if err != nil {
		return &exitError{code: rep.ExitCode, err: err}
	}
	if rep.ExitCode != 0 {
		return &exitError{code: rep.ExitCode}
	}
	return nil
}

func checkFormat(name string) error {
	if name == "" {
		return nil
	}
	for _, n := range watchdog.Formats() {
		if n == name {
			return nil
		}
	}
	return fmt.Errorf("unknown --format %q (want one of %s)", name, strings.Join(watchdog.Formats(), ", "))
}

// newLogger builds hangdog's own log. It never goes to the test output
// stream: without --log-file there is no log.
func newLogger(o options) (*zap.Logger, func(), error) {
	if o.logFile == "" {
		return zap.NewNop(), func() {}, nil
	}
	lvl, err := zapcore.ParseLevel(o.logLevel)
	if err != nil {
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch o.logFormat {
	case "console":
		enc = zapcore.NewConsoleEncoder(encCfg)
	case "json":
		enc = zapcore.NewJSONEncoder(encCfg)
	default:
		return nil, nil, fmt.Errorf("--log-format: want console or json, got %q", o.logFormat)
	}
	f, err := os.OpenFile(o.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--log-file: %w", err)
	}
	l := zap.New(zapcore.NewCore(enc, zapcore.AddSync(f), lvl))
	return l, func() { _ = l.Sync(); f.Close() }, nil
}
