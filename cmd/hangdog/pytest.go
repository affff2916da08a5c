package main

// hangdog pytest: the same watchdog for pytest and pytest-xdist suites.

import (
	"errors"

	"io"
	"strings"

	"github.com/spf13/pflag"
)

const pytestUsageHead = `Usage: hangdog pytest [flags] [-- pytest args]

hangdog pytest runs pytest (with pytest-xdist when you pass -n) with a small
plugin of hangdog's loaded, passes pytest's output through unchanged, and
watches every test on every worker. A test that makes no progress for --stall
is reported at once: the Python stacks of every worker and the controller,
which line it waits on, for what, and who holds it. The rest of the suite
keeps running.

The interpreter is --python, else the one in the shebang of pytest on PATH,
else python3 on PATH, else /usr/bin/python3: the first that imports pytest.

Flags:
`

const pytestUsageTail = `
Exit codes (the README has one table for every subcommand):
  0    all tests passed
  1    a test failed
  2    hangdog was called wrongly (a bad flag, a Go-only flag, a --python
       without pytest, an output path that cannot be written)
  3    a hang was detected (wins over 1)
  4    hangdog itself failed (no interpreter with pytest, a report not written)
  6    pytest was interrupted (pytest's 2: a collection error, pytest.exit)
  7    pytest's internal error (its 3)
  8    pytest's usage error (its 4)
  9    no tests were collected (pytest's 5)
  130  interrupted by SIGINT;  143  by SIGTERM
`

// goOnly are hangdog's flags that mean something for go test only.
var goOnly = []string{"no-agent", "quit-grace", "format", "raw-command", "jsonfile", "leaks", "fail-on-leak", "leak-grace"}

// addPytestFlags adds hangdog pytest's own flags and hides the Go-only ones
// (given, they are a usage error).
func addPytestFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.python, "python", "", "run pytest with this Python `interpreter` (a path, or a name on PATH)")
	fs.BoolVar(&o.module, "module", false, "run python -m pytest, which puts the current directory on sys.path (the pytest script does not)")
	for _, n := range goOnly {
		_ = fs.MarkHidden(n)
	}
	if f := fs.Lookup("dir"); f != nil {
		f.Usage = "run pytest in `DIR` (default: the current directory)"
	}
	if f := fs.Lookup("kill-after"); f != nil {
		f.Usage = "stop a stalled worker (a last stack dump, then SIGKILL) after this `duration` without progress; xdist replaces it; until then it is only looked at (never less than --stall)"
	}
	if f := fs.Lookup("junitfile"); f != nil {
		f.Usage = "write a JUnit XML report to `FILE` (hung tests are failures)"
	}
}

// goOnlyFlags says which Go-only flag was given to hangdog pytest.
func goOnlyFlags(fs *pflag.FlagSet) error {
	var set []string
	for _, n := range goOnly {
		if fs.Changed(n) {
			set = append(set, "--"+n)
		}
	}
	if len(set) == 0 {
		return nil
	}
	return errors.New(strings.Join(set, ", ") + ": for go test runs only, not hangdog pytest")
}

func pytestUsage(w io.Writer, fs *pflag.FlagSet) {
	io.WriteString(w, pytestUsageHead)
	io.WriteString(w, flagUsages(fs))
	io.WriteString(w, pytestUsageTail)

}
