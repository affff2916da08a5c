package pytest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	got := splitArgs([]string{"-vx", "-k", "a and b", "-n2", "--dist=load", "--tb", "short", "tests/x.py::t[a::b]", "--debug", "-p", "no:cov", "-xkfoo", "--cache-show", "--", "-weird"})
	var names, values []string
	for _, x := range got {
		names = append(names, x.name)
		values = append(values, x.value)
	}
	wantNames := []string{"-vx", "-k", "-n", "--dist", "--tb", "", "--debug", "-p", "-xk", "--cache-show", ""}
	wantValues := []string{"", "a and b", "2", "load", "short", "tests/x.py::t[a::b]", "", "no:cov", "foo", "", "-weird"}
	if !reflect.DeepEqual(names, wantNames) || !reflect.DeepEqual(values, wantValues) {
		t.Errorf("names %q values %q", names, values)
	}
	if x := splitArgs([]string{"--debug", "file.log"}); len(x) != 1 || x[0].value != "file.log" {
		t.Errorf("--debug with an optional value: %+v", x)
	}
}

func TestVerbose(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-v"}, true},
		{[]string{"-vv", "-q"}, true},
		{[]string{"-v", "-q"}, false},
		{[]string{"-xv"}, true},
		{[]string{"--verbose"}, true},
		{[]string{"--verbosity=2"}, true},
		{[]string{"-k", "v"}, false},
		{[]string{"-qq"}, false},
	} {
		if got := (Runner{}).Verbose(c.args); got != c.want {
			t.Errorf("Verbose(%q) = %v", c.args, got)
		}
	}
}

func TestRerunArgs(t *testing.T) {
	r := Runner{RootDir: "/src/proj", Interpreter: &Interpreter{Xdist: "3.1.0"}}
	for _, c := range []struct {
		name string
		user []string
		test string
		want []string
	}{
		{
			"selection and xdist dropped",
			[]string{"-n", "auto", "--dist", "loadscope", "-x", "tests", "-k", "slow", "--lf", "-p", "no:cacheprovider", "--deselect", "tests/a.py::b", "-o", "faulthandler_timeout=5"},
			"tests/test_a.py::test_x[a::b/c]",
			[]string{"-x", "-p", "no:cacheprovider", "-o", "faulthandler_timeout=5", "-n", "0", "--rootdir=/src/proj", "/src/proj/tests/test_a.py", "--hangdog-select=tests/test_a.py::test_x[a::b/c]"},
		},
		{
			"short groups lose only the selecting letter",
			[]string{"-vxk", "expr", "-vn4", "--timeout=30"},
			"t.py::TestC::test_m",
			[]string{"-vx", "-v", "--timeout=30", "-n", "0", "--rootdir=/src/proj", "/src/proj/t.py", "--hangdog-select=t.py::TestC::test_m"},
		},
		{
			"the user's --rootdir stays",
			[]string{"--rootdir", "/src/proj", "--", "t.py"},
			"t.py::t",
			[]string{"--rootdir", "/src/proj", "-n", "0", "/src/proj/t.py", "--hangdog-select=t.py::t"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := append([]string(nil), c.user...)
			got := r.RerunArgs(c.user, "gw1", c.test)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			if !reflect.DeepEqual(c.user, before) {
				t.Errorf("RerunArgs changed its input")
			}
		})
	}
	// Without a rootdir or xdist, only the selection.
	got := Runner{}.RerunArgs([]string{"-q", "x.py"}, "main", "x.py::t")
	if want := []string{"-q", "--hangdog-select=x.py::t"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}

func TestCommandAndEnv(t *testing.T) {
	in := &Interpreter{Path: "/usr/bin/python3", Script: "/usr/bin/pytest"}
	env := []string{"PATH=/bin", "PYTHONPATH=/mine", "HANGDOG_PYTEST_DIR=/stale"}
	r := Runner{Interpreter: in, Environ: env}
	argv := r.Command(in.Path, []string{"-x"})
	if len(argv) != 6 || argv[1] != "-c" || argv[3] != "-p" || argv[4] != PluginModule || argv[5] != "-x" {
		t.Errorf("argv %q", argv)
	}
	if !strings.Contains(argv[2], `sys.path[0] = "/usr/bin"`) || !strings.Contains(argv[2], `sys.argv[0] = "/usr/bin/pytest"`) {
		t.Errorf("bootstrap:\n%s", argv[2])
	}
	got := r.Env("/run/d")
	want := []string{"PATH=/bin", "HANGDOG_PYTEST_DIR=/run/d", "PYTHONPATH=/run/d:/mine"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("env %q", got)
	}
	if !reflect.DeepEqual(env, []string{"PATH=/bin", "PYTHONPATH=/mine", "HANGDOG_PYTEST_DIR=/stale"}) {
		t.Errorf("Env changed Environ: %q", env)
	}
	m := Runner{Interpreter: in, Module: true, Environ: env}.Command(in.Path, nil)
	if !reflect.DeepEqual(m, []string{"/usr/bin/python3", "-m", "pytest", "-p", PluginModule}) {
		t.Errorf("module argv %q", m)
	}

	// On a terminal: --color=yes and COLUMNS, unless the user chose.
	for _, c := range []struct {
		name      string
		env, user []string
		color     bool
		columns   string
	}{
		{"terminal", []string{"PATH=/bin"}, nil, true, "COLUMNS=132"},
		{"user's --color", []string{"PATH=/bin"}, []string{"--color=no"}, false, "COLUMNS=132"},
		{"user's --color in addopts", []string{"PYTEST_ADDOPTS=-x --color no"}, nil, false, "COLUMNS=132"},
		{"NO_COLOR", []string{"NO_COLOR=1"}, nil, false, "COLUMNS=132"},
		{"PY_COLORS", []string{"PY_COLORS=0"}, nil, false, "COLUMNS=132"},
		{"user's COLUMNS", []string{"COLUMNS=70"}, nil, true, "COLUMNS=70"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Runner{Interpreter: in, Terminal: true, Columns: 132, Environ: c.env}
			argv := r.Command(in.Path, c.user)
			has := false
			for _, a := range argv {
				has = has || a == "--color=yes"
			}
			if has != c.color {
				t.Errorf("--color=yes: %v, want %v (%q)", has, c.color, argv)
			}
			env := r.Env("/d")
			if v, _ := lookupEnv(env, "COLUMNS"); "COLUMNS="+v != c.columns {
				t.Errorf("COLUMNS=%s, want %s", v, c.columns)
			}
		})
	}
	// Not on a terminal: neither.
	r = Runner{Interpreter: in, Columns: 132, Environ: []string{}}
	if argv := r.Command(in.Path, nil); len(argv) != 5 {
		t.Errorf("argv %q", argv)
	}
	if _, ok := lookupEnv(r.Env("/d"), "COLUMNS"); ok {
		t.Error("COLUMNS set without a terminal")
	}
}

func TestRunDir(t *testing.T) {
	d, err := NewRunDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(d.Path)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory %v %v", fi.Mode(), err)
	}
	fi, err = os.Stat(d.PluginPath())
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != int64(len(PluginSource())) {
		t.Errorf("plugin %v %v", fi, err)
	}
	p, err := d.WriteDeselect([]string{"a.py::t[x::y]", "b.py::u"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "a.py::t[x::y]\nb.py::u\n" || filepath.Dir(p) != d.Path {
		t.Errorf("deselect file %s: %q", p, b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("deselect file mode %v", fi.Mode())
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("still there: %v", err)
	}
}

// TestSysPath measures what each way of starting pytest puts first on
// sys.path, in the controller and in an xdist worker: the bootstrap (like
// the pytest script: its directory, never the current one), the bootstrap
// without a script (nothing), python -m pytest (the current directory).
func TestSysPath(t *testing.T) {
	in := python(t)
	needXdist(t, in)
	suite := fixture(t, "pass")
	script := *in
	script.Script = "/usr/bin/pytest"
	for _, c := range []struct {
		name      string
		runner    Runner
		path0     string // "" : whatever, but not the current directory
		cwdOnPath bool
	}{
		{"bootstrap-with-script", Runner{Interpreter: &script}, "/usr/bin", false},
		{"bootstrap", Runner{Interpreter: in}, "", false},
		{"module", Runner{Interpreter: in, Module: true}, suite, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := runPytest(t, suite, []string{"-p", "no:cacheprovider", "-n", "1", "-k", "test_pass"}, runOpts{runner: c.runner, env: quick})
			hellos := res.kinds(KindHello)
			if len(hellos) != 2 {
				t.Fatalf("%d hellos\n%s%s", len(hellos), res.stdout, res.stderr)
			}
			for _, h := range hellos {
				t.Logf("%s: sys.path[0] = %q, current directory on sys.path: %v, argv %q", h.Role, h.Path0, h.CwdOnPath, h.Argv)
				if h.CwdOnPath != c.cwdOnPath {
					t.Errorf("%s: current directory on sys.path: %v, want %v", h.Role, h.CwdOnPath, c.cwdOnPath)
				}
				if c.path0 != "" && h.Path0 != c.path0 {
					t.Errorf("%s: sys.path[0] = %q, want %q", h.Role, h.Path0, c.path0)
				}
				if c.path0 == "" && (h.Path0 == suite || h.Path0 == "") {
					t.Errorf("%s: sys.path[0] = %q", h.Role, h.Path0)
				}
			}
		})
	}
}

// TestRerunAndResume runs the reruns' arguments for real: one
// parametrised test whose id holds "::" and "/" by itself, from another
// directory; and the rest of the suite with a deselect file.
func TestRerunAndResume(t *testing.T) {
	in := python(t)
	suite := fixture(t, "pass")
	t.Run("rerun", func(t *testing.T) {
		t.Parallel()
		r := Runner{Interpreter: in, RootDir: suite}
		for _, test := range []string{"test_outcomes.py::test_ids[c::d]", "test_outcomes.py::test_ids[a/b]", "test_outcomes.py::TestGroup::test_in_class"} {
			args := r.RerunArgs([]string{"-p", "no:cacheprovider", "-n", "2", "-v", "test_outcomes.py", "-k", "ids"}, "gw0", test)
			res := runPytest(t, t.TempDir(), args, runOpts{runner: r, env: quick})
			starts := res.kinds(KindStart)
			if res.exit != 0 || len(starts) != 1 || starts[0].NodeID != test {
				t.Errorf("%s: exit %d, ran %d tests\n%s%s", test, res.exit, len(starts), res.stdout, res.stderr)
			}
		}
	})
	t.Run("resume", func(t *testing.T) {
		t.Parallel()
		r := Runner{Interpreter: in}
		d, err := NewRunDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var skip []string
		for id := range passSuite {
			if id != "test_outcomes.py::test_ids[c::d]" && id != "test_outcomes.py::test_pass" {
				skip = append(skip, id)
			}
		}
		file, err := d.WriteDeselect(skip)
		if err != nil {
			t.Fatal(err)
		}
		res := runPytest(t, suite, ResumeArgs([]string{"-p", "no:cacheprovider"}, file), runOpts{runner: r, env: quick})
		var ran []string
		for _, e := range res.kinds(KindStart) {
			ran = append(ran, e.NodeID)
		}
		if res.exit != 0 || strings.Join(ran, " ") != "test_outcomes.py::test_pass test_outcomes.py::test_ids[c::d]" {
			t.Errorf("exit %d, ran %q\n%s", res.exit, ran, res.stdout)
		}
		if !strings.Contains(res.stdout, "12 deselected") {
			t.Errorf("want 12 deselected:\n%s", res.stdout)
		}
	})
}
