package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// spawnScript starts, from a shell, the processes a reaper must not let
// escape, and prints the PID of each on its own line, then "ready": a
// background job, a daemon in a session of its own with a clean
// environment and a child of its own, and a double-forked helper (its
// parent shell exits at once, so it is an orphan from the start). With
// argument "exit" the shell then exits 0, else it waits for ever.
const spawnScript = `
sleep 3600 & echo $!
d=$(mktemp)
env -i PATH="$PATH" D="$d" setsid sh -c 'sleep 3600 & echo $! >"$D"; exec sleep 3600' </dev/null >/dev/null 2>&1 &
echo $!
until [ -s "$d" ]; do sleep 0.01; done
cat "$d"; rm -f "$d"
sh -c 'setsid sleep 3600 </dev/null >/dev/null 2>&1 & echo $!'
echo ready
[ "$1" = exit ] && exit 0
wait
`

// reaperHelperEnv marks a re-executed test binary as the parent in
// TestReaperParentKilled; its value is the mode ("cgroup" or "tree").
const reaperHelperEnv = "HANGDOG_REAPER_HELPER"

// TestReaperHelperProcess is not a test: it is the parent that
// TestReaperParentKilled kills with SIGKILL. It starts spawnScript below a
// reaper, prints "reaper R cmd C" and the script's output, and sleeps.
func TestReaperHelperProcess(t *testing.T) {
	mode := os.Getenv(reaperHelperEnv)
	if mode == "" {
		t.Skip("helper process only")
	}
	cmd := exec.Command("sh", "-c", spawnScript, "sh")
	Configure(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := startReaped(cmd, mode == "cgroup")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("reaper %d cmd %d\n", r.Reaper, r.PID)
	io.Copy(os.Stdout, out)
	for {
		time.Sleep(time.Hour)
	}
}

// spawned is how many PIDs spawnScript prints.
const spawned = 4

// readSpawned reads spawnScript's PIDs up to its "ready" line.
func readSpawned(t *testing.T, sc *bufio.Scanner) []int {
	t.Helper()
	var pids []int
	for sc.Scan() {
		if sc.Text() == "ready" && len(pids) == spawned {
			return pids
		}
		pid, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("unexpected line %q after PIDs %v", sc.Text(), pids)
		}
		pids = append(pids, pid)
	}
	t.Fatalf("spawnScript ended early (PIDs %v): %v", pids, sc.Err())
	return nil
}

// killOnFailure kills the given processes if the test has failed, so that
// a broken reaper does not leave them behind for the next test run.
func killOnFailure(t *testing.T, pids *[]int) {
	t.Cleanup(func() {
		for _, pid := range *pids {
			if pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}

func ppid(t *testing.T, pid int) int {
	t.Helper()
	p, err := Get(pid)
	if err != nil {
		t.Fatal(err)
	}
	return p.PPID
}

// reaperModes are the two ways the reaper works: with a cgroup where one
// can be made (skipped where not), and by the process tree alone.
var reaperModes = []string{"cgroup", "tree"}

// skipNoCgroup skips a cgroup-mode test where no cgroup can be made.
func skipNoCgroup(t *testing.T, mode string) {
	t.Helper()
	if mode != "cgroup" {
		return
	}
	cmd := exec.Command("true")
	r, err := startReaped(cmd, true)
	if err != nil {
		t.Fatal(err)
	}
	r.Wait()
	if r.Cgroup == "" {
		t.Skipf("no cgroup here: %s", r.NoCgroup)
	}
}

// TestReaperParentKilled kills the reaper's parent with SIGKILL, which no
// process can clean up after: the reaper must notice and kill everything
// below it, the setsid'd daemon with its own environment and the
// double-forked orphan included.
func TestReaperParentKilled(t *testing.T) {
	t.Parallel()
	for _, mode := range reaperModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			skipNoCgroup(t, mode)
			testReaperParentKilled(t, mode)
		})
	}
}

func testReaperParentKilled(t *testing.T, mode string) {
	parent := exec.Command(os.Args[0], "-test.run=^TestReaperHelperProcess$")
	parent.Env = append(os.Environ(), reaperHelperEnv+"="+mode)
	Configure(parent)
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var reaper, cmdPID int
	if !sc.Scan() {
		t.Fatalf("helper printed nothing: %v", sc.Err())
	}
	if _, err := fmt.Sscanf(sc.Text(), "reaper %d cmd %d", &reaper, &cmdPID); err != nil || reaper == 0 {
		parent.Process.Kill()
		t.Fatalf("helper: %q (%v)", sc.Text(), err)
	}
	pids := append([]int{reaper, cmdPID}, readSpawned(t, sc)...)
	killOnFailure(t, &pids)
	if got := ppid(t, cmdPID); got != reaper {
		t.Errorf("the command's parent is %d, want the reaper %d", got, reaper)
	}
	// The double-forked sleep (and nothing else) is the reaper's child.
	waitFor(t, "the orphan to be re-parented to the reaper", func() (bool, error) {
		kids := 0
		for _, pid := range pids[2:] {
			if ppid(t, pid) == reaper {
				kids++
			}
		}
		return kids == 1, nil
	})

	parent.Process.Kill()
	parent.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for !gone(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !gone(pid) {
			p, _ := Get(pid)
			t.Errorf("left behind 5 s after the parent's SIGKILL: %v", p)
		}
	}
}

// TestReaperPassThrough checks that the command sees what it would see
// started directly — standard streams, extra files, directory,
// environment — and that its exit code comes back.
func TestReaperPassThrough(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	extraR, extraW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer extraR.Close()
	script := `cat; printf 'err\n' >&2; printf '%s|%s|%s|%s\n' "$(pwd)" "$REAPER_TEST" "${HANGDOG_REAPER-unset}" "$(cat /proc/$$/cgroup | grep ^0::)"; echo extra >&3; exit 3`
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REAPER_TEST=yes")
	cmd.Stdin = strings.NewReader("in\x00put\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.ExtraFiles = []*os.File{extraW}
	Configure(cmd)
	r, err := StartReaped(cmd)
	extraW.Close()
	if err != nil {
		t.Fatal(err)
	}
	if r.Reaper == 0 || r.Reaper != cmd.Process.Pid || r.PID == r.Reaper {
		t.Errorf("reaper %d, command %d, cmd.Process %d", r.Reaper, r.PID, cmd.Process.Pid)
	}
	t.Logf("cgroup %q (none because: %s)", r.Cgroup, r.NoCgroup)
	err = r.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("Wait = %v, want exit status 3", err)
	}
	extra, _ := io.ReadAll(extraR)
	if string(extra) != "extra\n" {
		t.Errorf("extra file got %q", extra)
	}
	if stderr.String() != "err\n" {
		t.Errorf("stderr %q", stderr.String())
	}
	lines := strings.SplitN(stdout.String(), "\n", 2)
	if lines[0] != "in\x00put" {
		t.Errorf("stdin came out as %q", lines[0])
	}
	f := strings.Split(strings.TrimSuffix(lines[1], "\n"), "|")
	if len(f) != 4 || f[0] != dir || f[1] != "yes" || f[2] != "unset" {
		t.Errorf("dir|env|marker|cgroup = %q, want %s|yes|unset|...", lines[1], dir)
	}
	if r.Cgroup != "" {
		if len(f) == 4 && !strings.HasSuffix(f[3], "/"+filepath.Base(r.Cgroup)) {
			t.Errorf("command ran in cgroup %q, want %s", f[3], r.Cgroup)
		}
		if _, err := os.Stat(r.Cgroup); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s not removed: %v", r.Cgroup, err)
		}
	}
}

// TestReaperExitStatus: a command killed by a signal makes the reaper die
// of the same signal (SIGQUIT without a Go goroutine dump of the reaper);
// an exit code passes as it is.
func TestReaperExitStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		script string
		want   string
	}{
		{"exit 0", "<nil>"},
		{"exit 42", "exit status 42"},
		{"kill -QUIT $$", "signal: quit"},
		{"kill -TERM $$", "signal: terminated"},
		{"kill -KILL $$", "signal: killed"},
	} {
		t.Run(tc.script, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("sh", "-c", tc.script)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			Configure(cmd)
			r, err := StartReaped(cmd)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Wait(); fmt.Sprint(err) != tc.want {
				t.Errorf("Wait = %v, want %s", err, tc.want)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %q", stderr.String())
			}
		})
	}
}

// TestReaperLeftoversAtExit: when the command exits on its own, whatever
// it left running (in another session, with another environment,
// orphaned) is killed before Wait returns.
func TestReaperLeftoversAtExit(t *testing.T) {
	t.Parallel()
	for _, mode := range reaperModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			skipNoCgroup(t, mode)
			testReaperLeftoversAtExit(t, mode)
		})
	}
}

func testReaperLeftoversAtExit(t *testing.T, mode string) {
	cmd := exec.Command("sh", "-c", spawnScript, "sh", "exit")
	Configure(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := startReaped(cmd, mode == "cgroup")
	if err != nil {
		t.Fatal(err)
	}
	pids := readSpawned(t, bufio.NewScanner(out))
	killOnFailure(t, &pids)
	if err := r.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
	for _, pid := range append(pids, r.PID, r.Reaper) {
		if !gone(pid) {
			p, _ := Get(pid)
			t.Errorf("still running after Wait: %v", p)
		}
	}
}

// TestReaperStartError: a command that cannot be started gives the error
// cmd.Start gives.
func TestReaperStartError(t *testing.T) {
	t.Parallel()
	notExec := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(notExec, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{notExec, "no-such-command-hangdog"} {
		direct := exec.Command(name)
		want := direct.Start()
		cmd := exec.Command(name)
		Configure(cmd)
		_, err := StartReaped(cmd)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("StartReaped(%s) = %v, want %v", name, err, want)
		}
	}
}

func TestReaperSpec(t *testing.T) {
	s := reaperSpec{parent: 12, extra: 2, setpgid: true, pdeathsig: 9, cgroup: true}
	got, err := parseReaperSpec(s.String())
	if err != nil || got != s {
		t.Errorf("round trip of %v: %v, %v", s, got, err)
	}
	for _, bad := range []string{"", "parent=0,extra=0,setpgid=0,pdeathsig=0,cgroup=0", "parent=1,extra=-1,setpgid=0,pdeathsig=0,cgroup=0", "parent=1,extra=0,setpgid=0,pdeathsig=0", "x"} {
		if _, err := parseReaperSpec(bad); err == nil {
			t.Errorf("parseReaperSpec(%q) accepted", bad)
		}
	}
}

func TestCgroup2Dir(t *testing.T) {
	info := `25 1 0:23 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
30 1 0:26 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw
`
	if got, ok := cgroup2Dir([]byte(info), "/user.slice/a b"); !ok || got != "/sys/fs/cgroup/unified/user.slice/a b" {
		t.Errorf("root mount: %q %v", got, ok)
	}
	nested := "40 1 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
	if got, ok := cgroup2Dir([]byte(nested), "/docker/abc/sub"); !ok || got != "/sys/fs/cgroup/sub" {
		t.Errorf("nested root: %q %v", got, ok)
	}
	if _, ok := cgroup2Dir([]byte(nested), "/docker/abcd"); ok {
		t.Errorf("a sibling of the mount's root was taken for inside it")
	}
	if got := unescapeMount(`/mnt/a\040b`); got != "/mnt/a b" {
		t.Errorf("unescape: %q", got)
	}
	if p, ok := cgroup2Path([]byte("4:memory:/x\n0::/user.slice/s\n")); !ok || p != "/user.slice/s" {
		t.Errorf("cgroup2Path: %q %v", p, ok)
	}
	if _, ok := cgroup2Path([]byte("4:memory:/x\n")); ok {
		t.Errorf("cgroup2Path found a v2 path in a v1-only file")
	}
}

// TestCgroupRemoveNested: the run's cgroup goes with the cgroups a nested
// run made below it, and a stale empty one with our name is replaced.
func TestCgroupRemoveNested(t *testing.T) {
	cg, err := newCgroup()
	if err != nil {
		t.Skipf("no cgroup here: %v", err)
	}
	defer cg.remove()
	inner := filepath.Join(cg.dir, "hangdog-1", "hangdog-2")
	if err := os.MkdirAll(inner, 0o700); err != nil {
		t.Fatal(err)
	}
	cg.remove()
	if _, err := os.Stat(cg.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after remove: %v", cg.dir, err)
	}
	if err := os.Mkdir(cg.dir, 0o700); err != nil { // as a killed reaper leaves it
		t.Fatal(err)
	}
	again, err := newCgroup()
	if err != nil {
		t.Fatalf("over a stale empty cgroup: %v", err)
	}
	again.remove()
}

// BenchmarkStart compares starting and waiting for a command directly and
// below the reaper (one more exec of the test binary, one walk of /proc
// at the end, and the cgroup where one can be made).
func BenchmarkStart(b *testing.B) {
	for _, how := range []string{"direct", "reaped-tree", "reaped"} {
		b.Run(how, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cmd := exec.Command("true")
				Configure(cmd)
				var r *Reaped
				var err error
				switch how {
				case "direct":
					r, err = startDirect(cmd)
				default:
					r, err = startReaped(cmd, how == "reaped")
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReaperTestBinaries: with the reaper between us and the go command,
// the test binaries are still found below the go command's PID, signals
// reach them, and the end of the go command ends them all.
func TestReaperTestBinaries(t *testing.T) {
	t.Parallel()
	dirA, dirB := t.TempDir(), t.TempDir()
	cmd := helperCmd("go", dirA, dirB)
	Configure(cmd)
	r, err := StartReaped(cmd)
	if err != nil {
		t.Fatal(err)
	}
	var bins []Process
	waitFor(t, "two test binaries below the go helper", func() (bool, error) {
		bins, err = TestBinaries(r.PID)
		return len(bins) == 2, err
	})
	cwds := []string{bins[0].Cwd, bins[1].Cwd}
	slices.Sort(cwds)
	want := []string{dirA, dirB}
	slices.Sort(want)
	if !slices.Equal(cwds, want) {
		t.Errorf("Cwds = %q, want %q", cwds, want)
	}
	if err := KillTree(bins[0].PID); err != nil {
		t.Error(err)
	}
	waitFor(t, "the killed binary to go", func() (bool, error) { return gone(bins[0].PID), nil })
	if gone(bins[1].PID) {
		t.Errorf("killing one binary's tree killed the other")
	}
	if err := SignalGroup(r.PID, syscall.SIGKILL); err != nil {
		t.Error(err)
	}
	if err := r.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Wait = %v, want killed", err)
	}
	for _, b := range bins {
		if !gone(b.PID) {
			t.Errorf("left after the go helper was killed: %v", b)
		}
	}
}

// TestCgroupFreezeKill checks the way the reaper kills a cgroup on
// kernels without cgroup.kill (before 5.14): freeze, kill, thaw.
func TestCgroupFreezeKill(t *testing.T) {
	t.Parallel()
	cg, err := newCgroup()
	if err != nil {
		t.Skipf("no cgroup here: %v", err)
	}
	defer cg.remove()
	if _, err := os.Stat(filepath.Join(cg.dir, "cgroup.freeze")); err != nil {
		t.Skipf("no cgroup freezer: %v", err)
	}
	cmd := exec.Command("sh", "-c", "sleep 3600 & sleep 3600 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.fd, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer SignalGroup(cmd.Process.Pid, syscall.SIGKILL)
	waitFor(t, "three processes in the cgroup", func() (bool, error) {
		b, err := os.ReadFile(filepath.Join(cg.dir, "cgroup.procs"))
		return len(strings.Fields(string(b))) == 3, err
	})
	cg.freezeKill()
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("shell: Wait = %v, want killed", err)
	}
	waitFor(t, "the cgroup to empty", func() (bool, error) { return !cg.populated(), nil })
	if f := cg.events("frozen"); f != "0" {
		t.Errorf("cgroup left frozen (%q)", f)
	}
}
