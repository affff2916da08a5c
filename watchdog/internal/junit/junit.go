// Package junit writes a hangdog run as JUnit XML, the test report format
// that Jenkins, GitLab and GitHub test reporters read. The hangdog command
// calls Write at the end of a run when it is asked for a JUnit file.
//
// The layout follows the Ant/Surefire dialect those tools share (checked in
// the tests against the Jenkins xUnit plugin's junit-10.xsd):
//
//	<testsuites tests failures errors time>
//	  <testsuite name=PKG tests failures errors skipped time timestamp>
//	    <testcase classname=PKG name=TEST time=SECONDS>
//	      <failure message type>…</failure>   failed (type "fail") or hung (type "hang")
//	      <error message type>…</error>       interrupted (type "interrupted")
//	      <skipped message/>                  skipped
//	      <system-out>…</system-out>          the goroutines it leaked (not a failure)
//
// One testsuite per package, in the order of run.Packages (then any package
// that only appears in run.Tests). A hung test is a failure whose message
// is the hang's summary and whose body lists the stuck goroutine groups and
// processes before the test's output. A package that failed outside any
// test (build failure, TestMain exiting, a stall in phase testmain or exit)
// gets a synthetic testcase named TestMain, as gotestsum names it, holding
// the package's output; without it those failures would leave no trace in
// the reporters, which only show testcases.
//
// Text is written as XML 1.0 allows: characters outside its range (NUL,
// ESC of colour codes, other C0 controls, unpaired surrogates) become
// U+FFFD; bodies are CDATA sections, with any "]]>" in them split across
// two sections.
package junit

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hangdog/hangdog/watchdog/report"
)

// SyntheticName is the testcase name of a package-level failure.
const SyntheticName = "TestMain"

// Failure types, the type attribute of <failure> and <error>.
const (
	TypeFail        = "fail"
	TypeHang        = "hang"
	TypeBuild       = "build-failed"
	TypeInterrupted = "interrupted"
)

// Write writes run as one JUnit XML document to w. It returns the first
// error writing to w. run.Report may be nil (no hangs are known then).
func Write(w io.Writer, run *report.Run) error {
	bw := bufio.NewWriter(w)
	suites := build(run)
	var tot counts
	var secs float64
	for _, s := range suites {
		tot.add(s.counts)
		secs += s.time
	}
	if run.Report != nil && run.Report.DurationSeconds > 0 {
		secs = run.Report.DurationSeconds // wall time; packages overlap
	}
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(bw, `<testsuites name="hangdog" tests="%d" failures="%d" errors="%d" time="%s">`+"\n",
		tot.tests, tot.failures, tot.errors, seconds(secs))
	for _, s := range suites {
		s.write(bw)
	}
	bw.WriteString("</testsuites>\n")
	return bw.Flush()
}

type counts struct{ tests, failures, errors, skipped int }

func (c *counts) add(o counts) {
	c.tests += o.tests
	c.failures += o.failures
	c.errors += o.errors
	c.skipped += o.skipped
}

type suite struct {
	name   string
	time   float64
	start  time.Time
	counts counts
	cases  []testcase
}

type testcase struct {
	classname string // "" for the suite's name
	name      string
	time      float64
	kind      string // "", "failure", "error", "skipped"
	typ       string
	message   string
	body      string
	out       string // <system-out>: the goroutines the test leaked (leaks.go)
}

func build(run *report.Run) []*suite {
	var hangs []*report.Hang
	pytest := false
	if run.Report != nil {
		hangs = run.Report.Hangs
		pytest = run.Report.Runner == "pytest"
	}
	byPkg := map[string]*suite{}
	var suites []*suite
	get := func(pkg string) *suite {
		s := byPkg[pkg]
		if s == nil {
			s = &suite{name: pkg}
			byPkg[pkg] = s
			suites = append(suites, s)
		}
		return s
	}
	pkgs := map[string]*report.PackageRun{}
	for i := range run.Packages {
		p := &run.Packages[i]
		s := get(p.Package)
		s.time, s.start = p.ElapsedSeconds, p.Start
		pkgs[p.Package] = p
	}
	failedTests := map[string]bool{}
	for i := range run.Tests {
		t := &run.Tests[i]
		s := get(t.Package)
		if s.start.IsZero() {
			s.start = t.Start
		}
		c := testcase{name: t.Test, time: t.ElapsedSeconds}
		if pytest {
			c.classname, c.name = pytestNames(t.Test)
		}
		switch t.Result {
		case "pass":
		case "skip":
			c.kind, c.message = "skipped", skipMessage(t.Output)
		case "fail":
			c.kind, c.typ, c.message, c.body = "failure", TypeFail, failMessage(t), t.Output
			failedTests[t.Package] = true
		case "hung":
			h := findHang(hangs, t.Package, t.Test)
			c.kind, c.typ, c.message = "failure", TypeHang, "test hung"
			if h != nil {
				c.message = h.Summary
				c.body = hangText(h)
			}
			if t.Output != "" {
				c.body += "\n--- output ---\n" + t.Output
			}
			failedTests[t.Package] = true
		default: // interrupted, or a result this version does not know
			msg := "interrupted: its test binary or the run was stopped"
			if t.Result != "interrupted" {
				msg = "unknown result " + t.Result
			}
			c.kind, c.typ, c.message, c.body = "error", TypeInterrupted, msg, t.Output
		}
		s.cases = append(s.cases, c)
	}
	// Package-level failures: hangs outside any test, then packages that
	// failed with no failing test to show for it.
	for _, h := range hangs {
		if h.Test != "" {
			continue
		}
		s := get(h.Package)
		c := testcase{name: SyntheticName, time: s.time, kind: "failure", typ: TypeHang, message: h.Summary, body: hangText(h)}
		if p := pkgs[h.Package]; p != nil && p.Output != "" {
			c.body += "\n--- output ---\n" + p.Output
		}
		s.cases = append(s.cases, c)
		failedTests[h.Package] = true
	}
	for _, p := range run.Packages {
		if failedTests[p.Package] {
			continue
		}
		c := testcase{name: SyntheticName, time: p.ElapsedSeconds, kind: "failure", body: p.Output}
		switch p.Result {
		case "build-failed":
			c.typ, c.message = TypeBuild, "build failed"
		case "fail", "hung":
			c.typ, c.message = TypeFail, "package failed outside any test (init, TestMain, or the test binary's exit)"
		case "interrupted":
			c.kind, c.typ, c.message = "error", TypeInterrupted, "interrupted: the run was stopped"
		default:
			continue
		}
		get(p.Package).cases = append(get(p.Package).cases, c)
	}
	if run.Report != nil {
		attachLeaks(byPkg, run.Report.Leaks)
	}
	for _, s := range suites {
		for _, c := range s.cases {
			s.counts.tests++
			switch c.kind {
			case "failure":
				s.counts.failures++
			case "error":
				s.counts.errors++
			case "skipped":
				s.counts.skipped++
			}
		}
	}
	return suites
}

func findHang(hangs []*report.Hang, pkg, test string) *report.Hang {
	for _, h := range hangs {
		if (h.Package == pkg || h.Unit == pkg) && h.Test == test {
			return h
		}
	}
	return nil
}

// failMessage is what reporters show next to a failed test's name. Where
// the stream marks error lines (Go 1.27+), it is the test's error lines
// (t.Error, t.Fatal and their continuation lines), without the indentation
// testing adds; "Failed" when there are none (a panic, a parent failing for
// its subtests). Otherwise it is the last "file.go:N: text" line the test
// logged before its "--- FAIL" (t.Fatal's is the last); or "Failed", as
// gotestsum writes.
func failMessage(t *report.TestRun) string {
	if t.OutputTyped {
		if msg := t.ErrorText(); msg != "" {
			return msg
		}
		return "Failed"
	}
	msg := "Failed"
	for line := range strings.Lines(t.Output) {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "--- FAIL") {
			break
		}
		if i := strings.Index(l, ".go:"); i > 0 && !strings.ContainsAny(l[:i], " \t") && strings.HasPrefix(line, "    ") {
			msg = l
		}
	}
	return msg
}

// skipMessage is the last line logged before "--- SKIP", if the output
// is known (report.TestRun keeps none for skipped tests today).
func skipMessage(out string) string {
	last := ""
	for line := range strings.Lines(out) {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "--- SKIP") {
			break
		}
		if l != "" && !strings.HasPrefix(l, "=== ") {
			last = l
		}
	}
	if last == "" {
		return "skipped"
	}
	return last
}

// hangText is the body of a hang's failure: what is stuck, where, and why.
func hangText(h *report.Hang) string {
	var b strings.Builder
	name := h.Test
	if name == "" {
		name = "(package)"
	}
	fmt.Fprintf(&b, "HANG %s %s [phase %s, no progress for %s, threshold %s]\n", h.Package, name, h.Phase,
		dur(h.StalledForSeconds), dur(h.ThresholdSeconds))
	fmt.Fprintf(&b, "%s\n", h.Summary)
	if h.Location != "" {
		fmt.Fprintf(&b, "at %s", h.Location)
		if h.State != "" {
			fmt.Fprintf(&b, " (%s)", h.State)
		}
		b.WriteString("\n")
	}
	if h.CaptureError != "" {
		fmt.Fprintf(&b, "capture %s failed: %s\n", h.Capture, h.CaptureError)
	}
	for _, g := range h.Goroutines {
		b.WriteString("\n")
		fmt.Fprintf(&b, "%d × goroutine %s [%s", g.Count, ids(g.IDs), g.State)
		if g.WaitMinutes > 0 {
			fmt.Fprintf(&b, ", %d minutes", g.WaitMinutes)
		}
		fmt.Fprintf(&b, "] at %s", g.Location)
		if g.Role == "test" {
			b.WriteString(" (the test)")
		}
		b.WriteString("\n")
		for _, f := range g.Stack {
			fmt.Fprintf(&b, "    %s\n", f)
		}
		if g.CreatedBy != "" {
			fmt.Fprintf(&b, "    created by %s\n", g.CreatedBy)
		}
	}
	if len(h.Processes) > 0 {
		b.WriteString("\nprocesses:\n")
		for _, p := range h.Processes {
			fmt.Fprintf(&b, "    pid %d (ppid %d) %s", p.PID, p.PPID, p.Role)
			if p.State != "" {
				fmt.Fprintf(&b, " state %s", p.State)
			}
			if p.Wchan != "" {
				fmt.Fprintf(&b, " wchan %s", p.Wchan)
			}
			if p.Killed {
				b.WriteString(" (killed)")
			}
			fmt.Fprintf(&b, ": %s\n", strings.Join(p.Cmdline, " "))
		}
	}
	if len(h.AlsoStopped) > 0 {
		fmt.Fprintf(&b, "\nalso stopped: %s\n", strings.Join(h.AlsoStopped, ", "))
	}
	for _, k := range []string{"dump", "report"} {
		if p := h.Artifacts[k]; p != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, p)
		}
	}
	return b.String()
}

func ids(v []int64) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}

func dur(sec float64) string {
	return time.Duration(sec * float64(time.Second)).Round(time.Millisecond).String()
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

func (s *suite) write(w *bufio.Writer) {
	fmt.Fprintf(w, `  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s"`,
		attr(s.name), s.counts.tests, s.counts.failures, s.counts.errors, s.counts.skipped, seconds(s.time))
	if !s.start.IsZero() {
		// The Ant format: local time without a zone; UTC here.
		fmt.Fprintf(w, ` timestamp="%s"`, s.start.UTC().Format("2006-01-02T15:04:05"))
	}
	w.WriteString(">\n")
	for _, c := range s.cases {
		class := c.classname
		if class == "" {
			class = s.name
		}
		fmt.Fprintf(w, `    <testcase classname="%s" name="%s" time="%s"`, attr(class), attr(c.name), seconds(c.time))
		switch c.kind {
		case "":
			if c.out == "" {
				w.WriteString("></testcase>\n")
				continue
			}
			w.WriteString(">\n")
		case "skipped":
			fmt.Fprintf(w, ">\n      <skipped message=\"%s\"></skipped>\n", attr(c.message))
		default:
			fmt.Fprintf(w, ">\n      <%s message=\"%s\" type=\"%s\">", c.kind, attr(c.message), attr(c.typ))
			if c.body != "" {
				writeCDATA(w, c.body)
			}
			fmt.Fprintf(w, "</%s>\n", c.kind)
		}
		writeSystemOut(w, c.out)
		w.WriteString("    </testcase>\n")
	}
	w.WriteString("  </testsuite>\n")
}

// valid reports whether r may appear in an XML 1.0 document.
func valid(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// clean replaces what XML 1.0 cannot hold (and invalid UTF-8) with U+FFFD.
func clean(s string) string {
	ok := true
	for i, r := range s {
		if !valid(r) || r == utf8.RuneError && isBad(s[i:]) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if !valid(r) || r == utf8.RuneError && isBad(s[i:]) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isBad(s string) bool {
	_, n := utf8.DecodeRuneInString(s)
	return n == 1
}

// attr escapes s for a double-quoted attribute value. Newlines and tabs
// are written as character references so that attribute normalization
// does not turn them into spaces.
func attr(s string) string {
	return attrEscaper.Replace(clean(s))
}

var attrEscaper = strings.NewReplacer(
	`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&quot;",
	"\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;",
)

// writeCDATA writes s as CDATA sections; "]]>" cannot appear inside one,
// so it is split between two: "]]" ends the first, ">" starts the next.
func writeCDATA(w *bufio.Writer, s string) {
	s = clean(s)
	w.WriteString("<![CDATA[")
	w.WriteString(strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>"))
	w.WriteString("]]>")
}
