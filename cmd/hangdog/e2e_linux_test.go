package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog"
)

// The e2e tests run the real hangdog binary on the fixture modules under
// testdata/hang, which really hang, and assert on the JSON report.

var hangdogBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hangdog-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hangdogBin = filepath.Join(dir, "hangdog")
	if out, err := exec.Command("go", "build", "-o", hangdogBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build hangdog: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "..", "testdata", "hang", name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type result struct {
	code           int
	stdout, stderr string
	report         *watchdog.Report
	raw            []byte
}

var runSeq atomic.Int64

// runHangdog runs the hangdog binary in dir and checks that nothing it
// started is left behind.
func runHangdog(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runHangdogEnv(t, dir, nil, args...)
}

// runHangdogShell runs hangdog with its standard input fed by a shell
// command (a stream written over time).
func runHangdogShell(t *testing.T, producer string, args ...string) result {
	t.Helper()
	return runHangdogIn(t, t.TempDir(), nil, producer, args...)
}

// runHangdogEnv is runHangdog with extra environment variables, which win
// over the defaults.
func runHangdogEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runHangdogIn(t, dir, env, "", args...)
}

func runHangdogIn(t *testing.T, dir string, env []string, producer string, args ...string) result {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("e2e tests need /proc")
	}
	tmp := t.TempDir()
	rep := filepath.Join(tmp, "report.json")
	marker := fmt.Sprintf("HANGDOG_E2E_RUN=%d-%d", os.Getpid(), runSeq.Add(1))
	full := append([]string{"--report-json", rep, "--artifacts", filepath.Join(tmp, "artifacts")}, args...)
	if len(args) > 0 && (args[0] == "analyze" || args[0] == "pytest") {
		full = append([]string{args[0], "--report-json", rep, "--artifacts", filepath.Join(tmp, "artifacts")}, args[1:]...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hangdogBin, full...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), marker, "CI=", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if producer != "" {
		p := exec.Command("sh", "-c", producer)
		p.Env = cmd.Env
		in, err := p.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = in
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		defer p.Wait()
	}
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run hangdog: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
	})
	checkNoLeftovers(t, marker)
	if b, err := os.ReadFile(rep); err == nil {
		res.raw = b
		res.report = new(watchdog.Report)
		if err := json.Unmarshal(b, res.report); err != nil {
			t.Fatalf("report: %v", err)
		}
	}
	return res
}

// checkNoLeftovers fails if any process still carries the run's marker in
// its environment (everything hangdog started inherits it).
func checkNoLeftovers(t *testing.T, marker string) {
	t.Helper()
	var left []string
	for try := 0; try < 50; try++ {
		left = left[:0]
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid := e.Name()
			if pid[0] < '0' || pid[0] > '9' {
				continue
			}
			env, err := os.ReadFile("/proc/" + pid + "/environ")
			if err != nil || !bytes.Contains(env, []byte(marker+"\x00")) {
				continue
			}
			stat, _ := os.ReadFile("/proc/" + pid + "/stat")
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
				continue // a zombie is already dead
			}
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			left = append(left, pid+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, l := range left {
		if n, err := fmt.Sscan(l, new(int)); n == 1 && err == nil {
			var pid int
			fmt.Sscan(l, &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	t.Errorf("processes left behind: %q", left)
}

func findHang(t *testing.T, r result, test string) *watchdog.Hang {
	t.Helper()
	if r.report == nil {
		t.Fatalf("no report")
	}
	for _, h := range r.report.Hangs {
		if h.Test == test {
			return h
		}
	}
	var got []string
	for _, h := range r.report.Hangs {
		got = append(got, h.Package+" "+h.Test)
	}
	t.Fatalf("no hang for %q; hangs: %q", test, got)
	return nil
}

func wantSuffix(t *testing.T, what, got, suffix string) {
	t.Helper()
	if !strings.HasSuffix(got, suffix) {
		t.Errorf("%s = %q, want suffix %q", what, got, suffix)
	}
}

func hasGroup(h *watchdog.Hang, role, state, locSuffix string) bool {
	for _, g := range h.Goroutines {
		if (role == "" || g.Role == role) && g.State == state && strings.HasSuffix(g.Location, locSuffix) {
			return true
		}
	}
	return false
}
