package pytest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrepare: the engine's entry point, end to end on one test: the
// interpreter from PATH (here: a PATH whose python3 is Debian's), the
// command, the events, a rerun in the same directory, and Close.
func TestPrepare(t *testing.T) {
	in := python(t)
	bin := t.TempDir()
	if err := os.Symlink(in.Path, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin, "HANGDOG_FIXTURE_SLOW=0.1")
	p, err := Prepare(context.Background(), Options{Environ: env, TempDir: t.TempDir()}, []string{"-p", "no:cacheprovider", "-k", "test_pass"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Interpreter.From != "python3 on PATH" {
		t.Errorf("interpreter %+v", p.Interpreter)
	}
	suite := fixture(t, "pass")
	out, errOut, code := execute(t, suite, p.Argv, p.Env)
	if code != 0 || !strings.Contains(out, "1 passed") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	rec := &recorder{}
	if err := NewSource(p.RunDir.Path).Poll(rec); err != nil {
		t.Fatal(err)
	}
	for _, e := range rec.events {
		if e.Kind == KindHello {
			p.Runner.RootDir = e.RootDir
		}
	}
	if p.Runner.RootDir != suite {
		t.Fatalf("rootdir %q", p.Runner.RootDir)
	}
	argv := p.Command(p.Runner.RerunArgs([]string{"-p", "no:cacheprovider"}, MainUnit, "test_outcomes.py::test_ids[c::d]"))
	out, errOut, code = execute(t, t.TempDir(), argv, p.Env)
	if code != 0 || !strings.Contains(out, "1 passed") {
		t.Fatalf("rerun: exit %d\n%s%s", code, out, errOut)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.RunDir.Path); !os.IsNotExist(err) {
		t.Errorf("private directory left: %v", err)
	}
}
