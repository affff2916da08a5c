package watchdog

// This file asks the go test adapter's lookup about the run's packages.

import (
	"errors"

	"github.com/hangdog/hangdog/watchdog/internal/gotest"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// findBinary finds the running test binary of pkg below go in the process
// tree; a process table that cannot be read is warned about once.
func (e *engine) findBinary(pkg string) (*proc.Process, error) {
	p, err := e.look.FindProcess(e.rootPID, pkg)
	var le *gotest.ProcessListError
	if errors.As(err, &le) {
		e.warnOnce("testbinaries", "hangdog: cannot list test binaries: "+err.Error())
	}
	return p, err
}

// pkgDir is the directory of an import path (see gotest.Lookup.PkgDir).
func (e *engine) pkgDir(pkg string) string { return e.look.PkgDir(pkg) }

// userModules returns the module paths of the user's code.
func (e *engine) userModules() []string { return e.look.Modules() }

// goList runs the go command for a lookup.
func (e *engine) goList(args ...string) (string, error) { return e.look.GoList(args...) }
