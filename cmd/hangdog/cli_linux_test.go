package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog"
)

func suite(t *testing.T, name string) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "..", "testdata", "suites", name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestE2EPassing(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, suite(t, "passing"), "--", "-count=1", "./...")
	if r.code != 0 {
		t.Fatalf("exit code %d", r.code)
	}
	want := watchdog.Totals{Passed: 5, Skipped: 1, Packages: 2}
	if r.report.Totals != want {
		t.Errorf("totals %+v, want %+v", r.report.Totals, want)
	}
	if r.report.Reason != "passed" || r.report.ExitCode != 0 || len(r.report.Hangs) != 0 {
		t.Errorf("report %+v", r.report)
	}
	if r.report.ArtifactsDir != "" && !strings.Contains(r.report.ArtifactsDir, "artifacts") {
		t.Errorf("artifacts dir %q", r.report.ArtifactsDir)
	}
	for _, line := range []string{"ok  \texample.com/passing\t", "ok  \texample.com/passing/sub\t"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "hello from TestOne") {
		t.Errorf("standard-quiet shows a passing test's log:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "hangdog: 5 passed, 0 failed, 1 skipped, 0 hung in 2 packages") {
		t.Errorf("stderr lacks the summary:\n%s", r.stderr)
	}
	// The report round-trips.
	var again watchdog.Report
	if err := json.Unmarshal(r.raw, &again); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(&again, "", "  ")
	if !bytes.Equal(append(b, '\n'), r.raw) {
		t.Errorf("report does not round-trip:\n%s\n---\n%s", r.raw, b)
	}
}

func TestE2EVerbose(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, suite(t, "passing"), "--", "-count=1", "-v", "./...")
	if r.code != 0 {
		t.Fatalf("exit code %d", r.code)
	}
	for _, s := range []string{"=== RUN   TestOne", "hello from TestOne", "--- SKIP: TestSkipped", "--- PASS: TestSub/a"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("-v output lacks %q:\n%s", s, r.stdout)
		}
	}
}

func TestE2EBuildFailure(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, suite(t, "buildfail"), "--", "-count=1", "./...")
	if r.code != watchdog.ExitFailed {
		t.Fatalf("exit code %d, want %d", r.code, watchdog.ExitFailed)
	}
	if r.report.Reason != "build-failed" {
		t.Errorf("reason %q, build failures %q, failed %q", r.report.Reason, r.report.BuildFailures, r.report.FailedPackages)
	}
	if !strings.Contains(r.stdout+r.stderr, "undefined: undefinedName") {
		t.Errorf("the compiler's message is not shown:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if r.report.Totals.Passed != 1 {
		t.Errorf("the good package still runs: %+v", r.report.Totals)
	}
}

// TestE2EBigLine checks that a 4 MiB line of test output reaches the
// console whole, and that --jsonfile is the stream byte for byte.
func TestE2EBigLine(t *testing.T) {
	t.Parallel()
	jf := filepath.Join(t.TempDir(), "run.json")
	r := runHangdog(t, suite(t, "bigoutput"), "--jsonfile", jf, "--", "-count=1", "./...")
	if r.code != watchdog.ExitFailed {
		t.Fatalf("exit code %d", r.code)
	}
	i := strings.Index(r.stdout, "BEGIN")
	j := strings.Index(r.stdout, "END\n")
	if i < 0 || j < 0 || j-i < 4<<20 {
		t.Fatalf("the big line is cut: begin %d end %d, stdout %d bytes", i, j, len(r.stdout))
	}
	line := r.stdout[i+5 : j]
	for k, n := 0, 0; k < len(line); k, n = k+9, n+1 {
		if want := strings.Repeat("0", 8-len(strconv.Itoa(n))) + strconv.Itoa(n) + ","; !strings.HasPrefix(line[k:], want) {
			t.Fatalf("byte %d: want %q, got %q", k, want, line[k:min(k+9, len(line))])
		}
	}
	// Replaying the recorded stream reproduces it exactly.
	jf2 := filepath.Join(t.TempDir(), "again.json")
	r2 := runHangdog(t, t.TempDir(), "--jsonfile", jf2, "--raw-command", "--", "cat", jf)
	a, _ := os.ReadFile(jf)
	b, _ := os.ReadFile(jf2)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("--jsonfile is not byte for byte: %d vs %d bytes", len(a), len(b))
	}
	if r2.stdout != r.stdout {
		t.Errorf("replayed output differs from the live one")
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	cases := [][]string{
		{"--no-such-flag"},
		{"--stall", "banana"},
		{"--stall", "-1s"},
		{"--stall-for", "TestA"},
		{"--stall-for", "(=1s"},
		{"--format", "fancy"},
		{"--raw-command"},
		{"--log-file", "/dev/null", "--log-level", "loud"},
		{"-C", "/nonexistent/dir"},
		{"--kill-after", "0s"},
	}
	for _, args := range cases {
		var stdout, stderr bytes.Buffer
		code := exitCode(run(context.Background(), args, nil, &stdout, &stderr), &stderr)
		if code != watchdog.ExitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, watchdog.ExitUsage)
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "hangdog: ") || strings.Contains(stderr.String(), "goroutine") {
			t.Errorf("%q: want one error line and a hint, got:\n%s", args, stderr.String())
		}
	}
}

func TestHelpGolden(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"--help"}, nil, &stdout, &stderr), &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	golden := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("--help differs from %s (run go test -run TestHelpGolden -update):\n%s", golden, stdout.String())
	}
}

// TestE2EInterrupt stops a run with SIGTERM and SIGINT while a test runs:
// hangdog lists the running test, writes the report, kills everything and
// exits with 128+signal.
func TestE2EInterrupt(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			rep := filepath.Join(tmp, "r.json")
			jf := filepath.Join(tmp, "run.json")
			marker := "HANGDOG_E2E_RUN=interrupt-" + sig.String() + "-" + strconv.Itoa(os.Getpid())
			junit := filepath.Join(tmp, "junit.xml")
			cmd := exec.Command(hangdogBin, "--report-json", rep, "--jsonfile", jf, "--junitfile", junit, "--", "-count=1", "./...")
			cmd.Dir = suite(t, "passing")
			cmd.Env = append(os.Environ(), marker, "CI=", "HANGDOG_E2E_LONG=1", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Minute)
			for {
				b, _ := os.ReadFile(jf)
				if bytes.Contains(b, []byte(`"Test":"TestLong","Output":"    sleep_test.go`)) {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("TestLong never started:\n%s", b)
				}
				time.Sleep(50 * time.Millisecond)
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != 128+int(sig) {
				t.Errorf("exit %d, want %d\n%s", code, 128+int(sig), stderr.String())
			}
			checkNoLeftovers(t, marker)
			r, err := watchdog.ReadReport(rep)
			if err != nil {
				t.Fatal(err)
			}
			if r.Reason != "interrupted" || len(r.Interrupted) != 1 || r.Interrupted[0].Test != "TestLong" {
				t.Errorf("report: reason %q, interrupted %+v", r.Reason, r.Interrupted)
			}
			if r.Runner != "go" || len(r.Interrupted) == 1 && r.Interrupted[0].Unit != r.Interrupted[0].Package {
				t.Errorf("report: runner %q, interrupted %+v (unit: the package)", r.Runner, r.Interrupted)
			}
			if !strings.Contains(stderr.String(), "example.com/passing/sub TestLong (running") {
				t.Errorf("stderr does not list the running test:\n%s", stderr.String())
			}
			if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), `name="TestLong"`) || !strings.Contains(string(b), `type="interrupted"`) {
				t.Errorf("JUnit after %s: %v\n%s", sig, err, b)
			}
		})
	}
}

// TestE2ETermMidCapture sends SIGTERM the moment a stall is announced,
// while the snapshot of a 10,000-goroutine binary is being taken: hangdog
// must still exit 143 with its report and leave no process behind.
func TestE2ETermMidCapture(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	rep := filepath.Join(tmp, "r.json")
	marker := "HANGDOG_E2E_RUN=midcapture-" + strconv.Itoa(os.Getpid())
	cmd := exec.Command(hangdogBin, "--report-json", rep, "--stall", "2s", "--kill-after", "1m", "--", "-count=1", "./...")
	cmd.Dir = fixture(t, "manygoroutines")
	cmd.Env = append(os.Environ(), marker, "CI=", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "hangdog: STALL") {
			cmd.Process.Signal(syscall.SIGTERM)
			break
		}
	}
	go io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 143 {
		t.Errorf("exit %d, want 143\n%s", code, seen.String())
	}
	checkNoLeftovers(t, marker)
	r, err := watchdog.ReadReport(rep)
	if err != nil {
		t.Fatal(err)
	}
	if r.Reason != "interrupted" {
		t.Errorf("reason %q", r.Reason)
	}
}

// TestE2EKilledHangdog: even SIGKILL of hangdog, which no process can
// clean up after, leaves nothing running: go dies with it (PDEATHSIG) and
// the agent in the stuck test binary sees its parent gone and exits.
func TestE2EKilledHangdog(t *testing.T) {
	t.Parallel()
	marker := "HANGDOG_E2E_RUN=sigkill-" + strconv.Itoa(os.Getpid())
	cmd := exec.Command(hangdogBin, "--stall", "2s", "--kill-after", "1h", "--", "-count=1", "./...")
	cmd.Dir = fixture(t, "chanrecv")
	cmd.Env = append(os.Environ(), marker, "CI=", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "keeps running") {
			break
		}
	}
	cmd.Process.Kill()
	go io.Copy(io.Discard, stderr)
	cmd.Wait()
	checkNoLeftovers(t, marker)
}
