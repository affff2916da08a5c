package main

// This file reads what each tool printed.

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"

	"github.com/hangdog/hangdog/watchdog/report"
)

var goleakSplit = regexp.MustCompile(`[\[ ]Goroutine \d+ `)

// named reports whether one of the goroutines, given as "Func() [state]"
// lines of each frame, is at a place the kernel's test expects.
func named(k kernel, lines []string) bool {
	for _, re := range k.expect {
		for _, l := range lines {
			if re.MatchString(l) {
				return true
			}
		}
	}
	return false
}

// groupLines turns a report's goroutine groups into "Func() [state]" lines.
func groupLines(gs []report.GoroutineGroup) []string {
	var out []string
	for _, g := range gs {
		for _, fr := range g.Stack {
			fn, _, _ := strings.Cut(fr, " ")
			out = append(out, unqualify(fn)+"() ["+g.State+"]")
		}
	}
	return out
}

// streamResults returns the tests with a pass, fail or skip event in a
// go test -json stream file.
func streamResults(path string) map[string]bool {
	out := map[string]bool{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		var ev struct{ Action, Test string }
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Test != "" && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip") {
			out[ev.Test] = true
		}
	}
	return out
}

// goleakLines reads goleak's report ("[Goroutine 7 in state chan send,
// with main.f on top of the stack:" and the stack) into "Func() [state]"
// lines.
func goleakLines(out string) []string {
	var lines []string
	for _, blk := range goleakSplit.Split(out, -1)[1:] {
		state := ""
		if _, rest, ok := strings.Cut(blk, "in state "); ok {
			state, _, _ = strings.Cut(rest, ", with ")
		}
		for _, l := range strings.Split(blk, "\n") {
			l = strings.TrimSpace(l)
			if fn, ok := kernelFunc(l); ok {
				lines = append(lines, fn+"() ["+state+"]")
			}
		}
	}
	return lines
}

// kernelFunc returns the function of a stack line of the kernels' package
// ("goker.(*T).f(0x1)" gives "(*T).f"), which runtime's patterns match.
func kernelFunc(l string) (string, bool) {
	if !strings.HasPrefix(l, "goker.") && !strings.HasPrefix(l, "main.") {
		return "", false
	}
	l = unqualify(l)
	// The argument list starts at the last "(" that is not "(*".
	for i := len(l) - 1; i > 0; i-- {
		if l[i] == '(' && (i+1 >= len(l) || l[i+1] != '*') {
			return l[:i], true
		}
	}
	return l, true
}

// unqualify drops the kernels' package name.
func unqualify(fn string) string {
	fn = strings.TrimPrefix(fn, "goker.")
	return strings.TrimPrefix(fn, "main.")
}

// dumpLines reads a goroutine dump into "Func() [state]" lines.
func dumpLines(dump string) []string {
	hdr := regexp.MustCompile(`^goroutine \d+ \[([^\],]*)`)
	var lines []string
	state := ""
	for _, l := range strings.Split(dump, "\n") {
		if m := hdr.FindStringSubmatch(l); m != nil {
			state = m[1]
			continue
		}
		if fn, ok := kernelFunc(l); ok {
			lines = append(lines, fn+"() ["+state+"]")
		}
	}
	return lines
}

// runningTests reads the "running tests:" list of a timeout.
func runningTests(dump string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(dump, "\n") {
		t := strings.TrimSpace(l)
		if t == "running tests:" {
			in = true
			continue
		}
		if in {
			if !strings.HasPrefix(t, "Test") {
				break
			}
			name, _, _ := strings.Cut(t, " ")
			out = append(out, name)
		}
	}
	return out
}
