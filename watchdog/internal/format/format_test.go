package format

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// streams are the recorded go test -json runs of
// ../testjson/testdata/record.sh.
func streams(t *testing.T) []string {
	files, err := filepath.Glob("../testjson/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded streams: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	return names
}

// releaseStreams are the same fixtures recorded under a newer Go release
// (record.sh go1.27.3), named "go1.27/fail": Go 1.27 marks output events
// with OutputType, and what we print must still match that release's go test.
func releaseStreams(t *testing.T) []string {
	files, _ := filepath.Glob("../testjson/testdata/go1.*/*.json")
	if len(files) == 0 {
		t.Fatal("no recorded streams of a newer release")
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(filepath.Dir(f))+"/"+strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	return names
}

func readStream(t *testing.T, name string) []byte {
	b, err := os.ReadFile("../testjson/testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func run(t *testing.T, format string, input []byte, opts Options) string {
	t.Helper()
	var out bytes.Buffer
	f, err := New(format, &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := testjson.Scan(bytes.NewReader(input), Handler(f)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestGolden checks our exact output for every stream and format.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range streams(t) {
		input := readStream(t, name)
		for _, format := range Names() {
			t.Run(name+"/"+format, func(t *testing.T) {
				got := run(t, format, input, Options{TempDir: t.TempDir()})
				golden := filepath.Join("testdata", name+"."+format+".golden")
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("output differs from %s (run with -update after checking):\n%s", golden, diff(string(want), got))
				}
			})
		}
	}
}

var (
	reDuration = regexp.MustCompile(`\((\d+\.\d+s|cached)\)|\t\d+\.\d+s`)
	reAddr     = regexp.MustCompile(`0x[0-9a-f]+`)
	reGoroutin = regexp.MustCompile(`goroutine \d+`)
	reExit     = regexp.MustCompile(`(?m)^exit status \d+\n`)
	reNsOp     = regexp.MustCompile(` *\d+(\.\d+)? ns/op`) // with its padding, which follows the width of the number
)

// normalize removes what differs between two runs of the same tests.
func normalize(s string) string {
	s = reDuration.ReplaceAllString(s, "(T)")
	s = reAddr.ReplaceAllString(s, "0xX")
	s = reGoroutin.ReplaceAllString(s, "goroutine N")
	s = reNsOp.ReplaceAllString(s, "N ns/op")
	// go test prints "exit status N" for a failed binary; the -json
	// stream has it only sometimes.
	s = reExit.ReplaceAllString(s, "")
	return s
}

// toValidUTF8 replaces each invalid byte by U+FFFD, as test2json does.
func toValidUTF8(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// TestMatchesGoTest compares standard-quiet and standard-verbose with
// what the real go test and go test -v printed for the same fixtures
// (recorded by record.sh), after normalizing timings and addresses. Known
// differences the stream cannot carry are removed from go test's side:
// "exit status N" lines (not in -json streams) and invalid UTF-8 (which
// test2json replaces). Our side prints the held log lines of tests that
// never finished, which plain go test loses: the quiet exit and timeout
// fixtures therefore check that go test's lines are a subsequence.
func TestMatchesGoTest(t *testing.T) {
	t.Parallel()
	for _, name := range append(streams(t), releaseStreams(t)...) {
		input := readStream(t, name)
		for format, suffix := range map[string]string{StandardQuiet: ".go-test.txt", StandardVerbose: ".go-test-v.txt"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				plain, err := os.ReadFile("../testjson/testdata/" + name + suffix)
				if err != nil {
					t.Fatal(err)
				}
				want := normalize(toValidUTF8(string(plain)))
				got := normalize(run(t, format, input, Options{TempDir: t.TempDir()}))
				if base := filepath.Base(name); format == StandardQuiet && (base == "exit" || base == "timeout") {
					if !isSubsequence(strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")) {
						t.Errorf("go test's lines are not all in our output:\n%s", diff(want, got))
					}
					return
				}
				if got != want {
					t.Errorf("differs from real go test output:\n%s", diff(want, got))
				}
			})
		}
	}
}

func isSubsequence(sub, all []string) bool {
	i := 0
	for _, l := range all {
		if i < len(sub) && l == sub[i] {
			i++
		}
	}
	return i == len(sub)
}

// diff is a small line diff for failure messages.
func diff(want, got string) string {
	w, g := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	var b strings.Builder
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	fmt.Fprintf(&b, "first difference at line %d\n", i+1)
	for k := i; k < len(w) && k < i+8; k++ {
		fmt.Fprintf(&b, "-%q\n", w[k])
	}
	for k := i; k < len(g) && k < i+8; k++ {
		fmt.Fprintf(&b, "+%q\n", g[k])
	}
	return b.String()
}

// TestSpill holds output with a tiny memory limit: the output must be the
// same byte for byte, the spill file private, and gone after Close.
func TestSpill(t *testing.T) {
	t.Parallel()
	for _, name := range streams(t) {
		input := readStream(t, name)
		for _, format := range Names() {
			t.Run(name+"/"+format, func(t *testing.T) {
				want := run(t, format, input, Options{TempDir: t.TempDir()})
				dir := t.TempDir()
				for _, limit := range []int{1, 7, 100} {
					got := run(t, format, input, Options{TempDir: dir, HoldLimit: limit})
					if got != want {
						t.Fatalf("HoldLimit %d changes the output:\n%s", limit, diff(want, got))
					}
					if left, _ := os.ReadDir(dir); len(left) != 0 {
						t.Fatalf("temporary files left after Close: %v", left)
					}
				}
			})
		}
	}
}

func TestSpillFileModes(t *testing.T) {
	t.Parallel()
	st := &store{limit: 4, tmpDir: t.TempDir()}
	var h held
	st.write(&h, []byte("0123456789"))
	if st.f == nil {
		t.Fatal("did not spill")
	}
	fi, err := os.Stat(st.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	di, err := os.Stat(st.dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v, want 0600 file in 0700 dir", fi.Mode(), di.Mode())
	}
	var b bytes.Buffer
	if err := st.writeTo(&h, &b); err != nil || b.String() != "0123456789" {
		t.Fatalf("read back %q, %v", b.String(), err)
	}
	st.reset(&h)
	if st.size != 0 || st.mem != 0 {
		t.Fatalf("not released: size %d mem %d", st.size, st.mem)
	}
	if err := st.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.dir); !os.IsNotExist(err) {
		t.Fatalf("dir not removed: %v", err)
	}
}

func TestSpillFailureKeepsOutput(t *testing.T) {
	t.Parallel()
	input := readStream(t, "fail")
	want := run(t, StandardQuiet, input, Options{TempDir: t.TempDir()})
	var out bytes.Buffer
	f, err := New(StandardQuiet, &out, Options{TempDir: "/nonexistent/dir", HoldLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := testjson.Scan(bytes.NewReader(input), Handler(f)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err == nil {
		t.Fatal("Close did not report the failure to spill")
	}
	if out.String() != want {
		t.Fatalf("output lost when spilling failed:\n%s", diff(want, out.String()))
	}
}

// TestUnfinishedTests: a binary killed while tests run leaves tests
// without a result; their held output must come out before the package's
// final line, in every format that holds output.
func TestUnfinishedTests(t *testing.T) {
	t.Parallel()
	input := readStream(t, "exit")
	for _, format := range []string{StandardQuiet, StandardVerbose, TestName, PkgNameAndTestFails} {
		got := run(t, format, input, Options{TempDir: t.TempDir()})
		for _, line := range []string{"log before exit", "sub log before exit"} {
			i := strings.Index(got, line)
			end := strings.LastIndex(got, "example.com/exit")
			if i < 0 || end < 0 || i > end {
				t.Errorf("%s: %q missing or after the package line:\n%s", format, line, got)
			}
		}
	}
}

// TestInterleaved: events of packages running in parallel interleave; the
// go test formats must print each package as one block, as if the
// packages had run one after the other.
func TestInterleaved(t *testing.T) {
	t.Parallel()
	input := readStream(t, "multi")
	var byPkg = map[string][]string{}
	var order []string
	for _, l := range strings.SplitAfter(string(input), "\n") {
		if m := regexp.MustCompile(`"Package":"([^"]+)"`).FindStringSubmatch(l); m != nil {
			if byPkg[m[1]] == nil {
				order = append(order, m[1])
			}
			byPkg[m[1]] = append(byPkg[m[1]], l)
		}
	}
	var sequential strings.Builder
	for _, p := range order {
		sequential.WriteString(strings.Join(byPkg[p], ""))
	}
	for _, format := range []string{StandardQuiet, StandardVerbose} {
		a := run(t, format, input, Options{TempDir: t.TempDir()})
		b := run(t, format, []byte(sequential.String()), Options{TempDir: t.TempDir()})
		if a != b {
			t.Errorf("%s: interleaved output differs from sequential:\n%s", format, diff(b, a))
		}
	}
}

// TestTextPassThrough: non-JSON text is written at once, as-is.
func TestTextPassThrough(t *testing.T) {
	t.Parallel()
	for _, format := range Names() {
		var out bytes.Buffer
		f, err := New(format, &out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		f.Text([]byte("# pkg\n"), true)
		f.Text([]byte("./x.go:1: err"), false)
		if out.String() != "# pkg\n./x.go:1: err" {
			t.Errorf("%s: text not passed at once: %q", format, out.String())
		}
		f.Close()
	}
}

// TestChunkingIndependent: the output must not depend on how the input
// was read (whole or 1 byte at a time).
func TestChunkingIndependent(t *testing.T) {
	t.Parallel()
	for _, name := range streams(t) {
		input := readStream(t, name)
		for _, format := range Names() {
			want := run(t, format, input, Options{TempDir: t.TempDir()})
			var out bytes.Buffer
			f, err := New(format, &out, Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if err := testjson.Scan(iotest.OneByteReader(bytes.NewReader(input)), Handler(f)); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Errorf("%s/%s: 1-byte reads change the output:\n%s", name, format, diff(want, out.String()))
			}
		}
	}
}

// TestTruncatedStream: when the stream ends before a package does (go test
// was killed), Close prints everything held for it.
func TestTruncatedStream(t *testing.T) {
	t.Parallel()
	input := readStream(t, "fail")
	// Cut before TestFailSub reports: it is running, with held lines.
	cut := bytes.Index(input, []byte(`"Output":"--- FAIL: TestFailSub (`))
	cut = bytes.LastIndexByte(input[:cut], '\n') + 1
	for _, format := range []string{StandardQuiet, StandardVerbose, TestName, PkgNameAndTestFails} {
		got := run(t, format, input[:cut], Options{TempDir: t.TempDir()})
		for _, want := range []string{"TestMain before m.Run", "log before error", "parent log after subtests", "deep failure"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: %q missing from output of a truncated stream:\n%s", format, want, got)
			}
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(p), nil
}

func TestWriteErrorReported(t *testing.T) {
	t.Parallel()
	input := readStream(t, "fail")
	for _, format := range Names() {
		f, err := New(format, &failWriter{}, Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		testjson.Scan(bytes.NewReader(input), Handler(f))
		if err := f.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: Close() = %v, want the write error", format, err)
		}
	}
}

func TestNewUnknown(t *testing.T) {
	t.Parallel()
	_, err := New("nope", &bytes.Buffer{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "standard-quiet") {
		t.Fatalf("err = %v, want a list of names", err)
	}
	if _, err := New(StandardQuiet, &bytes.Buffer{}, Options{HoldLimit: -1}); err == nil {
		t.Fatal("negative HoldLimit accepted")
	}
}

// TestOldGoBuildFailure: before Go 1.24 build errors are plain text on
// stderr (merged into the stream), followed by the package's failure.
// Every format must show the error.
func TestOldGoBuildFailure(t *testing.T) {
	t.Parallel()
	input := []byte("# example.com/bad\n./x.go:1:1: undefined: foo\n" +
		`{"Action":"start","Package":"example.com/bad"}` + "\n" +
		`{"Action":"output","Package":"example.com/bad","Output":"FAIL\texample.com/bad [build failed]\n"}` + "\n" +
		`{"Action":"fail","Package":"example.com/bad","Elapsed":0,"FailedBuild":"example.com/bad"}` + "\n")
	for _, format := range Names() {
		got := run(t, format, input, Options{TempDir: t.TempDir()})
		if !strings.HasPrefix(got, "# example.com/bad\n./x.go:1:1: undefined: foo\n") {
			t.Errorf("%s: build error not printed first:\n%s", format, got)
		}
		if (format == StandardQuiet || format == StandardVerbose) &&
			!strings.HasSuffix(got, "FAIL\texample.com/bad [build failed]\nFAIL\n") {
			t.Errorf("%s: package failure not printed as go test does:\n%s", format, got)
		}
	}
}
