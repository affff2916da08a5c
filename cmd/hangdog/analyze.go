package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hangdog/hangdog/watchdog"
)

const analyzeUsage = `Usage: hangdog analyze [flags] [FILE|-]...

Diagnoses runs that already happened: a saved go test -json stream, a plain
go test or go test -v log, or a whole CI log (timestamps on every line are
fine) that holds a "panic: test timed out" dump. It says which tests were
running, which hung, where and why, and writes the same reports as a live
run. A go test -json stream on standard input that is still being written
(go test -json ./... | hangdog analyze -) is watched live: stalls are
announced as they happen, but nothing can be captured from a stream, so the
diagnosis is limited to what the stream itself prints.

Flags:
`

const analyzeUsageTail = `
Exit codes:
  0    every test in the input passed
  1    a test or package in the input failed
  2    bad flag or value, or an output path that cannot be written
  3    a hang was found in the input
  4    an input could not be read, or held no test event, no test result
       and no goroutine dump (one line saying what it held instead), or a
       report could not be written
`

// runAnalyze is `hangdog analyze`.
func runAnalyze(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env environment) error {
	var o options
	var help bool
	fs := pflag.NewFlagSet("hangdog analyze", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVar(&o.format, "format", "", "output format of the test output in the input (default standard-quiet)")
	fs.StringVar(&o.reportJSON, "report-json", "", "write the JSON report to `FILE`")
	fs.StringVar(&o.junitFile, "junitfile", "", "write a JUnit XML report to `FILE`")
	fs.StringVar(&o.htmlFile, "html", "", "write a self-contained HTML report to `FILE`")
	fs.StringVar(&o.artifacts, "artifacts", "", "write dumps found in the input and parsed reports to `DIR`")
	fs.DurationVar(&o.stall, "stall", watchdog.DefaultStall, "a test quiet this long (in the stream's own time for a file, the clock for a live stream) counts as stalled")
	fs.StringArrayVar(&o.stallFor, "stall-for", nil, "per-test threshold, `PATTERN=DURATION` (repeatable)")
	fs.BoolVarP(&help, "help", "h", false, "print this help")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			io.WriteString(stdout, analyzeUsage+flagUsages(fs)+analyzeUsageTail)
			return errHelp
		}
		return &usageError{fmt.Errorf("analyze: %w", err)}
	}
	if help {
		io.WriteString(stdout, analyzeUsage+flagUsages(fs)+analyzeUsageTail)
		return errHelp
	}
	if err := checkFormat(o.format); err != nil {
		return &usageError{fmt.Errorf("analyze: %w", err)}
	}
	if o.stall <= 0 {
		return &usageError{fmt.Errorf("analyze: --stall must be positive, got %v", o.stall)}
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	cfg := watchdog.Config{
		Stdout: stdout, Stderr: stderr, Format: o.format,
		ReportJSON: o.reportJSON, JUnitFile: o.junitFile, HTMLFile: o.htmlFile,
		ArtifactsDir: o.artifacts, Stall: o.stall,
		GitHubActions: env.githubActions,
	}
	if env.githubActions {
		cfg.GitHubStepSummary = env.githubStepSummary
	}
	for _, s := range o.stallFor {
		r, err := watchdog.ParseStallRule(s)
		if err != nil {
			return &usageError{fmt.Errorf("analyze: --stall-for: %w", err)}
		}
		cfg.StallFor = append(cfg.StallFor, r)
	}
	// The outputs are checked before any input is read.
	if err := cfg.Validate(); err != nil {
		return &exitError{code: watchdog.ExitUsage, err: err}
	}
	var readers []io.Reader
	live := false
	for _, name := range files {
		if name == "-" {
			readers = append(readers, stdin)
			live = live || !isRegular(stdin)
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return &inputError{errs: []error{fmt.Errorf("analyze: %w", err)}}
		}
		defer f.Close()
		readers = append(readers, f)
	}
	if live && len(readers) > 1 {
		return &usageError{errors.New("analyze: a live stream on standard input must be the only input")}
	}
	cfg.Input = io.MultiReader(readers...)
	cfg.Offline = !live
	res, err := watchdog.Run(ctx, cfg)
	var empty *watchdog.EmptyInputError
	if errors.As(err, &empty) {
		names := strings.Join(files, ", ")
		if names == "-" {
			names = "standard input"
		}
		return &inputError{errs: []error{fmt.Errorf("analyze: %s: %w", names, err)}}
	}
	if err != nil {
		return &exitError{code: res.Report.ExitCode, err: err}
	}
	if res.Report.ExitCode != 0 {
		return &exitError{code: res.Report.ExitCode}
	}
	return nil
}

// isRegular reports whether r is a regular file (a saved log) rather than
// a pipe or terminal (a stream still being written).
func isRegular(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return true
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}
