package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2EKilledHangdogLeavesNothing kills hangdog with SIGKILL, which it
// cannot clean up after, at three moments of a hanging run of the orphans
// fixture — during the build (a -toolexec wrapper holds the build and
// starts processes of its own), while the test runs (its workers are
// started and it waits for them), and while a stalled test is captured
// (the --log-file line that announces the snapshot) — and checks that no
// process of the run is left 5 s later: the reaper between hangdog and go
// kills them all.
//
// A process belongs to the run if any of these holds, each catching what
// the others miss:
//   - its environment carries the run's marker (everything that inherited
//     hangdog's environment: go, the compiler, the test binary, the
//     shells, but not the daemons that set their own Env);
//   - its PID is in the fixture's PID file (HANGDOG_FIXTURE_PIDS: the
//     fixture and hold-build.sh write the PID of every process they start,
//     daemons and double-forked orphans included), with the start time it
//     had before the kill (a PID reused since is not ours);
//   - its session is the session of one of those PIDs (a child of a
//     setsid'd daemon that was killed before it wrote its own PID);
//   - it was a descendant of hangdog just before the kill (same start time).
//
// Zombies are dead and not counted.
//
// Each moment runs twice: as the machine allows (with a cgroup where one
// can be made), and, where we may (root, unshare(1)), with the cgroup v2
// mount read-only in a mount namespace of hangdog's own, so that the
// reaper has the process tree alone.
func TestE2EKilledHangdogLeavesNothing(t *testing.T) {
	t.Parallel()
	moments := []struct {
		name    string
		stall   string
		args    []string
		trigger func(log string, pids []int) bool
	}{
		{
			name:  "build",
			stall: "10m",
			args:  []string{"-toolexec=" + filepath.Join(fixture(t, "orphans"), "hold-build.sh")},
			// go test has started (our log says so; the agent's go list
			// before it runs no tool) and its first tool run under
			// hold-build.sh has written its PIDs: the build waits for it
			// for ever.
			trigger: func(log string, pids []int) bool {
				return strings.Contains(log, "\tstarting\t") && len(pids) >= 4
			},
		},
		{
			name:  "tests",
			stall: "10m", // no capture: the test just runs
			// TestWorkers has started all six processes and waits.
			trigger: func(log string, pids []int) bool { return len(pids) >= 6 },
		},
		{
			name:  "capture",
			stall: "2s",
			// The stall is announced and the snapshot begins.
			trigger: func(log string, pids []int) bool {
				return len(pids) >= 6 && (strings.Contains(log, "\tsnapshot\t") || strings.Contains(log, "\tsigquit\t"))
			},
		},
	}
	for _, mode := range []string{"default", "tree"} {
		for _, m := range moments {
			t.Run(mode+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				killedMidRun(t, mode, m.name, m.stall, m.args, m.trigger)
			})
		}
	}
}

func killedMidRun(t *testing.T, mode, moment, stall string, extra []string, trigger func(log string, pids []int) bool) {
	var wrap []string
	if mode == "tree" {
		wrap = noCgroupWrapper(t)
	}
	tmp := t.TempDir()
	pidFile := filepath.Join(tmp, "pids")
	logFile := filepath.Join(tmp, "hangdog.log")
	marker := "HANGDOG_E2E_RUN=sigkill-" + mode + "-" + moment + "-" + strconv.Itoa(os.Getpid())
	args := append([]string{hangdogBin, "--stall", stall, "--kill-after", "1h", "--log-file", logFile, "--", "-count=1"}, extra...)
	argv := append(append(wrap, args...), "./...")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = fixture(t, "orphans")
	cmd.Env = append(os.Environ(), marker, "HANGDOG_FIXTURE_PIDS="+pidFile, "CI=", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // whatever a failure left: kill it
		for pid := range runProcs(marker, readPIDs(pidFile), nil, 0) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	var log string
	deadline := time.Now().Add(3 * time.Minute)
	for {
		b, _ := os.ReadFile(logFile)
		log = string(b)
		if trigger(log, readPIDs(pidFile)) {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the moment never came\nlog:\n%s\nstderr:\n%s", log, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := runProcs(marker, readPIDs(pidFile), nil, cmd.Process.Pid)
	t.Logf("%d processes of the run before the kill", len(before))
	if len(before) < 5 {
		t.Errorf("only %d processes of the run found before the kill: %v", len(before), before)
	}
	if moment == "build" && !holdsBuild(before) {
		t.Errorf("hold-build.sh is not running below hangdog: %v", before)
	}
	cmd.Process.Kill()
	cmd.Wait()

	var left map[int]procInfo
	deadline = time.Now().Add(5 * time.Second)
	for {
		left = runProcs(marker, readPIDs(pidFile), before, 0)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for pid, p := range left {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("left 5 s after SIGKILL of hangdog: %d %s (%s)", pid, p.cmdline, p.why)
	}
	cg, why := reaperCgroup(log)
	if cg != "" {
		if _, err := os.Stat(cg); !os.IsNotExist(err) {
			t.Errorf("the run's cgroup %s is still there (%v)", cg, err)
		}
	}
	if mode == "tree" && (cg != "" || why == "") {
		t.Errorf("the reaper had a cgroup (%q) with the cgroup mount read-only", cg)
	}
	t.Logf("cgroup %q, or none because %q", cg, why)
	if t.Failed() {
		t.Logf("log:\n%s\nstderr:\n%s", log, stderr.String())
	}
}

// noCgroupWrapper returns the argv prefix that runs a command in a mount
// namespace of its own where the cgroup v2 mount is read-only (exec keeps
// the PID: killing the command's process kills hangdog), or skips.
func noCgroupWrapper(t *testing.T) []string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("making the cgroup mount read-only needs root")
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skip(err)
	}
	mnt := ""
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 7 && strings.Contains(line, " - cgroup2 ") {
			mnt = f[4]
			break
		}
	}
	if mnt == "" {
		t.Skip("no cgroup v2 mount: the default run already has no cgroup")
	}
	wrap := []string{"unshare", "-m", "sh", "-c", `mount -o remount,ro,bind "$0" && exec "$@"`, mnt}
	if out, err := exec.Command(wrap[0], append(wrap[1:], "true")...).CombinedOutput(); err != nil {
		t.Skipf("unshare: %v %s", err, out)
	}
	return wrap
}

// procInfo is what identifies a process across two looks at /proc.
type procInfo struct {
	start   string // field 22 of /proc/PID/stat, clock ticks after boot
	ppid    int
	sid     int
	state   string
	cmdline string
	why     string // why it belongs to the run
	below   bool   // a descendant of hangdog
}

func readProc(pid int) (procInfo, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	i := bytes.LastIndexByte(stat, ')')
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3
	if i < 0 || len(f) < 20 {
		return procInfo{}, false
	}
	p := procInfo{state: f[0], start: f[19]}
	p.ppid, _ = strconv.Atoi(f[1])
	p.sid, _ = strconv.Atoi(f[3])
	cmdline, _ := os.ReadFile(dir + "/cmdline")
	p.cmdline = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	return p, true
}

// runProcs returns the live processes of the run by the rules of
// TestE2EKilledHangdogLeavesNothing: the marker, the PID file (same start
// time as in known, when known is given), the sessions of those PIDs, and
// the descendants of root (root > 0) or the processes in known.
func runProcs(marker string, pidFile []int, known map[int]procInfo, root int) map[int]procInfo {
	all := map[int]procInfo{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if p, ok := readProc(pid); ok && p.state != "Z" {
				all[pid] = p
			}
		}
	}
	same := func(pid int) bool {
		k, ok := known[pid]
		return known == nil || ok && k.start == all[pid].start
	}
	out := map[int]procInfo{}
	add := func(pid int, why string) {
		if p, ok := all[pid]; ok {
			if _, dup := out[pid]; !dup {
				p.why = why
				out[pid] = p
			}
		}
	}
	for pid := range all {
		env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err == nil && bytes.Contains(env, []byte(marker+"\x00")) {
			add(pid, "marker")
		}
	}
	sessions := map[int]bool{}
	for _, pid := range pidFile {
		if _, ok := all[pid]; ok && same(pid) {
			add(pid, "pid file")
		}
		sessions[pid] = true
	}
	for pid, p := range all {
		if sessions[p.sid] {
			add(pid, fmt.Sprintf("session %d", p.sid))
		}
	}
	if root > 0 {
		kids := map[int][]int{}
		for pid, p := range all {
			kids[p.ppid] = append(kids[p.ppid], pid)
		}
		for queue := kids[root]; len(queue) > 0; queue = queue[1:] {
			add(queue[0], "descendant of hangdog")
			if p, ok := out[queue[0]]; ok {
				p.below = true
				out[queue[0]] = p
			}
			queue = append(queue, kids[queue[0]]...)
		}
	}
	for pid, k := range known {
		if p, ok := all[pid]; ok && p.start == k.start {
			add(pid, "was "+k.why)
		}
	}
	return out
}

// holdsBuild tells whether hold-build.sh runs below hangdog (below go test).
func holdsBuild(ps map[int]procInfo) bool {
	for _, p := range ps {
		if p.below && strings.Contains(p.cmdline, "hold-build.sh") {
			return true
		}
	}
	return false
}

// readPIDs reads the fixture's PID file; a line being written is skipped.
func readPIDs(path string) []int {
	b, _ := os.ReadFile(path)
	var pids []int
	for _, line := range strings.Split(string(b), "\n") {
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 1 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// reaperCgroup returns the cgroup the log's "reaper" line names, or why
// there is none.
func reaperCgroup(log string) (cgroup, why string) {
	for _, line := range strings.Split(log, "\n") {
		if _, rest, ok := strings.Cut(line, "\treaper\t"); ok {
			var f struct{ Cgroup, NoCgroup string }
			if json.Unmarshal([]byte(rest), &f) == nil {
				return f.Cgroup, f.NoCgroup
			}
		}
	}
	return "", ""
}
