package watchdog

// This file finds things out through the go command and the process
// table: a package's directory and test binary, the user's modules.

import (
	"context"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// findBinary finds the running test binary of pkg below go in the process
// tree, by its working directory (the package directory).
func (e *engine) findBinary(pkg string) (*proc.Process, error) {
	bins, err := proc.TestBinaries(e.rootPID)
	if err != nil {
		e.warnOnce("testbinaries", "hangdog: cannot list test binaries: "+err.Error())
		return nil, err
	}
	if len(bins) == 0 {
		return nil, nil
	}
	dir := e.pkgDir(pkg)
	if dir != "" {
		for i := range bins {
			if sameDir(bins[i].Cwd, dir) {
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

func sameDir(a, b string) bool {
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

// pkgDir asks go list for the directory of an import path (cached).
func (e *engine) pkgDir(pkg string) string {
	e.mu.Lock()
	d, ok := e.pkgDirs[pkg]
	e.mu.Unlock()
	if ok {
		return d
	}
	out, err := e.goList("list", "-e", "-f", "{{.Dir}}", pkg)
	d = strings.TrimSpace(out)
	if err != nil || strings.Contains(d, "\n") {
		d = ""
	}
	e.mu.Lock()
	e.pkgDirs[pkg] = d
	e.mu.Unlock()
	return d
}

// userModules returns the module paths of the user's code (go list -m).
func (e *engine) userModules() []string {
	e.lookupOnce.Do(func() {
		out, err := e.goList("list", "-m", "-f", "{{.Path}}")
		if err != nil {
			return
		}
		for _, l := range strings.Split(out, "\n") {
			if l = strings.TrimSpace(l); l != "" && l != "command-line-arguments" {
				e.modules = append(e.modules, l)
			}
		}
	})
	return e.modules
}

// goList runs the go command for a lookup, in its own process group, with
// a time limit.
func (e *engine) goList(args ...string) (string, error) {
	g := e.cfg.Go
	if g == "" || len(e.cfg.RawCommand) > 0 {
		g = "go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g, args...)
	cmd.Dir = e.base
	cmd.Env = e.cfg.Env
	proc.Configure(cmd)
	cmd.Cancel = func() error { return proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	return string(out), err
}
