package pytest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// Runner is the pytest adapter's command side. The engine fills it once
// per run (Interpreter from FindInterpreter, the terminal from its own
// stdout) and sets RootDir when the first hello event names pytest's
// rootdir.
type Runner struct {
	// Interpreter is the Python that runs pytest; its Script, when set,
	// gives the run the pytest script's argv[0] and sys.path[0].
	Interpreter *Interpreter
	// Module runs "python -m pytest" (the current directory on sys.path,
	// as the user asked for it) instead of what the pytest script does.
	Module bool
	// Terminal says that hangdog's stdout is a terminal of Columns
	// columns: pytest, which sees a pipe, then gets --color=yes and
	// COLUMNS, unless the user chose them.
	Terminal bool
	Columns  int
	// Environ is the environment pytest starts from (nil: os.Environ());
	// Env adds to it.
	Environ []string
	// RootDir is pytest's rootdir (the hello event's), which node ids are
	// relative to; reruns need it.
	RootDir string
}

// What the adapter can do, checked at compile time.
var (
	_ core.CommandBuilder = Runner{}
	_ core.Rerunner       = Runner{}
	_ core.Namer          = Runner{}
)

// Name implements core.Runner.
func (Runner) Name() string { return "pytest" }

// Command implements core.CommandBuilder: program (the interpreter) runs
// pytest as the pytest script would (see bootstrap), or with -m pytest
// when r.Module, with the plugin loaded (-p hangdog_pytest) and, on a
// terminal, --color=yes; then the user's arguments, unchanged.
func (r Runner) Command(program string, user []string) []string {
	argv := []string{program}
	if r.Module {
		argv = append(argv, "-m", "pytest")
	} else {
		argv = append(argv, "-c", r.bootstrap())
	}
	argv = append(argv, "-p", PluginModule)
	if r.colorArg(user) {
		argv = append(argv, "--color=yes")
	}
	return append(argv, user...)
}

// bootstrap is the -c program that starts pytest the way the pytest
// script does: -c puts "" (the current directory) first on sys.path, the
// script puts its own directory there; argv[0] is the script's path
// (pytest's usage line names it). Without a script, the current directory
// is taken off sys.path and argv[0] is "pytest". xdist's workers get the
// controller's sys.path, so they see the same.
func (r Runner) bootstrap() string {
	argv0, dir := "pytest", ""
	if r.Interpreter != nil && r.Interpreter.Script != "" {
		argv0, dir = r.Interpreter.Script, filepath.Dir(r.Interpreter.Script)
	}
	fix := "    del sys.path[0]\n"
	if dir != "" {
		fix = "    sys.path[0] = " + pyString(dir) + "\n"
	}
	return "import sys\n" +
		"if sys.path and sys.path[0] == \"\":\n" + fix +
		"sys.argv[0] = " + pyString(argv0) + "\n" +
		"try:\n    from pytest import console_main\n" +
		"except ImportError:\n    from pytest import main as console_main\n" +
		"sys.exit(console_main())\n"
}

// pyString quotes s as a Python string literal (a JSON string is one).
func pyString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// colorArg reports whether Command passes --color=yes: hangdog's stdout is
// a terminal and the user decided nothing about colour (no --color in the
// arguments or PYTEST_ADDOPTS, no PY_COLORS, NO_COLOR or FORCE_COLOR,
// which pytest reads on a terminal). A --color=no in the ini file's
// addopts comes before it on the command line and loses.
func (r Runner) colorArg(user []string) bool {
	if !r.Terminal {
		return false
	}
	env := r.environ()
	for _, k := range []string{"PY_COLORS", "NO_COLOR", "FORCE_COLOR"} {
		if _, ok := lookupEnv(env, k); ok {
			return false
		}
	}
	addopts, _ := lookupEnv(env, "PYTEST_ADDOPTS")
	for _, x := range splitArgs(append(strings.Fields(addopts), user...)) {
		if x.name == "--color" {
			return false
		}
	}
	return true
}

func (r Runner) environ() []string {
	if r.Environ != nil {
		return r.Environ
	}
	return os.Environ()
}

// Env returns the environment of a run whose private directory is dir:
// r.Environ with HANGDOG_PYTEST_DIR=dir, dir first on PYTHONPATH (so that
// the controller and every worker import the plugin) and, on a terminal,
// COLUMNS unless the user set it.
func (r Runner) Env(dir string) []string {
	env := append([]string(nil), r.environ()...)
	env = setEnv(env, "HANGDOG_PYTEST_DIR", dir)
	pp := dir
	if old, ok := lookupEnv(env, "PYTHONPATH"); ok && old != "" {
		pp += string(os.PathListSeparator) + old
	}
	env = setEnv(env, "PYTHONPATH", pp)
	if r.Terminal && r.Columns > 0 {
		if _, ok := lookupEnv(env, "COLUMNS"); !ok {
			env = append(env, "COLUMNS="+strconv.Itoa(r.Columns))
		}
	}
	return env
}

// lookupEnv returns the last value of key in env, as the C library would.
func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// setEnv returns env with key set to value: every earlier entry of key
// removed, the new one appended.
func setEnv(env []string, key, value string) []string {
	out := env[:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// Verbose implements core.CommandBuilder: -v (or --verbose, or
// --verbosity above 0) more often than -q.
func (Runner) Verbose(user []string) bool { return verbosity(user) > 0 }

// RerunArgs implements core.Rerunner: user without the arguments that
// select tests (positional paths and node ids, -k, --deselect, --lf, --ff,
// --sw, …) and without xdist's (-n, --dist, …: a rerun is one test in one
// process; -n 0 when xdist is installed, against an ini file's addopts),
// then the test's file (below RootDir, with --rootdir so that node ids stay
// the same) and --hangdog-select=test, which the plugin matches exactly (a
// positional node id is split at every "::", which parametrised ids may
// contain). unit does not matter: any worker runs any test.
func (r Runner) RerunArgs(user []string, unit, test string) []string {
	out := withoutSelection(user)
	if r.Interpreter != nil && r.Interpreter.Xdist != "" {
		out = append(out, "-n", "0")
	}
	if r.RootDir != "" {
		if !hasOption(user, "--rootdir") {
			out = append(out, "--rootdir="+r.RootDir)
		}
		file, _, _ := strings.Cut(test, "::")
		out = append(out, filepath.Join(r.RootDir, filepath.FromSlash(file)))
	}
	return append(out, "--hangdog-select="+test)
}

// ResumeArgs returns user with the tests listed in deselectFile (one node
// id a line, see RunDir.WriteDeselect) deselected: the second pytest of a
// run without xdist, after hangdog ended the first at a hang, runs the
// tests that had not run yet.
func ResumeArgs(user []string, deselectFile string) []string {
	return append(append([]string(nil), user...), "--hangdog-deselect-from="+deselectFile)
}

func hasOption(user []string, long string) bool {
	for _, x := range splitArgs(user) {
		if x.name == long {
			return true
		}
	}
	return false
}

// Parent implements core.Namer: a pytest node id has no parent test. Its
// parts ("file.py::Class::test[param]") are collectors, not tests with a
// run of their own that a subtest runs inside, and a parametrised id may
// hold "/" and "::" itself; so no test is ever another's subtest.
func (Runner) Parent(test string) (string, bool) { return "", false }

// RunDir is the private directory of one run (0700): the plugin, the
// event and stacks files the plugin writes, and hangdog's own files for
// reruns.
type RunDir struct {
	Path string
}

// NewRunDir makes a new private directory below parent ("" for the
// system's temporary directory) and writes the plugin into it (0600).
// The caller removes it with Remove when the run has ended.
func NewRunDir(parent string) (*RunDir, error) {
	p, err := os.MkdirTemp(parent, "hangdog-pytest-")
	if err != nil {
		return nil, fmt.Errorf("pytest: private directory: %w", err)
	}
	d := &RunDir{Path: p}
	if err := os.Chmod(p, 0o700); err != nil {
		d.Remove()
		return nil, fmt.Errorf("pytest: private directory: %w", err)
	}
	if err := os.WriteFile(d.PluginPath(), pluginSource, 0o600); err != nil {
		d.Remove()
		return nil, fmt.Errorf("pytest: write the plugin: %w", err)
	}
	return d, nil
}

// PluginPath is where the plugin is.
func (d *RunDir) PluginPath() string { return filepath.Join(d.Path, PluginModule+".py") }

// WriteDeselect writes ids, one a line, to a new file in the directory
// (0600) and returns its path, for ResumeArgs.
func (d *RunDir) WriteDeselect(ids []string) (string, error) {
	f, err := os.CreateTemp(d.Path, "deselect-*.txt")
	if err != nil {
		return "", fmt.Errorf("pytest: deselect file: %w", err)
	}
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id)
		b.WriteByte('\n')
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("pytest: deselect file: %w", err)
	}
	return f.Name(), nil
}

// Remove removes the directory and everything in it.
func (d *RunDir) Remove() error { return os.RemoveAll(d.Path) }
