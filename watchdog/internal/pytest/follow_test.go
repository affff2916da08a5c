package pytest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// line returns one events line as the plugin writes it.
func line(t testing.TB, pid int, worker, kind string, kv ...any) string {
	t.Helper()
	m := map[string]any{"t": 1700000000.25, "pid": pid, "worker": worker, "ev": kind}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func appendFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// workerLines is a worker's file: hello, one test that passes, one that
// fails in its call.
func workerLines(t testing.TB, pid int, worker string) string {
	role := "worker"
	if worker == "" {
		role = "main"
	}
	return line(t, pid, worker, "boot", "signal", 38, "stacks", "/d/stacks") +
		line(t, pid, worker, "threads", "threads", []any{map[string]any{"ident": 140000000000000, "native_id": pid, "name": "MainThread", "daemon": false}}) +
		line(t, pid, worker, "hello", "role", role, "signal", 38, "stacks", "/d/stacks") +
		line(t, pid, worker, "threads", "threads", []any{map[string]any{"ident": 140000000000000, "native_id": pid, "name": "MainThread", "daemon": false}}) +
		line(t, pid, worker, "session_start", "role", role) +
		line(t, pid, worker, "collected", "count", 2) +
		line(t, pid, worker, "start", "nodeid", "t.py::a[x::y/z]", "location", []any{"t.py", 3, "a[x::y/z]"}) +
		line(t, pid, worker, "phase", "nodeid", "t.py::a[x::y/z]", "when", "setup", "state", "start") +
		line(t, pid, worker, "fixture", "nodeid", "t.py::a[x::y/z]", "name", "db", "scope", "session", "when", "setup", "state", "start") +
		line(t, pid, worker, "report", "nodeid", "t.py::a[x::y/z]", "when", "call", "outcome", "passed", "duration", 0.5) +
		line(t, pid, worker, "finish", "nodeid", "t.py::a[x::y/z]") +
		line(t, pid, worker, "start", "nodeid", "t.py::b", "location", []any{"t.py", 9, "b"}) +
		line(t, pid, worker, "report", "nodeid", "t.py::b", "when", "call", "outcome", "failed", "duration", 0.25, "longrepr", "AssertionError: no") +
		line(t, pid, worker, "finish", "nodeid", "t.py::b") +
		line(t, pid, worker, "session_finish", "exitstatus", 1)
}

// coreString renders core events compactly for comparisons.
func coreString(evs []core.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%s|%s|%s", e.Unit, e.Test, e.Action)
		if e.Output != "" {
			fmt.Fprintf(&b, "|%q", e.Output)
		}
		if e.Elapsed != 0 {
			fmt.Fprintf(&b, "|%g", e.Elapsed)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestSourceHalfLinesAndNewFiles(t *testing.T) {
	dir := t.TempDir()
	w1 := filepath.Join(dir, "events-100.jsonl")
	text := workerLines(t, 100, "gw0")
	cut := strings.Index(text, `"ev":"start"`) // inside the first start line
	appendFile(t, w1, text[:cut])
	rec := &recorder{}
	s := NewSource(dir)
	if err := s.Poll(rec); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.events); n != 6 {
		t.Fatalf("%d events before the half line, want 6", n)
	}
	if err := s.Poll(rec); err != nil || len(rec.events) != 6 {
		t.Fatalf("a second poll without new bytes: %d events, %v", len(rec.events), err)
	}
	appendFile(t, w1, text[cut:])
	// A replaced worker: a new file appears.
	appendFile(t, filepath.Join(dir, "events-200.jsonl"), workerLines(t, 200, "gw2"))
	if err := s.Poll(rec); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.events); n != 30 {
		t.Fatalf("%d events, want 30", n)
	}
	byUnit := map[string][]*Event{}
	for _, e := range rec.events {
		byUnit[e.Unit] = append(byUnit[e.Unit], e)
	}
	e := byUnit["gw0"][6]
	if e.Kind != KindStart || e.NodeID != "t.py::a[x::y/z]" || e.Unit != "gw0" || e.Role != RoleWorker ||
		e.Location == nil || *e.Location != (Location{"t.py", 3, "a[x::y/z]"}) {
		t.Errorf("start event %+v", e)
	}
	if b := byUnit["gw0"][0]; b.Kind != KindBoot || b.Signal != 38 || b.Stacks != "/d/stacks" || b.Role != "" {
		t.Errorf("boot %+v", b)
	}
	if h := byUnit["gw0"][2]; h.Kind != KindHello || h.Signal != 38 || h.Stacks != "/d/stacks" || h.Role != RoleWorker {
		t.Errorf("hello %+v", h)
	}
	if th := byUnit["gw0"][1].Threads; len(th) != 1 || th[0].Ident != 140000000000000 || th[0].NativeID != 100 || th[0].Name != "MainThread" {
		t.Errorf("threads %+v", th)
	}
	if got := rec.events[0].Time(); !got.Equal(time.Unix(1700000000, 250e6)) {
		t.Errorf("time %v", got)
	}
	coreByUnit := map[string][]core.Event{}
	for _, e := range rec.core {
		coreByUnit[e.Unit] = append(coreByUnit[e.Unit], e)
	}
	for _, u := range []string{"gw0", "gw2"} {
		want := u + "||hello\n" + u + "||threads\n" + u + "||session_start\n" + u + "||collected\n" +
			u + "|t.py::a[x::y/z]|run\n" + u + "|t.py::a[x::y/z]|phase\n" + u + "|t.py::a[x::y/z]|fixture\n" +
			u + "|t.py::a[x::y/z]|report\n" + u + "|t.py::a[x::y/z]|pass|0.5\n" +
			u + "|t.py::b|run\n" + u + "|t.py::b|output|\"call: AssertionError: no\\n\"|0.25\n" +
			u + "|t.py::b|fail|0.25\n" + u + "||session_finish\n"
		want = strings.ReplaceAll(want, "|\"call: AssertionError: no\\n\"|0.25", "|\"call: AssertionError: no\\n\"")
		if got := coreString(coreByUnit[u]); got != want {
			t.Errorf("core events of %s:\n%s\nwant\n%s", u, got, want)
		}
	}
	if s.Bad() != 0 || s.Lines() != 30 {
		t.Errorf("bad %d lines %d", s.Bad(), s.Lines())
	}
}

// TestSourceChunkings reads the same file written in pieces of every size
// from 1 to 9 bytes, polled after each piece, with reads of 1 to 5 bytes,
// and gets the same events as from one read of the whole.
func TestSourceChunkings(t *testing.T) {
	text := workerLines(t, 100, "")
	whole := func() *recorder {
		dir := t.TempDir()
		appendFile(t, filepath.Join(dir, "events-100.jsonl"), text)
		rec := &recorder{}
		if err := NewSource(dir).Poll(rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}()
	if len(whole.events) != 15 {
		t.Fatalf("%d events", len(whole.events))
	}
	for piece := 1; piece <= 9; piece++ {
		for chunk := 1; chunk <= 5; chunk++ {
			dir := t.TempDir()
			path := filepath.Join(dir, "events-100.jsonl")
			s := NewSource(dir)
			s.ChunkSize = chunk
			rec := &recorder{}
			for i := 0; i < len(text); i += piece {
				appendFile(t, path, text[i:min(i+piece, len(text))])
				if err := s.Poll(rec); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(rec.events, whole.events) || coreString(rec.core) != coreString(whole.core) {
				t.Fatalf("pieces of %d, reads of %d: events differ", piece, chunk)
			}
		}
	}
	// The plain run's unit ends with its session.
	if got := coreString(whole.core[len(whole.core)-1:]); got != "main||fail\n" {
		t.Errorf("last core event %q", got)
	}
}

func TestSourceBadLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events-100.jsonl")
	long := line(t, 100, "gw0", "threads", "pad", strings.Repeat("x", 300))
	appendFile(t, path, line(t, 100, "gw0", "hello", "role", "worker")+
		"not json\n"+
		`{"pid": 100, "t": 1}`+"\n"+ // no ev
		long+ // too long for MaxLine below
		"\n"+ // blank: ignored
		line(t, 100, "gw0", "session_start"))
	var warnings []string
	s := NewSource(dir)
	s.MaxLine = 200
	s.ChunkSize = 16
	s.Warn = func(m string) { warnings = append(warnings, m) }
	rec := &recorder{}
	if err := s.Poll(rec); err != nil {
		t.Fatal(err)
	}
	// A second poll over a long line that arrives in pieces.
	appendFile(t, path, long[:150])
	s.Poll(rec)
	appendFile(t, path, long[150:]+line(t, 100, "gw0", "collected", "count", 1))
	s.Poll(rec)
	if s.Bad() != 4 {
		t.Errorf("bad %d, want 4", s.Bad())
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "events-100.jsonl line 2") {
		t.Errorf("warnings %q", warnings)
	}
	var kinds []string
	for _, e := range rec.events {
		kinds = append(kinds, string(e.Kind))
	}
	if got := strings.Join(kinds, " "); got != "hello session_start collected" {
		t.Errorf("events %s", got)
	}
}

// TestSourceControllerAfterWorkers: the controller's word about a worker
// (its crash, the crashed test's report) is handled after that worker's
// own lines even when both files are read in one poll and the controller's
// comes first by name, so the test is not ended twice.
func TestSourceControllerAfterWorkers(t *testing.T) {
	dir := t.TempDir()
	ctl := filepath.Join(dir, "events-100.jsonl")
	wk := filepath.Join(dir, "events-200.jsonl")
	appendFile(t, ctl, line(t, 100, "", "hello", "role", "controller"))
	appendFile(t, wk, line(t, 200, "gw0", "hello", "role", "worker")+
		line(t, 200, "gw0", "start", "nodeid", "t.py::stuck"))
	s := NewSource(dir)
	rec := &recorder{}
	if err := s.Poll(rec); err != nil {
		t.Fatal(err)
	}
	// Now, between two polls, the worker writes more and dies; the
	// controller reports it.
	appendFile(t, wk, line(t, 200, "gw0", "phase", "nodeid", "t.py::stuck", "when", "call", "state", "start"))
	appendFile(t, ctl, line(t, 100, "", "worker_down", "node", "gw0", "error", "Not properly terminated")+
		line(t, 100, "", "report", "node", "gw0", "nodeid", "t.py::stuck", "when", "???", "outcome", "failed", "longrepr", "worker 'gw0' crashed while running 't.py::stuck'")+
		line(t, 100, "", "report", "node", "gw0", "nodeid", "t.py::never", "when", "???", "outcome", "failed", "longrepr", "worker 'gw0' crashed while running 't.py::never'")+
		line(t, 100, "", "worker_crashed", "node", "gw0", "nodeid", "t.py::stuck", "error", "crashed"))
	if err := s.Poll(rec); err != nil {
		t.Fatal(err)
	}
	want := "gw0||hello\ngw0|t.py::stuck|run\n" +
		"gw0|t.py::stuck|phase\n" +
		"gw0|t.py::stuck|output|\"worker gw0 went down: Not properly terminated\\n\"\n" +
		"gw0|t.py::stuck|fail\n" +
		"gw0||fail\n" +
		"gw0|t.py::never|run\n" +
		"gw0|t.py::never|output|\"worker 'gw0' crashed while running 't.py::never'\\n\"\n" +
		"gw0|t.py::never|fail\n"
	if got := coreString(rec.core); got != want {
		t.Errorf("core events:\n%s\nwant\n%s", got, want)
	}
	for _, e := range rec.events {
		if e.PID == 100 && (e.Unit != ControllerUnit || e.Role != RoleController) {
			t.Errorf("controller event as %s/%s", e.Unit, e.Role)
		}
	}
}

// TestSourceRun: Run polls at each tick it is given and once more when its
// context ends.
func TestSourceRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events-100.jsonl")
	text := workerLines(t, 100, "gw0")
	s := NewSource(dir)
	rec := &recorder{}
	tick := make(chan time.Time) // unbuffered: a send returns once Run is between polls
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, tick, rec) }()
	for _, part := range strings.SplitAfter(text, "\n") {
		appendFile(t, path, part)
		tick <- time.Now()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 15 {
		t.Errorf("%d events, want 15", len(rec.events))
	}
}

// TestSourceBounded: a long file read in small chunks leaves no buffer
// beyond one line.
func TestSourceBounded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events-100.jsonl")
	var b strings.Builder
	b.WriteString(line(t, 100, "gw0", "hello", "role", "worker"))
	for i := 0; i < 20000; i++ {
		id := fmt.Sprintf("t.py::test_%d", i)
		b.WriteString(line(t, 100, "gw0", "start", "nodeid", id))
		b.WriteString(line(t, 100, "gw0", "finish", "nodeid", id))
	}
	appendFile(t, path, b.String())
	s := NewSource(dir)
	s.ChunkSize = 4096
	n := 0
	sink := &countSink{n: &n}
	if err := s.Poll(sink); err != nil {
		t.Fatal(err)
	}
	if n != 40001 {
		t.Errorf("%d events", n)
	}
	fl := s.files["events-100.jsonl"]
	if cap(fl.line) > 4096 {
		t.Errorf("partial-line buffer grew to %d bytes", cap(fl.line))
	}
	if u := s.mapping.units["gw0"]; len(u.running) != 0 {
		t.Errorf("%d tests kept", len(u.running))
	}
}

type countSink struct{ n *int }

func (c *countSink) Event(*Event)    { *c.n++ }
func (c *countSink) Core(core.Event) {}
