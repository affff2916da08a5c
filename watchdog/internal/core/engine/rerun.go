package engine

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/report"
)

// rerunHung runs every hung test again by itself, with the same flags and
// threshold, and records whether it hangs alone too (a deadlock in the
// test or the code) or only beside other tests (shared state, ports,
// files, locks).
func (e *engine) rerunHung(ctx context.Context) {
	for i, h := range e.book.hangs {
		if h.Test == "" || ctx.Err() != nil {
			continue
		}
		cfg := e.opts
		cfg.Args = e.a.RerunArgs(e.opts.Args, h.Unit, h.Test)
		cfg.RawCommand = nil
		cfg.Dir = e.base
		cfg.Stdout = io.Discard
		cfg.Stderr = io.Discard
		cfg.JSONFile, cfg.ReportJSON = "", ""
		cfg.ArtifactsDir = filepath.Join(e.artifacts, fmt.Sprintf("rerun-%d", i+1))
		cfg.RerunHung = false
		cfg.Logger = e.log.With(zap.String("rerun", h.Test))
		if h.ThresholdSeconds > 0 {
			cfg.Stall = time.Duration(h.ThresholdSeconds * float64(time.Second))
			cfg.StallFor = nil
		}
		fmt.Fprintf(e.stderr, "hangdog: rerunning %s %s by itself\n", h.Unit, h.Test)
		run, err := Run(ctx, cfg, cfg.NewAdapter())
		r := &report.Rerun{Args: e.a.Command(e.program(), cfg.Args), ArtifactsDir: cfg.ArtifactsDir}
		switch {
		case err != nil:
			r.Result, r.Summary = "error", fmt.Sprintf("the rerun failed: %v", err)
		case run.Report.Reason == "hung":
			r.Result = "hung-alone"
			r.Summary = fmt.Sprintf("%s hangs when run by itself too: the deadlock is in the test or the code it calls", h.Test)
			if len(run.Report.Hangs) > 0 && run.Report.Hangs[0].Location != "" {
				r.Summary += " (at " + run.Report.Hangs[0].Location + ")"
			}
		case run.Report.Reason == "passed" && run.Report.Totals.Passed > 0:
			r.Result = "passed-alone"
			r.Summary = fmt.Sprintf("%s passes when run by itself: it hangs only beside other tests (shared state, ports, files, locks between tests or packages)", h.Test)
			if len(h.Findings) > 0 {
				r.Summary += "; look at: " + h.Findings[0].Text
			}
		case run.Report.Reason == "passed":
			r.Result, r.Summary = "not-run", "the rerun ran no test (the name may not be selectable with -run)"
		default:
			r.Result = "failed-alone"
			r.Summary = fmt.Sprintf("%s does not hang by itself but fails (%s)", h.Test, run.Report.Reason)
		}
		e.mu.Lock()
		h.Rerun = r
		e.mu.Unlock()
		fmt.Fprintf(e.stderr, "hangdog: rerun: %s\n", r.Summary)
	}
}
