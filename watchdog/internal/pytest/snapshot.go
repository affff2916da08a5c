package pytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/forensics"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// Target is one process of a pytest run to snapshot — the controller (or
// the only process) and every xdist worker — as the plugin's events
// describe it (CONTRACT.md: hello and threads).
type Target struct {
	PID    int
	Worker string // "gw0"; "" for the controller or a run without xdist
	// Signal is the real-time signal the plugin registered faulthandler
	// on (hello's signal); 0 when it registered none: the process is then
	// never signalled.
	Signal int
	// Stacks is the file faulthandler writes to (hello's stacks).
	Stacks string
	// Threads is the plugin's latest thread table: it maps faulthandler's
	// idents to the kernel's thread ids.
	Threads []Thread
	// Skip, when set, says why the process is not to be signalled: its
	// files, sockets and locks are still collected (see Processes.Targets).
	Skip string
}

// SnapshotOptions tune Snapshot; the zero value is what the engine uses.
type SnapshotOptions struct {
	// Gap is the time between the two rounds of dumps (default 1 s): long
	// enough for a thread that spins to use a measurable share of a CPU
	// (/proc counts CPU time in 10 ms ticks).
	Gap time.Duration
	// DumpTimeout bounds the wait for one round's dumps (default 3 s): a
	// stopped process (SIGSTOP, a debugger) or one whose every thread is
	// in an uninterruptible sleep takes its signal late or never.
	DumpTimeout time.Duration
	// Rounds is the number of rounds (default 2); 1 gives a last dump
	// before a kill.
	Rounds int
	// Poll is the interval at which a round checks whether the handlers
	// have finished (default 1 ms).
	Poll time.Duration
	// Own are hangdog's own stdout and stderr, which CaptureSizes leaves
	// out of the captured output sizes.
	Own []os.FileInfo
}

func (o SnapshotOptions) withDefaults() SnapshotOptions {
	if o.Gap <= 0 {
		o.Gap = time.Second
	}
	if o.DumpTimeout <= 0 {
		o.DumpTimeout = 3 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 2
	}
	if o.Poll <= 0 {
		o.Poll = time.Millisecond
	}
	return o
}

// Snapshot is what a stall's snapshot saw of every process of the run.
type Snapshot struct {
	// Rounds are the dumps, the first round first.
	Rounds []Round
	// Forensics are the files, sockets, locks and children of all the
	// targets, collected right after the first round; nil (with
	// ForensicsError) when /proc could not be read.
	Forensics      *forensics.Snapshot
	ForensicsError string
	// Elapsed is the time from the call to the first round's stacks of
	// every process read and parsed (the stall → stacks time).
	Elapsed time.Duration
}

// Round is one dump of every target, taken at once.
type Round struct {
	Taken time.Time
	// Elapsed is the time from the first signal sent to the last dump
	// read.
	Elapsed time.Duration
	Procs   []ProcDump
}

// ProcDump is one process in one round.
type ProcDump struct {
	PID    int
	Worker string
	// Sent says the signal was sent; Complete that the handler finished
	// within DumpTimeout. Note says why not, or what did not add up.
	Sent, Complete bool
	Note           string
	// Raw is what faulthandler wrote for this round.
	Raw []byte
	// Threads are the dump's threads, matched to the kernel's threads;
	// Other are lines of Raw that belong to no dump.
	Threads []DumpThread
	Other   []string
	// Output is the size of the test's captured output (CaptureSizes),
	// read just before the signal.
	Output Output
}

// DumpThread is one thread: its Python stack and, when the plugin's table
// knew it, what the kernel says of it, read just before the signal.
type DumpThread struct {
	ThreadStack
	NativeID int // 0 when the thread table did not list the ident
	Name     string
	Daemon   bool
	Task     taskInfo
	HasTask  bool
}

// Snapshot signals every target at once, twice (opt.Rounds) opt.Gap apart,
// and reads each process's dump, its threads' states and its captured
// output sizes, and the forensics of all targets. A target that has no
// signal, whose handler is not installed (SigCgt), or that has exited is
// not signalled; its ProcDump says why. The error is non-nil only when ctx
// ends (the rounds taken so far are returned) or no target exists.
//
// A round is complete for a process when its stacks file has grown and,
// read after that, its signal is no longer pending (for the process or any
// thread) and no thread's mask blocks it: the kernel blocks a handler's
// signal while the handler runs (faulthandler registers it without
// SA_NODEFER), so bytes written and then a clear mask mean the handler
// has started and returned — no sleep, no guess from the text, which has
// no end marker (see handled). The wait is bounded by opt.DumpTimeout.
func Take(ctx context.Context, targets []Target, opt SnapshotOptions) (*Snapshot, error) {
	opt = opt.withDefaults()
	start := time.Now()
	snap := &Snapshot{}
	for r := 0; r < opt.Rounds; r++ {
		if r > 0 {
			t := time.NewTimer(opt.Gap)
			select {
			case <-ctx.Done():
				t.Stop()
				return snap, ctx.Err()
			case <-t.C:
			}
		}
		round := takeRound(ctx, targets, opt)
		snap.Rounds = append(snap.Rounds, round)
		if r == 0 {
			snap.Elapsed = time.Since(start)
			pids := make([]int, len(targets))
			for i, t := range targets {
				pids[i] = t.PID
			}
			fs, err := forensics.Collect(pids)
			snap.Forensics = fs
			if err != nil {
				snap.ForensicsError = err.Error()
				if errors.Is(err, proc.ErrNoProcess) {
					return snap, fmt.Errorf("pytest: snapshot: %w", err)
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return snap, err
		}
	}
	return snap, nil
}

// pending is one process of a round waiting for its handler.
type pending struct {
	t        Target
	d        *ProcDump
	offset   int64
	baseline map[int]bool // threads that blocked the signal before it was sent
	tasks    map[int]taskInfo
}

// takeRound does one round: prepare every target, send every signal in a
// tight loop, wait for the handlers, read the dumps.
func takeRound(ctx context.Context, targets []Target, opt SnapshotOptions) Round {
	round := Round{Taken: time.Now(), Procs: make([]ProcDump, len(targets))}
	var ps []*pending
	for i, t := range targets {
		d := &round.Procs[i]
		d.PID, d.Worker = t.PID, t.Worker
		d.Output, _ = CaptureSizes(t.PID, opt.Own...)
		if p, note := prepare(t, d); p != nil {
			ps = append(ps, p)
		} else {
			d.Note = note
		}
	}
	sent := time.Now()
	for _, p := range ps {
		if err := sendSignal(p.t.PID, p.t.Signal); err != nil {
			p.d.Note = fmt.Sprintf("signal %d: %v", p.t.Signal, err)
			continue
		}
		p.d.Sent = true
	}
	deadline := sent.Add(opt.DumpTimeout)
	for _, p := range ps {
		if !p.d.Sent {
			continue
		}
		done, note := waitHandler(ctx, p, deadline, opt.Poll)
		p.d.Complete = done
		if note != "" {
			p.d.Note = note
		}
		readDump(p)
	}
	round.Elapsed = time.Since(sent)
	return round
}

// prepare checks that t can be signalled, notes the stacks file's size and
// reads its threads; nil and a note when it is not to be signalled.
func prepare(t Target, d *ProcDump) (*pending, string) {
	if t.Skip != "" {
		return nil, "not signalled: " + t.Skip
	}
	if t.Signal <= 0 || t.Stacks == "" {
		return nil, "the plugin registered no snapshot signal"
	}
	m, err := readMasks(fmt.Sprintf("/proc/%d/status", t.PID))
	if err != nil {
		return nil, fmt.Sprintf("not signalled: %v", err)
	}
	if !has(m.Cgt, t.Signal) {
		return nil, fmt.Sprintf("not signalled: signal %d is not caught (SigCgt): its handler was reset, or the process exec'ed", t.Signal)
	}
	st, err := os.Stat(t.Stacks)
	if err != nil {
		return nil, fmt.Sprintf("not signalled: %v", err)
	}
	p := &pending{t: t, d: d, offset: st.Size(), baseline: map[int]bool{}, tasks: map[int]taskInfo{}}
	ids, _ := taskIDs(t.PID)
	for _, tid := range ids {
		if tm, err := readMasks(fmt.Sprintf("/proc/%d/task/%d/status", t.PID, tid)); err == nil && has(tm.Blk, t.Signal) {
			p.baseline[tid] = true
		}
	}
	for _, th := range t.Threads {
		if ti, err := readTask(t.PID, th.NativeID); err == nil {
			p.tasks[th.NativeID] = ti
		}
	}
	if _, ok := p.tasks[t.PID]; !ok {
		if ti, err := readTask(t.PID, t.PID); err == nil {
			p.tasks[t.PID] = ti
		}
	}
	return p, ""
}

// waitHandler waits until p's signal is delivered and its handler has
// returned (see Take), the process is gone, or deadline.
func waitHandler(ctx context.Context, p *pending, deadline time.Time, poll time.Duration) (bool, string) {
	for {
		done, err := handled(p)
		if err != nil {
			return false, fmt.Sprintf("the process ended during the dump: %v", err)
		}
		if done {
			return true, ""
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false, "the dump did not finish in time (the signal is still pending or being handled)"
		}
		time.Sleep(poll)
	}
}

// handled reports whether p's handler has written its dump and returned.
// The kernel takes a signal off the pending set before it blocks it in the
// thread's mask for the handler, so "neither pending nor blocked" alone
// also holds for an instant before the handler starts. Hence the order:
// the stacks file is seen to have grown (the handler has started: it
// writes only while it runs, with the signal blocked), then the signal is
// neither pending for the process nor for a thread, nor newly blocked by
// one (the handler has returned since). A handler that writes nothing
// (faulthandler found no interpreter) is never seen done: the round's
// timeout ends the wait.
func handled(p *pending) (bool, error) {
	sig := p.t.Signal
	st, err := os.Stat(p.t.Stacks)
	if err != nil {
		return false, err
	}
	if st.Size() <= p.offset {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", p.t.PID)); err != nil {
			return false, err
		}
		return false, nil
	}
	m, err := readMasks(fmt.Sprintf("/proc/%d/status", p.t.PID))
	if err != nil {
		return false, err
	}
	if has(m.ShdPnd, sig) {
		return false, nil
	}
	ids, err := taskIDs(p.t.PID)
	if err != nil {
		return false, err
	}
	for _, tid := range ids {
		tm, err := readMasks(fmt.Sprintf("/proc/%d/task/%d/status", p.t.PID, tid))
		if err != nil {
			continue // the thread exited
		}
		if has(tm.Pnd, sig) || (has(tm.Blk, sig) && !p.baseline[tid]) {
			return false, nil
		}
	}
	return true, nil
}

// readDump reads what the handler wrote after p.offset and matches its
// threads to the thread table and the tasks read before the signal.
func readDump(p *pending) {
	f, err := os.Open(p.t.Stacks)
	if err != nil {
		p.d.Note = joinNote(p.d.Note, err.Error())
		return
	}
	defer f.Close()
	raw, err := io.ReadAll(io.NewSectionReader(f, p.offset, 1<<40))
	if err != nil {
		p.d.Note = joinNote(p.d.Note, err.Error())
	}
	p.d.Raw = raw
	dumps, other := ParseFaulthandler(raw)
	p.d.Other = other
	if len(dumps) == 0 {
		p.d.Note = joinNote(p.d.Note, "no dump in the stacks file")
		return
	}
	if len(dumps) > 1 {
		p.d.Note = joinNote(p.d.Note, fmt.Sprintf("%d dumps after the offset; the last is used", len(dumps)))
	}
	dump := dumps[len(dumps)-1]
	byIdent := map[uint64]Thread{}
	for _, th := range p.t.Threads {
		byIdent[th.Ident] = th
	}
	unknown := 0
	for i, ts := range dump.Threads {
		th := DumpThread{ThreadStack: ts}
		if info, ok := byIdent[ts.Ident]; ok {
			th.NativeID, th.Name, th.Daemon = info.NativeID, info.Name, info.Daemon
		} else if i == len(dump.Threads)-1 && !dump.MoreThreads {
			// faulthandler prints the main thread last; its kernel id is the PID.
			th.NativeID, th.Name = p.t.PID, "MainThread"
		} else {
			unknown++
		}
		if th.NativeID != 0 {
			th.Task, th.HasTask = p.tasks[th.NativeID]
		}
		p.d.Threads = append(p.d.Threads, th)
	}
	if unknown > 0 {
		// execnet's threads, started with _thread, are never in it.
		p.d.Note = joinNote(p.d.Note, fmt.Sprintf("%d threads not in the plugin's thread table", unknown))
	}
	if n := len(dump.Threads); n > 0 && dump.Threads[n-1].Partial {
		p.d.Note = joinNote(p.d.Note, "the dump ends inside a line (cut short)")
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
