package engine

// The leaks' section of the text summary (issue 11's leak check: the
// tests that left goroutines blocked after they ended).

import (
	"fmt"
	"strings"

	"github.com/hangdog/hangdog/watchdog/report"
)

// writeLeaks writes the leaks' section of the text summary: one LEAK line
// per test, then a line per group of goroutines.
//
//	hangdog: 2 test(s) left goroutines blocked after they ended:
//	  LEAK example.com/leaky TestSend (proven): 2 goroutines
//	      2 × chan send at leaky.go:15 in example.com/leaky.FirstResult.func1 (created by example.com/leaky.FirstResult)
//
// writeLeaks writes the leaks' section of the text summary: one LEAK line
// per test, then a line per group of goroutines.
//
//	hangdog: 2 test(s) left goroutines blocked after they ended:
//	  LEAK example.com/leaky TestSend (proven): 2 goroutines
//	      2 × chan send at leaky.go:15 in example.com/leaky.FirstResult.func1 (created by example.com/leaky.FirstResult)
func writeLeaks(b *strings.Builder, leaks []*report.Leak) {
	if len(leaks) == 0 {
		return
	}
	tests := map[string]bool{}
	for _, l := range leaks {
		tests[fmt.Sprintf("%s\x00%s\x00%d", l.Package, l.Test, l.Run)] = true
	}
	fmt.Fprintf(b, "\nhangdog: %d test(s) left goroutines blocked after they ended:\n", len(tests))
	for _, l := range leaks {
		n := 0
		for _, g := range l.Goroutines {
			n += g.Count
		}
		how := "blocked at the end"
		if l.Proven {
			how = "proven"
		}
		run := ""
		if l.Run > 1 {
			run = fmt.Sprintf(" (run %d)", l.Run)
		}
		fmt.Fprintf(b, "  LEAK %s %s%s [%s]: %d goroutine(s)\n", l.Package, l.Test, run, how, n)
		for _, g := range l.Goroutines {
			fmt.Fprintf(b, "      %d × %s", g.Count, g.State)
			if g.Location != "" {
				fmt.Fprintf(b, " at %s", g.Location)
			}
			if g.Function != "" {
				fmt.Fprintf(b, " in %s", g.Function)
			}
			if g.CreatedBy != "" {
				fmt.Fprintf(b, " (created by %s)", g.CreatedBy)
			}
			b.WriteByte('\n')
		}
	}
}
