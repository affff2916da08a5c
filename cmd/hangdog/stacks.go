package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog"
)

const stacksUsage = `Usage: hangdog stacks [flags] [FILE|-]...

Reads goroutine dumps (SIGQUIT tracebacks, "panic: test timed out" with its
running tests list, deadlock reports, runtime.Stack, pprof goroutine profiles,
a whole CI log, or a go test -json stream) and prints, per dump, the
goroutines grouped per test and classified: what each waits on, and where in
your code. With no FILE, or with -, reads standard input.

Flags:
`

type stacksOptions struct {
	json         bool
	all          bool
	test         string
	state        string
	pkg          string
	keepPointers bool
	color        string
	help         bool
}

// runStacks is `hangdog stacks`.
func runStacks(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var o stacksOptions
	fs := pflag.NewFlagSet("hangdog stacks", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.BoolVar(&o.json, "json", false, "print the versioned JSON form (see README)")
	fs.StringVar(&o.test, "test", "", "only goroutines of tests whose name matches `REGEXP`")
	fs.StringVar(&o.state, "state", "", "only goroutines in these states, comma-separated (`LIST` of names like \"chan receive,sync.Mutex.Lock\")")
	fs.StringVar(&o.pkg, "pkg", "", "only goroutines with a frame in a package matching `REGEXP`")
	fs.BoolVar(&o.all, "all", false, "include the runtime's own goroutines")
	fs.BoolVar(&o.keepPointers, "keep-pointers", false, "group goroutines with different argument values apart")
	fs.StringVar(&o.color, "color", "auto", "colour: auto (on a terminal, unless NO_COLOR is set), always, never")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			io.WriteString(stdout, stacksUsage+fs.FlagUsages())
			return errHelp
		}
		return &usageError{fmt.Errorf("stacks: %w", err)}
	}
	if o.help {
		io.WriteString(stdout, stacksUsage+fs.FlagUsages())
		return errHelp
	}
	so := watchdog.SummaryOptions{All: o.all, KeepPointers: o.keepPointers}
	var err error
	if o.test != "" {
		if so.Test, err = regexp.Compile(o.test); err != nil {
			return &usageError{fmt.Errorf("stacks: --test: %w", err)}
		}
	}
	if o.pkg != "" {
		if so.Package, err = regexp.Compile(o.pkg); err != nil {
			return &usageError{fmt.Errorf("stacks: --pkg: %w", err)}
		}
	}
	if o.state != "" {
		so.States = strings.Split(o.state, ",")
	}
	color, err := useColor(o.color, stdout)
	if err != nil {
		return &usageError{fmt.Errorf("stacks: %w", err)}
	}
	if wd, err := os.Getwd(); err == nil {
		so.Base = wd
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	var summaries []*watchdog.DumpSummary
	var readErr error
	for _, name := range files {
		dumps, err := readDumps(name, stdin)
		if err != nil {
			readErr = errors.Join(readErr, err)
		}
		for _, d := range dumps {
			summaries = append(summaries, watchdog.SummarizeDump(d, so))
		}
	}
	if o.json {
		if summaries == nil {
			summaries = []*watchdog.DumpSummary{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(summaries); err != nil {
			return &exitError{code: watchdog.ExitInternal, err: fmt.Errorf("stacks: write: %w", err)}
		}
	} else {
		w := bufio.NewWriter(stdout)
		if len(summaries) == 0 {
			fmt.Fprintln(w, "no goroutine dump found")
		}
		for i, s := range summaries {
			writeSummary(w, i+1, s, color)
		}
		if err := w.Flush(); err != nil {
			return &exitError{code: watchdog.ExitInternal, err: fmt.Errorf("stacks: write: %w", err)}
		}
	}
	if readErr != nil {
		return &exitError{code: watchdog.ExitInternal, err: readErr}
	}
	return nil
}

// readDumps parses one input file ("-" is stdin).
func readDumps(name string, stdin io.Reader) ([]*stackparse.Dump, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("stacks: %w", err)
		}
		defer f.Close()
		r = f
	}
	dumps, err := watchdog.ReadDumps(r)
	if err != nil {
		err = fmt.Errorf("stacks: read %s: %w", name, err)
	}
	return dumps, err
}

// useColor decides on colour: auto means a terminal and no NO_COLOR.
func useColor(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if _, ok := os.LookupEnv("NO_COLOR"); ok {
			return false, nil
		}
		f, ok := w.(*os.File)
		if !ok {
			return false, nil
		}
		fi, err := f.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0, nil
	}
	return false, fmt.Errorf("--color: want auto, always or never, got %q", mode)
}

type painter bool

func (p painter) paint(code, s string) string {
	if !p || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p painter) state(s string) string {
	switch s {
	case "running", "runnable":
		return p.paint("35", s) // magenta: busy
	case "sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock", "sync.WaitGroup.Wait", "sync.Cond.Wait":
		return p.paint("31", s) // red: locks
	case "chan receive", "chan send", "select", "chan receive (nil chan)", "chan send (nil chan)", "select (no cases)":
		return p.paint("33", s) // yellow: channels
	}
	return p.paint("36", s)
}

// writeSummary renders one dump for people.
func writeSummary(w io.Writer, n int, s *watchdog.DumpSummary, color bool) {
	p := painter(color)
	title := s.Reason
	if title == "" {
		title = s.Kind
	}
	fmt.Fprintf(w, "%s %d: %s (%s, line %d, %d goroutines", p.paint("1", "dump"), n, title, s.Kind, s.StartLine, s.Goroutines)
	if s.Hidden > 0 {
		fmt.Fprintf(w, ", %d runtime goroutines hidden", s.Hidden)
	}
	fmt.Fprintln(w, ")")
	if len(s.RunningTests) > 0 {
		var rt []string
		for _, t := range s.RunningTests {
			rt = append(rt, fmt.Sprintf("%s (%gs)", t.Name, t.Seconds))
		}
		fmt.Fprintf(w, "running tests: %s\n", strings.Join(rt, ", "))
	}
	for _, t := range s.Tests {
		fmt.Fprintf(w, "\n%s [%s] %s at %s\n", p.paint("1", t.Test), t.Phase, p.state(t.State), t.Location)
		fmt.Fprintf(w, "    %s\n", t.Summary)
		writeGroups(w, p, t.Goroutines)
	}
	if len(s.Other) > 0 {
		fmt.Fprintf(w, "\n%s\n", p.paint("1", "other goroutines"))
		writeGroups(w, p, s.Other)
	}
	if len(s.LockGroups) > 0 {
		fmt.Fprintf(w, "\n%s\n", p.paint("1", "waiting on the same object"))
		for _, l := range s.LockGroups {
			ids := make([]string, len(l.IDs))
			for i, id := range l.IDs {
				ids[i] = fmt.Sprint(id)
			}
			fmt.Fprintf(w, "    %s %s: goroutines %s\n", p.state(l.State), l.Address, strings.Join(ids, ", "))
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(w, "\n%s\n", p.paint("1", "warnings"))
		for _, x := range s.Warnings {
			fmt.Fprintf(w, "    line %d: %s: %q\n", x.Line, x.Msg, x.Text)
		}
	}
	fmt.Fprintln(w)
}

func writeGroups(w io.Writer, p painter, gs []watchdog.GoroutineGroup) {
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].Role == "test" && gs[j].Role != "test" })
	for _, g := range gs {
		ids := make([]string, 0, 4)
		for i, id := range g.IDs {
			if i == 4 {
				ids = append(ids, "…")
				break
			}
			ids = append(ids, fmt.Sprint(id))
		}
		mins := ""
		if g.WaitMinutes > 0 {
			mins = fmt.Sprintf(", %d minutes", g.WaitMinutes)
		}
		role := ""
		if g.Role == "test" {
			role = "  (the test)"
		}
		fmt.Fprintf(w, "    %d × [%s%s] %s  %s  goroutine %s%s\n", g.Count, p.state(g.State), mins, g.Location, shortFunc(g.Function), strings.Join(ids, ","), role)
	}
}

func shortFunc(f string) string {
	if i := strings.LastIndexByte(f, '/'); i >= 0 {
		return f[i+1:]
	}
	return filepath.Base(f)
}
