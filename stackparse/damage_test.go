package stackparse

import (
	"fmt"
	"strings"
	"testing"
)

// Damage derived from real fixtures: cut-off input, garbage inside a dump,
// over-long lines, dumps surrounded by log text.

func TestCutOffLastGoroutine(t *testing.T) {
	src := string(readFixture(t, "go1.26", "sigquit_test"))
	// Cut after a call line: its location is missing.
	i := strings.Index(src, "example.com/gen/hang.lockAB(")
	if i < 0 {
		t.Fatal("fixture changed")
	}
	cut := src[:i+strings.IndexByte(src[i:], '\n')+1]
	ds := mustParse(t, strings.NewReader(cut))
	if len(ds) != 1 {
		t.Fatalf("%d dumps", len(ds))
	}
	gs := ds[0].Goroutines
	last := gs[len(gs)-1]
	if !last.Truncated || last.Frames[len(last.Frames)-1].File != "" {
		t.Errorf("last goroutine %d: truncated %v", last.ID, last.Truncated)
	}
	for _, g := range gs[:len(gs)-1] {
		if g.Truncated {
			t.Errorf("goroutine %d truncated", g.ID)
		}
	}
	// Cut in the middle of a header line: the header is not a goroutine.
	j := strings.LastIndex(cut, "goroutine ")
	ds = mustParse(t, strings.NewReader(cut[:j+14]))
	if n := len(ds[0].Goroutines); n != len(gs)-1 {
		t.Errorf("%d goroutines, want %d", n, len(gs)-1)
	}
	// Cut right after a header.
	k := strings.Index(cut[j:], "\n")
	ds = mustParse(t, strings.NewReader(cut[:j+k+1]))
	if g := ds[0].Goroutines[len(ds[0].Goroutines)-1]; !g.Truncated || len(g.Frames) != 0 {
		t.Errorf("header-only goroutine: %+v", g)
	}
}

func TestDumpsInLogText(t *testing.T) {
	a := string(readFixture(t, "go1.24", "timeout"))
	b := string(readFixture(t, "go1.22", "deadlock"))
	c := string(readFixture(t, "go1.26", "pprof_debug1"))
	log := "=== RUN   TestX\n    x_test.go:12: panic: not a dump, said the log\nok  \texample.com/x\t0.1s\n"
	in := log + a + log + b + "\n" + log + c + log
	ds := mustParse(t, strings.NewReader(in))
	if len(ds) != 3 || ds[0].Kind != KindTestTimeout || ds[1].Kind != KindDeadlock || ds[2].Kind != KindProfile {
		t.Fatalf("got %d dumps", len(ds))
	}
	for _, d := range ds {
		if len(d.Warnings) != 0 {
			t.Errorf("%v: warnings %+v", d.Kind, d.Warnings)
		}
	}
	if ds[1].StartLine != strings.Count(log+a+log, "\n")+1 {
		t.Errorf("deadlock starts at line %d", ds[1].StartLine)
	}
	if want := model(mustParse(t, strings.NewReader(b))); model(ds[1:2]) != want {
		t.Errorf("embedded dump differs:\n%s", firstDiff(want, model(ds[1:2])))
	}
}

func TestGarbageInsideDump(t *testing.T) {
	src := string(readFixture(t, "go1.25", "stack"))
	want := model(mustParse(t, strings.NewReader(src)))
	lines := strings.Split(src, "\n")
	// After the 10th line, inside the second goroutine's frames.
	var out []string
	out = append(out, lines[:10]...)
	out = append(out, "some interleaved log line!")
	out = append(out, lines[10:]...)
	ds := mustParse(t, strings.NewReader(strings.Join(out, "\n")))
	if len(ds) != 1 || len(ds[0].Warnings) != 1 || ds[0].Warnings[0].Line != 11 {
		t.Fatalf("warnings: %+v", ds[0].Warnings)
	}
	if got := model(ds); got != want {
		t.Errorf("model differs:\n%s", firstDiff(want, got))
	}
}

func TestLongLine(t *testing.T) {
	src := string(readFixture(t, "go1.26", "deadlock"))
	i := strings.Index(src, "\n\n") // end of the first goroutine
	long := strings.Repeat("x", 300)
	in := long + "\n" + src[:i] + "\n" + long + "\n" + src[i:]
	p := Parser{MaxLineLen: 64}
	ds, err := p.Parse(strings.NewReader(in))
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v, %d dumps", err, len(ds))
	}
	if len(ds[0].Warnings) == 0 {
		t.Error("no warning for an over-long line inside a dump")
	}
	if len(ds[0].Goroutines) != 13 {
		t.Errorf("%d goroutines", len(ds[0].Goroutines))
	}
}

func TestStreaming(t *testing.T) {
	src := string(readFixture(t, "go1.26", "timeout")) + string(readFixture(t, "go1.26", "crash"))
	var ids []int64
	var got []*Goroutine
	var dumps int
	p := Parser{
		OnGoroutine: func(d *Dump, g *Goroutine) { ids = append(ids, g.ID); got = append(got, g) },
		OnDump:      func(d *Dump) { dumps++ },
	}
	ds, err := p.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	all := mustParse(t, strings.NewReader(src))
	var want []int64
	for _, d := range all {
		for _, g := range d.Goroutines {
			want = append(want, g.ID)
		}
	}
	if dumps != len(all) || len(ds) != len(all) || len(ids) != len(want) {
		t.Fatalf("dumps %d/%d, goroutines %d/%d", dumps, len(all), len(ids), len(want))
	}
	for i := range ids {
		if ids[i] != want[i] {
			t.Fatalf("goroutine %d: id %d, want %d", i, ids[i], want[i])
		}
	}
	// The goroutines handed out must not share memory with later ones.
	var wantGs []*Goroutine
	for _, d := range all {
		wantGs = append(wantGs, d.Goroutines...)
	}
	if a, b := model([]*Dump{{Goroutines: wantGs}}), model([]*Dump{{Goroutines: got}}); a != b {
		t.Errorf("streamed goroutines differ:\n%s", firstDiff(a, b))
	}
	for _, d := range ds {
		if len(d.Goroutines) != 0 || d.NumGoroutines == 0 {
			t.Errorf("streamed dump keeps %d goroutines, counts %d", len(d.Goroutines), d.NumGoroutines)
		}
	}
}

type errReader struct{ n int }

func (r *errReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errTest
	}
	r.n--
	// Ids differ: a repeated id would start a new dump.
	return copy(p, fmt.Sprintf("goroutine %d [running]:\nmain.main()\n\t/x/main.go:1 +0x1\n\n", r.n+1)), nil
}

var errTest = &testErr{}

type testErr struct{}

func (*testErr) Error() string { return "boom" }

func TestReadError(t *testing.T) {
	ds, err := Parse(&errReader{n: 3})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if len(ds) != 1 || len(ds[0].Goroutines) != 3 {
		t.Errorf("partial result: %d dumps", len(ds))
	}
}

func TestCutMidLine(t *testing.T) {
	src := string(readFixture(t, "go1.23", "deadlock"))
	full := mustParse(t, strings.NewReader(src))[0]
	for _, cut := range []string{"example.com/gen/hang.cond", "\texample.com/gen/hang/wai", "created by example.com/gen/hang.Sta"} {
		i := strings.LastIndex(src, cut)
		if i < 0 {
			t.Fatalf("%q not in fixture", cut)
		}
		d := mustParse(t, strings.NewReader(src[:i+len(cut)]))[0]
		last := d.Goroutines[len(d.Goroutines)-1]
		if !last.Truncated || len(d.Warnings) != 0 {
			t.Errorf("cut at %q: goroutine %d truncated %v, warnings %v", cut, last.ID, last.Truncated, d.Warnings)
		}
		if len(d.Goroutines) > len(full.Goroutines) {
			t.Errorf("cut at %q: %d goroutines", cut, len(d.Goroutines))
		}
	}
}

func TestMaxWarnings(t *testing.T) {
	src := string(readFixture(t, "go1.24", "sigquit"))
	var b strings.Builder
	n := 0
	for _, l := range strings.Split(src, "\n") {
		b.WriteString(l + "\n")
		if strings.HasPrefix(l, "\t") && strings.Contains(l, ".go:") {
			b.WriteString("interleaved log line\n")
			n++
		}
	}
	if n <= 20 {
		t.Fatalf("only %d file lines", n)
	}
	p := Parser{MaxWarnings: 20}
	ds, err := p.Parse(strings.NewReader(b.String()))
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v, %d dumps", err, len(ds))
	}
	d := ds[0]
	if len(d.Warnings) != 20 || d.WarningsDropped != n-20 {
		t.Errorf("%d warnings, %d dropped; want 20, %d", len(d.Warnings), d.WarningsDropped, n-20)
	}
	if want := model(mustParse(t, strings.NewReader(src))); model(ds) != want {
		t.Errorf("model differs:\n%s", firstDiff(want, model(ds)))
	}
}
