package pytest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var record = flag.Bool("record", false, "write the dumps of the hang tests and of limits.py to testdata/dumps")

// The dumps under testdata/dumps were written by real programs: the hang
// fixture runs (go test -run TestHangFixtures -record) and limits.py
// (go test -run TestRecordLimits -record).

func recorded(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "dumps", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseRecordedRuns parses every dump recorded from the fixture runs:
// one dump each, no stray lines, no cut thread, the main thread last and
// ending in the interpreter's outermost frame, and for the workers that
// ran a stuck test, that test's file in the main thread's stack.
func TestParseRecordedRuns(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("testdata", "dumps", "*-*.txt"))
	n := 0
	stuck := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "limits-") {
			continue
		}
		n++
		dumps, other := ParseFaulthandler(recorded(t, name))
		if len(dumps) != 1 || len(other) != 0 {
			t.Errorf("%s: %d dumps, other lines %q; want 1 dump and none", name, len(dumps), other)
			continue
		}
		ths := dumps[0].Threads
		main := ths[len(ths)-1]
		if len(main.Frames) == 0 {
			t.Errorf("%s: main thread has no frames", name)
			continue
		}
		outer := main.Frames[len(main.Frames)-1]
		if outer.Func != "<module>" && outer.Func != "_run_module_as_main" {
			t.Errorf("%s: main thread's outermost frame %+v, want <module> or runpy's", name, outer)
		}
		for _, th := range ths {
			if th.Partial || th.Truncated || th.Ident == 0 || (len(th.Frames) == 0 && !th.NoFrame) {
				t.Errorf("%s: thread %+v", name, th)
			}
			for _, fr := range th.Frames {
				if fr.File == "" || fr.Line <= 0 || fr.Func == "" {
					t.Errorf("%s: frame %+v", name, fr)
				}
			}
		}
		fixture := name[:strings.LastIndexByte(name, '-')]
		if innermostUser(main.Frames, fixtureRoot(main.Frames, fixture)) >= 0 {
			stuck[fixture] = true
		}
	}
	suites, err := os.ReadDir(filepath.Join("..", "..", "..", "testdata", "pytest", "hang"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range suites {
		if e.Name() == "ten_waits" {
			continue // BenchmarkSnapshot's, never recorded
		}
		if e.IsDir() && !stuck[e.Name()] {
			t.Errorf("%s: no recorded dump has a main thread in the fixture's code", e.Name())
		}
	}
	if n < 10 {
		t.Errorf("%d recorded fixture dumps, want one per fixture at least", n)
	}
}

// fixtureRoot returns the rootdir the fixture suite had when its dump was
// recorded (the directory testdata/pytest/hang/<fixture> in the frames).
func fixtureRoot(frames []Frame, fixture string) string {
	dir := "/testdata/pytest/hang/" + fixture + "/"
	for _, f := range frames {
		if i := strings.Index(f.File, dir); i >= 0 {
			return f.File[:i+len(dir)-1]
		}
	}
	return "/nonexistent"
}

// isController reports whether a main thread is xdist's controller's.
func isController(th ThreadStack) bool {
	for _, f := range th.Frames {
		if f.Func == "loop_once" && strings.HasSuffix(f.File, "xdist/dsession.py") {
			return true
		}
	}
	return false
}

func TestParseFlockDump(t *testing.T) {
	t.Parallel()
	dumps, _ := ParseFaulthandler(recorded(t, "flock_deadlock-gw0.txt"))
	ths := dumps[0].Threads
	main := ths[len(ths)-1]
	if !main.Current {
		t.Errorf("main thread is not the current thread: the handler ran on it while it slept in flock")
	}
	i := innermostUser(main.Frames, fixtureRoot(main.Frames, "flock_deadlock"))
	if i < 0 {
		t.Fatalf("no user frame in %+v", main.Frames)
	}
	top := main.Frames[i]
	if top.Line != 24 || !strings.HasPrefix(top.Func, "test_migrate_") {
		t.Errorf("innermost user frame %+v, want test_migrate_*.py line 24", top)
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	d, other := ParseFaulthandler(recorded(t, "limits-threads.txt"))
	if len(d) != 1 || len(d[0].Threads) != 100 || !d[0].MoreThreads || len(other) != 0 {
		t.Errorf("threads: %d dumps, %d threads, more %v, other %q; want 1, 100, true, none", len(d), len(d[0].Threads), d[0].MoreThreads, other)
	}
	d, _ = ParseFaulthandler(recorded(t, "limits-frames.txt"))
	deep := d[0].Threads[0]
	if len(deep.Frames) != 100 || !deep.Truncated {
		t.Errorf("frames: %d frames, truncated %v; want 100, true", len(deep.Frames), deep.Truncated)
	}
	d, _ = ParseFaulthandler(recorded(t, "limits-unicode.txt"))
	u := d[0].Threads[0]
	if f := u.Frames[2]; f.File != `/src/t\xebst_\xfc\u65e5.py` || f.Func != `f\xfcnc` || f.Line != 4 {
		t.Errorf("unicode frame %+v", f)
	}
	if f := u.Frames[3]; !strings.HasSuffix(f.Func, "...") || len(f.Func) != 503 {
		t.Errorf("long name: %d characters %q…, want 500 and ...", len(f.Func), f.Func[:10])
	}
	d, other = ParseFaulthandler(recorded(t, "limits-twice.txt"))
	if len(d) != 2 || len(other) != 0 || len(d[0].Threads) != 1 || d[1].Threads[0].Frames[0].Line == d[0].Threads[0].Frames[0].Line {
		t.Errorf("twice: %d dumps %+v, other %q; want 2 dumps back to back", len(d), d, other)
	}
}

// TestParseCutAnywhere cuts a real dump at every byte: the threads parsed
// are the whole dump's up to the cut, the last one Partial when the cut
// fell inside a line of its stack, and nothing else appears.
func TestParseCutAnywhere(t *testing.T) {
	t.Parallel()
	full := recorded(t, "thread_deadlock-main.txt")
	whole, _ := ParseFaulthandler(full)
	all := whole[0].Threads
	for i := 0; i <= len(full); i++ {
		dumps, other := ParseFaulthandler(full[:i])
		if len(other) > 1 {
			t.Fatalf("cut at %d: other %q", i, other)
		}
		if len(dumps) == 0 {
			continue
		}
		got := dumps[0].Threads
		if len(dumps) != 1 || len(got) > len(all) {
			t.Fatalf("cut at %d: %d dumps, %d threads", i, len(dumps), len(got))
		}
		for j, th := range got {
			w := all[j]
			if th.Ident != w.Ident || len(th.Frames) > len(w.Frames) {
				t.Fatalf("cut at %d: thread %d %+v, whole %+v", i, j, th, w)
			}
			for k, f := range th.Frames {
				if f != w.Frames[k] {
					t.Fatalf("cut at %d: frame %+v, want %+v", i, f, w.Frames[k])
				}
			}
		}
		cutLine := i > 0 && full[i-1] != '\n'
		if last := got[len(got)-1]; last.Partial != (cutLine && len(other) == 0) {
			t.Fatalf("cut at %d: partial %v, cut inside a line %v", i, last.Partial, cutLine)
		}
	}
}

// TestParseInterleaved puts other output between the threads and around
// the dump, with CRLF line ends: the dump is the same, the other lines
// come out in order.
func TestParseInterleaved(t *testing.T) {
	t.Parallel()
	full := recorded(t, "socket_wait-gw0.txt")
	want, _ := ParseFaulthandler(full)
	mixed := []byte("collected 2 items\n")
	for _, block := range bytes.SplitAfter(full, []byte("\n\n")) {
		mixed = append(mixed, block...)
		mixed = append(mixed, "worker says hi\n"...)
	}
	dumps, other := ParseFaulthandler(mixed)
	if len(dumps) == 0 || len(dumps[0].Threads) != len(want[0].Threads) {
		t.Fatalf("interleaved: %d dumps %+v", len(dumps), dumps)
	}
	for _, o := range other {
		if o != "collected 2 items" && o != "worker says hi" {
			t.Errorf("other line %q", o)
		}
	}
	crlf, _ := ParseFaulthandler(bytes.ReplaceAll(full, []byte("\n"), []byte("\r\n")))
	if len(crlf) != 1 || len(crlf[0].Threads) != len(want[0].Threads) || crlf[0].Threads[0].Frames[0] != want[0].Threads[0].Frames[0] {
		t.Errorf("CRLF: %+v", crlf)
	}
}

func FuzzParseFaulthandler(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "dumps", "*.txt"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 8<<10 {
			b = b[:8<<10]
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		keep := bytes.Clone(text)
		dumps, other := ParseFaulthandler(text)
		if !bytes.Equal(text, keep) {
			t.Fatal("the parser changed its input")
		}
		lines := bytes.Count(text, []byte("\n")) + 1
		frames := 0
		for _, d := range dumps {
			if len(d.Threads) == 0 {
				t.Fatalf("a dump without threads: %+v", d)
			}
			for _, th := range d.Threads {
				frames += len(th.Frames) + 1
			}
		}
		if frames+len(other) > lines {
			t.Fatalf("%d frames and headers and %d other lines out of %d lines", frames, len(other), lines)
		}
	})
}
