package gotest

import (
	"regexp"
	"strings"
)

// runLog follows, in the text of a go test -v log, the tests that were
// started ("=== RUN   TestX") and have not printed their result ("---
// PASS/FAIL/SKIP: TestX"), so that a dump without a running tests list
// (Go before 1.20 prints none) can still be matched to the tests it
// interrupted. A package's result line ("ok", "FAIL") ends its tests.
type runLog struct {
	running map[string]int // test -> order of its RUN line
	next    int
}

// runLine matches "=== RUN   TestX/sub".
var runLine = regexp.MustCompile(`^=== RUN\s+(\S+)`)

// anyResult matches a test's result line, indented for subtests.
var anyResult = regexp.MustCompile(`^\s*--- (?:PASS|FAIL|SKIP): (\S+)`)

// line notes one line of the log (CI prefix removed).
func (r *runLog) line(no int, l string) {
	switch {
	case strings.HasPrefix(l, "=== RUN"):
		if m := runLine.FindStringSubmatch(l); m != nil {
			if r.running == nil {
				r.running = make(map[string]int)
			}
			r.next++
			r.running[m[1]] = r.next
		}
	case strings.Contains(l, "--- "):
		if m := anyResult.FindStringSubmatch(l); m != nil {
			delete(r.running, m[1])
		}
	case strings.HasPrefix(l, "FAIL\t"), strings.HasPrefix(l, "ok  \t"):
		clear(r.running)
	}
}

// leaves returns the running tests that have no running subtest, in the
// order of their RUN lines.
func (r *runLog) leaves() []string {
	if len(r.running) == 0 {
		return nil
	}
	names := make([]string, 0, len(r.running))
	for n := range r.running {
		names = append(names, n)
	}
	// Order of the RUN lines: the order tests started.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && r.running[names[j]] < r.running[names[j-1]]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	var out []string
	for _, n := range names {
		leaf := true
		for m := range r.running {
			if strings.HasPrefix(m, n+"/") {
				leaf = false
				break
			}
		}
		if leaf {
			out = append(out, n)
		}
	}
	return out
}

// unfinishedAt is the tests still running at a line that starts a dump.
type unfinishedAt struct {
	line  int
	tests []string
}

// mayStartDump reports a line that may start a dump (the testing
// package's timeout, a crash, SIGQUIT), somewhere in the line: the parser
// decides later which did.
func mayStartDump(l string) bool {
	return strings.Contains(l, "panic: ") || strings.Contains(l, "SIGQUIT: quit") || strings.Contains(l, "fatal error: ")
}

// runningAt returns the tests still running when the dump that starts at
// line began: those noted at the last dump start at or before it.
func (t *TextLog) runningAt(line int) []string {
	var out []string
	for _, u := range t.unfinished {
		if u.line > line {
			break
		}
		out = u.tests
	}
	return out
}
