package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseGoTestArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		args      []string
		chdir     string
		patterns  []string
		listFlags []string
		overlay   string
		rewritten []string
	}{
		{name: "empty", args: nil, rewritten: []string{"-overlay=O"}},
		{
			name: "patterns and flags", args: []string{"-race", "-tags", "a,b", "-run", "X", "./...", "./p", "-v", "-count=2"},
			patterns: []string{"./...", "./p"}, listFlags: []string{"-race", "-tags", "a,b"},
			rewritten: []string{"-overlay=O", "-race", "-tags", "a,b", "-run", "X", "./...", "./p", "-v", "-count=2"},
		},
		{
			name: "user overlay replaced", args: []string{"-overlay", "u.json", "./p", "--overlay=v.json"},
			patterns: []string{"./p"}, overlay: "v.json", rewritten: []string{"-overlay=O", "./p"},
		},
		{
			name: "leading -C", args: []string{"-C", "sub", "-mod=mod", "."},
			chdir: "sub", patterns: []string{"."}, listFlags: []string{"-mod=mod"},
			rewritten: []string{"-C", "sub", "-overlay=O", "-mod=mod", "."},
		},
		{
			name: "package list ends at a flag", args: []string{"./a", "-v", "./b"},
			patterns: []string{"./a"}, rewritten: []string{"-overlay=O", "./a", "-v", "./b"},
		},
		{
			name: "unknown flag takes the next word", args: []string{"-myflag", "x", "-tags=t"},
			listFlags: []string{"-tags=t"}, rewritten: []string{"-overlay=O", "-myflag", "x", "-tags=t"},
		},
		{
			name: "-args ends everything", args: []string{"./p", "-args", "-tags", "x", "./q"},
			patterns: []string{"./p"}, rewritten: []string{"-overlay=O", "./p", "-args", "-tags", "x", "./q"},
		},
		{
			name: "printing build flags are not for go list", args: []string{"-x", "-n", "-a", "-work", "-v", "-p", "4", "."},
			patterns: []string{"."}, listFlags: []string{"-p", "4"},
			rewritten: []string{"-overlay=O", "-x", "-n", "-a", "-work", "-v", "-p", "4", "."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := parseGoTestArgs(tc.args)
			if g.chdir != tc.chdir || !reflect.DeepEqual(g.patterns, tc.patterns) ||
				!reflect.DeepEqual(g.listFlags, tc.listFlags) || g.overlay != tc.overlay {
				t.Errorf("got chdir %q patterns %q listFlags %q overlay %q", g.chdir, g.patterns, g.listFlags, g.overlay)
			}
			if got := g.withOverlay(tc.args, "O"); !reflect.DeepEqual(got, tc.rewritten) {
				t.Errorf("rewritten %q, want %q", got, tc.rewritten)
			}
		})
	}
}

func TestGoflagsOverlay(t *testing.T) {
	t.Parallel()
	got := goflagsOverlay([]string{"GOFLAGS=-overlay=old.json", "HOME=/h", "GOFLAGS=-mod=mod --overlay=/abs/o.json -tags=x"})
	if got != "/abs/o.json" {
		t.Errorf("got %q", got)
	}
}

// TestPrepare checks the packages, names and skips of testdata/plain and
// that the overlay is stable from run to run.
func TestPrepare(t *testing.T) {
	needGo(t)
	mod := fixture(t, "plain")
	inj := prepare(t, mod, "-run=Fast", "./...")
	names := map[string]string{}
	for _, p := range inj.Packages {
		names[strings.TrimPrefix(p.ImportPath, "example.com/plain")] = p.Name
		if p.File != filepath.Join(p.Dir, FileName) {
			t.Errorf("%s: file %s", p.ImportPath, p.File)
		}
	}
	want := map[string]string{
		"": "plain", "/xonly": "xonly", "/testonly": "testonly", "/cmd/tool": "main",
		"/withmain": "withmain", "/sig": "sig", "/collide": "collide", "/wedge": "wedge",
		"/slow": "slow", "/many": "many",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("packages %v, want %v", names, want)
	}
	if len(inj.Skipped) != 1 || inj.Skipped[0].ImportPath != "example.com/plain/notests" || inj.Skipped[0].Reason != "no test files" {
		t.Errorf("skipped %+v", inj.Skipped)
	}
	st, err := os.Stat(inj.Dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("run dir %s: %v %v", inj.Dir, st.Mode(), err)
	}
	if len(inj.Env) != 1 || inj.Env[0] != EnvDir+"="+inj.Dir {
		t.Errorf("env %q", inj.Env)
	}

	// A second preparation: same overlay path and content, same agent
	// files untouched, a new run directory.
	before, err := os.Stat(inj.Overlay)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	again := prepare(t, mod, "-run=Fast", "./...")
	if again.Overlay != inj.Overlay || again.Dir == inj.Dir {
		t.Errorf("overlay %s then %s; dir %s then %s", inj.Overlay, again.Overlay, inj.Dir, again.Dir)
	}
	after, err := os.Stat(again.Overlay)
	if err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("overlay rewritten: %v %v", after, err)
	}

	// -C: the go command's directory comes from the arguments.
	viaC := prepare(t, filepath.Dir(mod), "-C", "plain", "-run=Fast", "./xonly")
	if len(viaC.Packages) != 1 || viaC.Packages[0].Dir != filepath.Join(mod, "xonly") || viaC.Packages[0].Name != "xonly" {
		t.Errorf("-C: packages %+v", viaC.Packages)
	}
	if len(viaC.Args) < 3 || viaC.Args[0] != "-C" || viaC.Args[2] != "-overlay="+viaC.Overlay {
		t.Errorf("-C: args %q", viaC.Args)
	}
}

// TestUserOverlay merges the user's overlay, relative paths and all, and
// runs a test that exists only in it.
func TestUserOverlay(t *testing.T) {
	needGo(t)
	mod := fixture(t, "plain")
	tmp := t.TempDir()
	extra := filepath.Join(tmp, "extra.go")
	if err := os.WriteFile(extra, []byte("package plain\n\nimport \"testing\"\n\nfunc TestFromUserOverlay(t *testing.T) {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]any{"Replace": map[string]string{"extra_test.go": extra}})
	userOverlay := filepath.Join(tmp, "user.json")
	if err := os.WriteFile(userOverlay, data, 0o600); err != nil {
		t.Fatal(err)
	}
	inj := prepare(t, mod, "-overlay", userOverlay, "-run=FromUserOverlay", "-v", ".")
	var o struct{ Replace map[string]string }
	if err := json.Unmarshal([]byte(readFile(t, inj.Overlay)), &o); err != nil {
		t.Fatal(err)
	}
	if o.Replace[filepath.Join(mod, "extra_test.go")] != extra || o.Replace[filepath.Join(mod, FileName)] == "" {
		t.Errorf("merged overlay %v", o.Replace)
	}
	for _, a := range inj.Args {
		if a == userOverlay {
			t.Errorf("user overlay still in args %q", inj.Args)
		}
	}
	out := startGoTest(t, mod, env(inj.Env...), inj.Args...).finish(60 * time.Second)
	if !strings.Contains(out, `"Action":"pass","Package":"example.com/plain","Test":"TestFromUserOverlay"`) {
		t.Errorf("test from the user's overlay did not pass:\n%s", out)
	}
}
