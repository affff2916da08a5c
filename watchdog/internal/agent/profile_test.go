//go:build unix

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProgramProfiles snapshots, with a CPU window and block and mutex
// profiles, tests that profile themselves (testdata/profmod): the agent
// must leave their profiling as it found it, and say what it left out.
func TestProgramProfiles(t *testing.T) {
	needGo(t)
	for _, tc := range []struct {
		test  string
		notes []string // substrings of the agent's notes
		cpu   bool     // whether the agent's CPU profile is there
	}{
		{"TestSelfProfiled", []string{"cpu: not taken: the program is CPU-profiling itself"}, false},
		{"TestRates", []string{"block: the program profiles blocking itself", "mutex: left at the program's fraction 5"}, true},
		{"TestRateNoEvent", []string{"block: the program profiles blocking itself (its rate recorded a 2 ms wait"}, true},
	} {
		t.Run(tc.test, func(t *testing.T) {
			mod := fixture(t, "profmod")
			fifo := filepath.Join(t.TempDir(), "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skip(err)
			}
			w, err := os.OpenFile(fifo, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			inj := prepare(t, mod, "-run=^"+tc.test+"$", "-v", ".")
			gt := startGoTest(t, mod, env(append(inj.Env, "PROFMOD_FIFO="+fifo)...), inj.Args...)
			pid := gt.binary(tc.test, mod, inj.Dir)
			gt.wait(60*time.Second, "the test waiting", func(e event) bool { return strings.Contains(e.Output, "profmod: waiting") })
			snap := mustRequest(t, inj.Dir, pid, Req{CPU: 300 * time.Millisecond, Heap: true, Block: true, Mutex: true})
			if len(snap.Errors) > 0 {
				t.Errorf("errors: %q", snap.Errors)
			}
			for _, n := range tc.notes {
				if !strings.Contains(strings.Join(snap.Notes, "\n"), n) {
					t.Errorf("notes %q lack %q", snap.Notes, n)
				}
			}
			if (snap.CPU != "") != tc.cpu || snap.Block == "" || snap.Mutex == "" {
				t.Errorf("files: cpu %q block %q mutex %q", snap.CPU, snap.Block, snap.Mutex)
			}
			if _, err := w.Write([]byte("go\n")); err != nil {
				t.Fatal(err)
			}
			out := gt.finish(60 * time.Second)
			if !strings.Contains(out, `"Action":"pass","Package":"example.com/profmod","Test":"`+tc.test+`"`) {
				t.Errorf("%s did not pass:\n%s", tc.test, out)
			}
		})
	}
}
