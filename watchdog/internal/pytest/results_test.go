package pytest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		status int
		hung   bool
		want   int
	}{
		{0, false, 0}, {1, false, 1}, {2, false, 6}, {3, false, 7}, {4, false, 8}, {5, false, 9},
		{0, true, 3}, {1, true, 3}, {4, true, 3}, {-1, false, 1}, {-1, true, 3}, {42, false, 1},
	} {
		if got := ExitCode(c.status, c.hung); got != c.want {
			t.Errorf("ExitCode(%d, %v) = %d, want %d", c.status, c.hung, got, c.want)
		}
	}
}

func TestTotalsString(t *testing.T) {
	for _, c := range []struct {
		t    Totals
		want string
	}{
		{Totals{}, ""},
		{Totals{Passed: 1}, "1 passed"},
		{Totals{Error: 1, Passed: 2}, "2 passed, 1 error"},
		{Totals{Failed: 1, Passed: 9, Skipped: 1, XFailed: 1, XPassed: 1, Error: 2}, passTotals},
	} {
		if got := c.t.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.t, got, c.want)
		}
	}
}

// TestResultsOfBrokenRuns: collection errors, an empty suite and a usage
// error, for real: the totals are pytest's and the exit codes map.
func TestResultsOfBrokenRuns(t *testing.T) {
	in := python(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken")
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{broken, empty} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(broken, "test_ok.py"), "def test_ok():\n    pass\n")
	write(filepath.Join(broken, "test_broken.py"), "import no_such_module_here\n")
	write(filepath.Join(broken, "test_skipped.py"), "import pytest\npytest.skip('whole module', allow_module_level=True)\n")
	write(filepath.Join(empty, "README"), "no tests\n")
	cases := []struct {
		name  string
		dir   string
		args  []string
		xdist bool
		exit  int
		want  int
	}{
		{"collection-error", broken, nil, false, PytestInterrupted, ExitPytestInterrupted},
		// xdist 3.1.0 runs the other tests after a collection error.
		{"collection-error-n2", broken, []string{"-n", "2"}, true, PytestFailed, 1},
		{"continue-on-collection-errors-n2", broken, []string{"--continue-on-collection-errors", "-n", "2"}, true, PytestFailed, 1},
		{"no-tests", empty, nil, false, PytestNoTests, ExitPytestNoTests},
		{"usage-error", empty, []string{"--no-such-flag"}, false, PytestUsage, ExitPytestUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.xdist {
				needXdist(t, in)
			}
			res := runPytest(t, c.dir, append([]string{"-p", "no:cacheprovider"}, c.args...), runOpts{})
			if res.exit != c.exit {
				t.Fatalf("exit %d, want %d\n%s%s", res.exit, c.exit, res.stdout, res.stderr)
			}
			if got := ExitCode(res.exit, false); got != c.want {
				t.Errorf("hangdog exit %d, want %d", got, c.want)
			}
			var r Results
			for _, e := range res.events {
				r.Add(e)
			}
			if got, want := r.Totals().String(), summaryLine(res.stdout); got != want {
				t.Errorf("totals %q, pytest says %q\n%s", got, want, res.stdout)
			}
		})
	}
}
