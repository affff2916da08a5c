package pytest

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	timingRE = regexp.MustCompile(`in [0-9.]+s( \([0-9:]+\))?`)
	// -v under xdist: "[gw1] [ 21%] PASSED test_x", in whatever order the
	// workers finish.
	xdistRE = regexp.MustCompile(`\[gw\d+\] \[ *\d+%\] `)
	// a failure's section names the worker that ran it: "[gw1] linux --".
	workerRE = regexp.MustCompile(`\[gw\d+\]`)
)

func normalize(s string, sorted bool) string {
	s = timingRE.ReplaceAllString(s, "in Ns")
	if !sorted {
		return s
	}
	s = xdistRE.ReplaceAllString(s, "")
	s = workerRE.ReplaceAllString(s, "[gwN]")
	lines := strings.Split(s, "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestOutputUnchanged: pytest's output under the plugin is byte for byte
// what the user's own command prints (timings removed), for the pytest
// script, for python -m pytest and for a usage error (whose usage line
// names the program).
func TestOutputUnchanged(t *testing.T) {
	in := python(t)
	needXdist(t, in)
	script, err := lookPath("pytest", os.Getenv("PATH"))
	if err != nil {
		t.Skip("no pytest script on PATH")
	}
	if py, err := shebang(script, os.Getenv("PATH")); err != nil || py != in.Path {
		t.Skipf("pytest on PATH (%s) runs %q, not %s", script, py, in.Path)
	}
	withScript := *in
	withScript.Script = script
	suite := fixture(t, "pass")
	env := append(os.Environ(), quick...)
	cases := []struct {
		name   string
		user   []string // the user's own command
		runner Runner
		args   []string
		sorted bool
	}{
		{"script", []string{script}, Runner{Interpreter: &withScript}, []string{"-p", "no:cacheprovider", "-n", "0", "-v"}, false},
		{"script-quiet", []string{script}, Runner{Interpreter: &withScript}, []string{"-p", "no:cacheprovider", "-rA"}, false},
		{"script-n2", []string{script}, Runner{Interpreter: &withScript}, []string{"-p", "no:cacheprovider", "-n", "2", "-v"}, true},
		{"module", []string{in.Path, "-m", "pytest"}, Runner{Interpreter: in, Module: true}, []string{"-p", "no:cacheprovider", "-v"}, false},
		{"usage-error", []string{script}, Runner{Interpreter: &withScript}, []string{"--no-such-option"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			wantOut, wantErr, wantExit := execute(t, suite, append(append([]string(nil), c.user...), c.args...), env)
			r := c.runner
			r.Environ = env
			d, err := NewRunDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Remove()
			gotOut, gotErr, gotExit := execute(t, suite, r.Command(in.Path, c.args), r.Env(d.Path))
			if gotExit != wantExit {
				t.Errorf("exit %d, want %d", gotExit, wantExit)
			}
			if a, b := normalize(gotOut, c.sorted), normalize(wantOut, c.sorted); a != b {
				t.Errorf("stdout differs:\n--- with the plugin\n%s\n--- without\n%s", a, b)
			}
			if a, b := normalize(gotErr, c.sorted), normalize(wantErr, c.sorted); a != b {
				t.Errorf("stderr differs:\n--- with the plugin\n%s\n--- without\n%s", a, b)
			}
			if c.name != "usage-error" {
				if entries, _ := os.ReadDir(d.Path); len(entries) < 3 {
					t.Errorf("the plugin wrote nothing: %v", entries)
				}
			}
		})
	}
}
