package ghactions

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

// MaxSummaryFailures bounds the failed tests listed in the step summary;
// GitHub cuts a job summary at 1 MiB, and a long list helps nobody.
const MaxSummaryFailures = 30

// StepSummary writes a short Markdown summary of run for
// $GITHUB_STEP_SUMMARY: a headline, a table of totals, one section per
// hang (summary, location, and its goroutine groups in a collapsed
// <details>), and the failed tests and build failures. Test names and
// output are untrusted: text is escaped for Markdown and HTML, and code
// blocks are fenced with more backticks than they contain. It returns the
// first error writing to w.
func StepSummary(w io.Writer, run *report.Run) error {
	bw := bufio.NewWriter(w)
	rp := run.Report
	if rp == nil {
		rp = &report.Report{}
	}
	t := rp.Totals
	fmt.Fprintf(bw, "## hangdog: %s\n\n", headline(rp))
	bw.WriteString("| passed | failed | skipped | hung | packages | time | result |\n")
	bw.WriteString("|---:|---:|---:|---:|---:|---:|---|\n")
	fmt.Fprintf(bw, "| %d | %d | %d | %d | %d | %s | %s (exit %d) |\n",
		t.Passed, t.Failed, t.Skipped, t.Hung, t.Packages, took(rp), text(rp.Reason), rp.ExitCode)
	for _, h := range rp.Hangs {
		name := h.Test
		if name == "" {
			name = "(package, phase " + string(h.Phase) + ")"
		}
		fmt.Fprintf(bw, "\n### :hourglass: HANG %s %s\n\n", code(h.Package), code(name))
		fmt.Fprintf(bw, "%s\n\n", text(h.Summary))
		if h.Location != "" {
			fmt.Fprintf(bw, "- **where**: %s", code(h.Location))
			if h.State != "" {
				fmt.Fprintf(bw, " (%s)", text(h.State))
			}
			bw.WriteString("\n")
		}
		fmt.Fprintf(bw, "- **phase**: %s, no progress for %s (threshold %s)\n",
			text(string(h.Phase)), dur(h.StalledForSeconds), dur(h.ThresholdSeconds))
		if h.CaptureError != "" {
			fmt.Fprintf(bw, "- **capture** %s failed: %s\n", text(h.Capture), text(h.CaptureError))
		}
		if len(h.AlsoStopped) > 0 {
			fmt.Fprintf(bw, "- **also stopped**: %s\n", text(strings.Join(h.AlsoStopped, ", ")))
		}
		for _, p := range h.Processes {
			killed := ""
			if p.Killed {
				killed = ", killed"
			}
			fmt.Fprintf(bw, "- **process** %d (%s%s): %s\n", p.PID, text(p.Role), killed, code(strings.Join(p.Cmdline, " ")))
		}
		if d := h.Artifacts["dump"]; d != "" {
			fmt.Fprintf(bw, "- **dump**: %s\n", code(d))
		}
		if len(h.Goroutines) > 0 {
			n := 0
			for _, g := range h.Goroutines {
				n += g.Count
			}
			fmt.Fprintf(bw, "\n<details><summary>%d goroutine(s) in %d group(s)</summary>\n\n", n, len(h.Goroutines))
			var b strings.Builder
			for i, g := range h.Goroutines {
				if i > 0 {
					b.WriteString("\n")
				}
				fmt.Fprintf(&b, "%d × goroutine %s [%s] at %s", g.Count, ids(g.IDs), g.State, g.Location)
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
			codeBlock(bw, b.String())
			bw.WriteString("\n</details>\n")
		}
	}
	var failed []report.TestRun
	for _, t := range run.Tests {
		if t.Result == "fail" {
			failed = append(failed, t)
		}
	}
	if len(failed) > 0 {
		bw.WriteString("\n### Failed tests\n\n")
		for i, t := range failed {
			if i == MaxSummaryFailures {
				fmt.Fprintf(bw, "- … and %d more\n", len(failed)-i)
				break
			}
			fmt.Fprintf(bw, "- %s %s", code(t.Package), code(t.Test))
			if _, _, msg, ok := failureLine(&t); ok {
				fmt.Fprintf(bw, ": %s", text(msg))
			}
			bw.WriteString("\n")
		}
	}
	if len(rp.BuildFailures) > 0 {
		bw.WriteString("\n### Build failures\n\n")
		for _, p := range rp.BuildFailures {
			fmt.Fprintf(bw, "- %s\n", code(p))
		}
	}
	return bw.Flush()
}

func headline(rp *report.Report) string {
	t := rp.Totals
	var parts []string
	if t.Hung > 0 || len(rp.Hangs) > 0 {
		parts = append(parts, fmt.Sprintf("%d hang(s)", len(rp.Hangs)))
	}
	if t.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", t.Failed))
	}
	if n := len(rp.BuildFailures); n > 0 {
		parts = append(parts, fmt.Sprintf("%d package(s) failed to build", n))
	}
	if len(parts) == 0 {
		if rp.Reason != "" && rp.Reason != "passed" {
			return text(rp.Reason)
		}
		return fmt.Sprintf("%d passed", t.Passed)
	}
	return strings.Join(parts, ", ")
}

// text escapes s for Markdown inline text: HTML is neutralized and the
// characters that start emphasis, links, tables or code are backslashed.
// Newlines become spaces.
func text(s string) string {
	return textEscaper.Replace(s)
}

var textEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "#", `\#`, "~", `\~`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// code writes s as inline code. An HTML <code> element rather than a
// backtick span: inside a span nothing can be escaped, and a backtick span
// does not win over raw HTML that starts before it; here the text is
// escaped like any other.
func code(s string) string {
	return "<code>" + text(s) + "</code>"
}

// codeBlock writes s as a fenced code block.
func codeBlock(w *bufio.Writer, s string) {
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	w.WriteString(fence + "text\n")
	w.WriteString(s)
	if !strings.HasSuffix(s, "\n") {
		w.WriteString("\n")
	}
	w.WriteString(fence + "\n")
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

func ids(v []int64) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}

// took is the run's duration, or "no times" for an analysed log that has
// none (report.TimesNone), rather than an invented 0s.
func took(rp *report.Report) string {
	if rp.Times == report.TimesNone {
		return "no times"
	}
	return dur(rp.DurationSeconds)
}

func dur(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}
