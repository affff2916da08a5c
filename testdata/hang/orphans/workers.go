// Fixture orphans: StartWorkers starts its helpers the ways real services
// do — a shell with two background jobs, a daemon in a session of its own
// with a clean environment (and a child of its own), and a double-forked
// helper whose parent exits at once — then waits for the shell, which never
// exits. TestWorkers blocks in Wait (syscall, like childwait). Every one of
// these processes outlives a killed `go test`: process groups miss the
// daemon (Setsid), environment markers miss the daemon and the helper
// (their own Env), and the helper is an orphan from the start.
//
// When HANGDOG_FIXTURE_PIDS names a file, the PID of every process started
// is appended to it, one per line (6 in all), so that a test can find them
// however they hide.
package orphans

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// StartWorkers starts the worker processes and returns the shell that
// supervises the pool; the daemon and the helper are left to run.
func StartWorkers(pidfile string) (*exec.Cmd, error) {
	if pidfile == "" {
		pidfile = os.DevNull
	}
	clean := []string{"PATH=" + os.Getenv("PATH"), "PIDS=" + pidfile}

	// The daemon: new session, new process group, its own environment.
	daemon := exec.Command("sh", "-c", `sleep 3600 & echo $! >>"$PIDS"; exec sleep 3600`)
	daemon.Env = clean
	daemon.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := daemon.Start(); err != nil {
		return nil, err
	}
	if err := record(pidfile, daemon.Process.Pid); err != nil {
		return nil, err
	}

	// The helper: double-forked (its shell exits at once), own session.
	helper := exec.Command("sh", "-c", `setsid sleep 3600 >/dev/null 2>&1 </dev/null & echo $! >>"$PIDS"`)
	helper.Env = clean
	if err := helper.Run(); err != nil {
		return nil, err
	}

	// The pool: a shell with two background jobs; it waits for them.
	pool := exec.Command("sh", "-c", `sleep 3600 & echo $! >>"$PIDS"; sleep 3600 & echo $! >>"$PIDS"; wait`)
	pool.Env = append(os.Environ(), "PIDS="+pidfile)
	if err := pool.Start(); err != nil {
		return nil, err
	}
	if err := record(pidfile, pool.Process.Pid); err != nil {
		return nil, err
	}
	return pool, nil
}

func record(pidfile string, pid int) error {
	f, err := os.OpenFile(pidfile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, pid)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
