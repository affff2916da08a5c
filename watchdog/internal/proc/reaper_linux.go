package proc

// This file is our side of the reaper: starting it and learning the
// command's PID from it. The reaper's own side is reaper_main_linux.go.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
)

// The reaper is our own executable started with reaperArg as its first
// argument and reaperEnv set: init (reaper_main_linux.go) recognises that
// pair before main runs, in any program that links this package (hangdog,
// and the test binaries of the packages that start go). Neither marker
// reaches the command: the reaper removes reaperEnv from its environment.
const (
	reaperArg = "-hangdog-reaper"
	reaperEnv = "HANGDOG_REAPER"
	selfExe   = "/proc/self/exe" // still runs us if the file was replaced or removed since
)

// reaperSpec is what the reaper needs to know besides the command line,
// passed in reaperEnv as "parent=P,extra=N,setpgid=0|1,pdeathsig=S,cgroup=0|1".
type reaperSpec struct {
	parent    int  // our PID: the reaper's parent while we live
	extra     int  // how many of the caller's ExtraFiles come before ours (fds 3..3+extra-1)
	setpgid   bool // start the command in a process group of its own
	pdeathsig int  // the command's parent-death signal (when the reaper dies), 0 for none
	cgroup    bool // try to make a cgroup (false: the process tree only; tests)
}

func (s reaperSpec) String() string {
	return fmt.Sprintf("parent=%d,extra=%d,setpgid=%d,pdeathsig=%d,cgroup=%d", s.parent, s.extra, b2i(s.setpgid), s.pdeathsig, b2i(s.cgroup))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func parseReaperSpec(v string) (reaperSpec, error) {
	var s reaperSpec
	var setpgid, cgroup int
	n, err := fmt.Sscanf(v, "parent=%d,extra=%d,setpgid=%d,pdeathsig=%d,cgroup=%d", &s.parent, &s.extra, &setpgid, &s.pdeathsig, &cgroup)
	if err != nil || n != 5 || s.parent <= 0 || s.extra < 0 || s.extra > 100 || s.pdeathsig < 0 || s.pdeathsig > 64 {
		return reaperSpec{}, fmt.Errorf("bad %s=%q", reaperEnv, v)
	}
	s.setpgid, s.cgroup = setpgid == 1, cgroup == 1
	return s, nil
}

// reaperStatus is the one JSON line the reaper writes on its status pipe
// once it has started the command, or failed to.
type reaperStatus struct {
	PID      int    `json:"pid,omitempty"`
	Cgroup   string `json:"cgroup,omitempty"`
	NoCgroup string `json:"nocgroup,omitempty"` // why there is no cgroup
	Errno    int    `json:"errno,omitempty"`    // the command could not be started
	Error    string `json:"error,omitempty"`    // the reaper could not run
}

// StartReaped starts cmd below a reaper (see Reaped) and returns once the
// command itself runs. Use it instead of cmd.Start, and the Reaped's Wait
// instead of cmd.Wait. cmd.Process is then the reaper; cmd's pipes
// (StdinPipe, StdoutPipe, ...) and standard streams reach the command
// unchanged, byte for byte, as do its environment (cmd.Environ()),
// directory, extra files and exit status. cmd.SysProcAttr may only hold
// what Configure sets (a process group of its own, the parent-death
// signal): the reaper gives those to the command. With other attributes,
// or when the reaper cannot be started (no /proc/self/exe), the command
// is started directly, as cmd.Start would.
//
// The error is the one cmd.Start would have returned when the command
// cannot be started (for example a *fs.PathError from fork/exec).
func StartReaped(cmd *exec.Cmd) (*Reaped, error) { return startReaped(cmd, true) }

// startReaped is StartReaped; withCgroup false keeps the reaper to the
// process tree, which is what it falls back to where it cannot make a
// cgroup (tests run both ways).
func startReaped(cmd *exec.Cmd, withCgroup bool) (*Reaped, error) {
	spec, ok := reapable(cmd)
	spec.cgroup = withCgroup
	if !ok {
		return startDirect(cmd)
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return startDirect(cmd)
	}
	statR, statW, err := os.Pipe()
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		return startDirect(cmd)
	}
	path, args, env, extra, attr := cmd.Path, cmd.Args, cmd.Env, cmd.ExtraFiles, cmd.SysProcAttr
	name := "hangdog"
	if len(os.Args) > 0 {
		name = os.Args[0]
	}
	cmd.Path = selfExe
	cmd.Args = append([]string{name, reaperArg, path}, args...)
	cmd.Env = append(cmd.Environ(), reaperEnv+"="+spec.String())
	cmd.ExtraFiles = append(extra[:len(extra):len(extra)], lifeR, statW)
	// The reaper has a process group of its own (a terminal's signals are
	// for us, we pass them on) and learns of our death by SIGTERM too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	err = cmd.Start()
	cmd.Path, cmd.Args, cmd.Env, cmd.ExtraFiles, cmd.SysProcAttr = path, args, env, extra, attr
	lifeR.Close()
	statW.Close()
	if err != nil {
		lifeW.Close()
		statR.Close()
		return nil, err
	}
	line, rerr := bufio.NewReader(statR).ReadBytes('\n')
	statR.Close()
	var st reaperStatus
	if rerr != nil || json.Unmarshal(line, &st) != nil || st.PID <= 0 {
		werr := cmd.Wait()
		lifeW.Close()
		switch {
		case st.Errno != 0:
			return nil, &fs.PathError{Op: "fork/exec", Path: path, Err: syscall.Errno(st.Errno)}
		case st.Error != "":
			return nil, fmt.Errorf("proc: reaper: %s", st.Error)
		default:
			return nil, fmt.Errorf("proc: reaper exited before starting %s: %v", path, werr)
		}
	}
	return &Reaped{PID: st.PID, Reaper: cmd.Process.Pid, Cgroup: st.Cgroup, NoCgroup: st.NoCgroup, cmd: cmd, lifeline: lifeW}, nil
}

// reapable tells whether cmd can run below the reaper, and how.
func reapable(cmd *exec.Cmd) (reaperSpec, bool) {
	if cmd.Process != nil || cmd.Err != nil || cmd.Path == "" {
		return reaperSpec{}, false // let cmd.Start report it
	}
	spec := reaperSpec{parent: os.Getpid(), extra: len(cmd.ExtraFiles)}
	if a := cmd.SysProcAttr; a != nil {
		spec.setpgid = a.Setpgid
		spec.pdeathsig = int(a.Pdeathsig)
		rest := *a
		rest.Setpgid, rest.Pdeathsig = false, 0
		if a.Pgid != 0 || !reflect.DeepEqual(rest, syscall.SysProcAttr{}) {
			return reaperSpec{}, false
		}
	}
	for _, kv := range cmd.Env {
		if strings.IndexByte(kv, 0) >= 0 {
			return reaperSpec{}, false // cmd.Start refuses it
		}
	}
	if _, err := os.Stat(selfExe); err != nil {
		return reaperSpec{}, false
	}
	return spec, true
}

func startDirect(cmd *exec.Cmd) (*Reaped, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &Reaped{PID: cmd.Process.Pid, cmd: cmd}, nil
}

// reaperFDs are the descriptor numbers of the lifeline and status pipes in
// the reaper: right after the caller's extra files.
func reaperFDs(s reaperSpec) (lifeline, status int) { return 3 + s.extra, 4 + s.extra }
