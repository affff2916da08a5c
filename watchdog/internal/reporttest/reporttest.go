// Package reporttest builds report values from recorded go test -json
// streams for the tests of the report writers (junit, ghactions), with a
// reader of its own rather than the engine's, so that a writer's test does
// not depend on the engine it is checked against.
package reporttest

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"

	"github.com/hangdog/hangdog/watchdog/report"
)

// StreamRun reads a recorded go test -json stream: a TestRun per test
// that ended, in stream order, with the output of failed tests and, where
// test2json typed it (Go 1.27+), their error lines. dir is the report's
// directory (where go.mod is), "" for none.
func StreamRun(file, dir string) (*report.Run, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	type state struct {
		out, errs strings.Builder
		typed     bool
	}
	tests := map[string]*state{}
	run := &report.Run{}
	if dir != "" {
		run.Report = &report.Report{Dir: dir}
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		var e struct{ Action, Package, Test, Output, OutputType string }
		if json.Unmarshal(l, &e) != nil || e.Test == "" {
			continue
		}
		s := tests[e.Test]
		if s == nil {
			s = new(state)
			tests[e.Test] = s
		}
		switch e.Action {
		case "output":
			s.out.WriteString(e.Output)
			s.typed = s.typed || e.OutputType != ""
			if e.OutputType == "error" || e.OutputType == "error-continue" {
				s.errs.WriteString(e.Output)
			}
		case "pass", "fail", "skip":
			r := report.TestRun{Package: e.Package, Test: e.Test, Result: e.Action}
			if e.Action == "fail" {
				r.Output, r.Errors, r.OutputTyped = s.out.String(), s.errs.String(), s.typed
			}
			run.Tests = append(run.Tests, r)
		}
	}
	return run, nil
}
