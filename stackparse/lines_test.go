package stackparse

import (
	"maps"
	"reflect"
	"testing"
)

func TestFrameHelpers(t *testing.T) {
	tests := []struct {
		fn, pkg, name     string
		stdlib, inRuntime bool
	}{
		{"example.com/bank.(*Account).Lock", "example.com/bank", "(*Account).Lock", false, false},
		{"main.main", "main", "main", false, false},
		{"gopkg.in/yaml%2ev3.(*parser).parse", "gopkg.in/yaml.v3", "(*parser).parse", false, false},
		{"gopkg.in/yaml.v3.Unmarshal", "gopkg.in/yaml.v3", "Unmarshal", false, false},
		{"example.com/x.y/pkg.F.func1.2", "example.com/x.y/pkg", "F.func1.2", false, false},
		{"example.com/a.Map[...]", "example.com/a", "Map[...]", false, false},
		{"example.com/a.(*T[...]).M", "example.com/a", "(*T[...]).M", false, false},
		{"example.com/a.F[go.shape.int]", "example.com/a", "F[go.shape.int]", false, false},
		{"internal/sync.(*Mutex).lockSlow", "internal/sync", "(*Mutex).lockSlow", true, false},
		{"sync.(*Mutex).Lock", "sync", "(*Mutex).Lock", true, false},
		{"testing.tRunner", "testing", "tRunner", true, false},
		{"runtime.gopark", "runtime", "gopark", true, true},
		{"internal/runtime/syscall.Syscall6", "internal/runtime/syscall", "Syscall6", true, true},
		{"runtime/pprof.writeGoroutine", "runtime/pprof", "writeGoroutine", true, false},
		{"panic", "", "panic", true, true},
	}
	for _, tt := range tests {
		f := Frame{Func: tt.fn}
		if got := f.Package(); got != tt.pkg {
			t.Errorf("%s: Package = %q, want %q", tt.fn, got, tt.pkg)
		}
		if got := f.FuncName(); got != tt.name {
			t.Errorf("%s: FuncName = %q, want %q", tt.fn, got, tt.name)
		}
		if got := f.IsStdlib(); got != tt.stdlib {
			t.Errorf("%s: IsStdlib = %v", tt.fn, got)
		}
		if got := f.IsRuntime(); got != tt.inRuntime {
			t.Errorf("%s: IsRuntime = %v", tt.fn, got)
		}
	}
}

func TestUserFrameModules(t *testing.T) {
	g := &Goroutine{Frames: []Frame{
		{Func: "runtime.gopark"},
		{Func: "github.com/lib/pool.(*Pool).Get", File: "/mod/pool.go", Line: 3},
		{Func: "example.com/app/db.Open", File: "/src/db/db.go", Line: 9},
		{Func: "main.main", File: "_testmain.go", Line: 1},
	}}
	if f, _ := g.UserFrame(); f.Func != "github.com/lib/pool.(*Pool).Get" {
		t.Errorf("UserFrame() = %s", f.Func)
	}
	if f, _ := g.UserFrame("example.com/app"); f.Location() != "db.go:9" {
		t.Errorf("UserFrame(app) = %s", f.Location())
	}
	if f, _ := g.UserFrame("example.com/other"); f.Func != "github.com/lib/pool.(*Pool).Get" {
		t.Errorf("UserFrame(other) = %s", f.Func)
	}
	g.Frames = g.Frames[3:]
	if _, ok := g.UserFrame(); ok {
		t.Error("_testmain.go is a user frame")
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
		want header
	}{
		{"goroutine 7 [chan receive]:", true, header{id: 7, state: "chan receive"}},
		{"goroutine 7 gp=0xc000102000 m=nil [sync.Mutex.Lock, 3 minutes]:", true, header{id: 7, state: "sync.Mutex.Lock", minutes: 3}},
		{"goroutine 1 gp=0xc000002380 m=0 mp=0x5c1a40 [running, locked to thread]:", true, header{id: 1, state: "running", locked: true}},
		{"goroutine 9 [select (durable), synctest bubble 3]:", true, header{id: 9, state: "select", durable: true, bubble: 3}},
		{"goroutine 9 [chan receive (leaked) (scan), 1 minutes]:", true, header{id: 9, state: "chan receive", leaked: true, minutes: 1}},
		{"goroutine 9 [chan receive (nil chan)]:", true, header{id: 9, state: "chan receive (nil chan)"}},
		{`goroutine 4 [chan receive labels:{"a": "x]y, z:w", "b": "\"q\""}]:`, true,
			header{id: 4, state: "chan receive", hasLabel: true, labels: map[string]string{"a": "x]y, z:w", "b": `"q"`}}},
		{"goroutine 4 [running]: trailing", false, header{}},
		{"goroutine x [running]:", false, header{}},
		{"goroutine 4 junk [running]:", false, header{}},
		{"goroutine 4 [running", false, header{}},
		{"created by main.f in goroutine 4", false, header{}},
	}
	for _, tt := range tests {
		h, ok := parseHeader([]byte(tt.line))
		if ok != tt.ok {
			t.Errorf("%q: ok = %v", tt.line, ok)
			continue
		}
		if !ok {
			continue
		}
		labels := h.labels
		h.labels, tt.want.labels = nil, nil
		if h.stateB != nil {
			h.state, h.stateB = string(h.stateB), nil
		}
		if !reflect.DeepEqual(h, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.line, h, tt.want)
		}
		if want := tt.want; want.hasLabel && !maps.Equal(labels, map[string]string{"a": "x]y, z:w", "b": `"q"`}) {
			t.Errorf("%q: labels %q", tt.line, labels)
		}
	}
}

func TestPrefix(t *testing.T) {
	tests := []struct {
		learn, line, want string
	}{
		{"2024-05-01T10:00:00.1234567Z ", "2024-05-01T10:00:59.12Z \tmain.go:1", "\tmain.go:1"},
		{"2024-05-01T10:00:00.1234567Z ", "2024-05-01T10:00:59.12Z     main.go:1", "    main.go:1"},
		{"[12:00:01] ", "[12:00:02] main.main()", "main.main()"},
		{"   9: ", "  10: main.main()", "main.main()"},
		{"   9: ", "main.main()", "main.main()"},
	}
	for _, tt := range tests {
		if !looksLikePrefix([]byte(tt.learn)) {
			t.Errorf("%q does not look like a prefix", tt.learn)
		}
		var p prefix
		p.set([]byte(tt.learn))
		if got := string(p.strip([]byte(tt.line))); got != tt.want {
			t.Errorf("%q on %q = %q, want %q", tt.learn, tt.line, got, tt.want)
		}
	}
	for _, s := range []string{"some text ", "x_test.go:12: ", ""} {
		if looksLikePrefix([]byte(s)) {
			t.Errorf("%q looks like a prefix", s)
		}
	}
}

func TestWaitStrings(t *testing.T) {
	for w := WaitOther; w <= WaitRuntime; w++ {
		s := w.String()
		if s == "" || s[0] == 'W' {
			t.Errorf("Wait(%d).String() = %q", int(w), s)
		}
		if got, ok := stateWaits[s]; ok && got != w {
			t.Errorf("%q maps back to %v", s, got)
		}
	}
	if WaitRunning.Blocked() || !WaitMutex.Blocked() || !WaitSleep.Blocked() || WaitRuntime.Blocked() {
		t.Error("Blocked")
	}
	if KindTestTimeout.String() != "test timeout" {
		t.Error(KindTestTimeout.String())
	}
}
