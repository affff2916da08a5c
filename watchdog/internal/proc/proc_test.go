package proc

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPipeInode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"pipe:[123]", 123, true},
		{"pipe:[18446744073709551615]", 1<<64 - 1, true},
		{"socket:[123]", 0, false},
		{"pipe:[]", 0, false},
		{"pipe:[12", 0, false},
		{"pipe:[-1]", 0, false},
		{"/tmp/pipe:[1]", 0, false},
	} {
		got, ok := PipeInode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("PipeInode(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func pids(ps []Process) []int {
	out := []int{}
	for _, p := range ps {
		out = append(out, p.PID)
	}
	return out
}

func proc(pid, ppid int, argv ...string) Process {
	return Process{PID: pid, PPID: ppid, PGID: 10, Cmdline: argv}
}

func TestDescendantsOrder(t *testing.T) {
	t.Parallel()
	all := []Process{
		proc(1, 0, "init"),
		proc(10, 1, "go", "test"),
		proc(30, 20, "grandchild-of-20"),
		proc(20, 10, "b"),
		proc(15, 10, "a"),
		proc(40, 15, "child-of-15"),
		proc(50, 30, "deep"),
		proc(60, 60, "self-parent"),
		proc(70, 1, "other"),
	}
	if got, want := pids(descendants(all, 10)), []int{15, 20, 40, 30, 50}; !reflect.DeepEqual(got, want) {
		t.Errorf("descendants(10) = %v, want %v", got, want)
	}
	if got := pids(descendants(all, 50)); len(got) != 0 {
		t.Errorf("descendants of a leaf = %v", got)
	}
	if got := pids(descendants(all, 60)); len(got) != 0 {
		t.Errorf("descendants of a self-parent = %v", got)
	}
}

func TestTestBinariesSelection(t *testing.T) {
	t.Parallel()
	flags := []string{"-test.paniconexit0", "-test.v=test2json", "-test.timeout=10m0s"}
	bin := func(pid, ppid int, name string) Process {
		return proc(pid, ppid, append([]string{name}, flags...)...)
	}
	wrap := func(pid, ppid int, argv ...string) Process {
		return proc(pid, ppid, append(argv, flags...)...)
	}
	tests := []struct {
		name string
		all  []Process
		want []int
	}{
		{"none", []Process{proc(10, 1, "go", "test"), proc(11, 10, "compile", "-o", "x")}, nil},
		{"direct", []Process{
			proc(10, 1, "go", "test", "-json"),
			bin(11, 10, "/tmp/go-build1/b001/a.test"),
			bin(12, 10, "/tmp/go-build1/b002/b.test"),
			proc(13, 10, "/usr/lib/go/pkg/tool/linux_amd64/vet", "cfg"),
		}, []int{11, 12}},
		{"exec wrapper at depth", []Process{
			proc(10, 1, "go", "test"),
			wrap(11, 10, "sudo", "-E", "/tmp/b001/a.test"),
			wrap(12, 11, "sh", "-c", "x", "/tmp/b001/a.test"),
			bin(13, 12, "/tmp/b001/a.test"),
		}, []int{13}},
		{"in-process emulator", []Process{
			proc(10, 1, "go", "test"),
			wrap(11, 10, "qemu-aarch64", "/tmp/b001/a.test"),
		}, []int{11}},
		{"nested go test inside a test binary", []Process{
			proc(10, 1, "go", "test"),
			bin(11, 10, "/tmp/b001/e2e.test"),
			proc(12, 11, "go", "test", "./..."),
			bin(13, 12, "/tmp/b009/inner.test"),
		}, []int{11}},
		{"children of a binary ignored", []Process{
			proc(10, 1, "go", "test"),
			bin(11, 10, "/tmp/b001/a.test"),
			proc(12, 11, "sleep", "3600"),
		}, []int{11}},
		{"not below go", []Process{
			proc(10, 1, "go", "test"),
			bin(11, 1, "/tmp/b001/a.test"),
		}, nil},
		{"flag as argv0 only", []Process{
			proc(10, 1, "go", "test"),
			proc(11, 10, "-test.weird"),
		}, nil},
	}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := pids(testBinaries(tc.all, 10))
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("testBinaries = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParsePS(t *testing.T) {
	t.Parallel()
	const out = `    1     0     1 Ss   Sat Nov 28 00:40:49 2026     /sbin/launchd
  501     1   501 S    Mon Nov  2 09:05:01 2026     /usr/local/go/bin/go test -json ./...
  777   501   501 R+   Mon Nov  2 09:05:03 2026     /var/folders/x/b001/pkg.test -test.paniconexit0 -test.timeout=10m0s
  778   777   501 U    Mon Nov  2 09:05:04 2026     sleep 3600
  779   777   501 Z    Mon Nov  2 09:05:04 2026     
  780   777   501 I    Mon Nov  2 09:05:04 2026     /bin/sh -c echo  two  spaces
garbage line
  x     1     1 S    Mon Nov  2 09:05:04 2026     bad pid
`
	loc := time.FixedZone("test", 3600)
	got, err := parsePS(strings.NewReader(out), loc)
	if err != nil {
		t.Fatal(err)
	}
	want := []Process{
		{PID: 1, PPID: 0, PGID: 1, State: "S", Cmdline: []string{"/sbin/launchd"},
			Start: time.Date(2026, 11, 28, 0, 40, 49, 0, loc)},
		{PID: 501, PPID: 1, PGID: 501, State: "S", Cmdline: []string{"/usr/local/go/bin/go", "test", "-json", "./..."},
			Start: time.Date(2026, 11, 2, 9, 5, 1, 0, loc)},
		{PID: 777, PPID: 501, PGID: 501, State: "R", Cmdline: []string{"/var/folders/x/b001/pkg.test", "-test.paniconexit0", "-test.timeout=10m0s"},
			Start: time.Date(2026, 11, 2, 9, 5, 3, 0, loc)},
		{PID: 778, PPID: 777, PGID: 501, State: "D", Cmdline: []string{"sleep", "3600"},
			Start: time.Date(2026, 11, 2, 9, 5, 4, 0, loc)},
		{PID: 779, PPID: 777, PGID: 501, State: "Z",
			Start: time.Date(2026, 11, 2, 9, 5, 4, 0, loc)},
		{PID: 780, PPID: 777, PGID: 501, State: "S", Cmdline: []string{"/bin/sh", "-c", "echo", "two", "spaces"},
			Start: time.Date(2026, 11, 2, 9, 5, 4, 0, loc)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d processes, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if bins := pids(testBinaries(got, 501)); !reflect.DeepEqual(bins, []int{777}) {
		t.Errorf("test binaries from ps = %v, want [777]", bins)
	}
}

func TestParseLsofCwd(t *testing.T) {
	t.Parallel()
	if got := parseLsofCwd("p777\nfcwd\nn/Users/me/src/pkg\n"); got != "/Users/me/src/pkg" {
		t.Errorf("got %q", got)
	}
	if got := parseLsofCwd(""); got != "" {
		t.Errorf("got %q from empty output", got)
	}
}

func TestProcessString(t *testing.T) {
	t.Parallel()
	p := Process{PID: 7, State: "S", Cmdline: []string{"a.test", "-test.v=test2json"}}
	if got, want := p.String(), "7 (S) a.test -test.v=test2json"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	long := Process{PID: 8, State: "R", Cmdline: []string{strings.Repeat("x", 300)}}
	if got := long.String(); len(got) > 130 || !strings.HasSuffix(got, "...") {
		t.Errorf("long command not shortened: %d bytes", len(got))
	}
	now := time.Now()
	if age := (Process{Start: now.Add(-time.Minute)}).Age(now); age != time.Minute {
		t.Errorf("Age = %v", age)
	}
	if age := (Process{}).Age(now); age != 0 {
		t.Errorf("Age of unknown start = %v", age)
	}
}
