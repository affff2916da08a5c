// Package gotest is the go test adapter of hangdog's engine (a
// core.Adapter): it knows go test's command line (which flags take a
// value, -json, package patterns, -run/-skip, vet) and puts the agent into
// the test binaries, reads the test2json stream into the core's events
// and formats it for the user, finds a package's test binary, takes its
// snapshots (the agent, SIGQUIT), reads goroutine dumps into per-test
// diagnoses, reads analysed logs, and makes the summaries of `hangdog
// stacks`. Package watchdog wires it to internal/core/engine.
package gotest

import (
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// Runner is the go test adapter. Its zero value is ready to use.
type Runner struct{}

// What the adapter can do, checked at compile time.
var (
	_ core.CommandBuilder = Runner{}
	_ core.Rerunner       = Runner{}
	_ core.Namer          = Runner{}
)

// Name implements core.Runner.
func (Runner) Name() string { return "go" }

// Command implements core.CommandBuilder: program test, then TestArgs.
func (Runner) Command(program string, user []string) []string {
	return append([]string{program}, TestArgs(user)...)
}

// Verbose implements core.CommandBuilder.
func (Runner) Verbose(user []string) bool { return Verbose(user) }

// RerunArgs implements core.Rerunner with an anchored -run (see
// RerunArgs).
func (Runner) RerunArgs(user []string, pkg, test string) []string {
	return RerunArgs(user, pkg, test)
}

// Parent implements core.Namer: a subtest's name is its parent's, '/', and
// its own (which may contain '/' too). A name that starts with '/' has no
// parent.
func (Runner) Parent(test string) (string, bool) {
	i := strings.LastIndexByte(test, '/')
	if i <= 0 {
		return "", false
	}
	return test[:i], true
}
