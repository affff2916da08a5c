package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog"
)

const stacksUsage = `Usage: hangdog stacks [flags] [FILE|-]...

Reads goroutine dumps (SIGQUIT tracebacks, "panic: test timed out" with its
running tests list, deadlock reports, panics, runtime.Stack, pprof goroutine
profiles debug=2, debug=1 and debug=0 (gzipped proto), a whole CI log, or a
go test -json stream) and prints, per dump, the goroutines grouped per test
and classified: what each waits on, and where in your code. With no FILE,
or with -, reads standard input. Several dumps in one input are summarised
one by one, in order.

Flags:
`

const stacksUsageTail = `
Exit codes:
  0    every input held a goroutine dump, and it was summarised
  2    bad flag or value
  4    an input could not be read, or held no goroutine dump (one line each
       on stderr saying what it held instead; the others are still
       summarised), or the output could not be written
`

type stacksOptions struct {
	json         bool
	all          bool
	test         string
	state        string
	pkg          string
	keepPointers bool
	buckets      bool
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
	fs.StringVar(&o.test, "test", "", "only the tests whose name matches `REGEXP` (goroutines of no test are left out)")
	fs.StringVar(&o.state, "state", "", "only goroutines in these states, comma-separated (`LIST` of names like \"chan receive,sync.Mutex.Lock\")")
	fs.StringVar(&o.pkg, "pkg", "", "only goroutines with a frame in a package matching `REGEXP`")
	fs.BoolVar(&o.all, "all", false, "include the runtime's and the testing package's own goroutines (GC workers, timers, the test binary's main goroutine, the timeout alarm)")
	fs.BoolVar(&o.keepPointers, "keep-pointers", false, "group goroutines with different argument values apart")
	fs.BoolVar(&o.buckets, "buckets", false, "only group the goroutines by stack, as they are read: no tests, no lock analysis; memory then depends on the number of distinct stacks only")
	fs.StringVar(&o.color, "color", "auto", "colour `WHEN`: auto (on a terminal, unless NO_COLOR is set), always, never")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			io.WriteString(stdout, stacksUsage+flagUsages(fs)+stacksUsageTail)
			return errHelp
		}
		return &usageError{fmt.Errorf("stacks: %w", err)}
	}
	if o.help {
		io.WriteString(stdout, stacksUsage+flagUsages(fs)+stacksUsageTail)
		return errHelp
	}
	so := watchdog.SummaryOptions{All: o.all, KeepPointers: o.keepPointers, BucketsOnly: o.buckets}
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
		known := map[string]bool{}
		var names []string
		for _, w := range stackparse.AllWaits() {
			known[w.String()] = true
			names = append(names, strconv.Quote(w.String()))
		}
		for _, st := range strings.Split(o.state, ",") {
			st = strings.TrimSpace(st)
			if !known[st] {
				return &usageError{fmt.Errorf("stacks: --state: unknown state %q (want some of %s)", st, strings.Join(names, ", "))}
			}
			so.States = append(so.States, st)
		}
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
	out := &stacksWriter{w: bufio.NewWriter(stdout), json: o.json, color: color}
	var readErrs []error
	for _, name := range files {
		if err := summarizeFile(name, stdin, so, out.summary); err != nil {
			readErrs = append(readErrs, err)
		}
	}
	if err := out.close(); err != nil {
		return &exitError{code: watchdog.ExitInternal, err: fmt.Errorf("stacks: write: %w", err)}
	}
	if len(readErrs) > 0 {
		// One line per input that could not be read or held no dump;
		// the others were summarised all the same.
		return &inputError{errs: readErrs}
	}
	return nil
}

// summarizeFile summarizes the dumps of one input ("-" is stdin) as they
// are read.
// An input with no dump in it is an error that says what it held.
func summarizeFile(name string, stdin io.Reader, so watchdog.SummaryOptions, each func(*watchdog.DumpSummary)) error {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("stacks: %w", err)
		}
		defer f.Close()
		r = f
	} else {
		name = "standard input"
	}
	cr := &countingReader{r: r}
	n := 0
	err := watchdog.SummarizeDumps(cr, so, func(s *watchdog.DumpSummary) { n++; each(s) })
	if err != nil {
		return fmt.Errorf("stacks: read %s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("stacks: %s: no goroutine dump found (%s)", name, cr.describe())
	}
	return nil
}

// stacksWriter prints summaries as they come: a JSON array, or text.
type stacksWriter struct {
	w     *bufio.Writer
	buf   bytes.Buffer
	json  bool
	color bool
	n     int
	err   error
}

func (sw *stacksWriter) summary(s *watchdog.DumpSummary) {
	if sw.err != nil {
		return
	}
	sw.n++
	if !sw.json {
		writeSummary(sw.w, sw.n, s, sw.color)
		return
	}
	// An Encoder, for SetEscapeHTML(false): "<", ">" and "&" in names
	// and warning text stay readable.
	sw.buf.Reset()
	enc := json.NewEncoder(&sw.buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	if err := enc.Encode(s); err != nil {
		sw.err = err
		return
	}
	b := bytes.TrimSuffix(sw.buf.Bytes(), []byte("\n"))
	if sw.n == 1 {
		sw.w.WriteString("[\n  ")
	} else {
		sw.w.WriteString(",\n  ")
	}
	sw.w.Write(b)
	if sw.w.Buffered() > 32<<10 {
		sw.err = sw.w.Flush()
	}
}

// close ends the output and flushes it.
func (sw *stacksWriter) close() error {
	if sw.err != nil {
		return sw.err
	}
	switch {
	case sw.json && sw.n == 0:
		sw.w.WriteString("[]\n")
	case sw.json:
		sw.w.WriteString("\n]\n")
	}
	return sw.w.Flush()
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

// writeSummary renders one dump for people. Write errors are caught by
// the caller's final Flush of the bufio.Writer.
func writeSummary(w io.Writer, n int, s *watchdog.DumpSummary, color bool) {
	p := painter(color)
	title := s.Reason
	if title == "" {
		title = s.Kind
	}
	fmt.Fprintf(w, "%s %d: %s (%s", p.paint("1", "dump"), n, title, s.Kind)
	if s.StartLine > 0 {
		fmt.Fprintf(w, ", line %d", s.StartLine)
	}
	fmt.Fprintf(w, ", %d goroutines", s.Goroutines)
	if s.Hidden > 0 {
		fmt.Fprintf(w, ", %d runtime/testing goroutines hidden", s.Hidden)
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
		at := ""
		if t.Location != "" {
			at = " at " + t.Location
		}
		fmt.Fprintf(w, "\n%s [%s] %s%s\n", p.paint("1", t.Test), t.Phase, p.state(t.State), at)
		fmt.Fprintf(w, "    %s\n", t.Summary)
		writeGroups(w, p, t.Goroutines)
		for _, c := range s.LockCycles {
			if c.Test == t.Test {
				writeCycle(w, p, c)
			}
		}
	}
	if s.BucketsOnly && len(s.Buckets) > 0 {
		fmt.Fprintf(w, "\n%s\n", p.paint("1", "goroutines, grouped by stack"))
		writeGroups(w, p, s.Buckets)
	}
	if len(s.Other) > 0 {
		title := "other goroutines"
		if len(s.Tests) == 0 {
			title = "goroutines"
		}
		fmt.Fprintf(w, "\n%s\n", p.paint("1", title))
		writeGroups(w, p, s.Other)
	}
	var loose []watchdog.LockCycle
	for _, c := range s.LockCycles {
		if c.Test == "" {
			loose = append(loose, c)
		}
	}
	if len(s.LockGroups) > 0 || len(loose) > 0 {
		fmt.Fprintf(w, "\n%s\n", p.paint("1", "waiting on the same object"))
		for _, l := range s.LockGroups {
			fmt.Fprintf(w, "    %s %s: %d goroutines %s\n", p.state(l.State), l.Address, len(l.IDs), idList(l.IDs, 8))
		}
		for _, c := range loose {
			writeCycle(w, p, c)
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(w, "\n%s\n", p.paint("1", "warnings"))
		for _, x := range s.Warnings {
			fmt.Fprintf(w, "    line %d: %s: %q\n", x.Line, x.Msg, x.Text)
		}
		if s.WarningsDropped > 0 {
			fmt.Fprintf(w, "    and %d more\n", s.WarningsDropped)
		}
	}
	fmt.Fprintln(w)
}

// writeCycle prints a possible lock-order cycle.
func writeCycle(w io.Writer, p painter, c watchdog.LockCycle) {
	fmt.Fprintf(w, "    %s: goroutine %d waits on mutex %s with %s in its arguments, which is or holds mutex %s, which goroutine %d waits on; goroutine %d likewise (%s in its arguments)\n",
		p.paint("31", "possible lock-order cycle"), c.IDs[0], c.Addresses[0], c.Objects[0], c.Addresses[1], c.IDs[1], c.IDs[1], c.Objects[1])
}

// idList prints at most max ids: "7,11,15,…".
func idList(ids []int64, max int) string {
	var b strings.Builder
	for i, id := range ids {
		if i == max {
			b.WriteString(",…")
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

func writeGroups(w io.Writer, p painter, gs []watchdog.StackGroup) {
	for _, g := range gs {
		mins := ""
		if g.Durable {
			mins += " (durable)"
		}
		if g.WaitMinutes > 0 {
			mins += fmt.Sprintf(", %d minutes", g.WaitMinutes)
		}
		if g.LockedToThread {
			mins += ", locked to thread"
		}
		if g.SynctestBubble != 0 {
			mins += fmt.Sprintf(", synctest bubble %d", g.SynctestBubble)
		}
		switch {
		case g.StackUnavailable:
			fmt.Fprintf(w, "    %d × [%s%s] stack unavailable, created by %s", g.Count, p.state(g.State), mins, shortFunc(g.CreatedBy))
		case g.Location == "" && g.Function == "":
			fmt.Fprintf(w, "    %d × [%s%s] no stack", g.Count, p.state(g.State), mins)
		default:
			fmt.Fprintf(w, "    %d × [%s%s] %s  %s", g.Count, p.state(g.State), mins, g.Location, shortFunc(g.Function))
			if g.LocationCut != "" {
				fmt.Fprintf(w, " (line of %s cut)", shortFunc(g.LocationCut))
			}
		}
		if len(g.IDs) == 1 {
			fmt.Fprintf(w, "  goroutine %d", g.IDs[0])
		} else if len(g.IDs) > 1 {
			fmt.Fprintf(w, "  goroutines %s", idList(g.IDs, 4))
		}
		if len(g.Labels) > 0 {
			keys := make([]string, 0, len(g.Labels))
			for k := range g.Labels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for i, k := range keys {
				keys[i] = strconv.Quote(k) + ":" + strconv.Quote(g.Labels[k])
			}
			fmt.Fprintf(w, "  labels {%s}", strings.Join(keys, ", "))
		}
		if g.Race != "" {
			fmt.Fprintf(w, "  race: %s", g.Race)
		}
		if g.Role == "test" {
			fmt.Fprint(w, "  (the test)")
		}
		fmt.Fprintln(w)
	}
}

func shortFunc(f string) string {
	if i := strings.LastIndexByte(f, '/'); i >= 0 {
		return f[i+1:]
	}
	return filepath.Base(f)
}
