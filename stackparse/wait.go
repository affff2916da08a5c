package stackparse

import (
	"strconv"
	"strings"
)

// Wait is what a goroutine is doing, as a closed set of classes. The names
// are those of Go 1.24+ wait reasons; Classify maps older dumps onto them.
type Wait int

const (
	WaitOther         Wait = iota // a state not listed here, e.g. "cleanup wait"
	WaitRunning                   // running, or runnable but preempted while busy (asyncPreempt)
	WaitRunnable                  // runnable: ready, waiting for a thread
	WaitChanRecv                  // chan receive
	WaitChanSend                  // chan send
	WaitChanRecvNil               // chan receive (nil chan): blocked forever
	WaitChanSendNil               // chan send (nil chan): blocked forever
	WaitSelect                    // select
	WaitSelectNoCases             // select (no cases): select {} blocks forever
	WaitMutex                     // sync.Mutex.Lock (also a writer behind a writer on an RWMutex)
	WaitRLock                     // sync.RWMutex.RLock
	WaitWLock                     // sync.RWMutex.Lock, waiting for readers to leave
	WaitWaitGroup                 // sync.WaitGroup.Wait
	WaitCond                      // sync.Cond.Wait
	WaitIO                        // IO wait: network poller
	WaitSyscall                   // syscall
	WaitSleep                     // sleep: time.Sleep
	WaitRuntime                   // the runtime's own goroutines: GC workers, finalizers, timers, ...
	WaitSemacquire                // semacquire: a runtime semaphore under no sync type that can be told (a fork of package sync)
)

var waitNames = [...]string{
	WaitOther:         "other",
	WaitRunning:       "running",
	WaitRunnable:      "runnable",
	WaitChanRecv:      "chan receive",
	WaitChanSend:      "chan send",
	WaitChanRecvNil:   "chan receive (nil chan)",
	WaitChanSendNil:   "chan send (nil chan)",
	WaitSelect:        "select",
	WaitSelectNoCases: "select (no cases)",
	WaitMutex:         "sync.Mutex.Lock",
	WaitRLock:         "sync.RWMutex.RLock",
	WaitWLock:         "sync.RWMutex.Lock",
	WaitWaitGroup:     "sync.WaitGroup.Wait",
	WaitCond:          "sync.Cond.Wait",
	WaitIO:            "IO wait",
	WaitSyscall:       "syscall",
	WaitSleep:         "sleep",
	WaitRuntime:       "runtime",
	WaitSemacquire:    "semacquire",
}

// AllWaits returns every Wait class, in the order of their values.
func AllWaits() []Wait {
	out := make([]Wait, len(waitNames))
	for i := range out {
		out[i] = Wait(i)
	}
	return out
}

// String returns the Go 1.24+ name of the wait ("chan receive",
// "sync.Mutex.Lock", "semacquire", ...), "runtime" or "other".
func (w Wait) String() string {
	if w >= 0 && int(w) < len(waitNames) {
		return waitNames[w]
	}
	return "Wait(" + strconv.Itoa(int(w)) + ")"
}

// Blocked reports whether the goroutine is parked waiting for something a
// program can be stuck on: a channel, select, a sync primitive or a
// semaphore, I/O, a system call or a sleep. Running, runnable,
// runtime-internal and other states are not blocked.
func (w Wait) Blocked() bool {
	return w >= WaitChanRecv && w <= WaitSleep || w == WaitSemacquire
}

// stateWaits maps wait reasons printed in headers to classes.
var stateWaits = map[string]Wait{
	"running":                 WaitRunning,
	"runnable":                WaitRunnable,
	"chan receive":            WaitChanRecv,
	"chan send":               WaitChanSend,
	"chan receive (nil chan)": WaitChanRecvNil,
	"chan send (nil chan)":    WaitChanSendNil,
	"select":                  WaitSelect,
	"select (no cases)":       WaitSelectNoCases,
	"sync.Mutex.Lock":         WaitMutex,
	"sync.RWMutex.RLock":      WaitRLock,
	"sync.RWMutex.Lock":       WaitWLock,
	"sync.WaitGroup.Wait":     WaitWaitGroup,
	"sync.Cond.Wait":          WaitCond,
	"IO wait":                 WaitIO,
	"syscall":                 WaitSyscall,
	"sleep":                   WaitSleep,

	// Runtime-internal goroutines and states.
	"idle":                      WaitRuntime,
	"GC sweep wait":             WaitRuntime,
	"GC scavenge wait":          WaitRuntime,
	"GC worker (idle)":          WaitRuntime,
	"GC worker (active)":        WaitRuntime,
	"GC assist marking":         WaitRuntime,
	"GC assist wait":            WaitRuntime,
	"GC weak to strong wait":    WaitRuntime,
	"finalizer wait":            WaitRuntime,
	"cleanup wait":              WaitRuntime,
	"force gc (idle)":           WaitRuntime,
	"timer goroutine (idle)":    WaitRuntime,
	"trace reader (blocked)":    WaitRuntime,
	"trace goroutine status":    WaitRuntime,
	"wait for GC cycle":         WaitRuntime,
	"garbage collection":        WaitRuntime,
	"garbage collection scan":   WaitRuntime,
	"stopping the world":        WaitRuntime,
	"preempted":                 WaitRuntime,
	"debug call":                WaitRuntime,
	"dumping heap":              WaitRuntime,
	"panicwait":                 WaitRuntime,
	"page trace flush":          WaitRuntime,
	"coroutine":                 WaitRuntime,
	"flushing proc caches":      WaitRuntime,
	"GOMAXPROCS updater (idle)": WaitRuntime,
	"GC mark termination":       WaitRuntime,
	"trace proc status":         WaitRuntime,
	"copystack":                 WaitRuntime,
	"synctest.Run":              WaitOther,
	"synctest.Wait":             WaitOther,
}

// Classify returns what g is doing. It trusts the wait reason in the
// header where it is specific (Go 1.24+ names every sync wait; 1.20–1.23
// print "semacquire" for some), and otherwise reads the stack: the
// innermost sync frame for "semacquire" and for aggregated profiles (which
// have no state), then the runtime's semaphore functions (a fork of package
// sync linked to them), asyncPreempt for a busy "runnable" goroutine (and
// a busy goroutine in a profile). In debug=1 profiles, which print no
// runtime frames, a plain channel or select wait cannot be told and is
// WaitOther; reflect's channel operations and select show (reflect.chanrecv,
// reflect.rselect). A parked goroutine whose stack is the runtime's alone,
// created by the runtime (runtime.timerproc of releases before 1.14, a
// bare runtime.goexit), is WaitRuntime whatever its wait reason.
func Classify(g *Goroutine) Wait {
	w, ok := stateWaits[g.State]
	if ok && w != WaitRuntime && w != WaitRunning && w != WaitRunnable && runtimeOnly(g) {
		// Parked: the runtime's own service. A running one (a GC
		// worker that crashed) stays in view.
		return WaitRuntime
	}
	switch {
	case ok && w == WaitRunnable:
		if hasFunc(g, "runtime.asyncPreempt") {
			return WaitRunning
		}
		return w
	case ok:
		return w
	case g.State == "semacquire" || g.State == "":
		if w, ok := waitFromStack(g); ok {
			return w
		}
		if g.State == "" && (hasFunc(g, "runtime.asyncPreempt") || hasFunc(g, "runtime/pprof.writeGoroutine")) {
			// A profile: preempted while busy, or the goroutine
			// writing the profile itself.
			return WaitRunning
		}
		if runtimeOnly(g) {
			return WaitRuntime
		}
		if g.State == "semacquire" {
			return WaitSemacquire
		}
		return WaitOther
	}
	if runtimeOnly(g) {
		return WaitRuntime
	}
	return WaitOther
}

// runtimeOnly reports a goroutine of the runtime's own: every frame in
// the runtime, created by the runtime or by nothing printed. Such a
// goroutine was never user code (user goroutines have their function on
// the stack): the timer goroutine of old releases (runtime.timerproc),
// the signal-forwarding goroutine, a bare runtime.goexit.
func runtimeOnly(g *Goroutine) bool {
	if len(g.Frames) == 0 || g.CreatedBy != nil && !g.CreatedBy.IsRuntime() {
		return false
	}
	for i := range g.Frames {
		f := &g.Frames[i]
		if f.Func == "runtime.main" || f.Func == "main.main" {
			return false // goroutine 1
		}
		if !f.IsRuntime() {
			return false
		}
	}
	return true
}

func hasFunc(g *Goroutine, fn string) bool {
	for _, f := range g.Frames {
		if f.Func == fn {
			return true
		}
	}
	return false
}

// stackWaits maps functions found on the stack to classes, for dumps whose
// header does not say (old releases, pprof debug=1 profiles).
var stackWaits = map[string]Wait{
	"sync.(*Mutex).Lock":                WaitMutex,
	"sync.(*Mutex).lockSlow":            WaitMutex,
	"internal/sync.(*Mutex).Lock":       WaitMutex,
	"internal/sync.(*Mutex).lockSlow":   WaitMutex,
	"sync.(*RWMutex).RLock":             WaitRLock,
	"sync.(*RWMutex).Lock":              WaitWLock,
	"sync.(*WaitGroup).Wait":            WaitWaitGroup,
	"sync.(*Cond).Wait":                 WaitCond,
	"sync.runtime_notifyListWait":       WaitCond,
	"time.Sleep":                        WaitSleep,
	"internal/poll.runtime_pollWait":    WaitIO,
	"runtime.chanrecv":                  WaitChanRecv,
	"runtime.chanrecv1":                 WaitChanRecv,
	"runtime.chanrecv2":                 WaitChanRecv,
	"runtime.chansend":                  WaitChanSend,
	"runtime.chansend1":                 WaitChanSend,
	"runtime.selectgo":                  WaitSelect,
	"runtime.block":                     WaitSelectNoCases,
	"syscall.Syscall":                   WaitSyscall,
	"syscall.Syscall6":                  WaitSyscall,
	"syscall.RawSyscall":                WaitSyscall,
	"internal/runtime/syscall.Syscall6": WaitSyscall,
	// reflect's channel operations are the runtime's, under reflect's
	// names: debug=1 profiles print them where they hide runtime frames.
	"reflect.chanrecv":  WaitChanRecv,
	"reflect.chansend":  WaitChanSend,
	"reflect.chansend0": WaitChanSend,
	"reflect.rselect":   WaitSelect,
}

// semaWaits map the runtime's semaphore entry points to classes. They are
// read after stackWaits, which name the sync type: before Go 1.24
// sync.WaitGroup also waits in sync.runtime_Semacquire. A fork of package
// sync (a vendored or patched copy linked to the runtime's semaphore) has
// only these.
var semaWaits = map[string]Wait{
	"sync.runtime_SemacquireMutex":          WaitMutex,
	"internal/sync.runtime_SemacquireMutex": WaitMutex,
	"sync.runtime_SemacquireRWMutexR":       WaitRLock,
	"sync.runtime_SemacquireRWMutex":        WaitWLock,
	"sync.runtime_SemacquireWaitGroup":      WaitWaitGroup,
	"sync.runtime_Semacquire":               WaitSemacquire,
	"internal/poll.runtime_Semacquire":      WaitSemacquire,
	"runtime.semacquire":                    WaitSemacquire,
	"runtime.semacquire1":                   WaitSemacquire,
}

func waitFromStack(g *Goroutine) (Wait, bool) {
	for _, f := range g.Frames {
		if w, ok := stackWaits[f.Func]; ok {
			return w, true
		}
	}
	for _, f := range g.Frames {
		if w, ok := semaWaits[f.Func]; ok {
			return w, true
		}
	}
	return WaitOther, false
}

// WaitAddress returns the address of the object g waits on, read from the
// arguments the runtime printed, and false when they do not show it (or
// print it as "0x…?", which the runtime marks as possibly inaccurate). What
// each release prints, as checked on the fixtures (Go 1.20–1.26):
//
//   - sync.Mutex: the mutex, from "sync.(*Mutex).lockSlow(0x…)" (up to
//     1.23) or "internal/sync.(*Mutex).lockSlow(0x…)" (1.24+), at every
//     detail level.
//   - channels: the channel, from "runtime.chanrecv(0x…, …)" /
//     "runtime.chansend(0x…, …)": only in SIGQUIT (level 2) dumps, which
//     show runtime frames. Nil channels have none.
//   - sync.Cond: the Cond's notify list (inside the Cond), from
//     "sync.runtime_notifyListWait(0x…, …)", at every level.
//   - RWMutex, WaitGroup, and mutexes of older dumps: the semaphore word
//     inside the object, from "runtime.semacquire1(0x…, …)", only in
//     SIGQUIT dumps. Waiters on the same object share it, so it serves to
//     group them, but it is not the object's own address.
func (g *Goroutine) WaitAddress() (uint64, bool) {
	// The functions read here are those of addressFuncs.
	var sema uint64
	var haveSema bool
	for _, f := range g.Frames {
		switch f.Func {
		case "internal/sync.(*Mutex).lockSlow", "sync.(*Mutex).lockSlow",
			"runtime.chanrecv", "runtime.chansend", "sync.runtime_notifyListWait":
			if a, ok := firstArg(f.Args); ok {
				return a, true
			}
		case "runtime.semacquire1":
			if a, ok := firstArg(f.Args); ok && !haveSema {
				sema, haveSema = a, true
			}
		}
	}
	return sema, haveSema
}

// firstArg parses the first word of an argument list if it is printed as
// a reliable non-zero hex value.
func firstArg(args string) (uint64, bool) {
	a, _, _ := strings.Cut(args, ",")
	a = strings.TrimSpace(a)
	if !strings.HasPrefix(a, "0x") || strings.HasSuffix(a, "?") {
		return 0, false
	}
	v, err := strconv.ParseUint(a[2:], 16, 64)
	if err != nil || v == 0 {
		return 0, false
	}
	return v, true
}

// addressFuncs are the functions whose arguments WaitAddress reads.
var addressFuncs = map[string]bool{
	"internal/sync.(*Mutex).lockSlow": true,
	"sync.(*Mutex).lockSlow":          true,
	"runtime.chanrecv":                true,
	"runtime.chansend":                true,
	"sync.runtime_notifyListWait":     true,
	"runtime.semacquire1":             true,
}
