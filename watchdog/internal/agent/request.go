package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// Defaults of Req's zero fields.
const (
	// DefaultWindow is the sampling window of block and mutex profiles
	// when no CPU profile is asked for.
	DefaultWindow = time.Second
	// DefaultPickupTimeout is how long Request waits for the agent to
	// take the request: 20 polls. A binary whose timers do not run for
	// that long is wedged (its world is stopped, or it is SIGSTOPped).
	DefaultPickupTimeout = 2 * time.Second
	// DefaultResponseTimeout is how long Request waits for the answer once
	// the request is taken and the window is over. A dump of 100,000
	// goroutines takes about 1 s.
	DefaultResponseTimeout = 10 * time.Second
)

// checkEvery is how often Request looks at the directory and the process.
const checkEvery = 10 * time.Millisecond

// Req says what to capture. The zero value captures nothing but still
// tells whether the agent answers.
type Req struct {
	// Goroutines is a dump of every goroutine: the text of
	// runtime.Stack(all), which is pprof's goroutine profile at debug=2.
	Goroutines bool
	// GoroutinesProto adds the goroutine profile in proto form (debug=0:
	// stacks aggregated, with labels). It is added anyway when the text
	// dump is cut at 256 MiB.
	GoroutinesProto bool
	// CPU, if positive, is the window of a CPU profile. It is not taken
	// (Snapshot.Notes says so) when the test binary is CPU-profiling
	// itself. It costs the binary about 2.4 MB of heap (agent.go).
	CPU time.Duration
	// Heap is a heap profile as of the last garbage collection the
	// program ran: the agent runs none (a GC runs finalizers, which can
	// unblock the test being looked at).
	Heap bool
	// Block and Mutex are profiles sampled over the CPU window (or
	// DefaultWindow without one), with the rates set for that window only.
	Block, Mutex bool
	// PickupTimeout and ResponseTimeout bound the waits; zero means
	// DefaultPickupTimeout and DefaultResponseTimeout.
	PickupTimeout, ResponseTimeout time.Duration
}

// window is how long the agent samples.
func (r Req) window() time.Duration {
	if r.CPU > 0 {
		return r.CPU
	}
	if r.Block || r.Mutex {
		return DefaultWindow
	}
	return 0
}

// Snapshot is what the agent wrote. Paths are in the run's directory and
// go away with Injection.Close; "" means not written.
type Snapshot struct {
	PID int
	// Goroutines is the text dump (runtime.Stack's level-1 text: no gp=,
	// no runtime goroutines), without the agent's own goroutine;
	// Truncated says it was cut at 256 MiB.
	Goroutines string
	Truncated  bool
	// GoroutinesProto, CPU, Heap, Block and Mutex are gzipped pprof
	// protos, readable with github.com/google/pprof/profile. The goroutine
	// profile includes the agent's goroutine (frames of (*hangdogAgent)).
	GoroutinesProto, CPU, Heap, Block, Mutex string
	// Errors are what the agent could not do, as it says it; Notes what
	// it left out or left alone on purpose (a CPU profile of a binary
	// that profiles itself, a block or mutex rate the program set).
	Errors, Notes []string
	// GoVersion and NumGoroutine are the binary's, at Done; NumGoroutine
	// counts the agent's goroutine.
	GoVersion    string
	NumGoroutine int
	// Requested is when the request was written (our clock); Received,
	// Dumped (goroutine dump written), WindowStart and Done are the
	// agent's clock, the same machine's.
	Requested, Received, Dumped, WindowStart, Done time.Time
}

// Errors Request returns, wrapped.
var (
	// ErrNoAgent: the process has not announced an agent in dir (it was
	// built without the overlay, or HANGDOG_AGENT_DIR was not set for it).
	ErrNoAgent = errors.New("no agent")
	// ErrExited: the process exited before answering.
	ErrExited = errors.New("process exited")
	// ErrBusy: a request to this process is already waiting.
	ErrBusy = errors.New("a request is already pending")
)

// Stage is what Request was waiting for when it gave up.
type Stage int

const (
	// StagePickup: the agent did not take the request.
	StagePickup Stage = iota
	// StageResponse: the agent took the request but did not answer.
	StageResponse
)

func (s Stage) String() string {
	switch s {
	case StagePickup:
		return "pickup"
	case StageResponse:
		return "response"
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// TimeoutError is returned when the agent does not take a request or does
// not answer it in time.
type TimeoutError struct {
	PID    int
	Stage  Stage
	Waited time.Duration
	// State and Wchan are the process's at the time (see proc.Process).
	State, Wchan string
}

func (e *TimeoutError) Error() string {
	var why string
	switch {
	case e.State == "T" || e.State == "t":
		why = "the process is stopped (SIGSTOP or a debugger)"
	case e.Stage == StagePickup && e.State == "R":
		why = "the process is running but its timers are not: the runtime is probably stuck stopping the world (a goroutine that cannot be preempted)"
	case e.Stage == StagePickup:
		why = "its timers are not running: the runtime is wedged"
		if e.Wchan != "" {
			why += " (main thread sleeping in " + e.Wchan + ")"
		}
	default:
		why = "the agent is still writing, or the runtime stopped while it did"
	}
	what := "take the request"
	if e.Stage == StageResponse {
		what = "answer"
	}
	return fmt.Sprintf("agent: pid %d did not %s within %v (state %s): %s", e.PID, what, e.Waited.Round(time.Millisecond), e.State, why)
}

// HasAgent reports whether process pid announced an agent in dir: its
// agent creates dir/PID.req in init.
func HasAgent(dir string, pid int) bool {
	_, err := os.Stat(filepath.Join(dir, strconv.Itoa(pid)+".req"))
	return err == nil
}

// requestSeq makes request IDs unique within this process.
var requestSeq atomic.Uint64

// Request asks the agent of test binary pid, whose run directory is dir
// (Injection.Dir), for a snapshot and waits for it. One request per
// process at a time. On a timeout or exit the error is a *TimeoutError or
// wraps ErrExited and the snapshot, if not nil, holds what the agent wrote
// before that. Safe for concurrent use on different processes.
func Request(ctx context.Context, dir string, pid int, req Req) (*Snapshot, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("agent: request to pid %d: invalid pid", pid)
	}
	if !HasAgent(dir, pid) {
		return nil, fmt.Errorf("agent: request to pid %d: %w in %s", pid, ErrNoAgent, dir)
	}
	if _, gone := state(pid); gone {
		return nil, fmt.Errorf("agent: request to pid %d: %w", pid, ErrExited)
	}
	reqPath := filepath.Join(dir, strconv.Itoa(pid)+".req")
	id := fmt.Sprintf("%x-%d", time.Now().UnixNano(), requestSeq.Add(1))
	window := req.window()
	r := request{ID: id, Goroutines: flag(req.Goroutines), GoroutinesProto: flag(req.GoroutinesProto),
		Heap: flag(req.Heap), CPU: flag(req.CPU > 0), Block: flag(req.Block), Mutex: flag(req.Mutex)}
	if window > 0 {
		r.Window = window.String()
	}
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("agent: request to pid %d: %w", pid, err)
	}
	snap := &Snapshot{PID: pid, Requested: time.Now()}
	if err := post(reqPath, append(data, '\n')); err != nil {
		return nil, fmt.Errorf("agent: request to pid %d: %w", pid, err)
	}

	pickup, respond := req.PickupTimeout, req.ResponseTimeout
	if pickup <= 0 {
		pickup = DefaultPickupTimeout
	}
	if respond <= 0 {
		respond = DefaultResponseTimeout
	}
	prefix := filepath.Join(dir, strconv.Itoa(pid)+"-"+id)
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	var takenAt time.Time
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			withdraw(reqPath, takenAt)
			partial(snap, prefix)
			return snap, fmt.Errorf("agent: request to pid %d: %w", pid, ctx.Err())
		case <-tick.C:
		}
		if takenAt.IsZero() {
			if st, err := os.Stat(reqPath); err == nil && st.Size() == 0 {
				takenAt = time.Now()
			}
		}
		if !takenAt.IsZero() {
			if data, err := os.ReadFile(prefix + ".json"); err == nil {
				return snap, fill(snap, dir, data)
			}
		}
		now := time.Now()
		var timeout *TimeoutError
		switch {
		case takenAt.IsZero() && now.Sub(snap.Requested) > pickup:
			timeout = &TimeoutError{PID: pid, Stage: StagePickup, Waited: now.Sub(snap.Requested)}
		case !takenAt.IsZero() && now.Sub(takenAt) > window+respond:
			timeout = &TimeoutError{PID: pid, Stage: StageResponse, Waited: now.Sub(snap.Requested)}
		}
		exited := false
		if timeout != nil || n%10 == 9 {
			var p proc.Process
			p, exited = state(pid)
			if timeout != nil {
				timeout.State, timeout.Wchan = p.State, p.Wchan
			}
		}
		if exited || timeout != nil {
			withdraw(reqPath, takenAt)
			partial(snap, prefix)
			if exited {
				return snap, fmt.Errorf("agent: request to pid %d: %w", pid, ErrExited)
			}
			return snap, timeout
		}
	}
}

// post writes a request line into the agent's request file in one write,
// if the file is empty (no request pending).
func post(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return err
	} else if st.Size() != 0 {
		return ErrBusy
	}
	_, err = f.Write(line)
	return err
}

// withdraw empties the request file if the agent has not taken the
// request; it may just have, and will then answer into the directory.
func withdraw(path string, takenAt time.Time) {
	if takenAt.IsZero() {
		os.Truncate(path, 0)
	}
}

// state reads process pid and tells whether it is gone (or a zombie). A
// system where processes cannot be read (Windows) says nothing is gone.
func state(pid int) (p proc.Process, gone bool) {
	p, err := proc.Get(pid)
	if err != nil {
		return p, errors.Is(err, proc.ErrNoProcess)
	}
	return p, p.State == "Z" || p.State == "X"
}

func flag(b bool) string {
	if b {
		return "true"
	}
	return ""
}

// fill completes snap from the agent's response.
func fill(snap *Snapshot, dir string, data []byte) error {
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("agent: response of pid %d: %w", snap.PID, err)
	}
	snap.Errors, snap.Notes = r.Errors, r.Notes
	snap.GoVersion, snap.NumGoroutine, snap.Truncated = r.GoVersion, r.NumGoroutine, r.Truncated
	snap.Received, snap.Dumped, snap.WindowStart, snap.Done = r.Received, r.Dumped, r.WindowStart, r.Done
	for kind, name := range r.Files {
		if name != filepath.Base(name) || !strings.HasPrefix(name, strconv.Itoa(snap.PID)+"-") {
			continue // not one of ours
		}
		if p := snap.path(kind); p != nil {
			*p = snap.proto(kind, filepath.Join(dir, name))
		}
	}
	return nil
}

// proto returns the proto form of a profile the agent wrote as text
// (KIND.txt, see textprof.go), converting it; other files as they are.
func (s *Snapshot) proto(kind, path string) string {
	if kind == "goroutines" || !strings.HasSuffix(path, ".txt") {
		return path
	}
	pb := strings.TrimSuffix(path, ".txt") + ".pb.gz"
	if _, err := os.Stat(pb); err == nil {
		return pb
	}
	if err := textToProto(path, pb); err != nil {
		s.Errors = append(s.Errors, kind+": "+err.Error())
		return ""
	}
	if kind == "heap" && noGCYet(path) {
		s.Notes = append(s.Notes, "heap: the program has run no garbage collection yet, and the agent runs none: the heap profile is (nearly) empty")
	}
	return pb
}

// noGCYet reports whether a debug=1 heap profile says the program has run
// no GC (its MemStats trailer: "# NumGC = 0").
func noGCYet(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(data), "\n# NumGC = 0\n")
}

// path returns the field for a kind of file.
func (s *Snapshot) path(kind string) *string {
	switch kind {
	case "goroutines":
		return &s.Goroutines
	case "goroutine":
		return &s.GoroutinesProto
	case "cpu":
		return &s.CPU
	case "heap":
		return &s.Heap
	case "block":
		return &s.Block
	case "mutex":
		return &s.Mutex
	}
	return nil
}

// partial fills snap with the files already written for an unanswered
// request (the agent writes each file completely before it is named).
func partial(snap *Snapshot, prefix string) {
	for kind, suffix := range map[string]string{
		"goroutines": ".goroutines.txt", "goroutine": ".goroutine.txt", "cpu": ".cpu.pb.gz",
		"heap": ".heap.txt", "block": ".block.txt", "mutex": ".mutex.txt",
	} {
		if _, err := os.Stat(prefix + suffix); err == nil {
			*snap.path(kind) = snap.proto(kind, prefix+suffix)
		}
	}
}
