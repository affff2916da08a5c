package gotest

// This file finds things out through the go command and the process
// table: a package's directory and test binary, the user's modules.

import (
	"context"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// Lookup answers the engine's questions about the run's packages with the
// go command and the process table, and caches the answers. Set its fields
// before the first call; its methods are then safe for concurrent use.
type Lookup struct {
	Go  string   // the go command ("" = "go")
	Dir string   // where go is run: the run's directory
	Env []string // go's environment (nil = this process's)

	mu      sync.Mutex
	dirs    map[string]string // package directories by import path
	modOnce sync.Once
	modules []string
}

var _ core.ProcessFinder = (*Lookup)(nil)

// ProcessListError is the error of FindProcess when the process table
// could not be read at all (rather than holding no such binary).
type ProcessListError struct{ Err error }

func (e *ProcessListError) Error() string { return e.Err.Error() }
func (e *ProcessListError) Unwrap() error { return e.Err }

// FindProcess implements core.ProcessFinder: the running test binary of
// pkg below root in the process tree, found by its working directory (the
// package directory), else by its name, pkg.test.
func (l *Lookup) FindProcess(root int, pkg string) (*proc.Process, error) {
	bins, err := proc.TestBinaries(root)
	if err != nil {
		return nil, &ProcessListError{Err: err}
	}
	if len(bins) == 0 {
		return nil, nil
	}
	dir := l.PkgDir(pkg)
	if dir != "" {
		for i := range bins {
			if SameDir(bins[i].Cwd, dir) {
				return &bins[i], nil
			}
		}
		return nil, nil
	}
	// No directory: fall back on the binary's name, pkg.test.
	want := path.Base(pkg) + ".test"
	var found *proc.Process
	for i := range bins {
		exe := bins[i].Exe
		if len(bins[i].Cmdline) > 0 {
			exe = bins[i].Cmdline[0]
		}
		if filepath.Base(exe) == want {
			if found != nil {
				return nil, fmt.Errorf("several test binaries named %s", want)
			}
			found = &bins[i]
		}
	}
	return found, nil
}

// SameDir reports whether a and b name the same directory (through
// symbolic links too); never for "".
func SameDir(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// PkgDir asks go list for the directory of an import path (cached; "" when
// go list does not know it).
func (l *Lookup) PkgDir(pkg string) string {
	l.mu.Lock()
	d, ok := l.dirs[pkg]
	l.mu.Unlock()
	if ok {
		return d
	}
	out, err := l.GoList("list", "-e", "-f", "{{.Dir}}", pkg)
	d = strings.TrimSpace(out)
	if err != nil || strings.Contains(d, "\n") {
		d = ""
	}
	l.mu.Lock()
	if l.dirs == nil {
		l.dirs = make(map[string]string)
	}
	l.dirs[pkg] = d
	l.mu.Unlock()
	return d
}

// Modules returns the module paths of the user's code (go list -m), asked
// once.
func (l *Lookup) Modules() []string {
	l.modOnce.Do(func() {
		out, err := l.GoList("list", "-m", "-f", "{{.Path}}")
		if err != nil {
			return
		}
		for _, m := range strings.Split(out, "\n") {
			if m = strings.TrimSpace(m); m != "" && m != "command-line-arguments" {
				l.modules = append(l.modules, m)
			}
		}
	})
	return l.modules
}

// GoList runs the go command with args for a lookup, in its own process
// group, with a time limit, and returns its standard output.
func (l *Lookup) GoList(args ...string) (string, error) {
	g := l.Go
	if g == "" {
		g = "go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g, args...)
	cmd.Dir = l.Dir
	cmd.Env = l.Env
	proc.Configure(cmd)
	cmd.Cancel = func() error { return proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	return string(out), err
}
