package format

import "strings"

// lineKind classifies a line of test output in the stream of
// `go test -json` (where the test binary runs with -test.v=test2json).
type lineKind uint8

const (
	lineDirect  lineKind = iota // printed by the test itself (fmt.Println, a panic)
	lineLog                     // t.Log output: "    file.go:12: msg", indented
	lineFraming                 // "=== RUN   T", "=== PAUSE T", "=== CONT  T", "=== NAME  T"
	lineReport                  // "--- PASS: T (0.00s)", "--- FAIL: …", "--- SKIP: …"
)

func (k lineKind) String() string {
	switch k {
	case lineLog:
		return "log"
	case lineFraming:
		return "framing"
	case lineReport:
		return "report"
	}
	return "direct"
}

// classify looks at the start of a line. A t.Log line is recognised by its
// indentation (the testing package indents log output by four spaces);
// text a test prints itself with the same indentation is taken for a log
// line, which only matters in standard-quiet (it is then shown with the
// test's failure instead of at once).
func classify(s string) lineKind {
	switch {
	case strings.HasPrefix(s, "    "):
		if strings.HasPrefix(strings.TrimLeft(s, " "), "--- ") && reportName(s) != "" {
			return lineReport
		}
		return lineLog
	case strings.HasPrefix(s, "=== RUN   "), strings.HasPrefix(s, "=== PAUSE "),
		strings.HasPrefix(s, "=== CONT  "), strings.HasPrefix(s, "=== NAME  "):
		return lineFraming
	case strings.HasPrefix(s, "--- ") && reportName(s) != "":
		return lineReport
	}
	return lineDirect
}

// reportName returns the test named by a report line, "" if s is not one.
func reportName(s string) string {
	s = strings.TrimLeft(s, " ")
	for _, p := range [...]string{"--- PASS: ", "--- FAIL: ", "--- SKIP: "} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			if i := strings.LastIndex(rest, " ("); i > 0 {
				return rest[:i]
			}
			return strings.TrimRight(rest, "\r\n") // benchmarks: no duration
		}
	}
	return ""
}

// isSummaryLine reports whether a package-level line is the one go test
// prints for the package at its end: "ok  \tpkg\t…", "FAIL\tpkg…",
// "?   \tpkg\t[no test files]".
func isSummaryLine(s, pkg string) bool {
	for _, p := range [...]string{"ok  \t", "FAIL\t", "?   \t"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return pkg == "" || strings.HasPrefix(rest, pkg)
		}
	}
	return false
}
