package gotest

import "testing"

// TestIsDumpStart: the timeout banner is found after output that had no
// final newline, as go test prints it (stackparse/testdata/dumps/*/nonl.txt).
func TestIsDumpStart(t *testing.T) {
	for in, want := range map[string]bool{
		"panic: test timed out after 2s\n":                          true,
		"waiting for the server...panic: test timed out after 2s\n": true,
		"fatal error: all goroutines are asleep - deadlock!\n":      true,
		"    x_test.go:3: panic: boom\n":                            false,
		"WARNING: DATA RACE\n":                                      false,
	} {
		if got := isDumpStart(in); got != want {
			t.Errorf("isDumpStart(%q) = %v", in, got)
		}
	}
}
