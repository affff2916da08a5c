package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestE2EStatusLineInTerminal runs hangdog in a real terminal (tmux): while
// a quiet test runs, the bottom line shows the live status; when the run
// ends, the status line is gone and the output is intact.
func TestE2EStatusLineInTerminal(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (Debian package tmux)")
	}
	session := "hangdog-e2e-" + strconv.Itoa(int(time.Now().UnixNano()%1e9))
	sock := "-L" + session
	cmdline := "cd " + suite(t, "slowquiet") + " && CI= GOTOOLCHAIN=local NO_COLOR=1 " + hangdogBin +
		" --stall 1h -- -count=1 ./... ; echo HANGDOG-DONE; sleep 30"
	if out, err := exec.Command("tmux", sock, "new-session", "-d", "-s", session, "-x", "100", "-y", "20", cmdline).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", sock, "kill-server").Run() })
	capture := func() string {
		out, _ := exec.Command("tmux", sock, "capture-pane", "-p", "-t", session).Output()
		return string(out)
	}
	sawStatus := false
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		screen := capture()
		if strings.Contains(screen, "1 running") && strings.Contains(screen, "TestSlowQuiet") {
			sawStatus = true
		}
		if strings.Contains(screen, "HANGDOG-DONE") {
			if !sawStatus {
				t.Errorf("never saw the status line; last screen:\n%s", screen)
			}
			if !strings.Contains(screen, "ok  \texample.com/slowquiet") && !strings.Contains(screen, "ok      example.com/slowquiet") && !strings.Contains(screen, "ok  ") {
				t.Errorf("the ok line is missing:\n%s", screen)
			}
			if strings.Contains(screen, "1 running") {
				t.Errorf("the status line was not erased:\n%s", screen)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("hangdog did not finish; screen:\n%s", capture())
}
