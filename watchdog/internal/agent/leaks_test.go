package agent

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leakFixture returns the absolute directory of testdata/leaks/name at the
// repository's root.
func leakFixture(t testing.TB, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "testdata", "leaks", name))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// prepareLeaks is prepare with the leak check on.
func prepareLeaks(t testing.TB, dir string, args ...string) *Injection {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	inj, err := Prepare(ctx, PrepareOptions{Dir: dir, Args: args, CacheDir: cacheDir, LeakGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inj.Close() })
	return inj
}

// TestLeakCheck runs testdata/leaks/leaky with the check on: one file per
// leaking test, none for the others, and an end file. With
// HANGDOG_LEAKFILES_OUT set it copies the files there (the fixtures of
// gotest's reader, see gotest/testdata/leakfiles/gen.sh).
func TestLeakCheck(t *testing.T) {
	needGo(t)
	dir := leakFixture(t, "leaky")
	if f := os.Getenv("HANGDOG_LEAKFILES_FIXTURE"); f != "" {
		dir = leakFixture(t, f) // only for gen.sh: no checks below
		inj := prepareLeaks(t, dir, "-count=1", "-vet=off", "./...")
		startGoTest(t, dir, env(inj.Env...), inj.Args...).finish(120 * time.Second)
		ents, _ := os.ReadDir(inj.Dir)
		for _, e := range ents {
			if b, err := os.ReadFile(filepath.Join(inj.Dir, e.Name())); err == nil && strings.Contains(e.Name(), "leak") {
				os.WriteFile(filepath.Join(os.Getenv("HANGDOG_LEAKFILES_OUT"), e.Name()), b, 0o600)
			}
		}
		return
	}
	inj := prepareLeaks(t, dir, "-count=1", "-vet=off", "./...")
	if len(inj.Packages) != 1 || inj.Packages[0].OwnTestMain {
		t.Fatalf("packages %+v", inj.Packages)
	}
	out := startGoTest(t, dir, env(inj.Env...), inj.Args...).finish(120 * time.Second)
	if !strings.Contains(out, `"Action":"pass","Package":"example.com/leaky","Elapsed"`) {
		t.Fatalf("the package did not pass:\n%s", out)
	}
	ents, err := os.ReadDir(inj.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var tests []string
	var end map[string]any
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(inj.Dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if o := os.Getenv("HANGDOG_LEAKFILES_OUT"); o != "" && strings.Contains(e.Name(), "leak") {
			if err := os.WriteFile(filepath.Join(o, e.Name()), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		var m map[string]any
		switch {
		case strings.HasSuffix(e.Name(), "-leakend.json"):
			if err := json.Unmarshal(b, &end); err != nil {
				t.Fatal(err)
			}
		case strings.Contains(e.Name(), "-leak-"):
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			rec, _ := m["records"].(string)
			if !strings.Contains(rec, `"hangdog":"1:`+m["test"].(string)+`"`) || !strings.Contains(m["dump"].(string), "goroutine ") {
				t.Errorf("%s: records %q", e.Name(), rec)
			}
			tests = append(tests, m["test"].(string))
		}
	}
	sort.Strings(tests)
	want := "TestContext TestMutex TestParallel/forever TestParallel/send TestSelectForever TestSend TestSubtests/blank TestTopParallel"
	if strings.Join(tests, " ") != want {
		t.Errorf("leaks in %s, want %s", tests, want)
	}
	if end == nil || end["ended_tests"] != 14.0 || end["leaks"] != 8.0 || end["package"] != "example.com/leaky" {
		t.Errorf("end file %v", end)
	}
}

// TestLeakCheckKeepsListAndShuffle: -list and -shuffle print the same
// with the check on as without the agent.
func TestLeakCheckKeepsListAndShuffle(t *testing.T) {
	needGo(t)
	dir := leakFixture(t, "leaky")
	for _, args := range [][]string{
		{"-list", ".*", "."},
		{"-json", "-list", ".*", "."},
		{"-json", "-count=2", "-shuffle=3", "-run", "TestS|TestC", "."},
	} {
		inj := prepareLeaks(t, dir, args...)
		run := func(env []string, args ...string) string {
			cmd := exec.Command("go", append([]string{"test"}, args...)...)
			cmd.Dir, cmd.Env = dir, env
			out, _ := cmd.CombinedOutput()
			return normalize(string(out))
		}
		with := run(env(inj.Env...), append([]string{"-vet=off"}, inj.Args...)...)
		without := run(env(), append([]string{"-vet=off"}, args...)...)
		if with != without {
			t.Errorf("go test %s with the leak check:\n%s\nwithout:\n%s", strings.Join(args, " "), with, without)
		}
		if args[1] == "-count=2" {
			// The check ran, hooked: the leaking tests of both runs.
			ends, _ := filepath.Glob(filepath.Join(inj.Dir, "*-leak-*.json"))
			if len(ends) != 2*4 || !strings.Contains(with, "-test.shuffle 3") {
				t.Errorf("%d leak files, want 8 (TestSend, TestSelectForever, TestSubtests/blank, TestContext twice)", len(ends))
			}
		}
	}
}

var timesRE = regexp.MustCompile(`"Time":"[^"]*",|,"Elapsed":[0-9.]+|\([0-9.]+s\)|\\t[0-9.]+s\\n`)

// normalize drops the times and durations go test prints.
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(timesRE.ReplaceAllString(s, ""), "\n") {
		if i := strings.LastIndex(l, " ("); i >= 0 && strings.HasSuffix(l, "s)") {
			l = l[:i]
		}
		if f := strings.Fields(l); len(f) == 3 && (f[0] == "ok" || f[0] == "FAIL") {
			l = f[0] + " " + f[1]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestHasTestMain(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a_test.go":       "package a\n\nfunc TestMain(m *testing.M) {}\n",
		"method_test.go":  "package a\n\ntype T struct{}\n\nfunc (T) TestMain() {}\n",
		"comment_test.go": "package a\n\n// TestMain is not here.\nfunc TestX() {}\n",
		"x_test.go":       "package a_test\n\nfunc TestMain(m *testing.M) {}\n",
		"broken_test.go":  "package a\n\nfunc TestMain(\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name         string
		tests, xtest []string
		replace      map[string]string
		want         bool
	}{
		{"in the package's tests", []string{"a_test.go"}, nil, nil, true},
		{"in the external tests", []string{"comment_test.go"}, []string{"x_test.go"}, nil, true},
		{"a method and a comment", []string{"method_test.go", "comment_test.go"}, nil, nil, false},
		{"a file that does not parse", []string{"broken_test.go"}, nil, nil, false},
		{"deleted by the overlay", []string{"a_test.go"}, nil, map[string]string{filepath.Join(dir, "a_test.go"): ""}, false},
		{"replaced by the overlay", []string{"comment_test.go"}, nil, map[string]string{filepath.Join(dir, "comment_test.go"): filepath.Join(dir, "a_test.go")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lp := listedPackage{Dir: dir, TestGoFiles: tc.tests, XTestGoFiles: tc.xtest}
			if got := hasTestMain(lp, tc.replace); got != tc.want {
				t.Errorf("hasTestMain = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLeakCheckStopsWhenWatched: once a snapshot is requested (a stall is
// watched), the check stops: no leak file for the tests after, and no
// detection GC at the end.
func TestLeakCheckStopsWhenWatched(t *testing.T) {
	needGo(t)
	dir := fixture(t, "leakwatch")
	inj := prepareLeaks(t, dir, "-count=1", "-vet=off", ".")
	release := filepath.Join(t.TempDir(), "go")
	gt := startGoTest(t, dir, env(append(inj.Env, "LEAKWATCH_GO="+release)...), inj.Args...)
	pid := gt.binary("TestSlow", dir, inj.Dir)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(inj.Dir, "*-leak-1.json")); len(m) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no leak file for TestLeakBefore")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustRequest(t, inj.Dir, pid, Req{Goroutines: true})
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out := gt.finish(60 * time.Second)
	if !strings.Contains(out, `"Action":"pass","Package":"example.com/leakwatch","Elapsed"`) {
		t.Fatalf("the package did not pass:\n%s", out)
	}
	leaks, _ := filepath.Glob(filepath.Join(inj.Dir, "*-leak-*.json"))
	var end map[string]any
	b, err := os.ReadFile(filepath.Join(inj.Dir, strconv.Itoa(pid)+"-leakend.json"))
	if err == nil {
		err = json.Unmarshal(b, &end)
	}
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := end["unchecked_tests"].([]any); len(u) != 2 || u[0] != "TestSlow" || u[1] != "TestLeakAfter" {
		t.Errorf("unchecked tests %v", end["unchecked_tests"])
	}
	if len(leaks) != 1 || end["watched"] != true || end["gc"] != nil || end["leaks"] != 1.0 {
		t.Errorf("%d leak files, end %v", len(leaks), end)
	}
}

// TestNoTestMainWithoutLeakCheck: with the check off the agent file
// declares no TestMain: the binary is as it was before the check existed.
func TestNoTestMainWithoutLeakCheck(t *testing.T) {
	needGo(t)
	dir := leakFixture(t, "leaky")
	for _, grace := range []time.Duration{0, time.Second} {
		inj, err := Prepare(context.Background(), PrepareOptions{Dir: dir, Args: []string{"."}, CacheDir: cacheDir, LeakGrace: grace})
		if err != nil {
			t.Fatal(err)
		}
		defer inj.Close()
		var o struct{ Replace map[string]string }
		b, _ := os.ReadFile(inj.Overlay)
		json.Unmarshal(b, &o)
		src, err := os.ReadFile(o.Replace[inj.Packages[0].File])
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(src), "\nfunc TestMain("); got != (grace > 0) {
			t.Errorf("grace %v: TestMain in the agent file: %v", grace, got)
		}
		if env := strings.Join(inj.Env, " "); strings.Contains(env, EnvLeaks) != (grace > 0) {
			t.Errorf("grace %v: env %s", grace, env)
		}
	}
}
