// Package agent captures goroutine dumps and profiles from running test
// binaries without stopping them; the watchdog uses it instead of SIGQUIT
// when the binary carries the agent.
//
// Prepare builds a `go test -overlay` that adds one generated _test.go file
// (the agent, agent.go.tmpl) to every package under test. Request asks the
// agent inside one test binary, identified by PID, for a snapshot.
//
// # Protocol
//
// Everything goes through one private directory per run (0700), named by
// the environment variable HANGDOG_AGENT_DIR in the test binary:
//
//	PID.req       created empty by the agent in init and kept open by it:
//	              its existence says the binary has an agent. The client
//	              writes one request (a JSON object of strings and a
//	              newline) into it in one write; the agent empties the file
//	              when it takes the request.
//	PID-ID.goroutines.txt, PID-ID.KIND.pb.gz
//	              what the agent wrote (0600, each written to a temporary
//	              file and renamed, so a name means a complete file)
//	PID-ID.json   the response, written last (see type response)
//
// One request per process at a time: a second one gets ErrBusy while the
// file is not empty, and waits behind a running CPU window otherwise.
//
// # What the agent does to a test binary
//
// The file builds on Unix only (its dump buffer is an mmap); elsewhere it
// compiles to nothing, which changes nothing where the watchdog cannot
// find test binaries anyway. With HANGDOG_AGENT_DIR unset, it does
// nothing. With it set, it creates PID.req in
// init and looks into it every 100 ms from a time.AfterFunc callback that
// re-arms itself: between polls no goroutine of the agent exists
// (go.uber.org/goleak stays quiet), it opens no listener and installs no
// signal handler. It holds one descriptor (close-on-exec). A poll is a seek
// and a read through package syscall, so the test log, from which go test
// decides whether a cached result is still valid, never sees it; the
// files of a request are written through package os and are logged, but
// the directory is outside the module, and go test does not recheck files
// outside the module root. Polls allocate rarely (about 2 allocations a
// second, from the timer's goroutine), which tests that count allocations
// over a long stretch, or benchmarks with tiny b.N, could notice.
//
// A snapshot runs no garbage collection: a GC runs finalizers, and a
// finalizer can wake the very test being looked at (a test reading a
// connection whose other end was dropped unclosed gets EOF). So the heap
// profile is as of the last GC the program ran, and the agent keeps its
// allocations small, for they could bring on a cycle: the goroutine dump
// buffer is mapped outside the Go heap and reused from one request to the
// next, and the heap, block, mutex and goroutine profiles are written as
// pprof's debug=1 text straight to their files (the proto form costs about
// 1.2 MB each, for pprof's compressor); Request turns them into gzipped
// protos (textprof.go). A snapshot of a blocked binary as the watchdog
// takes it allocates about 40 KB there and starts no GC cycle
// (TestSnapshotRunsNoGC). A CPU profile costs about 2.4 MB (the runtime's
// sample buffer and pprof's compressor): the watchdog asks for one only
// when a goroutine is on a CPU. The goroutineleak profile (Go 1.27, or
// 1.26 with GOEXPERIMENT=goroutineleakprofile) is never taken: writing it
// runs the leak-detection GC.
//
// What the program set up for itself is left alone, and the response's
// notes say so: no CPU profile while the program CPU-profiles itself
// (-test.cpuprofile, or pprof.StartCPUProfile; but a test that starts one
// during the agent's window gets pprof's "cpu profiling already in use"),
// a mutex fraction the program set is kept, and so is its block rate when
// -test.blockprofile is set, its block profile has records, or a 2 ms wait
// of the agent's gets recorded (then that one record is the agent's).
// There is no getter for the block rate: a rate above 2 ms set in code,
// with no blocking event recorded yet, is missed with probability
// 1 - 2ms/rate, and is 0 after the window.
//
// The pending timer has one effect: the runtime reports "all goroutines
// are asleep - deadlock!" only when no timer is pending. Inside m.Run the
// -test.timeout alarm of the testing package already keeps a timer
// pending, so nothing changes there; but a test binary whose TestMain
// deadlocks outside m.Run (before it, or after it returns) now hangs where
// it would have crashed (TestDeadlockOutsideRun). Every way for the agent
// to be reached keeps the detector quiet (measured on Go 1.26.8: a pending
// timer, a goroutine in read(2), one in the network poller, signal.Notify),
// and arming nothing outside m.Run would leave TestMain hangs without a
// snapshot; the watchdog instead says, of a TestMain hang whose goroutines
// are all blocked, what the runtime would have said.
//
// Serving a request takes about as long as a goroutine dump (20-35 ms for
// 10,000 goroutines), plus the window of a CPU, block or mutex profile. No
// goroutine of the agent waits through the window (a second timer ends
// it), but pprof's own profileWriter goroutine runs during a CPU window: a
// goleak check at that moment would report it.
package agent

import (
	_ "embed"
	"strconv"
	"strings"
	"time"
)

// EnvDir is the environment variable that turns the agent on and names its
// directory.
const EnvDir = "HANGDOG_AGENT_DIR"

// EnvLeaks is the environment variable that turns the leak check on, with
// its grace period as a time.Duration ("1s").
const EnvLeaks = "HANGDOG_LEAKS"

// PollInterval is how often the agent looks for a request; keep it in
// step with agent.go.tmpl.
const PollInterval = 100 * time.Millisecond

// FileName is the name of the agent file added to each package directory.
const FileName = "zz_hangdog_agent_test.go"

//go:embed agent.go.tmpl
var agentTemplate string

//go:embed leaks.go.tmpl
var leaksTemplate string

// testMainSource is the TestMain the agent supplies to a package that has
// none: it runs the leak check around m.Run (leaks.go.tmpl).
const testMainSource = "\n// TestMain is hangdog's: the package has none. With HANGDOG_LEAKS unset it\n// only runs m.Run.\nfunc TestMain(m *hangdogAgent_testing.M) { hangdogAgent_lk.main(m) }\n"

// Source returns the agent file for a package named pkgName, without a
// TestMain: the leak check stays off.
func Source(pkgName string) []byte {
	return source(pkgName, "", false)
}

// source returns the agent file for the package importPath named pkgName,
// with the TestMain that runs the leak check when testMain is set (the
// package has no TestMain of its own).
func source(pkgName, importPath string, testMain bool) []byte {
	s := strings.Replace(agentTemplate, "{{PACKAGE}}", pkgName, 1) + leaksTemplate
	s = strings.Replace(s, "{{IMPORTPATH}}", strconv.Quote(importPath), 1)
	tm := ""
	if testMain {
		tm = testMainSource
	}
	return []byte(strings.Replace(s, "{{TESTMAIN}}", tm, 1))
}

// request is what the client writes to PID.req. Every value is a string so
// that the agent can read it into a map[string]string.
type request struct {
	ID              string `json:"id"`
	Goroutines      string `json:"goroutines,omitempty"`
	GoroutinesProto string `json:"goroutines_proto,omitempty"`
	Heap            string `json:"heap,omitempty"`
	CPU             string `json:"cpu,omitempty"`
	Block           string `json:"block,omitempty"`
	Mutex           string `json:"mutex,omitempty"`
	Window          string `json:"window,omitempty"`
}

// response is what the agent writes to PID-ID.json.
type response struct {
	ID           string            `json:"id"`
	PID          int               `json:"pid"`
	GoVersion    string            `json:"go_version"`
	NumGoroutine int               `json:"num_goroutine"`
	Received     time.Time         `json:"received"`
	Dumped       time.Time         `json:"dumped"`
	WindowStart  time.Time         `json:"window_start"`
	Done         time.Time         `json:"done"`
	Truncated    bool              `json:"truncated"`
	Files        map[string]string `json:"files"`
	Errors       []string          `json:"errors"`
	Notes        []string          `json:"notes"`
}
