package testjson

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// decodeCases are lines the fast path must decode exactly as
// encoding/json does (or hand over to it). Real lines come from the
// recorded fixtures (see fixtureLines).
var decodeCases = []string{
	`{"Action":"run","Package":"p","Test":"TestX"}`,
	// Go 1.27's OutputType, and what encoding/json must decide about it.
	`{"Action":"output","Package":"p","Test":"TestX","Output":"    x_test.go:3: boom\n","OutputType":"error"}`,
	`{"Action":"output","Output":"        more\n","OutputType":"error-continue"}`,
	`{"Action":"output","Output":"=== RUN   TestX\n","OutputType":"frame"}`,
	`{"Action":"output","OutputType":"\u0065rror"}`,
	`{"Action":"output","OutputType":null}`,
	`{"Action":"output","outputtype":"frame"}`,
	`{"Action":"output","OutputType":"error","OutputType":"frame"}`,
	`{"Action":"output","OutputType":7}`,
	`{"Time":"2026-11-28T00:42:27.931993326Z","Action":"start","Package":"example.com/exit"}`,
	`{"Time":"2026-11-28T00:42:27Z","Action":"pass","Elapsed":0.004}`,
	`{"Time":"2026-11-28T00:42:27.9Z","Action":"pass","Elapsed":12.5}`,
	`{"Time":"2026-11-28T00:42:27.1234567891Z","Action":"pass"}`,
	`{"Time":"2026-11-28T00:42:27.Z","Action":"pass"}`,
	`{"Time":"2024-02-29T00:00:00Z","Action":"pass"}`,
	`{"Time":"2023-02-29T00:00:00Z","Action":"pass"}`,
	`{"Time":"2023-13-01T00:00:00Z","Action":"pass"}`,
	`{"Time":"2023-12-01T24:00:00Z","Action":"pass"}`,
	`{"Time":"2023-12-01T23:59:60Z","Action":"pass"}`,
	`{"Time":"2026-11-28T01:42:27.5+01:00","Action":"pass"}`,
	`{"Time":"2026-11-28t01:42:27z","Action":"pass"}`,
	`{"Time":null,"Action":"pass"}`,
	`{"Time":"","Action":"pass"}`,
	`{"Time":"\u0032026-11-28T00:42:27Z","Action":"pass"}`,
	`{"Action":"output","Output":"quotes \" backslash \\ slash \/ \b\f\n\r\t end"}`,
	`{"Action":"output","Output":"\u00e9\u4e16\u0000\u001b[31m"}`,
	`{"Action":"output","Output":"pair \ud83d\ude00 lone high \ud83d end"}`,
	`{"Action":"output","Output":"lone low \ude00 high then A \ud83d\u0041"}`,
	`{"Action":"output","Output":"high high \ud83d\ud83d\ude00"}`,
	`{"Action":"output","Output":"bad escape \x"}`,
	`{"Action":"output","Output":"bad hex \u12g4"}`,
	`{"Action":"output","Output":"short \u12"}`,
	"{\"Action\":\"output\",\"Output\":\"raw tab \t in string\"}",
	"{\"Action\":\"output\",\"Output\":\"invalid utf8 \xff\xfe here\"}",
	"{\"Action\":\"output\",\"Output\":\"escape then invalid \\n \xff\"}",
	`{"Action":"output","Output":"héllo 世界 😀"}`,
	`{"Action":"output","Output":null}`,
	`{"Action":"output","Output":5}`,
	`{"Action":"","Package":"p"}`,
	`{}`,
	`{"Action":"pass"}trailing`,
	`{"Action":"pass"}  ` + "\r\n",
	" \t{\"Action\" : \"pass\" , \"Test\" :\"T\"}\n",
	`{"Action":"pass",}`,
	`{"Action":"pass"`,
	`{"Action":"pass" "Test":"x"}`,
	`{"action":"pass"}`,
	`{"Action":"pass","ACTION":"fail"}`,
	`{"Action":"pass","Action":"fail"}`,
	`{"Action":"new-action","NewField":"x","N":1.5e3,"B":true,"F":false,"Z":null}`,
	`{"Action":"pass","Nested":{"a":[1,2]}}`,
	`{"Action":"pass","Arr":[]}`,
	`{"Action":"pass","T":tru}`,
	`{"Action":"pass","Elapsed":-0}`,
	`{"Action":"pass","Elapsed":0.1}`,
	`{"Action":"pass","Elapsed":1e400}`,
	`{"Action":"pass","Elapsed":1E-3}`,
	`{"Action":"pass","Elapsed":123456789012345678}`,
	`{"Action":"pass","Elapsed":0.00000000000000000000001}`,
	`{"Action":"pass","Elapsed":01}`,
	`{"Action":"pass","Elapsed":1.}`,
	`{"Action":"pass","Elapsed":-}`,
	`{"Action":"pass","Elapsed":"1"}`,
	`{"Action":"pass","Elapsed":null}`,
	`{"Action":"build-output","ImportPath":"p [p.test]","Output":"# p\n"}`,
	`{"Action":"fail","Package":"p","FailedBuild":"p [p.test]"}`,
	`{"Action":"attr","Package":"p","Test":"T","Key":"k","Value":"v"}`,
	`{"Action":"artifacts","Package":"p","Path":"/tmp/x"}`,
	`{"Action":"output","OutputType":"error","Output":"x\n"}`,
	`{"Act\u0069on":"pass"}`,
	"{\"Pac\u212aage\":\"p\",\"Action\":\"pass\"}",
	`[1,2]`,
	`"string"`,
	`{"Action":"pass"}{"Action":"fail"}`,
}

// fixtureLines are the lines of every recorded stream: those of the
// machine's release and those of newer ones (testdata/go1.27: output
// events with OutputType).
func fixtureLines(t testing.TB) [][]byte {
	files, err := filepath.Glob("testdata/*.json")
	newer, _ := filepath.Glob("testdata/go1.*/*.json")
	if err != nil || len(files) == 0 || len(newer) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	files = append(files, newer...)
	var lines [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.SplitAfter(b, []byte("\n"))...)
	}
	return lines
}

// checkDecode compares the fast path and the scanner's decision for line
// with encoding/json.
func checkDecode(t testing.TB, line []byte) {
	var want Event
	jerr := json.Unmarshal(line, &want)

	var d decoder
	var got Event
	if d.decode(line, &got) {
		if jerr != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", line, jerr)
		}
		if !sameEvent(got, want) {
			t.Fatalf("fast path decoded %q\n got %#v\nwant %#v", line, got, want)
		}
	}

	var s Scanner
	isEvent := s.decodeLine(line)
	wantEvent := jerr == nil && want.Action != ""
	if isEvent != wantEvent {
		t.Fatalf("decodeLine(%q) = %v, want %v (json error %v)", line, isEvent, wantEvent, jerr)
	}
	if isEvent && !sameEvent(s.ev, want) {
		t.Fatalf("decodeLine(%q)\n got %#v\nwant %#v", line, s.ev, want)
	}
}

func sameEvent(a, b Event) bool {
	if math.Float64bits(a.Elapsed) != math.Float64bits(b.Elapsed) {
		return false
	}
	return reflect.DeepEqual(a, b) && a.Time.Location().String() == b.Time.Location().String()
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, c := range decodeCases {
		checkDecode(t, []byte(c))
	}
	for _, l := range fixtureLines(t) {
		checkDecode(t, l)
	}
}

// TestDecodeFastPathCoversFixtures checks that the fast path, not the
// fallback, handles every event of real streams.
func TestDecodeFastPathCoversFixtures(t *testing.T) {
	t.Parallel()
	var d decoder
	for _, l := range fixtureLines(t) {
		if len(l) == 0 || l[0] != '{' {
			continue
		}
		var e Event
		if !d.decode(l, &e) {
			t.Errorf("fast path gave up on real line %q", l)
		}
	}
}

// TestOutputType reads Go 1.27.3's recording of the errors fixture: the
// fast path decodes OutputType, and each line is typed as test2json typed it.
func TestOutputType(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/go1.27/errors.json")
	if err != nil {
		t.Fatal(err)
	}
	var d decoder
	types := map[string]int{}
	var errs strings.Builder
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if len(l) == 0 || l[0] != '{' {
			continue
		}
		var e Event
		if !d.decode(l, &e) {
			t.Fatalf("fast path gave up on %q", l)
		}
		types[e.OutputType]++
		if e.OutputType != "" && e.Action != ActionOutput {
			t.Errorf("OutputType on a %s event", e.Action)
		}
		if strings.HasPrefix(e.Output, "=== RUN") || strings.HasPrefix(e.Output, "--- FAIL") {
			if e.OutputType != OutputFrame {
				t.Errorf("framing %q has type %q", e.Output, e.OutputType)
			}
		}
		if e.IsError() && e.Test == "TestMultiLine" {
			errs.WriteString(e.Output)
		}
	}
	if types[OutputError] == 0 || types[OutputErrorContinue] == 0 || types[OutputFrame] == 0 {
		t.Errorf("types seen: %v", types)
	}
	want := "    errors_test.go:26: mismatch:\n        -want\n        +got\n    errors_test.go:27: stop\n"
	if errs.String() != want {
		t.Errorf("error lines of TestMultiLine = %q, want %q", errs.String(), want)
	}
}

func TestInternBounded(t *testing.T) {
	t.Parallel()
	var in interner
	a := in.bytes([]byte("pkg"))
	b := in.bytes([]byte("pkg"))
	if a != b || len(in.m) != 1 {
		t.Fatalf("not interned: %q %q %d", a, b, len(in.m))
	}
	for i := 0; i < 3*internMaxEntries; i++ {
		in.bytes([]byte{byte(i), byte(i >> 8), 'x'})
		if len(in.m) > internMaxEntries {
			t.Fatalf("table grew to %d", len(in.m))
		}
	}
	long := bytes.Repeat([]byte("a"), internMaxLen+1)
	in.bytes(long)
	if _, ok := in.m[string(long)]; ok {
		t.Fatal("long string interned")
	}
}

func TestDecodeAllocs(t *testing.T) {
	line := []byte(`{"Time":"2026-11-28T00:42:27.935423626Z","Action":"run","Package":"example.com/exit","Test":"TestExit"}`)
	var d decoder
	var e Event
	d.decode(line, &e)
	n := testing.AllocsPerRun(100, func() {
		e = Event{}
		if !d.decode(line, &e) {
			t.Fatal("not decoded")
		}
	})
	if n != 0 {
		t.Errorf("decode of a run event allocates %v times, want 0", n)
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	for _, l := range fixtureLines(f) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkDecode(t, line)
	})
}
