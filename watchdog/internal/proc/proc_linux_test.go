package proc

import (
	"bufio"
	"errors"
	"flag"
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

// The tests below start real processes, each tree in a process group of its
// own, and kill that group in t.Cleanup, so nothing outlives a failed test.

// helperEnv marks a re-executed test binary as a helper process; its role
// is the first argument after "--".
const helperEnv = "HANGDOG_PROC_HELPER"

// TestHelperProcess is not a test: it is the body of the helper processes
// started by the other tests (roles: go, test, nested, quit).
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" || flag.NArg() == 0 {
		t.Skip("helper process only")
	}
	switch role := flag.Arg(0); role {
	case "go": // plays the go command: one test binary directly, one below an -exec wrapper
		direct := helperCmd("test")
		direct.Dir = flag.Arg(1)
		wrapped := exec.Command("sh", append([]string{"-c", `"$@" & wait`, "sh"}, helperArgv("test")...)...)
		wrapped.Dir = flag.Arg(2)
		for _, c := range []*exec.Cmd{direct, wrapped} {
			if err := c.Start(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	case "test": // plays a test binary that runs a test binary of its own (go test inside a test)
		if err := helperCmd("nested").Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "nested":
	case "quit":
		fmt.Println("ready")
	default:
		fmt.Fprintln(os.Stderr, "unknown role", role)
		os.Exit(1)
	}
	for {
		time.Sleep(time.Hour) // a sleeping goroutine keeps the deadlock detector quiet
	}
}

// helperArgv is the argv of a helper process with the given role and arguments.
func helperArgv(role string, args ...string) []string {
	return append([]string{os.Args[0], "-test.run=^TestHelperProcess$", "--", role}, args...)
}

func helperCmd(role string, args ...string) *exec.Cmd {
	argv := helperArgv(role, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	return cmd
}

// start starts cmd in a new process group and kills that group when the
// test ends.
func start(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	Configure(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		if err := SignalGroup(pgid, syscall.SIGKILL); err != nil {
			t.Error(err)
		}
		_ = cmd.Wait()
	})
	return pgid
}

// waitFor polls cond until it returns true or 10 s have passed.
func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last error: %v)", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gone reports whether pid has exited: no /proc entry, or a zombie nobody
// has reaped yet (pid 1 of a container may not reap).
func gone(pid int) bool {
	p, err := Get(pid)
	return errors.Is(err, ErrNoProcess) || p.State == "Z" || p.State == "X"
}

func argvHas(p Process, args ...string) bool {
	for i := 0; i+len(args) <= len(p.Cmdline); i++ {
		if slices.Equal(p.Cmdline[i:i+len(args)], args) {
			return true
		}
	}
	return false
}

func TestGetSelf(t *testing.T) {
	t.Parallel()
	p, err := Get(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	exe, _ := os.Executable()
	if p.PID != os.Getpid() || p.PPID != os.Getppid() || p.PGID != syscall.Getpgrp() {
		t.Errorf("ids: got %d/%d/%d, want %d/%d/%d", p.PID, p.PPID, p.PGID, os.Getpid(), os.Getppid(), syscall.Getpgrp())
	}
	if !slices.Equal(p.Cmdline, os.Args) {
		t.Errorf("Cmdline = %q, want %q", p.Cmdline, os.Args)
	}
	if p.Cwd != wd || p.Exe != exe {
		t.Errorf("Cwd, Exe = %q, %q; want %q, %q", p.Cwd, p.Exe, wd, exe)
	}
	// The state is of the thread group leader, which may be in a disk wait
	// (D) for a page fault on a loaded machine; never stopped or a zombie.
	if p.State != "R" && p.State != "S" && p.State != "D" {
		t.Errorf("State = %q", p.State)
	}
	if age := p.Age(time.Now()); age < 0 || age > time.Hour {
		t.Errorf("Age = %v (Start %v)", age, p.Start)
	}
}

func TestGetMissing(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Skip(err)
	}
	max, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for _, pid := range []int{max + 1, 0, -5} {
		if _, err := Get(pid); !errors.Is(err, ErrNoProcess) {
			t.Errorf("Get(%d) error = %v, want ErrNoProcess", pid, err)
		}
	}
	if _, err := OpenFiles(max + 1); !errors.Is(err, ErrNoProcess) {
		t.Errorf("OpenFiles of a missing pid: %v", err)
	}
	if err := Quit(max + 1); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Quit of a missing pid: %v", err)
	}
	if err := KillTree(max + 1); err != nil {
		t.Errorf("KillTree of a missing pid: %v", err)
	}
}

func TestRefuseDangerousIDs(t *testing.T) {
	t.Parallel()
	for _, id := range []int{1, 0, -1} {
		if err := SignalGroup(id, syscall.Signal(0)); err == nil {
			t.Errorf("SignalGroup(%d) did not refuse", id)
		}
		if err := KillTree(id); err == nil {
			t.Errorf("KillTree(%d) did not refuse", id)
		}
		if err := Quit(id); err == nil {
			t.Errorf("Quit(%d) did not refuse", id)
		}
	}
}

func TestDescendants(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `sleep 3600 & sh -c 'sleep 3601 & wait' & wait`)
	cmd.Dir = dir
	root := start(t, cmd)

	var tree []Process
	waitFor(t, "the shell tree", func() (bool, error) {
		var err error
		tree, err = Descendants(root)
		n := 0
		for _, p := range tree {
			if argvHas(p, "sleep", "3600") || argvHas(p, "sleep", "3601") {
				n++
			}
		}
		return n == 2 && len(tree) == 3, err
	})
	index := map[int]int{root: -1}
	for i, p := range tree {
		index[p.PID] = i
	}
	for i, p := range tree {
		if pi, ok := index[p.PPID]; !ok || pi >= i {
			t.Errorf("%v: parent %d not listed before it (tree %v)", p, p.PPID, tree)
		}
		if p.PGID != root {
			t.Errorf("%v: PGID %d, want %d", p, p.PGID, root)
		}
		if p.Cwd != dir {
			t.Errorf("%v: Cwd %q, want %q", p, p.Cwd, dir)
		}
		if (p.State != "S" && p.State != "R") || p.Exe == "" || p.Age(time.Now()) > time.Minute {
			t.Errorf("%v: State %q, Exe %q, Start %v", p, p.State, p.Exe, p.Start)
		}
		if argvHas(p, "sleep", "3601") && tree[index[p.PPID]].Cmdline[0] != "sh" {
			t.Errorf("sleep 3601 is not the child of the inner sh: %v", tree)
		}
		t.Logf("%v wchan=%s", p, p.Wchan)
	}
	group, err := InGroup(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(group) != 4 || group[0].PID != root {
		t.Errorf("InGroup(%d) = %v, want the root and its 3 descendants", root, group)
	}
}

func TestInGroupFindsOrphans(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sh", "-c", `sleep 3600 >/dev/null 2>&1 & echo $!`)
	var out strings.Builder
	cmd.Stdout = &out
	pgid := start(t, cmd)
	if err := cmd.Wait(); err != nil { // the shell exits at once: its sleep is an orphan
		t.Fatal(err)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}

	if kids, err := Descendants(pgid); err != nil || len(kids) != 0 {
		t.Errorf("Descendants of the exited shell = %v, %v", kids, err)
	}
	group, err := InGroup(pgid)
	if err != nil {
		t.Fatal(err)
	}
	if len(group) != 1 || group[0].PID != orphan || group[0].PPID == pgid || !argvHas(group[0], "sleep", "3600") {
		t.Fatalf("InGroup(%d) = %v, want only the orphan %d", pgid, group, orphan)
	}
	if err := SignalGroup(pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the orphan to die", func() (bool, error) { return gone(orphan), nil })
	if err := SignalGroup(pgid, syscall.SIGKILL); err != nil {
		t.Errorf("signalling an empty group: %v", err)
	}
}

// TestPipeHolders reproduces the "binary exited, go test still waits" hang:
// a shell gets the write end of our pipe as stdout, starts a background
// sleep and exits; the sleep keeps the pipe open, so we never read EOF.
func TestPipeHolders(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cmd := exec.Command("sh", "-c", `sleep 3600 & echo $!`)
	cmd.Stdout = w
	pgid := start(t, cmd)
	w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	sleeper, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}

	ours, err := ReadPipes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	fds, err := OpenFiles(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var inode uint64
	for _, fd := range fds {
		if fd.Num == int(r.Fd()) {
			inode, _ = PipeInode(fd.Target)
			if !fd.Read || fd.Write {
				t.Errorf("read end %+v: want Read only", fd)
			}
		}
	}
	if inode == 0 || !ours[inode] {
		t.Fatalf("read end fd %d not found as a pipe among %v", r.Fd(), fds)
	}

	holders, err := PipeHolders(pgid, map[uint64]bool{inode: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []FD{{Num: 1, Target: fmt.Sprintf("pipe:[%d]", inode), Write: true}}
	if len(holders) != 1 || holders[0].PID != sleeper || !slices.Equal(holders[0].FDs, want) {
		t.Fatalf("PipeHolders = %+v, want sleep %d holding %v", holders, sleeper, want)
	}
	all, err := PipeHolders(0, map[uint64]bool{inode: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].PID != sleeper { // we hold only the read end
		t.Errorf("PipeHolders(0) = %+v, want only the sleep %d", all, sleeper)
	}

	if err := KillTree(sleeper); err != nil {
		t.Fatal(err)
	}
	if err := r.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, r); err != nil || n != 0 {
		t.Errorf("reading after the holder died: %d bytes, %v; want EOF", n, err)
	}
}

func TestKillTree(t *testing.T) {
	t.Parallel()
	outsider := exec.Command("sleep", "3600")
	outsiderPID := start(t, outsider)

	cmd := exec.Command("sh", "-c", `sleep 3600 & sh -c 'sleep 3601 & sh -c "sleep 3602 & wait" & wait' & wait`)
	root := start(t, cmd)
	var tree []Process
	waitFor(t, "the shell tree", func() (bool, error) {
		var err error
		tree, err = Descendants(root)
		n := 0
		for _, p := range tree {
			if p.Cmdline[0] == "sleep" {
				n++
			}
		}
		return n == 3 && len(tree) == 5, err
	})
	if err := KillTree(root); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("root: Wait = %v, want killed", err)
	}
	for _, p := range tree {
		p := p
		waitFor(t, fmt.Sprintf("%v to die", p), func() (bool, error) { return gone(p.PID), nil })
	}
	group, err := InGroup(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range group {
		if p.State != "Z" { // zombies wait for pid 1 to reap them
			t.Errorf("left in the group: %v", p)
		}
	}
	if p, err := Get(outsiderPID); err != nil || (p.State != "S" && p.State != "R") {
		t.Errorf("a process outside the tree was hit: %v, %v", p, err)
	}
}

func TestQuit(t *testing.T) {
	t.Parallel()
	cmd := helperCmd("quit")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	pid := start(t, cmd)
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := Quit(pid); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("Wait = %v, want exit status 2", err)
	}
	if s := stderr.String(); !strings.Contains(s, "SIGQUIT: quit") || !strings.Contains(s, "TestHelperProcess") {
		t.Errorf("no goroutine dump on stderr:\n%s", s)
	}
}

func TestTestBinaries(t *testing.T) {
	t.Parallel()
	dirA, dirB := t.TempDir(), t.TempDir()
	goPID := start(t, helperCmd("go", dirA, dirB))

	var bins []Process
	waitFor(t, "the helper tree", func() (bool, error) {
		tree, err := Descendants(goPID)
		roles := map[string]int{}
		for _, p := range tree {
			if n := len(p.Cmdline); n > 0 && p.Cmdline[0] == "sh" {
				roles["sh"]++
			} else if n >= 4 && p.Cmdline[n-2] == "--" {
				roles[p.Cmdline[n-1]]++
			}
		}
		if roles["sh"] != 1 || roles["test"] != 2 || roles["nested"] != 2 || len(tree) != 5 {
			return false, fmt.Errorf("tree so far: %v", tree)
		}
		bins, err = TestBinaries(goPID)
		return err == nil, err
	})
	if len(bins) != 2 {
		t.Fatalf("TestBinaries = %v, want the two role=test helpers", bins)
	}
	cwds := []string{bins[0].Cwd, bins[1].Cwd}
	slices.Sort(cwds)
	want := []string{dirA, dirB}
	slices.Sort(want)
	if !slices.Equal(cwds, want) {
		t.Errorf("Cwds = %q, want %q", cwds, want)
	}
	for _, b := range bins {
		if b.Cmdline[len(b.Cmdline)-1] != "test" || filepath.Base(b.Exe) != filepath.Base(os.Args[0]) {
			t.Errorf("not a role=test helper: %v (exe %s)", b, b.Exe)
		}
	}
}

// goTest starts `go test -json -count=1 ./...` in fixture testdata/hang/NAME
// of the repository and returns the go process, the fixture directory and a
// channel of its output lines.
func goTest(t *testing.T, name string) (*exec.Cmd, string, <-chan string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go test on a fixture")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip(err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "testdata", "hang", name))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start(t, cmd)
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, dir, lines
}

// awaitLine reads lines until one contains all of subs.
func awaitLine(t *testing.T, lines <-chan string, subs ...string) {
	t.Helper()
	timeout := time.After(60 * time.Second) // includes compiling the fixture
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line with %q", subs)
			}
			match := true
			for _, s := range subs {
				match = match && strings.Contains(line, s)
			}
			if match {
				return
			}
		case <-timeout:
			t.Fatalf("no line with %q", subs)
		}
	}
}

// TestRealGoTest finds a hanging test binary below a real go command and
// gets its goroutines with Quit.
func TestRealGoTest(t *testing.T) {
	t.Parallel()
	cmd, dir, lines := goTest(t, "chanrecv")
	awaitLine(t, lines, `"Action":"run"`, `"Test":"TestStartMissingFile"`)

	var bins []Process
	waitFor(t, "the test binary", func() (bool, error) {
		var err error
		bins, err = TestBinaries(cmd.Process.Pid)
		return len(bins) == 1, err
	})
	b := bins[0]
	if b.Cwd != dir || !slices.Contains(b.Cmdline, "-test.v=test2json") || !slices.Contains(b.Cmdline, "-test.paniconexit0") {
		t.Errorf("test binary %v: Cwd %q, want %q", b, b.Cwd, dir)
	}
	if b.PGID != cmd.Process.Pid {
		t.Errorf("test binary in group %d, want the go command's %d", b.PGID, cmd.Process.Pid)
	}
	if err := Quit(b.PID); err != nil {
		t.Fatal(err)
	}
	awaitLine(t, lines, `[chan receive]`)
	awaitLine(t, lines, `"Action":"fail"`, `"Package":"example.com/chanrecv"`)
}

// TestRealPipeHolder finds the process that keeps go test waiting after the
// test binary exited.
func TestRealPipeHolder(t *testing.T) {
	t.Parallel()
	cmd, _, lines := goTest(t, "pipeholder")
	goPID := cmd.Process.Pid
	awaitLine(t, lines, `"Action":"pass"`, `"Test":"TestLaunch"`)
	waitFor(t, "the test binary to exit", func() (bool, error) {
		bins, err := TestBinaries(goPID)
		return err == nil && len(bins) == 0, err
	})

	inodes, err := ReadPipes(goPID)
	if err != nil {
		t.Fatal(err)
	}
	holders, err := PipeHolders(goPID, inodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(holders) != 1 || !argvHas(holders[0].Process, "sleep", "3600") {
		t.Fatalf("PipeHolders = %+v, want only the sleep", holders)
	}
	sleeper := holders[0]
	if len(sleeper.FDs) != 2 || sleeper.FDs[0].Num != 1 || sleeper.FDs[1].Num != 2 {
		t.Errorf("sleep holds %v, want its stdout and stderr", sleeper.FDs)
	}
	if err := KillTree(sleeper.PID); err != nil {
		t.Fatal(err)
	}
	awaitLine(t, lines, `"Action":"pass"`, `"Package":"example.com/pipeholder"`, `"Elapsed"`)
	if err := cmd.Wait(); err != nil {
		t.Errorf("go test: %v", err)
	}
}
