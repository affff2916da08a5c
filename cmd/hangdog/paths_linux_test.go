package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog"
)

// fakeGo puts a `go` first on PATH that only records that it was run, and
// returns the PATH and the record's path.
func fakeGo(t *testing.T) (path, record string) {
	t.Helper()
	bin := t.TempDir()
	record = filepath.Join(t.TempDir(), "go-was-run")
	script := "#!/bin/sh\necho \"$@\" >>" + record + "\nexit 0\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return bin + string(os.PathListSeparator) + os.Getenv("PATH"), record
}

// TestOutputPathsBeforeRun: an output path that cannot be written is found
// before go is run at all (not its go list, not go env, not go test): one
// line on stderr naming the flag, exit 2, at once. The real file is not
// created.
func TestOutputPathsBeforeRun(t *testing.T) {
	t.Parallel()
	stream, err := filepath.Abs(filepath.Join("..", "..", "testdata", "streams"))
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(stream, "*", "*.json"))
	if len(entries) == 0 {
		t.Fatal("no recorded streams")
	}
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string // in the one line
	}{
		{"report-json", []string{"--report-json", filepath.Join(missing, "r.json")}, "hangdog: --report-json " + filepath.Join(missing, "r.json") + ": directory " + missing + " does not exist"},
		{"junitfile", []string{"--junitfile", filepath.Join(missing, "j.xml")}, "hangdog: --junitfile "},
		{"html", []string{"--html", dir}, "hangdog: --html " + dir + ": is a directory"},
		{"jsonfile", []string{"--jsonfile", filepath.Join(file, "s.json")}, "is not a directory"},
		{"log-file", []string{"--log-file", filepath.Join(missing, "h.log")}, "hangdog: --log-file "},
		{"history", []string{"--history=" + filepath.Join(missing, "h.json")}, "hangdog: --history "},
		{"artifacts", []string{"--artifacts", file}, "hangdog: --artifacts " + file + ": is not a directory"},
		{"proc", []string{"--report-json", "/proc/r.json"}, "cannot create a file in /proc"},
		{"analyze report-json", []string{"analyze", "--report-json", filepath.Join(missing, "r.json"), entries[0]}, "hangdog: --report-json "},
		{"analyze html", []string{"analyze", "--html", filepath.Join(missing, "r.html"), entries[0]}, "hangdog: --html "},
		{"analyze junitfile", []string{"analyze", "--junitfile", dir, entries[0]}, "is a directory"},
		{"analyze artifacts", []string{"analyze", "--artifacts", file, entries[0]}, "hangdog: --artifacts "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path, record := fakeGo(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, hangdogBin, append(tc.args, "--", "-count=1", "./...")...)
			if tc.args[0] == "analyze" {
				cmd = exec.CommandContext(ctx, hangdogBin, tc.args...)
			}
			cmd.Dir = suite(t, "passing")
			cmd.Env = append(os.Environ(), "PATH="+path, "CI=", "GOTOOLCHAIN=local")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != watchdog.ExitUsage {
				t.Errorf("exit %d, want %d", code, watchdog.ExitUsage)
			}
			if n := strings.Count(stderr.String(), "\n"); n != 1 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr (%d lines) %q, want one line with %q", n, stderr.String(), tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q", stdout.String())
			}
			if b, err := os.ReadFile(record); err == nil {
				t.Errorf("go was run before the error: %s", b)
			}
			if _, err := os.Stat(missing); err == nil {
				t.Errorf("%s was created", missing)
			}
			// Not a performance claim (bench/paths.sh measures): a bound
			// far above the few milliseconds it takes, that a run of go
			// (even the fake one) would not change.
			if took > 20*time.Second {
				t.Errorf("the error took %v", took)
			}
			t.Logf("%s: exit %d after %v", tc.name, code, took)
		})
	}
}

// TestOutputPathsUntouched: a valid output path is probed, not created or
// truncated, before the run: an existing --report-json keeps its content
// while the run goes on, and no probe file is left in its directory.
func TestOutputPathsUntouched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, []byte("previous"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A wrong path beside a valid one: the run stops before it starts,
	// and the valid file is as it was.
	path, _ := fakeGo(t)
	cmd := exec.Command(hangdogBin, "--report-json", old, "--html", filepath.Join(dir, "x", "r.html"), "--log-file", filepath.Join(dir, "log"), "--", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != watchdog.ExitUsage {
		t.Fatalf("%v: %s", err, out)
	}
	if b, _ := os.ReadFile(old); string(b) != "previous" {
		t.Errorf("--report-json file changed before the run: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files in the output directory: %v (want only old.json: no probe, no log file)", names)
	}
}

// TestAnalyzeNothingToRead: analyze on an input that cannot be read, or
// that holds no test event, no result line and no dump, is exit 4 with
// one line that says what it found instead, as stacks is.
func TestAnalyzeNothingToRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "build.log")
	if err := os.WriteFile(log, []byte("go: downloading example.com/x v1.0.0\nbuilding...\ndone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, input, producer, want string }{
		{"missing", filepath.Join(dir, "missing.json"), "", "hangdog: analyze: open " + filepath.Join(dir, "missing.json") + ": no such file or directory\n"},
		{"text", log, "", "hangdog: analyze: " + log + ": no test events, test results or goroutine dump found (3 lines of other text)\n"},
		{"empty stdin", "-", "true", "hangdog: analyze: standard input: no test events, test results or goroutine dump found (empty)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runHangdogIn(t, dir, nil, tc.producer, "analyze", tc.input)
			if r.code != watchdog.ExitInternal || r.stderr != tc.want || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 4 and %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
	// A log that only shows a test starting is something to read.
	started := filepath.Join(dir, "started.log")
	if err := os.WriteFile(started, []byte("=== RUN   TestA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runHangdogIn(t, dir, nil, "", "analyze", started); r.code == watchdog.ExitInternal {
		t.Errorf("a log with a === RUN line: exit %d, stderr %q", r.code, r.stderr)
	}
}
