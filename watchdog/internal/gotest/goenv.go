package gotest

// This file asks the go command about the toolchain a run uses, and reads
// what the user's go test flags say about the build.

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// GoMinor returns the minor version of the go command goCmd that will run
// in dir with env (nil = this process's; it honours GOTOOLCHAIN there): 23
// for go1.23.12. It gives up after a minute.
func GoMinor(goCmd, dir string, env []string) (int, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "env", "GOVERSION")
	cmd.Dir = dir
	cmd.Env = env
	proc.Configure(cmd)
	cmd.Cancel = func() error { return proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	if err != nil {
		return 0, false
	}
	return ParseGoMinor(string(out))
}

// ParseGoMinor reads the minor version from `go env GOVERSION`'s output:
// 27 for "go1.27.3", "go1.27rc1" or "go1.27"; false for anything else
// (a development toolchain, "devel go1.28-…").
func ParseGoMinor(out string) (int, bool) {
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

// VetOff reports whether the user turned go test's vet step off.
func VetOff(args []string) bool {
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

// SpeedVariant returns the user's flags that change how fast tests run
// (-race, -cover, -msan, -asan, -covermode), joined by spaces: durations
// measured with and without them are kept apart (--history).
func SpeedVariant(args []string) string {
	var variant []string
	for _, a := range args {
		if a == "-args" || a == "--args" {
			break
		}
		switch name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name {
		case "race", "cover", "msan", "asan", "covermode":
			variant = append(variant, a)
		}
	}
	return strings.Join(variant, " ")
}
