package forensics

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The snapshots below are built by hand around real /proc/locks and
// /proc/net/tcp captures (testdata/README.md), filled the way Collect
// fills them: lock PIDs, paths, sockets held.

func testBinary(pid, root int, pkgDir string) Process {
	name := filepath.Base(pkgDir) + ".test"
	return Process{PID: pid, PPID: 100, PGID: 100, Root: root, State: "S", Wchan: "futex_do_wait",
		Cmdline: []string{"/tmp/go-build1/b001/" + name, "-test.paniconexit0", "-test.v=test2json", "-test.timeout=10m0s"},
		Cwd:     pkgDir}
}

// lockSnapshots returns the two snapshots of the lockfiles fixture's
// deadlock as locks-cycle.txt shows it: audit.test (28680) and ledger.test
// (28710).
func lockSnapshots(t *testing.T) (ledger, audit *Snapshot) {
	locks, err := parseLocks(open(t, "locks-cycle.txt"))
	if err != nil {
		t.Fatal(err)
	}
	paths := map[uint64]string{10003659: "/tmp/hangdog-lockfiles/journal.lock", 10003660: "/tmp/hangdog-lockfiles/accounts.lock"}
	for i := range locks {
		locks[i].PIDs = []int{locks[i].PID}
		locks[i].Path = paths[locks[i].Inode]
	}
	ledger = &Snapshot{Label: "example.com/lockfiles/ledger", Roots: []int{28710},
		Processes: []Process{testBinary(28710, 28710, "/src/lockfiles/ledger")}, Locks: locks}
	audit = &Snapshot{Label: "example.com/lockfiles/audit", Roots: []int{28680},
		Processes: []Process{testBinary(28680, 28680, "/src/lockfiles/audit")}, Locks: locks}
	return ledger, audit
}

func kinds(fs []Finding) []FindingKind {
	var ks []FindingKind
	for _, f := range fs {
		ks = append(ks, f.Kind)
	}
	return ks
}

func TestRelateLockCycle(t *testing.T) {
	t.Parallel()
	ledger, audit := lockSnapshots(t)
	got := Relate(ledger, audit)
	if len(got) != 1 || got[0].Kind != LockCycle {
		t.Fatalf("Relate = %+v, want one lock_cycle", got)
	}
	want := "lock cycle: package example.com/lockfiles/audit's test binary (pid 28680) holds the lock file /tmp/hangdog-lockfiles/journal.lock" +
		" that package example.com/lockfiles/ledger's test binary (pid 28710) waits for (exclusive flock);" +
		" package example.com/lockfiles/ledger's test binary (pid 28710) holds the lock file /tmp/hangdog-lockfiles/accounts.lock" +
		" that package example.com/lockfiles/audit's test binary (pid 28680) waits for (exclusive flock)"
	if got[0].Text != want {
		t.Errorf("text\n got %s\nwant %s", got[0].Text, want)
	}
	if !slices.Equal(got[0].PIDs, []int{28710, 28680}) {
		t.Errorf("PIDs = %v, want the stalled binary first", got[0].PIDs)
	}
	if !slices.Equal(got[0].Paths, []string{"/tmp/hangdog-lockfiles/journal.lock", "/tmp/hangdog-lockfiles/accounts.lock"}) {
		t.Errorf("Paths = %v", got[0].Paths)
	}

	// From the other side, the cycle starts with audit's wait.
	rev := Relate(audit, ledger)
	if len(rev) != 1 || !strings.HasPrefix(rev[0].Text, "lock cycle: package example.com/lockfiles/ledger's test binary (pid 28710) holds the lock file /tmp/hangdog-lockfiles/accounts.lock") {
		t.Errorf("Relate(audit, ledger) = %+v", rev)
	}

	// Without the other snapshot the holder is a related process, named
	// as a test binary with its package directory.
	alone := *ledger
	alone.Processes = append(slices.Clone(ledger.Processes), testBinary(28680, 0, "/src/lockfiles/audit"))
	alone.Processes[1].Related = "holds a FLOCK lock on fe:00:10003659 that 28710 waits for"
	got = Relate(&alone)
	if len(got) != 1 || got[0].Kind != LockCycle || !strings.Contains(got[0].Text, "test binary audit.test (pid 28680, in /src/lockfiles/audit) holds the lock file /tmp/hangdog-lockfiles/journal.lock") {
		t.Errorf("Relate(ledger alone) = %+v", got)
	}
}

func TestRelateLockWait(t *testing.T) {
	t.Parallel()
	locks, err := parseLocks(open(t, "locks-flock.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range locks {
		locks[i].PIDs = []int{locks[i].PID}
		locks[i].Path = "/tmp/fx/1.lock"
	}
	holder := Process{PID: 18425, PPID: 1, Related: "holds …", State: "S", Wchan: "do_wait", Cmdline: []string{"flock", "-x", "/tmp/fx/1.lock", "sleep", "60"}}
	waiter := testBinary(18489, 18489, "/src/x")
	waiter.Threads = []Thread{{TID: 18489, State: "S", Wchan: "locks_lock_inode_wait"}}
	s := &Snapshot{Roots: []int{18489}, Processes: []Process{waiter, holder}, Locks: locks}
	got := Relate(s)
	want := "`flock -x /tmp/fx/1.lock sleep 60` (pid 18425) holds the lock file /tmp/fx/1.lock that test binary x.test (pid 18489) waits for (exclusive flock)"
	if len(got) != 1 || got[0].Kind != LockWait || got[0].Text != want || !slices.Equal(got[0].PIDs, []int{18489, 18425}) {
		t.Errorf("Relate = %+v\nwant text %s", got, want)
	}
}

func TestRelateSelfWait(t *testing.T) {
	t.Parallel()
	p := testBinary(50, 50, "/src/self")
	s := &Snapshot{Label: "example.com/self", Roots: []int{50}, Processes: []Process{p}, Locks: []Lock{
		{ID: 1, Class: "FLOCK", Kind: "ADVISORY", Access: "WRITE", PID: 50, Dev: "fe:00", Inode: 7, Range: "0-EOF", Path: "/tmp/db.lock", PIDs: []int{50}},
		{ID: 1, Waiting: true, Depth: 1, Class: "FLOCK", Kind: "ADVISORY", Access: "WRITE", PID: 50, Dev: "fe:00", Inode: 7, Range: "0-EOF", Path: "/tmp/db.lock", PIDs: []int{50}},
	}}
	got := Relate(s)
	if len(got) != 1 || got[0].Kind != LockWait || !strings.Contains(got[0].Text, "waits for the lock file /tmp/db.lock that it holds itself through another open file") {
		t.Errorf("Relate = %+v", got)
	}
}

func TestRelateUnattributedOFD(t *testing.T) {
	t.Parallel()
	locks, err := parseLocks(open(t, "locks-posix-ofd.txt"))
	if err != nil {
		t.Fatal(err)
	}
	locks = locks[2:3] // the OFD lock, without its (pid -1) request
	locks[0].Path, locks[0].PIDs = "/tmp/lk/o.lock", []int{19186}
	waiter := testBinary(19220, 19220, "/src/ofd")
	waiter.Threads = []Thread{{TID: 19220, State: "S", Wchan: "fcntl_setlk"}, {TID: 19222, State: "S", Wchan: "futex_do_wait"}}
	waiter.Files = []File{{FD: 3, Target: "/tmp/lk/o.lock", Kind: KindFile, Mode: "rw", Dev: "fe:00", Inode: 10007393}}
	s := &Snapshot{Roots: []int{19220}, Processes: []Process{waiter}, Locks: locks}
	got := Relate(s)
	want := "test binary ofd.test (pid 19220) waits for a file lock (wchan fcntl_setlk) that /proc/locks does not attribute; locked files it has open: /tmp/lk/o.lock (exclusive OFD lock on bytes 10-29)"
	if len(got) != 1 || got[0].Text != want || !slices.Equal(got[0].PIDs, []int{19220, 19186}) {
		t.Errorf("Relate = %+v\nwant text %s", got, want)
	}
}

func TestRelatePorts(t *testing.T) {
	t.Parallel()
	ap := netip.MustParseAddrPort
	listen := Socket{Inode: 1, Proto: "tcp", Local: ap("127.0.0.1:24517"), State: "LISTEN", PIDs: []int{2}}
	accepted := Socket{Inode: 2, Proto: "tcp", Local: ap("127.0.0.1:24517"), Remote: ap("127.0.0.1:48594"), State: "ESTABLISHED", PIDs: []int{2}}
	client := Socket{Inode: 3, Proto: "tcp", Local: ap("127.0.0.1:48594"), Remote: ap("127.0.0.1:24517"), State: "ESTABLISHED", PIDs: []int{1}}
	clientSnap := &Snapshot{Label: "example.com/portwait/client", Roots: []int{1}, Processes: []Process{testBinary(1, 1, "/src/client")}, Sockets: []Socket{client}}
	serverSnap := &Snapshot{Label: "example.com/portwait/server", Roots: []int{2}, Processes: []Process{testBinary(2, 2, "/src/server")}, Sockets: []Socket{listen, accepted}, EphemeralPorts: []int{32768, 60999}}

	t.Run("connected", func(t *testing.T) {
		got := Relate(clientSnap, serverSnap)
		want := "package example.com/portwait/client's test binary (pid 1) is connected to 127.0.0.1:24517 (ESTABLISHED), where package example.com/portwait/server's test binary (pid 2) serves it"
		if len(got) != 1 || got[0].Kind != PortConnect || got[0].Text != want || got[0].Port != 24517 {
			t.Errorf("Relate = %+v\nwant text %s", got, want)
		}
	})
	t.Run("clients", func(t *testing.T) {
		got := Relate(serverSnap, clientSnap)
		want := "package example.com/portwait/server's test binary (pid 2) listens on 127.0.0.1:24517; package example.com/portwait/client's test binary (pid 1) is connected or connecting to it (ESTABLISHED)"
		if len(got) != 1 || got[0].Kind != PortClient || got[0].Text != want || !slices.Equal(got[0].PIDs, []int{2, 1}) {
			t.Errorf("Relate = %+v\nwant text %s", got, want)
		}
	})
	t.Run("held", func(t *testing.T) {
		bare := *clientSnap
		bare.Sockets = nil // the client only retries net.Listen: nothing in /proc
		got := Relate(&bare, serverSnap)
		want := "package example.com/portwait/server's test binary (pid 2) listens on 127.0.0.1:24517, a fixed port (outside the ephemeral range 32768-60999): a test that binds or dials port 24517 waits while it is held"
		if len(got) != 1 || got[0].Kind != PortHeld || got[0].Text != want {
			t.Errorf("Relate = %+v\nwant text %s", got, want)
		}
		if owner := serverSnap.PortOwner(24517); !slices.Equal(owner, []int{2}) {
			t.Errorf("PortOwner = %v", owner)
		}
	})
	t.Run("syn_sent", func(t *testing.T) {
		// Real sockets from net-tcp.txt: a listener with a full accept
		// queue and a connect that gets no answer.
		socks, err := parseTCP(open(t, "net-tcp.txt"), "tcp", binary.LittleEndian)
		if err != nil {
			t.Fatal(err)
		}
		syn, lis := socks[3], socks[0]
		syn.PIDs, lis.PIDs = []int{1}, []int{2}
		a := &Snapshot{Roots: []int{1}, Processes: []Process{testBinary(1, 1, "/src/a")}, Sockets: []Socket{syn}}
		b := &Snapshot{Label: "example.com/b", Roots: []int{2}, Processes: []Process{testBinary(2, 2, "/src/b")}, Sockets: []Socket{lis}, EphemeralPorts: []int{32768, 60999}}
		got := Relate(a, b)
		want := "test binary a.test (pid 1) is trying to connect (SYN_SENT) to 127.0.0.1:57151, where package example.com/b's test binary (pid 2) listens without accepting"
		if len(got) != 1 || got[0].Text != want {
			t.Errorf("Relate = %+v\nwant text %s", got, want)
		}
		b.Processes = nil // listener unknown
		got = Relate(a)
		if len(got) != 1 || !strings.HasSuffix(got[0].Text, "to 127.0.0.1:57151 and gets no answer") {
			t.Errorf("Relate(a alone) = %+v", got)
		}
	})
}

func TestRelateChildren(t *testing.T) {
	t.Parallel()
	bin := testBinary(10, 10, "/src/childwait")
	sleep := Process{PID: 11, PPID: 10, Root: 10, State: "S", Wchan: "hrtimer_nanosleep", AgeSeconds: 12.34, Cmdline: []string{"/usr/bin/sleep", "3600"}}
	nfs := Process{PID: 12, PPID: 10, Root: 10, State: "S", Wchan: "futex_do_wait", Cmdline: []string{"cp", "a", "/mnt/nfs/b"},
		Threads: []Thread{{TID: 12, State: "S", Wchan: "futex_do_wait"}, {TID: 13, State: "D", Wchan: "rpc_wait_bit_killable"}}}
	zombie := Process{PID: 14, PPID: 10, Root: 10, State: "Z", Cmdline: []string{}}
	s := &Snapshot{Label: "example.com/childwait", Roots: []int{10}, Processes: []Process{bin, sleep, nfs, zombie}}
	got := Relate(s)
	if !slices.Equal(kinds(got), []FindingKind{ChildRunning, Uninterruptible}) {
		t.Fatalf("kinds = %v", kinds(got))
	}
	if want := "`sleep 3600` (pid 11, started by package example.com/childwait's test binary) is still running after 12s: state S (sleeping), wchan hrtimer_nanosleep"; got[0].Text != want {
		t.Errorf("text\n got %s\nwant %s", got[0].Text, want)
	}
	if want := "`cp a /mnt/nfs/b` (pid 12, started by package example.com/childwait's test binary) has 1 thread(s) in uninterruptible sleep (D, wchan rpc_wait_bit_killable): it cannot be killed until that kernel call returns (disk or network file system I/O)"; got[1].Text != want {
		t.Errorf("text\n got %s\nwant %s", got[1].Text, want)
	}
	if Relate(&Snapshot{Processes: []Process{bin}}) != nil {
		t.Error("a lone binary has findings")
	}
}

func TestSnapshotJSON(t *testing.T) {
	t.Parallel()
	ap := netip.MustParseAddrPort
	start := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	s := &Snapshot{
		Label: "example.com/lockfiles/ledger", Taken: start.Add(12 * time.Second), Roots: []int{28710},
		Processes: []Process{{
			PID: 28710, PPID: 28598, PGID: 28598, Root: 28710, State: "S", Wchan: "locks_lock_inode_wait",
			Cmdline: []string{"/tmp/go-build1/b128/ledger.test", "-test.v=test2json"}, Exe: "/tmp/go-build1/b128/ledger.test", Cwd: "/src/lockfiles/ledger",
			Start: start, AgeSeconds: 12,
			Threads: []Thread{{TID: 28710, State: "S", Wchan: "locks_lock_inode_wait"}},
			Files: []File{
				{FD: 1, Target: "pipe:[1000]", Kind: KindPipe, Mode: "w", Flags: "01", Inode: 1000},
				{FD: 3, Target: "/tmp/hangdog-lockfiles/accounts.lock", Kind: KindFile, Mode: "rw", Flags: "02100002", Dev: "fe:00", Inode: 10003660,
					Locks: []FileLock{{Class: "FLOCK", Access: "WRITE", Range: "0-EOF"}}},
				{FD: 4, Target: "socket:[2000]", Kind: KindSocket, Mode: "rw", Flags: "02004002", Inode: 2000},
			},
		}, {PID: 28680, PPID: 28598, PGID: 28598, Related: "holds a FLOCK lock on fe:00:10003659 that 28710 waits for", State: "S", Cmdline: []string{"audit.test"}}},
		Sockets: []Socket{{Inode: 2000, Proto: "tcp", Local: ap("127.0.0.1:48594"), Remote: ap("127.0.0.1:24517"), State: "ESTABLISHED", PIDs: []int{28710}},
			{Inode: 2001, Proto: "unix", Path: "@x", Type: "stream", State: "LISTEN", PIDs: []int{28710}}},
		Locks: []Lock{
			{ID: 1, Class: "FLOCK", Kind: "ADVISORY", Access: "WRITE", PID: 28680, Dev: "fe:00", Inode: 10003659, Range: "0-EOF", Path: "/tmp/hangdog-lockfiles/journal.lock", PIDs: []int{28680}},
			{ID: 1, Waiting: true, Depth: 1, Class: "FLOCK", Kind: "ADVISORY", Access: "WRITE", PID: 28710, Dev: "fe:00", Inode: 10003659, Range: "0-EOF", Path: "/tmp/hangdog-lockfiles/journal.lock", PIDs: []int{28710}},
		},
		EphemeralPorts: []int{32768, 60999},
		Errors:         []string{"forensics: example error"},
	}
	got, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "snapshot.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("JSON changed (run with -update if intended):\n%s", got)
	}
	var back Snapshot
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.Sockets[0].Remote != s.Sockets[0].Remote || !back.Processes[0].Start.Equal(start) || back.Locks[1].Depth != 1 {
		t.Errorf("round trip lost data: %+v", back)
	}
}
