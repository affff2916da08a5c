package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog"
)

// TestE2ERecordedStreams replays go test -json streams recorded under every
// Go release from 1.20 on (testdata/streams/gen.sh) through the real binary
// with --raw-command. Each stream ends in the testing package's own timeout
// dump: hangdog must name the hung test and where it waits, whatever the
// release printed.
func TestE2ERecordedStreams(t *testing.T) {
	t.Parallel()
	type want struct {
		test, location string
		states         []string // acceptable states: older releases say semacquire
	}
	wants := map[string]want{
		"mutexcycle": {"TestConcurrentTransfers", "bank_test.go:30", []string{"sync.WaitGroup.Wait"}},
		"chanrecv":   {"TestStartMissingFile", "worker_test.go:23", []string{"chan receive"}},
		"wgsubtest":  {"TestProcessAll/blank_items", "fanout.go:26", []string{"sync.WaitGroup.Wait"}},
		"cleanup":    {"TestEcho", "server.go:61", []string{"chan receive"}},
		"busyloop":   {"TestWaitWarmEmpty", "warm.go:29", []string{"running", "runnable"}},
		"parallel":   {"TestLookup", "registry.go:35", []string{"sync.Mutex.Lock"}},
		"childwait":  {"TestMigrate", "migrate.go:12", []string{"syscall", "chan receive", "IO wait"}},
		"multipkg":   {"TestPublishNoHandler", "notify.go:27", []string{"chan send"}},
	}
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "streams", "go1.*"))
	if len(dirs) == 0 {
		t.Fatal("no recorded streams")
	}
	for _, dir := range dirs {
		for fix, w := range wants {
			file, _ := filepath.Abs(filepath.Join(dir, fix+".json"))
			if _, err := os.Stat(file); err != nil {
				continue
			}
			t.Run(filepath.Base(dir)+"/"+fix, func(t *testing.T) {
				t.Parallel()
				r := runHangdog(t, t.TempDir(), "--stall", "1h", "--raw-command", "--", "cat", file)
				if r.code != watchdog.ExitHung {
					t.Errorf("exit code %d, want %d", r.code, watchdog.ExitHung)
				}
				h := findHang(t, r, w.test)
				if h.Capture != "timeout" {
					t.Errorf("capture = %q, want timeout", h.Capture)
				}
				if !strings.HasSuffix(h.Location, w.location) {
					t.Errorf("location = %q, want suffix %q", h.Location, w.location)
				}
				ok := false
				for _, s := range w.states {
					ok = ok || h.State == s
				}
				if !ok {
					t.Errorf("state = %q, want one of %q", h.State, w.states)
				}
				if h.Phase != watchdog.PhaseTest && !(fix == "cleanup" && h.Phase == watchdog.PhaseCleanup) {
					t.Errorf("phase = %q", h.Phase)
				}
			})
		}
	}
}
