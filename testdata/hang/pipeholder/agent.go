// Fixture pipeholder: Launch starts a background agent whose output goes to
// our stdout, and returns without waiting for it. TestLaunch passes and the
// test binary exits, but the agent (sleep 3600) inherited the binary's
// stdout pipe, so `go test` keeps waiting for EOF on it (phase: exit).
package agent

import (
	"os"
	"os/exec"
)

// Launch starts the agent in the background.
func Launch() (*exec.Cmd, error) {
	cmd := exec.Command("sleep", "3600") // stands in for a long-running agent
	cmd.Stdout = os.Stdout               // BUG: the child holds the test's output pipe
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}
