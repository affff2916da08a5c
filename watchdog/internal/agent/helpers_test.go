package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// cacheDir is the agent cache shared by all tests of this binary, so that
// fixture packages are built once per variant. Set by TestMain only.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hangdog-agent-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture returns the absolute, symlink-free directory of testdata/name.
func fixture(t testing.TB, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// needGo skips slow tests under -short and when there is no go command.
func needGo(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go test on fixture modules")
	}
	if tree, _, why := proc.Supported(); !tree {
		t.Skip("cannot find test binaries here: " + why)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
}

// prepare runs Prepare for `go test args` in dir and removes the run
// directory at the end of the test.
func prepare(t testing.TB, dir string, args ...string) *Injection {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	inj, err := Prepare(ctx, PrepareOptions{Dir: dir, Args: args, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inj.Close() })
	return inj
}

// event is a go test -json event.
type event struct {
	Action, Package, Test, Output string
}

// goTest is a running `go test -json`.
type goTest struct {
	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed when the output ends and the process is reaped

	mu     sync.Mutex
	events []event
	out    bytes.Buffer
	cond   *sync.Cond
}

// env returns our environment without HANGDOG_AGENT_DIR (a hangdog
// running these tests sets it) plus extra.
func env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, EnvDir+"=") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// startGoTest starts `go test -json args` in dir with environment env, in
// a process group that is killed when the test ends.
func startGoTest(t testing.TB, dir string, env []string, args ...string) *goTest {
	t.Helper()
	cmd := exec.Command("go", append([]string{"test", "-json"}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	proc.Configure(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g := &goTest{t: t, cmd: cmd, done: make(chan struct{})}
	g.cond = sync.NewCond(&g.mu)
	cmd.Stderr = writerFunc(func(p []byte) {
		g.mu.Lock()
		g.out.Write(p)
		g.mu.Unlock()
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL)
		<-g.done
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e event
			json.Unmarshal(sc.Bytes(), &e)
			g.mu.Lock()
			g.out.Write(sc.Bytes())
			g.out.WriteByte('\n')
			g.events = append(g.events, e)
			g.cond.Broadcast()
			g.mu.Unlock()
		}
		cmd.Wait()
		g.mu.Lock()
		close(g.done)
		g.cond.Broadcast()
		g.mu.Unlock()
	}()
	return g
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// wait waits for an event matching ok, or fails the test after timeout.
func (g *goTest) wait(timeout time.Duration, what string, ok func(event) bool) event {
	g.t.Helper()
	timer := time.AfterFunc(timeout, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	g.mu.Lock()
	defer g.mu.Unlock()
	for seen := 0; ; {
		for ; seen < len(g.events); seen++ {
			if ok(g.events[seen]) {
				return g.events[seen]
			}
		}
		select {
		case <-g.done:
			g.t.Fatalf("go test ended before %s:\n%s", what, g.out.String())
		default:
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("no %s within %v:\n%s", what, timeout, g.out.String())
		}
		g.cond.Wait()
	}
}

// finish waits for go test to end and returns its output.
func (g *goTest) finish(timeout time.Duration) string {
	g.t.Helper()
	select {
	case <-g.done:
	case <-time.After(timeout):
		g.t.Fatalf("go test still running after %v", timeout)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

// output returns all of go test's output so far.
func (g *goTest) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

// binary waits until test runs (if not "") and the test binary of the package in
// pkgDir has announced its agent in agentDir, and returns its PID.
func (g *goTest) binary(test, pkgDir, agentDir string) int {
	g.t.Helper()
	if test != "" {
		g.wait(60*time.Second, "run of "+test, func(e event) bool { return e.Action == "run" && e.Test == test })
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		bins, err := proc.TestBinaries(g.cmd.Process.Pid)
		if err != nil {
			g.t.Fatal(err)
		}
		for _, b := range bins {
			if b.Cwd == pkgDir && HasAgent(agentDir, b.PID) {
				return b.PID
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.t.Fatalf("no test binary with an agent in %s:\n%s", pkgDir, g.output())
	return 0
}

// mustRequest asks pid for a snapshot and fails the test on an error.
func mustRequest(t testing.TB, dir string, pid int, req Req) *Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := Request(ctx, dir, pid, req)
	if err != nil {
		t.Fatalf("request to %d: %v", pid, err)
	}
	return snap
}

// readFile returns the content of path.
func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
