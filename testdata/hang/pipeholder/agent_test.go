package agent

import "testing"

func TestLaunch(t *testing.T) {
	cmd, err := Launch()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Process.Pid <= 0 {
		t.Fatal("no pid")
	}
}
