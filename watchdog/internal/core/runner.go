// Package core holds the runner-neutral vocabulary of hangdog's engine and
// the interfaces through which the engine asks a runner adapter
// (internal/gotest; later internal/pytest) for what only the runner knows.
// Package watchdog wires an adapter in; core itself imports no adapter (see
// deps_test.go and ARCHITECTURE.md).
package core

import "github.com/hangdog/hangdog/watchdog/internal/proc"

// A unit is what a runner runs in one process: the test binary of a Go
// package, later a pytest worker. Units and tests are named by the runner;
// the core only compares and prints the names.

// Runner is what every adapter implements: the runner's name as the report
// gives it ("go"; later "pytest").
type Runner interface {
	Name() string
}

// CommandBuilder builds the command line of a run from the user's
// arguments.
type CommandBuilder interface {
	Runner
	// Command returns the argv of a run of program (the runner's
	// executable, argv[0]) with the user's arguments, completed with what
	// the engine needs (Go: -json, and ./... when no package is named).
	// It does not change user.
	Command(program string, user []string) []string
	// Verbose reports whether the user's arguments ask the runner for
	// verbose output (the engine then formats every test's output).
	Verbose(user []string) bool
}

// Rerunner builds the arguments that run a chosen test of a unit again by
// itself (--rerun-hung).
type Rerunner interface {
	// RerunArgs returns user changed to run only test of unit: the user's
	// flags without the ones that select tests, repeat them or choose the
	// output format, then the runner's own selection of test. The result
	// goes through Command like the user's arguments. It does not change
	// user.
	RerunArgs(user []string, unit, test string) []string
}

// ProcessFinder finds the process that runs a unit, for a snapshot.
type ProcessFinder interface {
	// FindProcess returns the process of unit among the descendants of
	// the process root; nil and no error when none runs it (not yet, or
	// no more).
	FindProcess(root int, unit string) (*proc.Process, error)
}

// Namer knows how a runner names its tests.
type Namer interface {
	// Parent returns the name test would have if it were the test it is
	// nested in: "TestA/sub" → "TestA" for Go, and false for a name with
	// no parent. A runner whose names may hold the separator inside a
	// part (a Go subtest's name may contain '/') gives every candidate in
	// turn: callers walk Parent until it says false and take the names
	// that exist.
	Parent(test string) (string, bool)
}
