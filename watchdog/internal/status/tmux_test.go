package status

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTmux runs the line in a real terminal: a helper copy of the test
// binary writes through a Line into a tmux pane, and the pane's text must
// hold the output lines intact with the status line last.
func TestTmux(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not found (optional; apt-get install -y tmux)")
	}
	socket := fmt.Sprintf("hangdog-status-test-%d", os.Getpid())
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
		return string(out), err
	}
	helper := fmt.Sprintf("STATUS_TMUX_HELPER=1 exec %q -test.run='^TestTmuxHelper$'", os.Args[0])
	if out, err := tmux("new-session", "-d", "-x", "80", "-y", "12", helper); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	defer tmux("kill-server")
	var screen string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, err := tmux("capture-pane", "-p")
		if err != nil {
			t.Fatalf("tmux capture-pane: %v\n%s", err, out)
		}
		screen = out
		if strings.Contains(screen, "DONE") && strings.Contains(screen, "7 passed") {
			break
		}
	}
	var lines []string
	for _, l := range strings.Split(screen, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, " "))
		}
	}
	want := []string{
		"=== RUN   TestA",
		"half a line, then the rest",
		"--- PASS: TestA (0.00s)",
		"DONE",
		"7 passed | 1 running | TestLong 1m05s (quiet 40s)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestTmuxHelper(t *testing.T) {
	if os.Getenv("STATUS_TMUX_HELPER") == "" {
		t.Skip("helper for TestTmux")
	}
	l := New(os.Stdout, Options{TTY: true, NoColor: true, Width: func() int { return 80 }, MinInterval: time.Nanosecond})
	s := Snapshot{Running: 1, Longest: []RunningTest{{Test: "TestLong", Running: 65 * time.Second, Quiet: 40 * time.Second}}}
	for i := range 5 {
		s.Passed = i
		l.Update(s)
	}
	l.Write([]byte("=== RUN   TestA\n"))
	l.Write([]byte("half a line"))
	s.Passed = 6
	l.Update(s) // mid-line: not drawn
	l.Write([]byte(", then the rest\n"))
	l.Write([]byte("--- PASS: TestA (0.00s)\n"))
	s.Passed = 7
	l.Update(s)
	l.Write([]byte("DONE\n"))
	time.Sleep(30 * time.Second) // until the test kills the tmux server
}
