package format

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// TestJSONVerboseSubtestResults: with `go test -json -v`, test2json sees
// go test -v's own order, where a subtest's result line comes indented
// after its parent's. Those lines were dropped once (recorded from a real
// run of testdata/suites/passing).
func TestJSONVerboseSubtestResults(t *testing.T) {
	in, err := os.ReadFile("testdata/regress/json-v-subtest-results.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{StandardVerbose, StandardQuiet} {
		var out bytes.Buffer
		f, err := New(name, &out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := testjson.Scan(bytes.NewReader(in), Handler(f)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		want := "--- PASS: TestSub (0.00s)\n    --- PASS: TestSub/a (0.00s)\n    --- PASS: TestSub/b (0.00s)\n"
		if got := strings.Contains(out.String(), want); got != (name == StandardVerbose) {
			t.Errorf("%s: subtest result lines shown = %v:\n%s", name, got, out.String())
		}
	}
}
