package engine

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/report"
)

// maxStackLines is how many frames of each goroutine group the text report
// shows; the whole stacks are in the dump and the JSON report.
const maxStackLines = 8

// printHangs writes the diagnosis of hangs to stderr, each as one block.
func (e *engine) printHangs(hangs []*Hang) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.printHangsLocked(hangs)
}

// printHangsLocked is printHangs with e.mu held.
func (e *engine) printHangsLocked(hangs []*Hang) {
	var b strings.Builder
	for _, h := range hangs {
		writeHang(&b, h, e.base, e.words)
	}
	io.WriteString(e.stderr, b.String())
}

// writeHang renders one hang for people.
func writeHang(b *strings.Builder, h *Hang, base string, w core.Words) {
	name := h.Unit
	if h.Test != "" {
		name += " " + h.Test
	}
	fmt.Fprintf(b, "hangdog: HANG %s [phase %s, no progress for %s]\n", name, h.Phase, fmtSeconds(h.StalledForSeconds))
	fmt.Fprintf(b, "    %s\n", h.Summary)
	if h.CaptureError != "" {
		fmt.Fprintf(b, "    capture: %s\n", h.CaptureError)
	}
	switch h.Verdict {
	case "stuck":
		if h.Artifacts["cpu"] == "" {
			// No CPU profile: nothing ran (see perturb.go), or the
			// binary profiles itself; capture_notes says which.
			fmt.Fprintf(b, "    verdict: stuck: the same stacks in two dumps %s apart\n", compareWindow)
			break
		}
		fmt.Fprintf(b, "    verdict: stuck: the same stacks in two dumps %s apart; %.0f%% of a CPU used\n", compareWindow, h.CPUPercent)
	case "spinning":
		fmt.Fprintf(b, "    verdict: spinning: %.0f%% of a CPU, most of it in %s\n", h.CPUPercent, h.HotFunction)
	}
	for _, g := range h.Goroutines {
		ids := make([]string, 0, 4)
		for i, id := range g.IDs {
			if i == 3 {
				ids = append(ids, "…")
				break
			}
			ids = append(ids, fmt.Sprint(id))
		}
		role := ""
		if g.Role == "test" {
			role = " (the test)"
			if h.Test == "" {
				role = " (main)"
			}
		}
		mins := ""
		if g.WaitMinutes > 0 {
			mins = fmt.Sprintf(", %d minutes", g.WaitMinutes)
		}
		at := " at " + g.Location
		if g.Location == "" {
			at = " (no stack printed)"
		}
		if g.LocationCut != "" {
			at += " (line of " + g.LocationCut + " cut)"
		}
		fmt.Fprintf(b, "    %d × %s %s [%s%s]%s%s\n", g.Count, w.Stack, strings.Join(ids, ","), g.State, mins, at, role)
		shown := 0
		stack := g.Stack
		for len(stack) > 1 && isRuntimeFrame(stack[0]) {
			stack = stack[1:]
		}
		for _, fr := range stack {
			if shown == maxStackLines {
				fmt.Fprintf(b, "          …%d more frames\n", len(stack)-shown)
				break
			}
			if base != "" {
				fr = strings.Replace(fr, " "+base+string(filepath.Separator), " ", 1)
			}
			fmt.Fprintf(b, "          %s\n", fr)
			shown++
		}
		if g.CreatedBy != "" {
			fmt.Fprintf(b, "          created by %s\n", g.CreatedBy)
		}
	}
	for _, p := range h.Processes {
		if p.Role == "test-binary" {
			continue
		}
		killed := ""
		if p.Killed {
			killed = ", killed"
		}
		fmt.Fprintf(b, "    process %d [%s%s] %s: %s\n", p.PID, p.State, killed, p.Role, cmdString(p.Cmdline))
	}
	for _, f := range h.Findings {
		fmt.Fprintf(b, "    found: %s\n", f.Text)
	}
	if len(h.AlsoStopped) > 0 {
		fmt.Fprintf(b, "    also stopped (same binary): %s\n", strings.Join(h.AlsoStopped, ", "))
	}
	if d := h.Artifacts["dump"]; d != "" {
		fmt.Fprintf(b, "    dump: %s\n", d)
	}
	if d := h.Artifacts["cpu"]; d != "" {
		fmt.Fprintf(b, "    profiles: %s (go tool pprof opens them)\n", filepath.Dir(d))
	}
}

// printSummary writes the closing lines of a run to stderr. Called with
// e.mu held.
func (e *engine) printSummary(rep *report.Report) {
	var b strings.Builder
	if len(rep.Hangs) > 0 {
		fmt.Fprintf(&b, "\nhangdog: %d hang(s):\n", len(rep.Hangs))
		for _, h := range rep.Hangs {
			loc := ""
			if h.Location != "" {
				loc = " at " + h.Location
			}
			name := h.Unit
			if h.Test != "" {
				name += " " + h.Test
			}
			fmt.Fprintf(&b, "  HANG %s [%s]%s\n      %s\n", name, h.Phase, loc, h.Summary)
		}
	}
	writeLeaks(&b, rep.Leaks)
	t := rep.Totals
	took := fmtSeconds(rep.DurationSeconds)
	if rep.Times == report.TimesNone {
		took = "no times in the log"
	}
	fmt.Fprintf(&b, "hangdog: %d passed, %d failed, %d skipped, %d hung in %d %s (%s)\n",
		t.Passed, t.Failed, t.Skipped, t.Hung, t.Packages, e.words.Units, took)
	if len(rep.Hangs) > 0 {
		fmt.Fprintf(&b, "hangdog: artifacts in %s\n", e.artifacts)
	}
	io.WriteString(e.stderr, b.String())
}

// isRuntimeFrame reports whether a stack line ("func file:line") is in the
// runtime or an internal package: the machinery of a wait, not its place.
func isRuntimeFrame(line string) bool {
	return strings.HasPrefix(line, "runtime.") || strings.HasPrefix(line, "internal/")
}
