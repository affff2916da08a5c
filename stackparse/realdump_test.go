package stackparse

import (
	"maps"
	"strings"
	"testing"
)

// TestGOROOT: the directory of the standard library is learnt from the
// runtime's and testing's frames, and tells a module path without a dot
// (mycorp/platform) and the package of a test file named on the command
// line from the standard library.
func TestGOROOT(t *testing.T) {
	t.Parallel()
	cases := []struct{ rel, file, goroot string }{
		{"go1.26", "mycorp_timeout", "/usr/local/go"},
		{"go1.12", "mycorp_timeout", "/root/go/pkg/mod/golang.org/toolchain@v0.0.1-go1.12.17.linux-amd64"},
		{"go1.27", "mycorp_labels", "/root/go/pkg/mod/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64"},
		{"go1.26", "stack", ""}, // built with -trimpath
	}
	for _, c := range cases {
		d := oneDump(t, c.rel, c.file)
		if d.GOROOT != c.goroot {
			t.Errorf("%s/%s: GOROOT %q, want %q", c.rel, c.file, d.GOROOT, c.goroot)
		}
	}
	d := oneDump(t, "go1.26", "mycorp_timeout")
	for _, g := range d.Goroutines {
		for _, f := range g.Frames {
			std := strings.HasPrefix(f.File, "/usr/local/go/src/")
			if f.IsStdlibIn(d.GOROOT) != std {
				t.Errorf("%s %s: stdlib %v, want %v", f.Func, f.File, !std, std)
			}
		}
	}
	// Without GOROOT, by import path: a dot-less module is misjudged,
	// but main, command-line-arguments and GOPATH-mode "_/" are not.
	for fn, std := range map[string]bool{
		"mycorp/platform/hang.Wait":       true,
		"command-line-arguments.TestFile": false,
		"_/home/u/x.TestX":                false,
		"main.main":                       false,
		"sync.(*Mutex).Lock":              true,
	} {
		if got := (Frame{Func: fn}).IsStdlib(); got != std {
			t.Errorf("%s: IsStdlib %v, want %v", fn, got, std)
		}
	}
	// A toolchain from the module cache is the standard library even
	// where GOROOT is not known.
	f := Frame{Func: "mycorp/x.F", File: "/root/go/pkg/mod/golang.org/toolchain@v0.0.1-go1.22.1.linux-amd64/src/mycorp/x/x.go"}
	if !f.IsStdlibIn("") {
		t.Errorf("toolchain file taken for user code")
	}
}

// TestRealDumpRoots: test roots in dumps without parent ids (Go 1.12):
// subtests are linked to the parent waiting for them, and the parent
// waiting for its parallel subtests is named.
func TestRealDumpRoots(t *testing.T) {
	t.Parallel()
	for _, rel := range []string{"go1.12", "go1.16"} {
		d := oneDump(t, rel, "mycorp_timeout")
		roots := TestRoots(d)
		byTest := map[string][]*TestRoot{}
		for _, r := range roots {
			byTest[r.Test] = append(byTest[r.Test], r)
		}
		if len(roots) != 7 || len(byTest["TestParallelParent"]) != 3 || len(byTest["TestSeqParent"]) != 2 || len(byTest["TestForkedLock"]) != 1 || len(byTest["TestPinned"]) != 1 {
			for _, r := range roots {
				t.Logf("root %d %q %q", r.Goroutine.ID, r.Test, r.Func)
			}
			t.Fatalf("%s: %d roots", rel, len(roots))
		}
		for _, name := range []string{"TestParallelParent", "TestSeqParent"} {
			var parent *TestRoot
			for _, r := range byTest[name] {
				if r.Parent == nil {
					if parent != nil {
						t.Errorf("%s %s: two roots without a parent", rel, name)
					}
					parent = r
				}
			}
			if parent == nil || !(parent.Waiting || parent.Func == "mycorp/platform/hang."+name) {
				t.Fatalf("%s %s: parent %+v", rel, name, parent)
			}
			for _, r := range byTest[name] {
				if r != parent && r.Parent != parent.Goroutine {
					t.Errorf("%s %s: root %d has parent %v", rel, name, r.Goroutine.ID, r.Parent)
				}
			}
			// The helper the parent's function started is its member.
			helper := false
			for _, g := range parent.Members {
				helper = helper || g.CreatedBy != nil && g.CreatedBy.Func == "mycorp/platform/hang."+name
			}
			if !helper {
				t.Errorf("%s %s: the parent's helper goroutine is not its member", rel, name)
			}
		}
	}
}

// TestRealDumpHeaders: Go 1.27 prints labels after the brackets; header
// qualifiers (locked to thread, durable, synctest bubble) are kept.
func TestRealDumpHeaders(t *testing.T) {
	t.Parallel()
	d := oneDump(t, "go1.27", "mycorp_labels")
	if len(d.Warnings) != 0 || d.NumGoroutines != 4 {
		t.Errorf("%d goroutines, warnings %v", d.NumGoroutines, d.Warnings)
	}
	want := map[string]string{"worker": "fetch", "note": "a b, c:d"}
	n := 0
	for _, g := range d.Goroutines {
		if g.Labels != nil {
			n++
			if !maps.Equal(g.Labels, want) || g.State != "chan receive" {
				t.Errorf("goroutine %d: %q labels %v", g.ID, g.State, g.Labels)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d goroutines with labels, want 2", n)
	}
	for _, h := range []struct {
		line   string
		labels map[string]string
	}{
		{`goroutine 4 [select] {k: v, "a b": "c\"d", e: }:`, map[string]string{"k": "v", "a b": `c"d`, "e": ""}},
		{`goroutine 4 [chan receive, 2 minutes, locked to thread] {x/y.z: 1}:`, map[string]string{"x/y.z": "1"}},
	} {
		hd, ok := parseHeader([]byte(h.line))
		if !ok || !maps.Equal(hd.labels, h.labels) {
			t.Errorf("%s: %v %v", h.line, ok, hd.labels)
		}
	}
	d = oneDump(t, "go1.26", "mycorp_timeout")
	var locked, durable, bubble int
	for _, g := range d.Goroutines {
		if g.Locked {
			locked++
		}
		if g.Durable {
			durable++
		}
		if g.Bubble == 1 {
			bubble++
		}
	}
	if locked != 1 || durable != 3 || bubble != 4 {
		t.Errorf("locked %d durable %d in bubble %d, want 1, 3, 4", locked, durable, bubble)
	}
}

// TestRealDumpClassify: wait states that used to be "other": a fork of
// sync in semacquire, reflect's channel operations in debug=1 profiles;
// the timer goroutine of Go 1.12 is the runtime's.
func TestRealDumpClassify(t *testing.T) {
	t.Parallel()
	want := map[string]Wait{
		"main.reflectSelect":                  WaitSelect,
		"main.reflectRecv":                    WaitChanRecv,
		"main.reflectSend":                    WaitChanSend,
		"mycorp/platform/xsync.(*Mutex).Lock": WaitSemacquire,
		"main.sleeper":                        WaitSleep,
	}
	for _, f := range []struct{ rel, file string }{{"go1.12", "mycorp_profile1"}, {"go1.26", "mycorp_profile1"}, {"go1.12", "mycorp_sigquit"}, {"go1.23", "mycorp_sigquit"}} {
		d := oneDump(t, f.rel, f.file)
		got := map[string]Wait{}
		timer := false
		for _, g := range d.Goroutines {
			if uf, ok := g.UserFrameIn(d.GOROOT); ok {
				got[uf.Func] = Classify(g)
			}
			if hasFunc(g, "runtime.timerproc") {
				timer = true
				if Classify(g) != WaitRuntime {
					t.Errorf("%s/%s: timerproc is %v", f.rel, f.file, Classify(g))
				}
			}
		}
		if f.rel == "go1.12" && f.file == "mycorp_sigquit" && !timer {
			t.Errorf("go1.12 SIGQUIT: no runtime.timerproc goroutine")
		}
		for fn, w := range want {
			if got[fn] != w {
				t.Errorf("%s/%s: %s is %v, want %v", f.rel, f.file, fn, got[fn], w)
			}
		}
	}
	// A bare runtime.goexit (what old releases print for a cgo thread's
	// goroutine) is the runtime's.
	if w := Classify(&Goroutine{State: "syscall", Frames: []Frame{{Func: "runtime.goexit"}}}); w != WaitRuntime {
		t.Errorf("bare goexit: %v", w)
	}
	// A running one (a GC worker that crashed) stays in view.
	if w := Classify(&Goroutine{State: "running", Frames: []Frame{{Func: "runtime.throw"}, {Func: "runtime.gcBgMarkWorker"}}}); w != WaitRunning {
		t.Errorf("running runtime goroutine: %v", w)
	}
	if !WaitSemacquire.Blocked() {
		t.Error("semacquire is not blocked")
	}
}

// TestRealDumpUnavailable: the only test goroutine of a Go 1.23 -json
// timeout has no stack; it runs the one test in the list.
func TestRealDumpUnavailable(t *testing.T) {
	t.Parallel()
	// The fixture is a -json stream; its Output is the dump.
	d := &Dump{RunningTests: []RunningTest{{Name: "TestSpin"}}, Goroutines: []*Goroutine{
		{ID: 18, State: "running", StackUnavailable: true, CreatedBy: &Frame{Func: "testing.(*T).Run"}},
	}}
	roots := TestRoots(d)
	if len(roots) != 1 || roots[0].Test != "TestSpin" || !roots[0].StackUnavailable || len(roots[0].Members) != 1 {
		t.Fatalf("roots %+v", roots)
	}
	d.RunningTests = append(d.RunningTests, RunningTest{Name: "TestOther"})
	if roots := TestRoots(d); len(roots) != 0 {
		t.Errorf("two tests, one goroutine: %d roots", len(roots))
	}
}
