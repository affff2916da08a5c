package report

// Leak is one test that left goroutines behind: still blocked, past the
// grace period, after the test's function, its cleanups and its subtests
// had returned. Its goroutines are grouped as a hang's are; their role is
// "helper".
type Leak struct {
	Package string `json:"package"`
	Unit    string `json:"unit,omitempty"`
	// Test is the test's full name ("TestX/sub"). Run counts the times a
	// test of that name started in its binary, from 1: the -count (and
	// -cpu) iteration it belongs to.
	Test string `json:"test"`
	Run  int    `json:"run,omitempty"`
	// Proven is set for goroutines that the runtime's leak detection (Go
	// 1.27's goroutineleak profile, a GC pass run after every test of the
	// binary had ended) proved can never be woken. Unproven leaks were
	// blocked at the end of the grace period, and still at the end of the
	// binary where the runtime has no such profile (or it could not
	// prove them: sleeps, I/O and system calls are outside its reach).
	Proven       bool             `json:"proven"`
	PID          int              `json:"pid,omitempty"`
	GraceSeconds float64          `json:"grace_seconds"`
	Goroutines   []GoroutineGroup `json:"goroutines"`
}

// LeakCheck says what the leak check did in one test binary, or why it
// could not check a package's tests.
type LeakCheck struct {
	Package   string `json:"package"`
	PID       int    `json:"pid,omitempty"`
	GoVersion string `json:"go_version,omitempty"`
	// Tests counts the tests (and subtests, per iteration) checked.
	Tests int `json:"tests"`
	Leaks int `json:"leaks"`
	// DetectionGC is set when the binary wrote its goroutineleak profile
	// after its tests: that runs a garbage collection (finalizers too).
	DetectionGC bool `json:"detection_gc,omitempty"`
	// CheckSeconds is the time the binary spent looking at its goroutines
	// (goroutine profiles, off the tests' goroutines); EndWaitSeconds how
	// long it waited after its tests for the checks still pending (at most
	// the grace period, only when a test's goroutines were still there).
	CheckSeconds   float64 `json:"check_seconds,omitempty"`
	EndWaitSeconds float64 `json:"end_wait_seconds,omitempty"`
	// Unchecked says why tests went unchecked: the package has its own
	// TestMain, the binary was being watched for a stall (the check
	// stops, so as to run no GC), or the testing package was not as
	// expected.
	Unchecked string `json:"unchecked,omitempty"`
	// UncheckedTests names the tests that ended once a stall was being
	// watched in the binary (at most 1,000; their -count iterations
	// repeat a name).
	UncheckedTests []string `json:"unchecked_tests,omitempty"`
}
