// Command gokerrun runs the GoKer kernels that the Go runtime ships for its
// goroutine leak profile (runtime/testdata/testgoroutineleakprofile/goker,
// 63 real blocking bugs of cockroach, etcd, grpc, hugo, istio, kubernetes,
// moby, serving and syncthing) as tests, one per kernel, under three
// tools, and prints which tool names which bug: the right test and a
// goroutine at the place runtime/goroutineleakprofile_test.go expects.
//
//	hangdog   hangdog --leaks -- -count=1 (hangs and leaks, no change to the tests)
//	goleak    the same tests with `defer goleak.VerifyNone(t)` added
//	timeout   go test -timeout (the dump of a timeout names the hung tests)
//
// A hang stops its test binary under every tool (hangdog kills it after
// --kill-after, go test at -timeout): each tool is run again on the tests
// that got no result until none is left, as a user would. Nothing
// generated is kept: the module lives in a temporary directory.
//
//	go run ./bench/gokerrun -hangdog /path/to/hangdog -repeat 3
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

var (
	keep, only string
	verbose    bool
)

func main() {
	hangdog := flag.String("hangdog", "", "the hangdog binary")
	goker := flag.String("goker", "", "the goker directory (default: $(go env GOROOT)/src/runtime/testdata/testgoroutineleakprofile/goker)")
	expect := flag.String("expect", "", "runtime/goroutineleakprofile_test.go (default: next to goker)")
	gosum := flag.String("gosum", "testdata/leaks/goleaksuite/go.sum", "a go.sum with go.uber.org/goleak v1.3.0")
	repeat := flag.Int("repeat", 3, "runs per tool")
	timeout := flag.Duration("timeout", 8*time.Second, "go test -timeout for the goleak and timeout runs")
	stall := flag.Duration("stall", 2*time.Second, "hangdog --stall")
	flag.StringVar(&keep, "keep", "", "make the module in this directory and keep it (for debugging)")
	flag.StringVar(&only, "only", "", "run only the kernels matching this regexp")
	flag.BoolVar(&verbose, "v", false, "say what each round did")
	flag.Parse()
	if err := run(*hangdog, *goker, *expect, *gosum, *repeat, *timeout, *stall); err != nil {
		fmt.Fprintln(os.Stderr, "gokerrun:", err)
		os.Exit(1)
	}
}

// kernel is one GoKer bug: its entry point and the leaks the runtime's
// test expects of it, as "Func\(.* \[wait reason\]" patterns.
type kernel struct {
	name   string
	expect []*regexp.Regexp
}

// outcome is what one tool said of one kernel in one run.
type outcome struct {
	named bool   // a goroutine at an expected place, in the kernel's test
	how   string // "hang", "leak", "leak (proven)", "goleak", "timeout"
}

func run(hangdog, goker, expect, gosum string, repeat int, timeout, stall time.Duration) error {
	if hangdog == "" {
		return fmt.Errorf("-hangdog is required")
	}
	if goker == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return err
		}
		goker = filepath.Join(strings.TrimSpace(string(out)), "src", "runtime", "testdata", "testgoroutineleakprofile", "goker")
	}
	if expect == "" {
		expect = filepath.Join(goker, "..", "..", "..", "goroutineleakprofile_test.go")
	}
	kernels, err := readKernels(goker, expect)
	if err != nil {
		return err
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return err
		}
		var sel []kernel
		for _, k := range kernels {
			if re.MatchString(k.name) {
				sel = append(sel, k)
			}
		}
		kernels = sel
	}
	mod := keep
	if mod == "" {
		if mod, err = os.MkdirTemp("", "hangdog-goker-"); err != nil {
			return err
		}
		defer os.RemoveAll(mod)
	} else if err := os.MkdirAll(mod, 0o700); err != nil {
		return err
	}
	if err := makeModule(mod, goker, gosum, kernels); err != nil {
		return err
	}
	fmt.Printf("GoKer: %d kernels from %s, %d with expected leaks; %d runs per tool; %s\n", len(kernels), goker, countExpected(kernels), repeat, goVersion(mod))

	tools := []string{"hangdog", "goleak", "timeout"}
	results := map[string][]map[string]outcome{}
	for _, tool := range tools {
		for r := 0; r < repeat; r++ {
			t0 := time.Now()
			res, err := runTool(tool, mod, hangdog, kernels, timeout, stall)
			if err != nil {
				return fmt.Errorf("%s: %w", tool, err)
			}
			results[tool] = append(results[tool], res)
			fmt.Fprintf(os.Stderr, "gokerrun: %s run %d: %d named in %.0fs\n", tool, r+1, countNamed(res), time.Since(t0).Seconds())
		}
	}
	printTable(kernels, tools, results, repeat)
	return nil
}

// readKernels lists the kernels (register("Name", Name) in each file) and
// their expected leaks from the runtime's test.
func readKernels(goker, expect string) ([]kernel, error) {
	files, err := filepath.Glob(filepath.Join(goker, "*.go"))
	if err != nil {
		return nil, err
	}
	reg := regexp.MustCompile(`register\("([A-Za-z0-9]+)"`)
	var ks []kernel
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range reg.FindAllStringSubmatch(string(b), -1) {
			ks = append(ks, kernel{name: m[1]})
		}
	}
	src, err := os.ReadFile(expect)
	if err != nil {
		return nil, err
	}
	// makeTest("Name", `re`, ...), or makeFlakyTest: the patterns are the
	// backquoted strings up to the closing "),".
	tc := regexp.MustCompile("(?s)make(?:Flaky)?Test\\(\"([A-Za-z0-9]+)\",(.*?)\\n\\t\\t\\),")
	pat := regexp.MustCompile("`([^`]*)`")
	want := map[string][]*regexp.Regexp{}
	for _, m := range tc.FindAllStringSubmatch(string(src), -1) {
		for _, p := range pat.FindAllStringSubmatch(m[2], -1) {
			re, err := regexp.Compile(p[1])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m[1], err)
			}
			want[m[1]] = append(want[m[1]], re)
		}
	}
	for i := range ks {
		ks[i].expect = want[ks[i].name]
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].name < ks[j].name })
	return ks, nil
}

func countExpected(ks []kernel) int {
	n := 0
	for _, k := range ks {
		if len(k.expect) > 0 {
			n++
		}
	}
	return n
}

// makeModule copies the kernels into mod as package main with one test
// per kernel: goker_test.go calls it, goker_goleak_test.go (build tag
// goleak) calls it under goleak.VerifyNone. The kernels' own
// goroutineleak profile writes are dropped (Go 1.26 has no such profile).
func makeModule(mod, goker, gosum string, ks []kernel) error {
	files, _ := filepath.Glob(filepath.Join(goker, "*.go"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), "prof.WriteTo(os.Stdout, 2)", "_ = prof")
		if !strings.Contains(s, "os.") || strings.Count(s, "os.") == strings.Count(s, "\"os\"") {
			s = strings.Replace(s, "\t\"os\"\n", "", 1)
		}
		if err := os.WriteFile(filepath.Join(mod, filepath.Base(f)), []byte(s), 0o600); err != nil {
			return err
		}
	}
	var plain, gl strings.Builder
	plain.WriteString("//go:build !goleak\n\npackage main\n\nimport \"testing\"\n")
	gl.WriteString("//go:build goleak\n\npackage main\n\nimport (\n\t\"testing\"\n\n\t\"go.uber.org/goleak\"\n)\n")
	for _, k := range ks {
		fmt.Fprintf(&plain, "\nfunc Test%s(t *testing.T) { %s() }\n", k.name, k.name)
		fmt.Fprintf(&gl, "\nfunc Test%s(t *testing.T) {\n\tdefer goleak.VerifyNone(t)\n\t%s()\n}\n", k.name, k.name)
	}
	sum, err := os.ReadFile(gosum)
	if err != nil {
		return err
	}
	for name, data := range map[string]string{
		"goker_test.go":        plain.String(),
		"goker_goleak_test.go": gl.String(),
		"go.mod":               "module goker\n\ngo 1.26\n\nrequire go.uber.org/goleak v1.3.0\n",
		"go.sum":               string(sum),
	} {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(data), 0o600); err != nil {
			return err
		}
	}
	for _, tags := range []string{"", "goleak"} {
		if out, err := command(mod, "go", "test", "-count=1", "-tags", tags, "-run", "^$", ".").CombinedOutput(); err != nil {
			return fmt.Errorf("building the generated module: %v\n%s", err, out)
		}
	}
	return nil
}

func goVersion(dir string) string {
	out, _ := command(dir, "go", "version").Output()
	return strings.TrimSpace(string(out))
}

func command(dir string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	return cmd
}

// runTool runs every kernel's test under tool, again and again on the
// tests without a result, and says what it named.
func runTool(tool, mod, hangdog string, ks []kernel, timeout, stall time.Duration) (map[string]outcome, error) {
	left := map[string]bool{}
	for _, k := range ks {
		left["Test"+k.name] = true
	}
	byTest := map[string]kernel{}
	for _, k := range ks {
		byTest["Test"+k.name] = k
	}
	res := map[string]outcome{}
	for round := 0; len(left) > 0 && round < len(ks)+1; round++ {
		var names []string
		for n := range left {
			names = append(names, n)
		}
		sort.Strings(names)
		runRE := "^(" + strings.Join(names, "|") + ")$"
		var done map[string]bool
		var err error
		switch tool {
		case "hangdog":
			done, err = roundHangdog(mod, hangdog, runRE, byTest, res, stall)
		default:
			done, err = roundGoTest(tool, mod, runRE, byTest, res, timeout)
		}
		if err != nil {
			return nil, err
		}
		if verbose {
			fmt.Fprintf(os.Stderr, "gokerrun: %s round %d: %d tests, %d done\n", tool, round+1, len(names), len(done))
		}
		progress := false
		for n := range done {
			if left[n] {
				delete(left, n)
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	return res, nil
}

func roundHangdog(mod, hangdog, runRE string, byTest map[string]kernel, res map[string]outcome, stall time.Duration) (map[string]bool, error) {
	rep := filepath.Join(mod, "report.json")
	stream := filepath.Join(mod, "stream.json")
	os.Remove(rep)
	cmd := command(mod, hangdog, "--no-status", "--leaks", "--report-json", rep, "--jsonfile", stream, "--artifacts", filepath.Join(mod, "artifacts"),
		"--stall", stall.String(), "--kill-after", (stall + time.Second).String(), "--", "-count=1", "-run", runRE, ".")
	cmd.Run() // its exit code says hung or failed: the report tells
	b, err := os.ReadFile(rep)
	if err != nil {
		return nil, fmt.Errorf("no report: %w", err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	os.RemoveAll(filepath.Join(mod, "artifacts"))
	done := map[string]bool{}
	hung := map[string]bool{}
	for _, h := range r.Hangs {
		top, _, _ := strings.Cut(h.Test, "/")
		done[top], hung[top] = true, true
		if k, ok := byTest[top]; ok && named(k, groupLines(h.Goroutines)) {
			res[top] = outcome{true, "hang"}
		}
	}
	for _, l := range r.Leaks {
		top, _, _ := strings.Cut(l.Test, "/")
		if k, ok := byTest[top]; ok && named(k, groupLines(l.Goroutines)) && !res[top].named {
			how := "leak"
			if l.Proven {
				how = "leak (proven)"
			}
			res[top] = outcome{true, how}
		}
	}
	// Tests with a result are done too.
	for n := range streamResults(stream) {
		done[n] = true
	}
	// Tests that ended while hangdog watched a stall in their binary were
	// not checked for leaks: run them again.
	for _, c := range r.LeakChecks {
		for _, n := range c.UncheckedTests {
			top, _, _ := strings.Cut(n, "/")
			if !res[top].named && !hung[top] {
				delete(done, top)
			}
		}
	}
	return done, nil
}

// roundGoTest runs go test -json (with goleak's tests for tool "goleak")
// and reads which tests passed, failed (goleak's report in their output)
// or were running at the timeout (the dump's goroutines).
func roundGoTest(tool, mod, runRE string, byTest map[string]kernel, res map[string]outcome, timeout time.Duration) (map[string]bool, error) {
	args := []string{"test", "-json", "-count=1", "-timeout", timeout.String(), "-run", runRE}
	if tool == "goleak" {
		args = append(args, "-tags", "goleak")
	}
	cmd := command(mod, "go", append(args, ".")...)
	out, _ := cmd.Output()
	done := map[string]bool{}
	output := map[string]*strings.Builder{}
	var all strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var ev struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev.Action == "output" {
			all.WriteString(ev.Output)
			if ev.Test != "" {
				if output[ev.Test] == nil {
					output[ev.Test] = &strings.Builder{}
				}
				output[ev.Test].WriteString(ev.Output)
			}
		}
		if ev.Test != "" && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip") {
			done[ev.Test] = true
			if tool == "goleak" && ev.Action == "fail" && output[ev.Test] != nil {
				if k, ok := byTest[ev.Test]; ok && named(k, goleakLines(output[ev.Test].String())) {
					res[ev.Test] = outcome{true, "goleak"}
				}
			}
		}
	}
	// A timeout: "panic: test timed out", the running tests, the dump.
	text := all.String()
	if i := strings.Index(text, "panic: test timed out after"); i >= 0 {
		dump := text[i:]
		lines := dumpLines(dump)
		for _, n := range runningTests(dump) {
			done[n] = true
			if k, ok := byTest[n]; ok && tool == "timeout" && named(k, lines) {
				res[n] = outcome{true, "timeout"}
			}
		}
	}
	return done, nil
}
