package forensics

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// These tests run `go test -json ./...` on the fixtures of
// testdata/hang, find the test binaries below the go command and relate
// their snapshots, as the watchdog does. They take a few seconds (building
// the fixtures) and are skipped with -short.

// fixtureTimeout bounds compiling a fixture and reaching its hang.
const fixtureTimeout = 2 * time.Minute

// goTestFixture starts `go test -json -count=1 ./...` in fixture
// testdata/hang/NAME, in a process group killed when the test ends, and
// returns the go command's PID, the fixture directory and its output lines.
func goTestFixture(t *testing.T, name string, env ...string) (int, string, <-chan string) {
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
	cmd.Env = append(os.Environ(), env...)
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
	return cmd.Process.Pid, dir, lines
}

// awaitOutput reads lines until one contains all of subs.
func awaitOutput(t *testing.T, lines <-chan string, subs ...string) {
	t.Helper()
	timeout := time.After(fixtureTimeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line with %q", subs)
			}
			if !slices.ContainsFunc(subs, func(s string) bool { return !strings.Contains(l, s) }) {
				return
			}
		case <-timeout:
			t.Fatalf("no line with %q", subs)
		}
	}
}

// binaries waits for the test binaries of the given package directories
// (relative to dir) and returns their PIDs by directory.
func binaries(t *testing.T, goPID int, dir string, pkgs ...string) map[string]int {
	t.Helper()
	deadline := time.Now().Add(fixtureTimeout)
	for {
		bins, err := proc.TestBinaries(goPID)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]int{}
		for _, b := range bins {
			if rel, err := filepath.Rel(dir, b.Cwd); err == nil && slices.Contains(pkgs, rel) {
				found[rel] = b.PID
			}
		}
		if len(found) == len(pkgs) {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("test binaries of %v not found; have %v", pkgs, bins)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func labelled(t *testing.T, pid int, label string) *Snapshot {
	t.Helper()
	s, err := Collect([]int{pid})
	if err != nil {
		t.Fatal(err)
	}
	s.Label = label
	return s
}

// TestFixtureLockfiles: the ledger and audit test binaries each hold one
// lock file and wait for the other's.
func TestFixtureLockfiles(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir() // the fixture's lock files go to $TMPDIR/hangdog-lockfiles: keep runs apart
	goPID, dir, _ := goTestFixture(t, "lockfiles", "TMPDIR="+tmp)
	bins := binaries(t, goPID, dir, "ledger", "audit")
	ledger, audit := bins["ledger"], bins["audit"]

	var ls, as *Snapshot
	deadline := time.Now().Add(fixtureTimeout)
	for {
		ls = labelled(t, ledger, "example.com/lockfiles/ledger")
		as = labelled(t, audit, "example.com/lockfiles/audit")
		// Wait for snapshots that show the whole cycle: one taken while
		// it forms can miss a lock or the file it is held through.
		if got := Relate(ls, as); waitsForLock(ls, ledger) && waitsForLock(as, audit) && len(got) > 0 && got[0].Kind == LockCycle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no deadlock; ledger locks %+v, audit locks %+v", ls.Locks, as.Locks)
		}
		time.Sleep(50 * time.Millisecond)
	}

	lockDir := filepath.Join(tmp, "hangdog-lockfiles")
	accounts, journal := filepath.Join(lockDir, "accounts.lock"), filepath.Join(lockDir, "journal.lock")
	got := Relate(ls, as)
	want := fmt.Sprintf("lock cycle: package example.com/lockfiles/audit's test binary (pid %d) holds the lock file %s that package example.com/lockfiles/ledger's test binary (pid %d) waits for (exclusive flock); "+
		"package example.com/lockfiles/ledger's test binary (pid %d) holds the lock file %s that package example.com/lockfiles/audit's test binary (pid %d) waits for (exclusive flock)",
		audit, journal, ledger, ledger, accounts, audit)
	if len(got) != 1 || got[0].Kind != LockCycle || got[0].Text != want {
		t.Fatalf("Relate(ledger, audit) = %+v\nwant %s", got, want)
	}
	t.Log(got[0].Text)

	// The stalled binary's snapshot alone finds the cycle too: the other
	// binary is collected as a related process.
	alone := Relate(ls)
	if len(alone) != 1 || alone[0].Kind != LockCycle || !strings.Contains(alone[0].Text, fmt.Sprintf("test binary audit.test (pid %d, in %s/audit)", audit, dir)) {
		t.Errorf("Relate(ledger) = %+v", alone)
	}
	if _, err := json.Marshal(ls); err != nil {
		t.Error(err)
	}
}

// fixedPort is the port the portwait fixture's server listens on.
const fixedPort = 24517

// TestFixturePortwait: package server's test holds 127.0.0.1:24517; package
// client's test is connected to it and then retries net.Listen on it.
func TestFixturePortwait(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go test on a fixture")
	}
	if owner, err := PortOwner(fixedPort); err != nil || len(owner) > 0 {
		t.Skipf("port %d already taken (%v, %v)", fixedPort, owner, err)
	}
	goPID, dir, lines := goTestFixture(t, "portwait")
	awaitOutput(t, lines, `"Package":"example.com/portwait/client"`, "waiting for the stale server to go away")
	bins := binaries(t, goPID, dir, "server", "client")
	server, client := bins["server"], bins["client"]

	owner, err := PortOwner(fixedPort)
	if err != nil || !slices.Equal(owner, []int{server}) {
		t.Errorf("PortOwner(%d) = %v, %v; want the server's test binary %d", fixedPort, owner, err, server)
	}
	cs := labelled(t, client, "example.com/portwait/client")
	ss := labelled(t, server, "example.com/portwait/server")
	if o := ss.PortOwner(fixedPort); !slices.Equal(o, []int{server}) {
		t.Errorf("server snapshot PortOwner = %v", o)
	}
	// The client's snapshot has the server as a related process (the
	// other end of its connection), so it names the owner too.
	if o := cs.PortOwner(fixedPort); !slices.Equal(o, []int{server}) {
		t.Errorf("client snapshot PortOwner = %v, want the related server", o)
	}

	got := Relate(cs, ss)
	want := fmt.Sprintf("package example.com/portwait/client's test binary (pid %d) is connected to 127.0.0.1:%d (ESTABLISHED), where package example.com/portwait/server's test binary (pid %d) serves it", client, fixedPort, server)
	if len(got) != 1 || got[0].Kind != PortConnect || got[0].Text != want || got[0].Port != fixedPort {
		t.Errorf("Relate(client, server) = %+v\nwant %s", got, want)
	}
	for _, f := range got {
		t.Log(f.Text)
	}
	// Without the server's snapshot, the server is a related process of
	// the client's (the other end of its connection).
	alone := Relate(cs)
	if len(alone) != 1 || !strings.HasSuffix(alone[0].Text, fmt.Sprintf("where test binary server.test (pid %d, in %s/server) serves it", server, dir)) {
		t.Errorf("Relate(client) = %+v", alone)
	}
	rev := Relate(ss, cs)
	if f, ok := findKind(rev, PortClient); !ok || !slices.Equal(f.PIDs, []int{server, client}) {
		t.Errorf("Relate(server, client) = %+v", rev)
	} else {
		t.Log(f.Text)
	}
}
