package gotest

import (
	"regexp"
	"strings"
)

// RerunArgs builds the go test arguments that run one test of pkg by
// itself: the user's flags without package patterns, -run, -skip and
// -count, then -run with the test's name anchored element by element.
func RerunArgs(user []string, pkg, test string) []string {
	var flags, binArgs []string
	for i := 0; i < len(user); i++ {
		a := user[i]
		if a == "-args" || a == "--args" {
			binArgs = user[i:]
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue // a package pattern
		}
		name := strings.TrimPrefix(strings.TrimLeft(a, "-"), "test.")
		k, _, hasVal := strings.Cut(name, "=")
		drop := k == "run" || k == "skip" || k == "count" || k == "json"
		takesNext := !hasVal && valueFlags[k]
		if !drop {
			flags = append(flags, a)
			if takesNext && i+1 < len(user) {
				flags = append(flags, user[i+1])
			}
		}
		if takesNext {
			i++
		}
	}
	parts := strings.Split(test, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	out := append(flags, "-count=1", "-run", strings.Join(parts, "/"), pkg)
	return append(out, binArgs...)
}
