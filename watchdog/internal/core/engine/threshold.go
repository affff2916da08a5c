package engine

import (
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/history"
)

// threshold returns the stall threshold of a test of pkg (test "" for the
// package level) and why: a --stall-for rule wins; otherwise, with a
// history, the adaptive threshold for the test's usual duration; otherwise
// --stall.
func (e *engine) threshold(pkg, test string) (time.Duration, string) {
	if r, ok := e.opts.rule(test); ok && test != "" {
		return r.Stall, "--stall-for " + r.Pattern.String()
	}
	base := e.opts.stall()
	if test != "" && e.hist != nil {
		if s, ok := e.hist.Expected(pkg, test); ok {
			return history.Threshold(s, base)
		}
	}
	return base, "--stall"
}

func (e *engine) thresholdDur(pkg, test string) time.Duration {
	d, _ := e.threshold(pkg, test)
	return d
}
