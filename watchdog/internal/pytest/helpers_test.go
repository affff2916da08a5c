package pytest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// The tests run the real pytest of Debian's /usr/bin/python3 on the
// fixture suites under testdata/pytest; without an interpreter that imports
// pytest they skip, saying so.

var (
	pythonOnce sync.Once
	pythonIn   *Interpreter
	pythonErr  error
)

// python returns the interpreter the tests run pytest with.
func python(t testing.TB) *Interpreter {
	t.Helper()
	pythonOnce.Do(func() {
		path := os.Getenv("PATH")
		pythonIn, pythonErr = FindInterpreter(context.Background(), FindOptions{Python: "/usr/bin/python3", Path: &path})
	})
	if pythonErr != nil {
		t.Skipf("no interpreter with pytest (apt-get install python3-pytest python3-pytest-xdist python3-pytest-timeout): %v", pythonErr)
	}
	return pythonIn
}

// needXdist skips a test when the interpreter has no pytest-xdist.
func needXdist(t testing.TB, in *Interpreter) {
	t.Helper()
	if in.Xdist == "" {
		t.Skip("pytest-xdist is not installed (apt-get install python3-pytest-xdist)")
	}
}

// fixture returns the absolute path of a fixture suite.
func fixture(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "testdata", "pytest", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run is one pytest run under the plugin and everything it left.
type run struct {
	dir            *RunDir
	stdout, stderr string
	exit           int
	events         []*Event
	core           []core.Event
	src            *Source
}

// recorder is a Sink that keeps everything.
type recorder struct {
	events []*Event
	core   []core.Event
}

func (r *recorder) Event(e *Event)    { r.events = append(r.events, e) }
func (r *recorder) Core(e core.Event) { r.core = append(r.core, e) }

type runOpts struct {
	env    []string // added to the environment
	runner Runner   // Interpreter defaults to python(t)
	noRead bool
}

// runPytest runs pytest in suite with args under the plugin (a fresh
// private directory, removed at the test's end) and reads its events.
func runPytest(t *testing.T, suite string, args []string, o runOpts) *run {
	t.Helper()
	in := python(t)
	r := o.runner
	if r.Interpreter == nil {
		r.Interpreter = in
	}
	if r.Environ == nil {
		r.Environ = append(os.Environ(), o.env...)
	}
	d, err := NewRunDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Remove() })
	argv := r.Command(r.Interpreter.Path, args)
	res := &run{dir: d}
	res.stdout, res.stderr, res.exit = execute(t, suite, argv, r.Env(d.Path))
	if !o.noRead {
		res.read(t)
	}
	return res
}

func (res *run) read(t *testing.T) {
	t.Helper()
	rec := &recorder{}
	res.src = NewSource(res.dir.Path)
	res.src.Warn = func(msg string) { t.Errorf("warning: %s", msg) }
	if err := res.src.Poll(rec); err != nil {
		t.Fatal(err)
	}
	res.events, res.core = rec.events, rec.core
}

// execute runs argv in dir with env and a generous timeout, and returns
// its output and exit status.
func execute(t *testing.T, dir string, argv, env []string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %v: %v", argv[:2], err)
		}
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		t.Fatalf("pytest did not end in 120 s:\n%s\n%s", out.String(), errb.String())
	}
	return out.String(), errb.String(), code
}

// kinds returns the events of kind k.
func (res *run) kinds(k Kind) []*Event {
	var out []*Event
	for _, e := range res.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// summary reads pytest's own summary line ("1 failed, 9 passed, … in
// 0.95s") from its output, without the time.
var summaryRE = regexp.MustCompile(`(?m)^=* ?((?:\d+ \w+, )*\d+ \w+) in [\d.]+s`)

func summaryLine(out string) string {
	m := summaryRE.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return ""
	}
	s := m[len(m)-1][1]
	// pytest counts deselected and warnings too; Totals does not.
	var keep []string
	for _, part := range strings.Split(s, ", ") {
		if !strings.HasSuffix(part, "deselected") && !strings.Contains(part, "warning") {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, ", ")
}
