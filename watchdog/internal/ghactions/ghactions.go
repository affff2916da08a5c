// Package ghactions writes a hangdog run for GitHub Actions: error
// annotations (workflow commands on stdout) that mark where each hang
// waits, and the Markdown job summary ($GITHUB_STEP_SUMMARY). The hangdog
// command uses it when it runs under GitHub Actions.
package ghactions

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/watchdog/report"
)

// An annotation is one "::error …::…" workflow command.
type annotation struct {
	level     string // "" (error) or "warning"
	file      string // relative to the repository root, slash-separated; "" for none
	line, col int
	title     string
	message   string
}

// Annotations writes one "::error" workflow command per hang, at the
// hang's Location, and one per failed test or build error whose location
// is cheap to know (see below). root is the repository root, where the
// runner checked out the code: GitHub places an annotation by the path
// relative to it. "" means run.Report.Dir. A location outside root gets an
// annotation without a file, which GitHub shows on the job.
//
// Locations of failed tests come from the test's last error where the
// stream marks error lines (Go 1.27+ OutputType), and the message is made of
// its error lines (t.Error, t.Fatal and their continuation lines); a test
// with none (a panic, a parent failing for its subtests) gets no
// annotation. In older streams both come from the last "file_test.go:N:
// message" line a test logged before its "--- FAIL". The file is in the package's
// directory, found from the go.mod in run.Report.Dir (or root): one read of
// go.mod, one stat per candidate file; a file that does not exist is not
// annotated. Build errors ("dir/file.go:N:C: message" in the output of a
// package that failed to build) are relative to run.Report.Dir.
//
// GitHub shows at most 10 error annotations per step, 50 per job; hangs
// come first, then failed tests and build errors in run order.
//
// Messages and property values are escaped as the Actions runner reads
// them: "%", CR and LF as %25, %0D, %0A everywhere, and ":" and "," as %3A
// and %2C in properties, so no output of a test can end the command or
// start another. Annotations returns the first error writing to w.
func Annotations(w io.Writer, run *report.Run, root string) error {
	bw := bufio.NewWriter(w)
	for _, a := range annotations(run, root) {
		if a.level == "" {
			a.level = "error"
		}
		bw.WriteString("::" + a.level + " ")
		var props []string
		if a.file != "" {
			props = append(props, "file="+escapeProperty(a.file))
			if a.line > 0 {
				props = append(props, "line="+strconv.Itoa(a.line))
			}
			if a.col > 0 {
				props = append(props, "col="+strconv.Itoa(a.col))
			}
		}
		props = append(props, "title="+escapeProperty(a.title))
		bw.WriteString(strings.Join(props, ","))
		bw.WriteString("::")
		bw.WriteString(escapeData(a.message))
		bw.WriteString("\n")
	}
	return bw.Flush()
}

func annotations(run *report.Run, root string) (out []annotation) {
	var dir string
	if run.Report != nil {
		dir = run.Report.Dir
	}
	if root == "" {
		root = dir
	}
	if run.Report != nil {
		for _, h := range run.Report.Hangs {
			a := annotation{title: hangTitle(h), message: hangMessage(h)}
			if file, line, ok := splitLocation(h.Location); ok {
				a.file, a.line = relTo(root, dir, file), line
			}
			out = append(out, a)
		}
	}
	mod := readModule(dir, root)
	defer func() { out = append(out, leakAnnotations(run, root, dir)...) }()
	for _, t := range run.Tests {
		if t.Result != "fail" {
			continue
		}
		file, line, msg, ok := failureLine(&t)
		if !ok {
			continue // a parent failing for its subtests, or a panic
		}
		pdir, ok := mod.packageDir(t.Package)
		if !ok {
			continue
		}
		abs := filepath.Join(pdir, filepath.FromSlash(file))
		if _, err := os.Stat(abs); err != nil {
			continue
		}
		out = append(out, annotation{
			file: relTo(root, dir, abs), line: line,
			title:   fmt.Sprintf("FAIL %s %s", t.Package, t.Test),
			message: msg,
		})
	}
	for _, p := range run.Packages {
		if p.Result != "build-failed" {
			continue
		}
		for line := range strings.Lines(p.Output) {
			m := buildErrRE.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
			if m == nil {
				continue
			}
			n, _ := strconv.Atoi(m[2])
			c, _ := strconv.Atoi(m[3])
			out = append(out, annotation{
				file: relTo(root, dir, m[1]), line: n, col: c,
				title:   "build failed " + p.Package,
				message: m[4],
			})
		}
	}
	return out
}

var buildErrRE = regexp.MustCompile(`^(\S+\.go):(\d+):(?:(\d+):)? (.+)$`)

func hangTitle(h *report.Hang) string {
	name := h.Test
	if name == "" {
		name = "(package " + string(h.Phase) + ")"
	}
	return fmt.Sprintf("HANG %s %s", h.Package, name)
}

// hangMessage is the summary and one line per goroutine group.
func hangMessage(h *report.Hang) string {
	var b strings.Builder
	b.WriteString(h.Summary)
	fmt.Fprintf(&b, "\nphase %s, no progress for %s (threshold %s)", h.Phase, dur(h.StalledForSeconds), dur(h.ThresholdSeconds))
	for _, g := range h.Goroutines {
		fmt.Fprintf(&b, "\n%d × [%s] at %s", g.Count, g.State, g.Location)
		if g.Role == "test" {
			b.WriteString(" (the test)")
		}
	}
	for _, p := range h.Processes {
		fmt.Fprintf(&b, "\nprocess %d %s: %s", p.PID, p.Role, strings.Join(p.Cmdline, " "))
	}
	if d := h.Artifacts["dump"]; d != "" {
		fmt.Fprintf(&b, "\ndump: %s", d)
	}
	return b.String()
}

// splitLocation splits "file:line".
func splitLocation(loc string) (string, int, bool) {
	i := strings.LastIndexByte(loc, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(loc[i+1:])
	if err != nil || n <= 0 {
		return "", 0, false
	}
	return loc[:i], n, true
}

// relTo makes file (absolute, or relative to dir) relative to root, with
// slashes; "" when it is outside root.
func relTo(root, dir, file string) string {
	f := filepath.FromSlash(file)
	if !filepath.IsAbs(f) {
		f = filepath.Join(dir, f)
	}
	if root == "" {
		return ""
	}
	r, err := filepath.Rel(root, f)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(r)
}

var logLineRE = regexp.MustCompile(`^    ([^\s:]+\.go):(\d+): (.*)$`)

// lastLogLine finds the last "    file.go:N: message" line before the
// test's "--- FAIL" (t.Fatal's is the last; t.Error's may be followed by
// logs, which then point near it).
func lastLogLine(out string) (file string, line int, msg string, ok bool) {
	for l := range strings.Lines(out) {
		l = strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
			break
		}
		if m := logLineRE.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[2])
			file, line, msg, ok = m[1], n, m[1]+":"+m[2]+": "+m[3], true
		}
	}
	return
}

// failureLine is where a failed test failed and what it said: from its
// error lines where the stream marks them (the location of the last error,
// the text of all), else from lastLogLine.
func failureLine(t *report.TestRun) (file string, line int, msg string, ok bool) {
	if !t.OutputTyped {
		return lastLogLine(t.Output)
	}
	msg = t.ErrorText()
	for l := range strings.Lines(msg) {
		if m := errLineRE.FindStringSubmatch(strings.TrimRight(l, "\r\n")); m != nil {
			file = m[1]
			line, _ = strconv.Atoi(m[2])
			ok = true
		}
	}
	return file, line, msg, ok
}

// errLineRE is the first line of an error in report.TestRun.ErrorText.
var errLineRE = regexp.MustCompile(`^([^\s:]+\.go):(\d+):`)

// module maps import paths to directories for the main module.
type module struct {
	path, dir string
}

func readModule(dirs ...string) module {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		for dd := d; ; {
			if b, err := os.ReadFile(filepath.Join(dd, "go.mod")); err == nil {
				for l := range strings.Lines(string(b)) {
					if p, ok := strings.CutPrefix(strings.TrimSpace(l), "module "); ok {
						return module{path: strings.Trim(strings.TrimSpace(p), `"`), dir: dd}
					}
				}
				return module{}
			}
			up := filepath.Dir(dd)
			if up == dd {
				break
			}
			dd = up
		}
	}
	return module{}
}

func (m module) packageDir(pkg string) (string, bool) {
	if m.path == "" {
		return "", false
	}
	if pkg == m.path {
		return m.dir, true
	}
	rest, ok := strings.CutPrefix(pkg, m.path+"/")
	if !ok || path.Clean(rest) != rest {
		return "", false
	}
	return filepath.Join(m.dir, filepath.FromSlash(rest)), true
}

// escapeData escapes a workflow command's message.
func escapeData(s string) string {
	return dataEscaper.Replace(s)
}

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string {
	return propEscaper.Replace(s)
}

var (
	dataEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)
