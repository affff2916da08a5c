package junit

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/hangdog/hangdog/watchdog/report"
)

// attachLeaks puts each leak into the <system-out> of its test's testcase
// (the first one of that name: the first -count iteration's); a leak is
// no failure. A leak whose test has no testcase (the run kept no per-test
// records) goes nowhere.
func attachLeaks(byPkg map[string]*suite, leaks []*report.Leak) {
	for _, l := range leaks {
		s := byPkg[l.Package]
		if s == nil {
			continue
		}
		for i := range s.cases {
			if s.cases[i].name == l.Test {
				s.cases[i].out += leakText(l)
				break
			}
		}
	}
}

// leakText describes one leak for <system-out>.
func leakText(l *report.Leak) string {
	var b strings.Builder
	how := "blocked at the end"
	if l.Proven {
		how = "proven: nothing can ever wake them"
	}
	run := ""
	if l.Run > 1 {
		run = fmt.Sprintf(" (run %d)", l.Run)
	}
	fmt.Fprintf(&b, "LEAK %s %s%s: goroutines still blocked %s after the test ended (%s)\n", l.Package, l.Test, run, dur(l.GraceSeconds), how)
	for _, g := range l.Goroutines {
		fmt.Fprintf(&b, "%d × [%s] at %s", g.Count, g.State, g.Location)
		if g.CreatedBy != "" {
			fmt.Fprintf(&b, " (created by %s)", g.CreatedBy)
		}
		b.WriteString("\n")
		for _, f := range g.Stack {
			fmt.Fprintf(&b, "    %s\n", f)
		}
	}
	return b.String()
}

func writeSystemOut(w *bufio.Writer, out string) {
	if out == "" {
		return
	}
	w.WriteString("      <system-out>")
	writeCDATA(w, out)
	w.WriteString("</system-out>\n")
}
