package pytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Kind is an event's kind, the plugin's "ev" (CONTRACT.md lists them).
type Kind string

// The kinds of event the plugin writes.
const (
	KindBoot          Kind = "boot"
	KindHello         Kind = "hello"
	KindThreads       Kind = "threads"
	KindSessionStart  Kind = "session_start"
	KindCollected     Kind = "collected"
	KindStart         Kind = "start"
	KindPhase         Kind = "phase"
	KindFixture       Kind = "fixture"
	KindReport        Kind = "report"
	KindCollectReport Kind = "collect_report"
	KindFinish        Kind = "finish"
	KindWorkerReady   Kind = "worker_ready"
	KindPending       Kind = "pending"
	KindWorkerDown    Kind = "worker_down"
	KindWorkerCrashed Kind = "worker_crashed"
	KindSessionFinish Kind = "session_finish"
	KindPluginError   Kind = "plugin_error"
)

// Role is what a process is in a run.
type Role string

// The roles of a process.
const (
	RoleMain       Role = "main"       // a run without xdist: the only process
	RoleController Role = "controller" // xdist's controller
	RoleWorker     Role = "worker"     // an xdist worker
)

// Unit names: an xdist worker is the unit of the tests it runs ("gw0", …);
// the one process of a run without xdist is MainUnit, and the controller
// under xdist is ControllerUnit (it runs no test; the Source gives it no
// core events: it is quiet whenever its workers run long tests).
const (
	MainUnit       = "main"
	ControllerUnit = "controller"
)

// Event is one line of an events file, decoded. Fields a kind does not
// have are zero. It owns its strings and slices.
type Event struct {
	T      float64 `json:"t"`   // the writer's time.time()
	PID    int     `json:"pid"` // the writer
	Worker string  `json:"worker"`
	Kind   Kind    `json:"ev"`

	// Unit is the writer's unit (the Source fills it in): its worker id,
	// MainUnit or ControllerUnit; before the writer's hello, its worker id
	// or "" (not known yet).
	Unit string `json:"-"`
	// Role is the writer's role as its hello (or session_start) said.
	Role Role `json:"role"`

	// boot and hello
	PPID        int      `json:"ppid"`
	Python      string   `json:"python"`
	Executable  string   `json:"executable"`
	Pytest      string   `json:"pytest"`
	Xdist       string   `json:"xdist"`
	RootDir     string   `json:"rootdir"`
	Cwd         string   `json:"cwd"`
	Argv        []string `json:"argv"`
	Args        []string `json:"args"`
	Dist        string   `json:"dist"`
	Path0       string   `json:"path0"`
	CwdOnPath   bool     `json:"cwd_on_path"`
	Signal      int      `json:"signal"` // 0: none registered
	SignalError string   `json:"signal_error"`
	Stacks      string   `json:"stacks"`

	Threads []Thread `json:"threads"`
	Count   int      `json:"count"`

	// tests
	NodeID   string    `json:"nodeid"`
	Location *Location `json:"location"`
	When     string    `json:"when"`  // setup, call, teardown (??? for a crashed worker's test)
	State    string    `json:"state"` // start, end
	Name     string    `json:"name"`  // a fixture's
	Scope    string    `json:"scope"`
	Outcome  string    `json:"outcome"` // passed, failed, skipped
	Duration float64   `json:"duration"`
	WasXfail bool      `json:"wasxfail"`
	Longrepr string    `json:"longrepr"`

	// the controller's
	Node    string   `json:"node"`    // the worker an event of the controller is about
	NodeIDs []string `json:"nodeids"` // pending: the whole queue
	Drop    int      `json:"drop"`    // pending: the first Drop tests left the queue
	Source  string   `json:"source"`  // pending: xdist or fallback
	Error   string   `json:"error"`

	ExitStatus *int   `json:"exitstatus"`
	Hook       string `json:"hook"`
}

// Thread is one row of a process's thread table.
type Thread struct {
	Ident    uint64 `json:"ident"`     // pthread_self, faulthandler's "Thread 0x…"
	NativeID int    `json:"native_id"` // the kernel's thread id (/proc/W/task/TID)
	Name     string `json:"name"`
	Daemon   bool   `json:"daemon"`
}

// Location is pytest's [file, line, domain] of a test (line is 0-based,
// -1 when pytest has none).
type Location struct {
	File   string
	Line   int
	Domain string
}

// UnmarshalJSON reads [file, line or null, domain].
func (l *Location) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != 3 {
		return errors.New("location: want [file, line, domain]")
	}
	var line *int
	if err := json.Unmarshal(raw[0], &l.File); err != nil {
		return fmt.Errorf("location file: %w", err)
	}
	if err := json.Unmarshal(raw[1], &line); err != nil {
		return fmt.Errorf("location line: %w", err)
	}
	if err := json.Unmarshal(raw[2], &l.Domain); err != nil {
		return fmt.Errorf("location domain: %w", err)
	}
	l.Line = -1
	if line != nil {
		l.Line = *line
	}
	return nil
}

// Time is the event's time.
func (e *Event) Time() time.Time {
	sec, frac := math.Modf(e.T)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// decodeEvent decodes one line (without its newline).
func decodeEvent(line []byte) (*Event, error) {
	e := new(Event)
	if err := json.Unmarshal(line, e); err != nil {
		return nil, err
	}
	if e.Kind == "" {
		return nil, errors.New(`no "ev"`)
	}
	if e.PID <= 0 {
		return nil, errors.New(`no "pid"`)
	}
	return e, nil
}
