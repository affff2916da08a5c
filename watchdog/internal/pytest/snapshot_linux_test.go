package pytest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestSnapshotNeverSignalsUncaught: a process that does not catch the
// signal (here sleep(1), as an exec'ed child or a reset handler would be)
// is not signalled — SIGRTMIN+4's default action would kill it.
func TestSnapshotNeverSignalsUncaught(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	stacks := filepath.Join(t.TempDir(), "stacks.txt")
	if err := os.WriteFile(stacks, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := Take(context.Background(), []Target{{PID: cmd.Process.Pid, Signal: 38, Stacks: stacks}},
		SnapshotOptions{Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	d := snap.Rounds[0].Procs[0]
	if d.Sent || !strings.Contains(d.Note, "SigCgt") {
		t.Errorf("sent %v, note %q; want not sent because of SigCgt", d.Sent, d.Note)
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("sleep is gone: %v", err)
	}
}

// TestSnapshotWaitsForTheDump: a process that catches the signal but
// writes no dump (here a Python handler that does nothing) is not taken
// as done when its signal has left the pending set and no thread blocks
// it: the dump must have been written first, else the round waits until
// its timeout. Before, the round ended at once with "no dump" — as it did,
// on a real worker, when the check fell between the kernel taking the
// signal and blocking it for the handler.
func TestSnapshotWaitsForTheDump(t *testing.T) {
	t.Parallel()
	py := python(t).Path
	cmd := exec.Command(py, "-c", "import signal, sys, time\n"+
		"signal.signal(signal.SIGRTMIN + 4, lambda *a: None)\n"+
		"print(int(signal.SIGRTMIN + 4), flush=True)\n"+
		"time.sleep(60)\n")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line := make([]byte, 16)
	n, err := out.Read(line)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := strconv.Atoi(strings.TrimSpace(string(line[:n])))
	if err != nil {
		t.Fatal(err)
	}
	stacks := filepath.Join(t.TempDir(), "stacks.txt")
	if err := os.WriteFile(stacks, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := Take(context.Background(), []Target{{PID: cmd.Process.Pid, Signal: sig, Stacks: stacks}},
		SnapshotOptions{Rounds: 1, DumpTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d := snap.Rounds[0].Procs[0]
	if !d.Sent || d.Complete || !strings.Contains(d.Note, "did not finish in time") {
		t.Errorf("sent %v, complete %v, note %q; want sent, not complete, timed out", d.Sent, d.Complete, d.Note)
	}
	if snap.Elapsed < 300*time.Millisecond {
		t.Errorf("the round ended after %v, before its timeout", snap.Elapsed)
	}
}

func TestParseProcFiles(t *testing.T) {
	t.Parallel()
	ti, err := parseTaskStat("123 (a b) c)) S 1 123 123 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 3 0 100 1000 10")
	if err != nil || ti.State != "S" || ti.CPU != 2800*time.Millisecond {
		t.Errorf("parseTaskStat: %+v, %v", ti, err)
	}
	if _, err := parseTaskStat("123 (x) S 1"); err == nil {
		t.Error("parseTaskStat: a short line gave no error")
	}
	if nr, args := parseSyscall("73 0x3 0x2 0x0 0x0 0x0 0x0 0x7ffd 0x7f12\n"); nr != 73 || args[0] != 3 || args[1] != 2 {
		t.Errorf("parseSyscall: %d %v", nr, args)
	}
	for _, s := range []string{"running\n", "-1 0x7ffd 0x7f12\n", ""} {
		if nr, _ := parseSyscall(s); nr != -1 {
			t.Errorf("parseSyscall(%q) = %d, want -1", s, nr)
		}
	}
	m, err := parseMasks("Name:\tx\nSigPnd:\t0000000000000000\nShdPnd:\t0000002000000000\nSigBlk:\t0000000000010000\nSigIgn:\t0\nSigCgt:\t0000002100000000\n")
	if err != nil || !has(m.ShdPnd, 38) || !has(m.Cgt, 38) || !has(m.Cgt, 33) || has(m.Cgt, 34) || !has(m.Blk, 17) {
		t.Errorf("parseMasks: %+v, %v", m, err)
	}
	if _, err := parseMasks("SigPnd:\t0\n"); err == nil {
		t.Error("parseMasks: missing masks gave no error")
	}
}

// TestReadPolled reads poll's and select's arguments out of this process's
// own memory, as the snapshot reads a blocked worker's.
func TestReadPolled(t *testing.T) {
	t.Parallel()
	b := make([]byte, 24)
	for i, pfd := range []struct {
		fd     int32
		events uint16
	}{{5, 0x1}, {-1, 0x1}, {7, 0x4}} {
		nativeEndian.PutUint32(b[8*i:], uint32(pfd.fd))
		nativeEndian.PutUint16(b[8*i+4:], pfd.events)
	}
	fds, write := readPollFDs(os.Getpid(), uint64(uintptr(unsafe.Pointer(&b[0]))), 3)
	if !slices.Equal(fds, []int{5, 7}) || !write {
		t.Errorf("poll: %v, write %v; want [5 7], true", fds, write)
	}
	rd, wr := make([]byte, 16), make([]byte, 16)
	rd[0], rd[8] = 1<<3, 1<<1 // 3 and 65
	fds, write = readSelect(os.Getpid(), 70, uint64(uintptr(unsafe.Pointer(&rd[0]))), uint64(uintptr(unsafe.Pointer(&wr[0]))))
	if !slices.Equal(fds, []int{3, 65}) || write {
		t.Errorf("select: %v, write %v; want [3 65], false", fds, write)
	}
	if fds, _ := readPollFDs(os.Getpid(), 0, 3); fds != nil {
		t.Errorf("poll at address 0: %v", fds)
	}
	runtime.KeepAlive(b)
	runtime.KeepAlive(rd)
	runtime.KeepAlive(wr)
}

func TestUserFrame(t *testing.T) {
	t.Parallel()
	root := "/src/proj"
	for file, want := range map[string]bool{
		"/src/proj/tests/test_a.py":                                true,
		"/src/proj/conftest.py":                                    true,
		"/home/u/lib/mypkg/db.py":                                  true,
		"/usr/lib/python3.11/threading.py":                         false,
		"/usr/lib/python3/dist-packages/_pytest/runner.py":         false,
		"/src/proj/.venv/lib/python3.12/site-packages/x/y.py":      false,
		"/opt/py/lib/python3.13t/subprocess.py":                    false,
		"/tmp/D/hangdog_pytest.py":                                 false,
		"<frozen runpy>":                                           false,
		"<string>":                                                 false,
		"???":                                                      false,
		"/usr/local/lib/python3.11/site-packages/pluggy/_hooks.py": false,
	} {
		if got := userFrame(file, root); got != want {
			t.Errorf("userFrame(%q) = %v, want %v", file, got, want)
		}
	}
}

// BenchmarkSnapshot measures the stall → stacks time: one round of dumps
// of every worker of a stuck run, read and parsed: -n 2 on flock_deadlock
// (both workers deadlocked) and -n 10 on ten_waits (ten workers, each
// waiting in a test of its own). ns/op adds the forensics of all the
// processes.
func BenchmarkSnapshot(b *testing.B) {
	for _, c := range []struct {
		n, suite string
		markers  []string
	}{
		{"2", "flock_deadlock", []string{"up.blocking", "down.blocking"}},
		{"10", "ten_waits", []string{"wait_0.blocking", "wait_1.blocking", "wait_2.blocking", "wait_3.blocking", "wait_4.blocking",
			"wait_5.blocking", "wait_6.blocking", "wait_7.blocking", "wait_8.blocking", "wait_9.blocking"}},
	} {
		b.Run("workers="+c.n, func(b *testing.B) {
			r := startRun(b, c.suite, "-n", c.n, "--dist", "loadfile")
			r.waitMarkers(c.markers...)
			n, _ := strconv.Atoi(c.n)
			ts := r.settled(n, false).Targets()
			signalled := 0
			for _, t := range ts {
				if t.Skip == "" {
					signalled++
				}
			}
			if signalled != n {
				b.Fatalf("%d processes to signal, want the %d workers", signalled, n)
			}
			var stacks time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				snap, err := Take(context.Background(), ts, SnapshotOptions{Rounds: 1})
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range snap.Rounds[0].Procs {
					if p.Sent && !p.Complete {
						b.Fatalf("pid %d: %s", p.PID, p.Note)
					}
				}
				stacks += snap.Elapsed
			}
			// stacks-ms: the call to every worker's stacks read and
			// parsed (Snapshot.Elapsed); ns/op adds the forensics.
			b.ReportMetric(float64(stacks.Microseconds())/1000/float64(b.N), "stacks-ms")
		})
	}
}
