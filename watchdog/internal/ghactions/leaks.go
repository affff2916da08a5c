package ghactions

import (
	"fmt"
	"strings"

	"github.com/hangdog/hangdog/watchdog/report"
)

// leakAnnotations are one "::warning" per leak, at its first group's
// location: a leak is reported, not failed (see --fail-on-leak). They come
// after the errors, which GitHub's per-step limit keeps first.
func leakAnnotations(run *report.Run, root, dir string) []annotation {
	if run.Report == nil {
		return nil
	}
	var out []annotation
	for _, l := range run.Report.Leaks {
		a := annotation{level: "warning", title: leakTitle(l), message: leakMessage(l)}
		if len(l.Goroutines) > 0 {
			if file, line, ok := splitLocation(l.Goroutines[0].Location); ok {
				a.file, a.line = relTo(root, dir, file), line
			}
		}
		out = append(out, a)
	}
	return out
}

func leakTitle(l *report.Leak) string {
	run := ""
	if l.Run > 1 {
		run = fmt.Sprintf(" (run %d)", l.Run)
	}
	return fmt.Sprintf("LEAK %s %s%s", l.Package, l.Test, run)
}

// leakMessage says how long the goroutines outlived the test and lists
// each group.
func leakMessage(l *report.Leak) string {
	var b strings.Builder
	how := "still blocked"
	if l.Proven {
		how = "proven leaked (nothing can wake them)"
	}
	fmt.Fprintf(&b, "goroutines %s %s after the test ended", how, dur(l.GraceSeconds))
	for _, g := range l.Goroutines {
		fmt.Fprintf(&b, "\n%d × [%s] at %s", g.Count, g.State, g.Location)
		if g.CreatedBy != "" {
			fmt.Fprintf(&b, " (created by %s)", g.CreatedBy)
		}
	}
	return b.String()
}
