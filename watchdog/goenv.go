package watchdog

// This file asks the go command about the toolchain and module a run
// uses.

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/history"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// defaultHistory is where --history without a file keeps the durations:
// under the user's cache directory, one file per module root and per set
// of flags that change test speed (-race, -cover, -msan, -asan).
func (e *engine) defaultHistory() (string, error) {
	dir := e.cfg.Dir
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	e.base = abs
	out, err := e.goList("list", "-m", "-f", "{{.Dir}}")
	root := abs
	if err == nil {
		if first, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); first != "" {
			root = first
		}
	}
	var variant []string
	for _, a := range e.cfg.Args {
		if a == "-args" || a == "--args" {
			break
		}
		switch name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name {
		case "race", "cover", "msan", "asan", "covermode":
			variant = append(variant, a)
		}
	}
	return history.DefaultPath(root, strings.Join(variant, " "))
}

// goMinor returns the minor version of the go command that will run (it
// honours GOTOOLCHAIN in the run's environment): 23 for go1.23.12.
func (e *engine) goMinor(goCmd, dir string) (int, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "env", "GOVERSION")
	cmd.Dir = dir
	cmd.Env = e.cfg.Env
	proc.Configure(cmd)
	cmd.Cancel = func() error { return proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	if err != nil {
		return 0, false
	}
	return parseGoMinor(string(out))
}

// parseGoMinor reads the minor version from `go env GOVERSION`'s output:
// 27 for "go1.27.3", "go1.27rc1" or "go1.27"; false for anything else
// (a development toolchain, "devel go1.28-…").
func parseGoMinor(out string) (int, bool) {
	v, ok := strings.CutPrefix(strings.TrimSpace(out), "go1.")
	if !ok {
		return 0, false
	}
	if i := strings.IndexAny(v, ".-+ rcbeta"); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// vetOff reports whether the user turned go test's vet step off.
func vetOff(args []string) bool {
	for i, a := range args {
		if a == "-args" || a == "--args" {
			return false
		}
		switch strings.TrimLeft(a, "-") {
		case "vet=off":
			return true
		case "vet":
			if i+1 < len(args) && args[i+1] == "off" {
				return true
			}
		}
	}
	return false
}
