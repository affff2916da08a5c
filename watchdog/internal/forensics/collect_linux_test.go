package forensics

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// The tests below start real processes — this test binary re-executed as
// a helper — each in a process group of its own, and kill the group in
// t.Cleanup, so nothing outlives a failed test.

// helperEnv marks a re-executed test binary as a helper process; its role
// is the first argument after "--".
const helperEnv = "HANGDOG_FORENSICS_HELPER"

// TestHelperProcess is not a test: it is the body of the helper processes.
// Each role prints one line when it is in place, then blocks forever.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" || flag.NArg() == 0 {
		t.Skip("helper process only")
	}
	args := flag.Args()[1:]
	if err := helper(flag.Arg(0), args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		time.Sleep(time.Hour) // a sleeping goroutine keeps the deadlock detector quiet
	}
}

func helper(role string, args []string) error {
	switch role {
	case "flock": // PATH: take an exclusive flock, waiting for it
		if _, err := flockFile(args[0], syscall.LOCK_EX); err != nil {
			return err
		}
		fmt.Println("locked")
	case "flockchild": // PATH: take an exclusive flock, pass it to `sleep 3600` and exit
		f, err := flockFile(args[0], syscall.LOCK_EX)
		if err != nil {
			return err
		}
		cmd := exec.Command("sleep", "3600")
		cmd.ExtraFiles = []*os.File{f}
		if err := cmd.Start(); err != nil {
			return err
		}
		fmt.Println(cmd.Process.Pid)
		os.Exit(0)
	case "cycle": // FIRST SECOND: lock FIRST, wait until someone holds SECOND, lock SECOND
		if _, err := flockFile(args[0], syscall.LOCK_EX); err != nil {
			return err
		}
		fmt.Println("locked")
		for {
			f, err := flockFile(args[1], syscall.LOCK_EX|syscall.LOCK_NB)
			if errors.Is(err, syscall.EWOULDBLOCK) {
				break
			}
			if err != nil {
				return err
			}
			f.Close()
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := flockFile(args[1], syscall.LOCK_EX); err != nil {
			return err
		}
	case "ofd": // PATH: an OFD write lock on bytes 10-29, waiting for it
		f, err := os.OpenFile(args[0], os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		const fOFDSetlkw = 38 // F_OFD_SETLKW (Linux ≥ 3.15)
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Start: 10, Len: 20}
		if err := syscall.FcntlFlock(f.Fd(), fOFDSetlkw, &lk); err != nil {
			return err
		}
		fmt.Println("locked")
	case "listen": // accept connections on 127.0.0.1 and keep them
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		fmt.Println(ln.Addr())
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			conns = append(conns, c)
		}
	case "listen0": // a listener on 127.0.0.1 with backlog 0 that never accepts
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return err
		}
		if err := syscall.Listen(fd, 0); err != nil {
			return err
		}
		sa, err := syscall.Getsockname(fd)
		if err != nil {
			return err
		}
		fmt.Printf("127.0.0.1:%d\n", sa.(*syscall.SockaddrInet4).Port)
	case "dial": // ADDR: connect and keep the connection
		c, err := net.Dial("tcp", args[0])
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Println("connected")
		select {}
	case "dialmany": // PORT: four non-blocking connects to 127.0.0.1:PORT
		port, err := strconv.Atoi(args[0])
		if err != nil {
			return err
		}
		for range 4 {
			s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
			if err != nil {
				return err
			}
			err = syscall.Connect(s, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
			if err != nil && !errors.Is(err, syscall.EINPROGRESS) {
				return err
			}
		}
		fmt.Println("dialed")
	case "spawn": // start `sleep 3600` and wait for it
		cmd := exec.Command("sleep", "3600")
		if err := cmd.Start(); err != nil {
			return err
		}
		fmt.Println(cmd.Process.Pid)
		return cmd.Wait()
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	return nil
}

// flockFile opens path and flocks it with how.
func flockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// startHelper starts a helper in a process group of its own, killed when
// the test ends, and returns its PID and a channel of its output lines.
func startHelper(t *testing.T, role string, args ...string) (int, <-chan string) {
	t.Helper()
	argv := append([]string{"-test.run=^TestHelperProcess$", "--", role}, args...)
	cmd := exec.Command(os.Args[0], argv...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start(t, cmd)
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd.Process.Pid, lines
}

// start starts cmd in a new process group and kills that group when the
// test ends.
func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	proc.Configure(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		if err := proc.SignalGroup(pgid, syscall.SIGKILL); err != nil {
			t.Error(err)
		}
		_ = cmd.Wait()
	})
}

// line waits for the next output line of a helper.
func line(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("helper exited")
		}
		return l
	case <-time.After(30 * time.Second): // generous: -race -count=N on 2 CPUs starts helpers slowly
		t.Fatal("no output from helper")
	}
	return ""
}

// collectUntil collects pids until cond holds for the snapshot, for at
// most timeout.
func collectUntil(t *testing.T, pids []int, timeout time.Duration, what string, cond func(*Snapshot) bool) *Snapshot {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s, err := Collect(pids)
		if err != nil {
			t.Fatal(err)
		}
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(s, "", "  ")
			t.Fatalf("timed out waiting for %s; last snapshot:\n%s", what, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitsForLock reports whether every pid has a pending request in s.
func waitsForLock(s *Snapshot, pids ...int) bool {
	for _, pid := range pids {
		found := false
		for _, l := range s.Locks {
			found = found || (l.Waiting && slices.Contains(l.PIDs, pid))
		}
		if !found {
			return false
		}
	}
	return true
}

func findKind(fs []Finding, k FindingKind) (Finding, bool) {
	for _, f := range fs {
		if f.Kind == k {
			return f, true
		}
	}
	return Finding{}, false
}

func TestCollectSelf(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "open.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Collect([]int{os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Roots, []int{os.Getpid()}) || s.Processes[0].PID != os.Getpid() || s.Processes[0].Root != os.Getpid() {
		t.Fatalf("roots %v, first process %+v", s.Roots, s.Processes[0])
	}
	me := s.Processes[0]
	if len(me.Threads) < 2 || me.AgeSeconds <= 0 || me.Start.IsZero() {
		t.Errorf("threads %v, age %v, start %v", me.Threads, me.AgeSeconds, me.Start)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(me.Files, func(x File) bool { return x.FD == int(f.Fd()) })
	if i < 0 {
		t.Fatalf("fd %d not in %+v", f.Fd(), me.Files)
	}
	if got := me.Files[i]; got.Target != f.Name() || got.Kind != KindFile || got.Mode != "rw" || got.Inode != st.Ino || got.Dev == "" {
		t.Errorf("file %+v, want %s rw inode %d", got, f.Name(), st.Ino)
	}
	if len(s.EphemeralPorts) != 2 {
		t.Errorf("EphemeralPorts = %v", s.EphemeralPorts)
	}
}

func TestCollectMissing(t *testing.T) {
	t.Parallel()
	_, err := Collect([]int{1 << 30})
	if !errors.Is(err, proc.ErrNoProcess) {
		t.Errorf("err = %v, want ErrNoProcess", err)
	}
}

func TestCollectFlockWait(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "1.lock")
	holder, out := startHelper(t, "flock", path)
	line(t, out)
	waiter, _ := startHelper(t, "flock", path)

	s := collectUntil(t, []int{waiter}, 10*time.Second, "the waiter's request", func(s *Snapshot) bool {
		// The request shows in /proc/locks a moment before the thread sleeps.
		w, _ := s.Process(waiter)
		_, sleeping := w.lockWaiting()
		return waitsForLock(s, waiter) && sleeping
	})
	h, ok := s.Process(holder)
	if !ok || h.Root != 0 || !strings.HasPrefix(h.Related, "holds a FLOCK lock") {
		t.Errorf("holder %d not related: %+v", holder, s.Processes)
	}
	if len(s.Locks) != 2 || s.Locks[0].Path != path || !slices.Equal(s.Locks[0].PIDs, []int{holder}) || !s.Locks[1].Waiting {
		t.Errorf("locks %+v", s.Locks)
	}
	w, _ := s.Process(waiter)
	wchan, _ := w.lockWaiting()
	t.Logf("waiter wchan: %s", wchan)
	got := Relate(s)
	want := fmt.Sprintf("(pid %d, in %s) holds the lock file %s that test binary %s (pid %d) waits for (exclusive flock)", holder, h.Cwd, path, filepath.Base(os.Args[0]), waiter)
	if len(got) != 1 || got[0].Kind != LockWait || !strings.HasSuffix(got[0].Text, want) {
		t.Errorf("Relate = %+v\nwant text ending %s", got, want)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Error(err)
	}
}

// TestCollectInheritedLock: the process that took a flock exited, and the
// child that inherited its descriptor keeps the lock; /proc/locks still
// names the dead locker.
func TestCollectInheritedLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "1.lock")
	locker, out := startHelper(t, "flockchild", path)
	sleep, _ := strconv.Atoi(line(t, out))
	waiter, _ := startHelper(t, "flock", path)

	// The locker's exit is checked before each snapshot, not after: a
	// snapshot taken while it still ran (and held the file open) names it
	// as the holder, rightly.
	var s *Snapshot
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		p, err := proc.Get(locker)
		dead := err != nil || p.State == "Z"
		snap, err := Collect([]int{waiter})
		if err != nil {
			t.Fatal(err)
		}
		if dead && waitsForLock(snap, waiter) {
			s = snap
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the waiter's request and the locker's exit")
		}
	}
	if len(s.Locks) == 0 || s.Locks[0].PID != locker {
		t.Errorf("locks %+v, want the lock attributed to the dead locker %d", s.Locks, locker)
	}
	got := Relate(s)
	want := fmt.Sprintf("`sleep 3600` (pid %d) holds the lock file %s that test binary", sleep, path)
	if len(got) != 1 || got[0].Kind != LockWait || !strings.HasPrefix(got[0].Text, want) || !slices.Equal(got[0].PIDs, []int{waiter, sleep}) {
		t.Errorf("Relate = %+v\nwant text starting %s", got, want)
	}
}

func TestCollectFlockCycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	one, two := filepath.Join(dir, "1.lock"), filepath.Join(dir, "2.lock")
	a, _ := startHelper(t, "cycle", one, two)
	b, _ := startHelper(t, "cycle", two, one)

	// A snapshot is not atomic: one taken while the deadlock forms can
	// show a lock without the file it is held through. Wait for a
	// consistent one, as the watchdog does by looking only after seconds.
	var got []Finding
	sa := collectUntil(t, []int{a}, 10*time.Second, "the cycle", func(s *Snapshot) bool {
		got = Relate(s)
		return waitsForLock(s, a, b) && len(got) == 1 && got[0].Kind == LockCycle
	})
	if !slices.Equal(got[0].PIDs, []int{a, b}) {
		t.Errorf("Relate(a alone) = %+v", got)
	}
	sa.Label = "example.com/a"
	sb, err := Collect([]int{b})
	if err != nil {
		t.Fatal(err)
	}
	sb.Label = "example.com/b"
	got = Relate(sb, sa)
	want := fmt.Sprintf("lock cycle: package example.com/a's test binary (pid %d) holds the lock file %s that package example.com/b's test binary (pid %d) waits for (exclusive flock); "+
		"package example.com/b's test binary (pid %d) holds the lock file %s that package example.com/a's test binary (pid %d) waits for (exclusive flock)", a, one, b, b, two, a)
	if len(got) != 1 || got[0].Text != want {
		t.Errorf("Relate(b, a) = %+v\nwant %s", got, want)
	}
}

func TestCollectOFDWait(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "o.lock")
	holder, out := startHelper(t, "ofd", path)
	line(t, out)
	waiter, _ := startHelper(t, "ofd", path)

	s := collectUntil(t, []int{waiter}, 10*time.Second, "the OFD request", func(s *Snapshot) bool { return waitsForLock(s, waiter) })
	if _, ok := s.Process(holder); !ok {
		t.Errorf("holder %d not found through fdinfo: %+v", holder, s.Processes)
	}
	if len(s.Locks) != 2 || s.Locks[0].PID != -1 || !slices.Equal(s.Locks[0].PIDs, []int{holder}) {
		t.Errorf("locks %+v", s.Locks)
	}
	got := Relate(s)
	if len(got) != 1 || got[0].Kind != LockWait || !slices.Equal(got[0].PIDs, []int{waiter, holder}) || !strings.Contains(got[0].Text, "(exclusive OFD lock on bytes 10-29)") {
		t.Errorf("Relate = %+v", got)
	}
}

func TestCollectTCP(t *testing.T) {
	t.Parallel()
	server, out := startHelper(t, "listen")
	addr := line(t, out)
	client, out := startHelper(t, "dial", addr)
	line(t, out)
	port, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])

	sc, err := Collect([]int{client})
	if err != nil {
		t.Fatal(err)
	}
	got := Relate(sc)
	if f, ok := findKind(got, PortConnect); !ok || f.Port != port || !slices.Equal(f.PIDs, []int{client, server}) ||
		!strings.Contains(f.Text, fmt.Sprintf("is connected to %s (ESTABLISHED), where", addr)) {
		t.Errorf("Relate(client) = %+v", got)
	}

	ss, err := Collect([]int{server})
	if err != nil {
		t.Fatal(err)
	}
	if owner := ss.PortOwner(port); !slices.Equal(owner, []int{server}) {
		t.Errorf("snapshot PortOwner = %v, want [%d]", owner, server)
	}
	got = Relate(ss)
	if f, ok := findKind(got, PortClient); !ok || !slices.Equal(f.PIDs, []int{server, client}) {
		t.Errorf("Relate(server) = %+v", got)
	}
	owner, err := PortOwner(port)
	if err != nil || !slices.Equal(owner, []int{server}) {
		t.Errorf("PortOwner(%d) = %v, %v; want [%d]", port, owner, err, server)
	}
}

func TestCollectSynSent(t *testing.T) {
	t.Parallel()
	server, out := startHelper(t, "listen0")
	addr := line(t, out)
	client, out := startHelper(t, "dialmany", addr[strings.LastIndexByte(addr, ':')+1:])
	line(t, out)

	s := collectUntil(t, []int{client}, 10*time.Second, "SYN_SENT sockets", func(s *Snapshot) bool {
		return slices.ContainsFunc(s.Sockets, func(so Socket) bool { return so.State == "SYN_SENT" })
	})
	got := Relate(s)
	want := fmt.Sprintf("is trying to connect (SYN_SENT) to %s, where test binary", addr)
	n := 0
	for _, f := range got {
		if strings.Contains(f.Text, want) && strings.HasSuffix(f.Text, "listens without accepting") && slices.Equal(f.PIDs, []int{client, server}) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("Relate = %+v\nwant one finding containing %q", got, want)
	}
}

func TestCollectChild(t *testing.T) {
	t.Parallel()
	parent, out := startHelper(t, "spawn")
	child, _ := strconv.Atoi(line(t, out))
	s := collectUntil(t, []int{parent}, 10*time.Second, "sleep to sleep", func(s *Snapshot) bool {
		p, ok := s.Process(child)
		return ok && p.Wchan != "" && len(p.Cmdline) == 2
	})
	s.Label = "example.com/spawn"
	got := Relate(s)
	f, ok := findKind(got, ChildRunning)
	if !ok || !slices.Equal(f.PIDs, []int{child, parent}) || !strings.HasPrefix(f.Text, fmt.Sprintf("`sleep 3600` (pid %d, started by package example.com/spawn's test binary) is still running after", child)) {
		t.Errorf("Relate = %+v", got)
	}
	t.Log(f.Text)
}

func TestPipeHolders(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("sleep", "3600")
	cmd.Stdout = w
	start(t, cmd)
	w.Close()
	target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	ino, _ := proc.PipeInode(target)
	got, err := PipeHolders(cmd.Process.Pid, map[uint64]bool{ino: true})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("`sleep 3600` (pid %d) holds the write end of a pipe go test reads (fd 1;", cmd.Process.Pid)
	if len(got) != 1 || got[0].Kind != PipeHolder || !strings.HasPrefix(got[0].Text, want) {
		t.Errorf("PipeHolders = %+v\nwant text starting %s", got, want)
	}
}
