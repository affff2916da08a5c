package watchdog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/internal/agent"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// collector writes the output of one package to a dump file while a
// goroutine dump is expected in it: after hangdog sent SIGQUIT (active), or
// after the binary started printing its own timeout or deadlock dump
// (passive). Its methods are called with the engine's mutex held.
type collector struct {
	pkg       string
	path      string
	f         *os.File
	passive   bool
	reason    string   // passive: the first line of the dump
	leaves    []string // passive: running leaf tests when the dump began
	lastWrite time.Time
	err       error
	done      chan struct{}
	finished  bool
}

func newCollector(pkg, path string, f *os.File, now time.Time) *collector {
	return &collector{pkg: pkg, path: path, f: f, lastWrite: now, done: make(chan struct{})}
}

// take records ev and says whether it should still reach the formatter.
// While hangdog captures a dump, the dump goes to the file only: it is
// thousands of lines that the diagnosis replaces. go's own closing line
// for the package still shows.
func (c *collector) take(ev *testjson.Event, now time.Time) bool {
	if ev.Action != testjson.ActionOutput {
		return true
	}
	if !c.passive && ev.Test == "" && strings.HasPrefix(ev.Output, "FAIL\t") {
		return true
	}
	if c.err == nil {
		_, c.err = c.f.WriteString(ev.Output)
	}
	c.lastWrite = now
	return c.passive
}

func (c *collector) finish() {
	if !c.finished {
		c.finished = true
		close(c.done)
	}
}

// isDumpStart reports whether a line of output starts a goroutine dump that
// the test binary prints by itself.
func isDumpStart(s string) bool {
	return strings.HasPrefix(s, "panic: test timed out after ") ||
		strings.HasPrefix(s, "fatal error: all goroutines are asleep")
}

// slug makes a package path usable in a file name.
func slug(pkg string) string {
	r := strings.NewReplacer("/", "_", "\\", "_", ":", "_", " ", "_")
	return r.Replace(pkg)
}

func (e *engine) artifactPath(pkg, kind string) string {
	e.seq++
	return filepath.Join(e.artifacts, fmt.Sprintf("%s-%d.%s", slug(pkg), e.seq, kind))
}

// barrier makes the captures started in one tick look before any of them
// stops a binary: when two packages' binaries deadlock on each other,
// SIGQUIT to one frees the other, which must be seen stuck first.
type barrier struct {
	wg sync.WaitGroup
}

// arrival is one capture's place at a barrier; arrive is idempotent.
type arrival struct {
	b    *barrier
	once sync.Once
}

func (b *barrier) join() *arrival {
	b.wg.Add(1)
	return &arrival{b: b}
}

// arrive marks this capture ready to stop its binary.
func (a *arrival) arrive() { a.once.Do(a.b.wg.Done) }

// wait arrives and waits for every other capture of the tick, for at most
// a few seconds (a capture stuck in forensics must not hold the others).
func (a *arrival) wait() {
	a.arrive()
	done := make(chan struct{})
	go func() { a.b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// checkStalls looks for tests and packages quiet past their threshold and
// starts a capture for each. It runs on every tick.
func (e *engine) checkStalls(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		return
	}
	e.checkLive(now)
	b := new(barrier)
	for _, st := range e.tr.stalls(now, e.thresholdDur) {
		p := e.tr.pkgs[st.pkg]
		p.capturing = true
		if len(st.tests) == 0 {
			e.wg.Add(1)
			go e.capturePackage(st, b.join())
			continue
		}
		var names []string
		var hangs []*Hang
		stalled := make(map[string]bool)
		for _, t := range st.tests {
			t.flagged = true
			e.tr.counts.Hung++
			names = append(names, t.name)
			stalled[t.name] = true
			th, why := e.threshold(st.pkg, t.name)
			h := &Hang{
				Package: st.pkg, Test: t.name, Phase: PhaseTest,
				StalledForSeconds: round2(now.Sub(t.lastBeat).Seconds()),
				ThresholdSeconds:  th.Seconds(),
				ThresholdReason:   why,
				Capture:           "none",
				Goroutines:        []GoroutineGroup{},
			}
			hangs = append(hangs, h)
			e.hangs = append(e.hangs, h)
			fmt.Fprintf(e.stderr, "hangdog: STALL %s %s: no progress for %s (threshold %s); capturing its goroutines\n",
				st.pkg, t.name, fmtSeconds(h.StalledForSeconds), th)
			e.log.Info("stall", zap.String("package", st.pkg), zap.String("test", t.name), zap.Duration("quiet", now.Sub(t.lastBeat)))
		}
		var others []string
		for _, t := range p.running() {
			if !stalled[t.name] {
				others = append(others, t.name)
			}
		}
		for _, h := range hangs {
			h.AlsoStopped = withoutAncestors(others, names)
		}
		e.wg.Add(1)
		go e.captureTests(st.pkg, names, hangs, b.join())
	}
}

// withoutAncestors drops from list the parents of the stalled tests: they
// wait for them and are not worth naming.
func withoutAncestors(list, stalled []string) []string {
	var out []string
	for _, o := range list {
		anc := false
		for _, s := range stalled {
			if strings.HasPrefix(s, o+"/") {
				anc = true
				break
			}
		}
		if !anc {
			out = append(out, o)
		}
	}
	return out
}

// captureTests captures the binary of pkg where tests have stalled.
func (e *engine) captureTests(pkg string, tests []string, hangs []*Hang, at *arrival) {
	started := time.Now()
	defer e.wg.Done()
	defer at.arrive()
	if e.cfg.Input != nil {
		e.failCapture(pkg, hangs, "hangdog analyze reads a stream: no test binary can be captured from it (run the suite under hangdog for a diagnosis)")
		return
	}
	bin, err := e.findBinary(pkg)
	if bin == nil {
		msg := "the test binary was not found in the process tree"
		if err != nil {
			msg += ": " + err.Error()
		}
		e.mu.Lock()
		for _, h := range hangs {
			h.CaptureError = msg
			h.Summary = fmt.Sprintf("%s: no progress for %s; %s", h.Test, fmtSeconds(h.StalledForSeconds), msg)
		}
		e.releasePackage(pkg)
		e.mu.Unlock()
		e.printHangs(hangs)
		return
	}
	e.captureBinary(pkg, *bin, tests, PhaseTest, hangs, at, started)
}

// capturePackage handles a package quiet past its threshold with no test
// running: the binary is in init or TestMain (testmain), or it has exited
// and something holds its output pipe (exit), or it has not started yet.
func (e *engine) capturePackage(st stall, at *arrival) {
	started := time.Now()
	defer e.wg.Done()
	defer at.arrive()
	if e.cfg.Input != nil {
		e.mu.Lock()
		e.releasePackage(st.pkg)
		e.mu.Unlock()
		return
	}
	bin, _ := e.findBinary(st.pkg)
	e.mu.Lock()
	p := e.tr.pkgs[st.pkg]
	now := time.Now()
	if bin == nil && p.ran == 0 && !p.output && !p.sawBinary {
		// Built but not running yet (waiting for a slot), or between
		// the build and the binary: not a stall.
		p.capturing = false
		p.lastBeat = now
		e.mu.Unlock()
		return
	}
	phase := PhaseTestMain
	if bin == nil {
		phase = PhaseExit
	} else {
		p.sawBinary = true
	}
	p.flagged = true
	e.tr.counts.Hung++
	h := &Hang{
		Package: st.pkg, Phase: phase,
		StalledForSeconds: round2(st.quiet.Seconds()),
		ThresholdSeconds:  st.threshold.Seconds(),
		ThresholdReason:   "--stall",
		Capture:           "none",
		Goroutines:        []GoroutineGroup{},
	}
	e.hangs = append(e.hangs, h)
	what := "the test binary runs no test (init or TestMain)"
	if phase == PhaseExit {
		what = "the test binary has exited but its result never came"
	}
	fmt.Fprintf(e.stderr, "hangdog: STALL %s: no progress for %s (threshold %s); %s\n",
		st.pkg, fmtSeconds(h.StalledForSeconds), st.threshold, what)
	e.log.Info("package stall", zap.String("package", st.pkg), zap.String("phase", string(phase)))
	e.mu.Unlock()

	if bin != nil {
		e.captureBinary(st.pkg, *bin, nil, PhaseTestMain, []*Hang{h}, at, started)
		return
	}
	e.captureExit(st.pkg, h)
}

// captureExit names (and stops) the processes that hold the output pipe of
// a package whose binary has exited.
func (e *engine) captureExit(pkg string, h *Hang) {
	holders, err := e.pipeHolders()
	var names []string
	for _, pr := range holders {
		info := processInfo(pr, "pipe-holder")
		if proc.KillTree(pr.PID) == nil {
			info.Killed = true
		}
		h.Processes = append(h.Processes, info)
		names = append(names, fmt.Sprintf("%d (%s)", pr.PID, cmdString(pr.Cmdline)))
	}
	e.mu.Lock()
	switch {
	case len(names) == 1:
		h.Summary = fmt.Sprintf("%s: the test binary exited but process %s still holds its output pipe, so go test waits for it", pkg, names[0])
	case len(names) > 1:
		h.Summary = fmt.Sprintf("%s: the test binary exited but processes %s still hold its output pipe, so go test waits for them", pkg, strings.Join(names, ", "))
	default:
		h.Summary = fmt.Sprintf("%s: the test binary exited but go test has not reported the package", pkg)
		if err != nil {
			h.CaptureError = err.Error()
		}
	}
	if len(names) > 0 {
		h.Summary += " (killed)"
	}
	e.releasePackage(pkg)
	e.mu.Unlock()
	e.printHangs([]*Hang{h})
}

// pipeHolders finds processes of the run that were orphaned (their parent,
// a test binary, has exited) and hold a pipe that go also holds: they keep
// a package's output open.
func (e *engine) pipeHolders() ([]proc.Process, error) {
	group, err := proc.InGroup(e.rootPID)
	if err != nil {
		return nil, err
	}
	byPID := make(map[int]proc.Process, len(group))
	for _, p := range group {
		byPID[p.PID] = p
	}
	// Everything below a direct child of go (toolchain, live test
	// binaries and their children) is accounted for.
	live := func(p proc.Process) bool {
		for i := 0; i < 64 && p.PID != 0; i++ {
			if p.PPID == e.rootPID || p.PID == e.rootPID {
				return true
			}
			q, ok := byPID[p.PPID]
			if !ok {
				return false
			}
			p = q
		}
		return false
	}
	var out []proc.Process
	inodes, err := proc.ReadPipes(e.rootPID)
	var holders []proc.Holder
	if err == nil {
		holders, err = proc.PipeHolders(e.rootPID, inodes)
	}
	if err != nil {
		// No open-file information on this OS: every orphan of the run
		// is a suspect.
		for _, p := range group {
			if !live(p) {
				out = append(out, p)
			}
		}
		return out, nil
	}
	for _, h := range holders {
		if !live(h.Process) {
			out = append(out, h.Process)
		}
	}
	return out, nil
}

// releasePackage ends a capture: the tests that were running in the
// stopped binary will get no event, and the package's quiet time starts
// anew (a package that still does not finish is then an exit stall).
// Called with e.mu held.
func (e *engine) releasePackage(pkg string) {
	p := e.tr.pkgs[pkg]
	if p == nil {
		return
	}
	p.capturing = false
	p.lastBeat = time.Now()
}

// captureBinary sends SIGQUIT to a stalled test binary, collects the dump
// it prints into the artifacts directory and diagnoses it.
func (e *engine) captureBinary(pkg string, bin proc.Process, tests []string, phase Phase, hangs []*Hang, at *arrival, started time.Time) {
	procs := []ProcessInfo{processInfo(bin, "test-binary")}
	children, _ := proc.Descendants(bin.PID)
	for _, c := range children {
		procs = append(procs, processInfo(c, "child"))
	}
	findings, procsPath := e.forensics(pkg, bin)
	if e.inj != nil && agent.HasAgent(e.inj.Dir, bin.PID) {
		at.arrive() // nothing is stopped: no need to wait for the others
		if e.snapshot(pkg, bin, tests, phase, hangs, procs, findings, procsPath, started) {
			return
		}
		fmt.Fprintf(e.stderr, "hangdog: the agent in %s's test binary did not answer; capturing with SIGQUIT\n", pkg)
	}
	e.mu.Lock()
	dumpPath := e.artifactPath(pkg, "goroutines.txt")
	e.mu.Unlock()
	f, err := os.OpenFile(dumpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		e.failCapture(pkg, hangs, fmt.Sprintf("create dump file: %v", err))
		return
	}
	c := newCollector(pkg, dumpPath, f, time.Now())
	e.mu.Lock()
	e.collectors[pkg] = c
	e.mu.Unlock()

	var captureErr string
	at.wait()
	e.log.Info("sigquit", zap.String("package", pkg), zap.Int("pid", bin.PID))
	if err := proc.Quit(bin.PID); errors.Is(err, proc.ErrNoProcess) {
		captureErr = "the test binary exited before it could be captured (the test may have moved on)"
	} else if err != nil {
		captureErr = fmt.Sprintf("SIGQUIT: %v", err)
	}
	e.waitDump(c, bin.PID, &captureErr)
	// The binary is gone: its children serve nobody now and may hold the
	// package's output pipe.
	for i := 1; i < len(procs); i++ {
		if alive(procs[i].PID) && proc.KillTree(procs[i].PID) == nil {
			procs[i].Killed = true
		}
	}

	e.mu.Lock()
	delete(e.collectors, pkg)
	writeErr := c.err
	e.releasePackage(pkg)
	e.mu.Unlock()
	if err := f.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil && captureErr == "" {
		captureErr = fmt.Sprintf("write dump: %v", writeErr)
	}

	d, perr := e.parseDump(dumpPath)
	if d == nil && captureErr == "" {
		captureErr = "the binary printed no goroutine dump"
		if perr != nil {
			captureErr += ": " + perr.Error()
		}
	}
	e.mu.Lock()
	for _, h := range hangs {
		h.Capture = "sigquit"
		h.CaptureSeconds = round3(time.Since(started).Seconds())
		h.Killed = true
		h.PID = bin.PID
		h.CaptureError = captureErr
		h.Artifacts = map[string]string{"dump": dumpPath}
		if procsPath != "" {
			h.Artifacts["processes"] = procsPath
		}
		h.Processes = procs
		h.Findings = findings
	}
	e.mu.Unlock()
	if d != nil {
		diag := diagnose(d, diagInput{pkg: pkg, tests: tests, phase: phase, modules: e.userModules(), base: e.base})
		e.mu.Lock()
		for i, h := range hangs {
			if i < len(diag) {
				mergeDiagnosis(h, diag[i])
			}
			if len(findings) > 0 {
				h.Summary += "; " + findings[0].Text
			} else if len(children) > 0 {
				h.Summary += fmt.Sprintf("; child process %d (%s) was still running", children[0].PID, cmdString(children[0].Cmdline))
			}
		}
		e.mu.Unlock()
	} else {
		e.mu.Lock()
		for _, h := range hangs {
			h.Summary = fmt.Sprintf("%s: no progress for %s; %s", hangName(h), fmtSeconds(h.StalledForSeconds), captureErr)
		}
		e.mu.Unlock()
	}
	hangs = e.dropGhosts(pkg, hangs)
	if len(hangs) == 0 {
		return
	}
	e.writeHangArtifacts(pkg, hangs)
	e.printHangs(hangs)
}

// dropGhosts takes back the hangs of tests that have no goroutine left in
// the dump: a parallel test's result can be reported long after its
// function returned, so it looks quiet while nothing of it runs.
func (e *engine) dropGhosts(pkg string, hangs []*Hang) []*Hang {
	e.mu.Lock()
	defer e.mu.Unlock()
	var keep []*Hang
	for _, h := range hangs {
		if h.Test == "" || len(h.Goroutines) > 0 || h.CaptureError != "" {
			keep = append(keep, h)
			continue
		}
		e.tr.counts.Hung--
		e.removeHang(h)
		if p := e.tr.pkgs[pkg]; p != nil {
			if t := p.tests[h.Test]; t != nil {
				t.flagged, t.ghost = false, true
			}
		}
		fmt.Fprintf(e.stderr, "hangdog: %s %s was quiet, but no goroutine of it is left: it has finished and its result is not reported yet; not a hang\n", pkg, h.Test)
	}
	return keep
}

func hangName(h *Hang) string {
	if h.Test != "" {
		return h.Test
	}
	return h.Package
}

func (e *engine) failCapture(pkg string, hangs []*Hang, msg string) {
	e.mu.Lock()
	for _, h := range hangs {
		h.CaptureError = msg
		h.Summary = fmt.Sprintf("%s: no progress for %s; %s", hangName(h), fmtSeconds(h.StalledForSeconds), msg)
	}
	e.releasePackage(pkg)
	e.mu.Unlock()
	e.printHangs(hangs)
}

// waitDump waits until the dump after SIGQUIT is complete: the package's
// result arrived, or the binary is gone and its output has been quiet for
// a moment. A binary that does not die within the grace period (it catches
// SIGQUIT) is killed.
func (e *engine) waitDump(c *collector, pid int, captureErr *string) {
	deadline := time.Now().Add(e.cfg.quitGrace())
	killed := false
	var goneAt time.Time
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			if !alive(pid) {
				if goneAt.IsZero() {
					goneAt = now
				}
				e.mu.Lock()
				quiet := now.Sub(c.lastWrite)
				e.mu.Unlock()
				if now.Sub(goneAt) > 2*time.Second && quiet > time.Second {
					return
				}
				continue
			}
			if !killed && now.After(deadline) {
				killed = true
				_ = proc.KillTree(pid)
				if *captureErr == "" {
					*captureErr = fmt.Sprintf("no goroutine dump within %s of SIGQUIT (does the test catch SIGQUIT?); the binary was killed", e.cfg.quitGrace())
				}
			}
		}
	}
}

// alive reports whether pid still runs (a zombie does not).
func alive(pid int) bool {
	p, err := proc.Get(pid)
	return err == nil && p.State != "Z" && p.State != "X"
}

func processInfo(p proc.Process, role string) ProcessInfo {
	return ProcessInfo{PID: p.PID, PPID: p.PPID, State: p.State, Wchan: p.Wchan, Cmdline: p.Cmdline, Role: role}
}

func cmdString(argv []string) string {
	s := strings.Join(argv, " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// mergeDiagnosis copies what the dump told about a hang into h.
func mergeDiagnosis(h, d *Hang) {
	if h.Phase == PhaseTest && d.Phase == PhaseCleanup {
		h.Phase = PhaseCleanup
	}
	h.State, h.Location, h.Summary = d.State, d.Location, d.Summary
	if d.Goroutines != nil {
		h.Goroutines = d.Goroutines
	}
}

// parseDump reads a dump file and returns the dump that matters: the last
// one with goroutines (a crash after a SIGQUIT prints two).
func (e *engine) parseDump(path string) (*stackparse.Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dumps, err := stackparse.Parse(f)
	var best *stackparse.Dump
	for _, d := range dumps {
		if len(d.Goroutines) > 0 {
			best = d
		}
	}
	return best, err
}

// findBinary finds the running test binary of pkg below go in the process
// tree, by its working directory (the package directory).
func (e *engine) findBinary(pkg string) (*proc.Process, error) {
	bins, err := proc.TestBinaries(e.rootPID)
	if err != nil {
		e.warnOnce("testbinaries", "hangdog: cannot list test binaries: "+err.Error())
		return nil, err
	}
	if len(bins) == 0 {
		return nil, nil
	}
	dir := e.pkgDir(pkg)
	if dir != "" {
		for i := range bins {
			if sameDir(bins[i].Cwd, dir) {
				return &bins[i], nil
			}
		}
		return nil, nil
	}
	// No directory: fall back on the binary's name, pkg.test.
	want := path.Base(pkg) + ".test"
	var found *proc.Process
	for i := range bins {
		exe := bins[i].Exe
		if len(bins[i].Cmdline) > 0 {
			exe = bins[i].Cmdline[0]
		}
		if filepath.Base(exe) == want {
			if found != nil {
				return nil, fmt.Errorf("several test binaries named %s", want)
			}
			found = &bins[i]
		}
	}
	return found, nil
}

func sameDir(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// pkgDir asks go list for the directory of an import path (cached).
func (e *engine) pkgDir(pkg string) string {
	e.mu.Lock()
	d, ok := e.pkgDirs[pkg]
	e.mu.Unlock()
	if ok {
		return d
	}
	out, err := e.goList("list", "-e", "-f", "{{.Dir}}", pkg)
	d = strings.TrimSpace(out)
	if err != nil || strings.Contains(d, "\n") {
		d = ""
	}
	e.mu.Lock()
	e.pkgDirs[pkg] = d
	e.mu.Unlock()
	return d
}

// userModules returns the module paths of the user's code (go list -m).
func (e *engine) userModules() []string {
	e.lookupOnce.Do(func() {
		out, err := e.goList("list", "-m", "-f", "{{.Path}}")
		if err != nil {
			return
		}
		for _, l := range strings.Split(out, "\n") {
			if l = strings.TrimSpace(l); l != "" && l != "command-line-arguments" {
				e.modules = append(e.modules, l)
			}
		}
	})
	return e.modules
}

// goList runs the go command for a lookup, in its own process group, with
// a time limit.
func (e *engine) goList(args ...string) (string, error) {
	g := e.cfg.Go
	if g == "" || len(e.cfg.RawCommand) > 0 {
		g = "go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, g, args...)
	cmd.Dir = e.base
	cmd.Env = e.cfg.Env
	proc.Configure(cmd)
	cmd.Cancel = func() error { return proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	return string(out), err
}

// startPassive begins collecting a dump that the test binary prints by
// itself (its -timeout alarm, or the runtime's deadlock detector). Called
// with e.mu held, before the event is observed.
func (e *engine) startPassive(ev *testjson.Event, now time.Time) {
	p := e.tr.pkgs[ev.Package]
	path := e.artifactPath(ev.Package, "goroutines.txt")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		e.addWarning(fmt.Sprintf("save dump of %s: %v", ev.Package, err))
		return
	}
	c := newCollector(ev.Package, path, f, now)
	c.passive = true
	c.reason = strings.TrimSpace(ev.Output)
	if p != nil {
		for _, t := range p.runningLeaves() {
			if !t.flagged {
				c.leaves = append(c.leaves, t.name)
			}
		}
	}
	e.collectors[ev.Package] = c
	c.take(ev, now)
	e.wg.Add(1)
	e.log.Info("dump in output", zap.String("package", ev.Package), zap.String("reason", c.reason))
	go func() {
		<-c.done
		e.mu.Lock()
		if e.collectors[c.pkg] == c {
			delete(e.collectors, c.pkg)
		}
		e.mu.Unlock()
		e.diagnosePassive(c)
	}()
}

// finishPassive ends the passive collections still open at the end of the
// stream.
func (e *engine) finishPassive() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.collectors {
		if c.passive {
			c.finish()
		}
	}
}

// diagnosePassive explains a dump the binary printed by itself.
func (e *engine) diagnosePassive(c *collector) {
	defer e.wg.Done()
	if err := c.f.Close(); err != nil && c.err == nil {
		c.err = err
	}
	d, _ := e.parseDump(c.path)
	if d == nil {
		return
	}
	tests := runningLeaves(d.RunningTests)
	if len(tests) == 0 {
		tests = c.leaves
	}
	phase := PhaseTest
	if len(tests) == 0 {
		phase = PhaseTestMain
	}
	capture := "timeout"
	if d.Kind == stackparse.KindDeadlock {
		capture = "deadlock"
	}
	diag := diagnose(d, diagInput{pkg: c.pkg, tests: tests, phase: phase, modules: e.userModules(), base: e.base})
	durations := make(map[string]time.Duration)
	for _, rt := range d.RunningTests {
		durations[rt.Name] = rt.Duration
	}
	e.mu.Lock()
	var hangs []*Hang
	for _, h := range diag {
		if e.alreadyHung(h.Package, h.Test) {
			continue
		}
		h.Capture = capture
		h.Artifacts = map[string]string{"dump": c.path}
		h.StalledForSeconds = durations[h.Test].Seconds()
		if h.Goroutines == nil {
			h.Goroutines = []GoroutineGroup{}
		}
		h.Summary += " [" + c.reason + "]"
		e.tr.counts.Hung++
		e.tr.markHung(h.Package, h.Test)
		e.hangs = append(e.hangs, h)
		hangs = append(hangs, h)
	}
	e.mu.Unlock()
	if len(hangs) > 0 {
		e.writeHangArtifacts(c.pkg, hangs)
		e.printHangs(hangs)
	}
}

func (e *engine) alreadyHung(pkg, test string) bool {
	for _, h := range e.hangs {
		if h.Package == pkg && h.Test == test {
			return true
		}
	}
	return false
}

// runningLeaves returns the tests of a running tests list that have no
// subtest in the list.
func runningLeaves(list []stackparse.RunningTest) []string {
	var out []string
	for _, t := range list {
		leaf := true
		for _, u := range list {
			if strings.HasPrefix(u.Name, t.Name+"/") {
				leaf = false
				break
			}
		}
		if leaf {
			out = append(out, t.Name)
		}
	}
	return out
}

// writeHangArtifacts writes the parsed report of hangs next to their dump.
func (e *engine) writeHangArtifacts(pkg string, hangs []*Hang) {
	e.mu.Lock()
	path := e.artifactPath(pkg, "hang.json")
	for _, h := range hangs {
		if h.Artifacts == nil {
			h.Artifacts = map[string]string{}
		}
		h.Artifacts["report"] = path
	}
	err := writeJSONFile(path, hangs)
	if err != nil {
		e.addWarning(err.Error())
	}
	e.mu.Unlock()
}
