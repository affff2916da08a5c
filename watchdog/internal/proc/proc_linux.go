package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procRoot is where procfs is mounted.
const procRoot = "/proc"

// clockTicks is USER_HZ, the unit of starttime in /proc/PID/stat. The kernel
// fixes it at 100 on every architecture Go supports (sysconf(_SC_CLK_TCK)
// needs cgo to ask).
const clockTicks = 100

// Supported reports what this OS offers: Linux offers everything.
func Supported() (tree, files bool, why string) { return true, true, "" }

// snapshot reads the cheap facts (stat and cmdline) of every process.
func snapshot() ([]Process, error) {
	d, err := os.Open(procRoot)
	if err != nil {
		return nil, fmt.Errorf("proc: list processes: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("proc: list processes: %w", err)
	}
	var out []Process
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		p, err := get(pid)
		if err != nil {
			continue // exited while we were reading, or unreadable
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// get reads /proc/PID/stat and /proc/PID/cmdline.
func get(pid int) (Process, error) {
	dir := procRoot + "/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			err = ErrNoProcess
		}
		return Process{}, fmt.Errorf("proc: get %d: %w", pid, err)
	}
	p, err := parseStat(stat)
	if err != nil {
		return Process{}, fmt.Errorf("proc: get %d: %w", pid, err)
	}
	if cmdline, err := os.ReadFile(dir + "/cmdline"); err == nil {
		p.Cmdline = splitCmdline(cmdline)
	}
	return p, nil
}

// parseStat parses /proc/PID/stat. The command name is in parentheses and
// may itself contain spaces and parentheses, so fields are counted from the
// last ')'. Field numbers below are those of proc(5).
func parseStat(b []byte) (Process, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Process{}, fmt.Errorf("malformed stat %q", b)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return Process{}, fmt.Errorf("malformed stat pid: %w", err)
	}
	f := strings.Fields(string(b[end+1:])) // f[0] is field 3, state
	if len(f) < 20 {
		return Process{}, fmt.Errorf("malformed stat: %d fields", len(f)+2)
	}
	ppid, err1 := strconv.Atoi(f[1])                // field 4
	pgid, err2 := strconv.Atoi(f[2])                // field 5
	start, err3 := strconv.ParseUint(f[19], 10, 64) // field 22, clock ticks since boot
	if err := errors.Join(err1, err2, err3); err != nil {
		return Process{}, fmt.Errorf("malformed stat: %w", err)
	}
	p := Process{PID: pid, PPID: ppid, PGID: pgid, State: f[0]}
	if bt := bootTime(); !bt.IsZero() {
		p.Start = bt.Add(time.Duration(start) * time.Second / clockTicks)
	}
	return p, nil
}

// splitCmdline splits /proc/PID/cmdline (NUL-terminated arguments).
func splitCmdline(b []byte) []string {
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

var bootTime = sync.OnceValue(func() time.Time {
	b, err := os.ReadFile(procRoot + "/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(sec, 0)
			}
		}
	}
	return time.Time{}
})

// fill reads the executable, working directory and wait channel. Fields
// that cannot be read (zombie, another user's process) stay empty.
func fill(p *Process) {
	dir := procRoot + "/" + strconv.Itoa(p.PID)
	p.Exe, _ = os.Readlink(dir + "/exe")
	p.Cwd, _ = os.Readlink(dir + "/cwd")
	if b, err := os.ReadFile(dir + "/wchan"); err == nil {
		if w := strings.TrimSpace(string(b)); w != "0" {
			p.Wchan = w
		}
	}
}

// fillCwd is done by fill on Linux.
func fillCwd(*Process) {}

// OpenFiles returns the open descriptors of pid in descriptor order.
// Descriptors closed while reading are skipped. Reading another user's
// process needs root (or CAP_SYS_PTRACE).
func OpenFiles(pid int) ([]FD, error) {
	dir := procRoot + "/" + strconv.Itoa(pid) + "/fd"
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = ErrNoProcess
		}
		return nil, fmt.Errorf("proc: open files of %d: %w", pid, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("proc: open files of %d: %w", pid, err)
	}
	fds := make([]FD, 0, len(names))
	for _, name := range names {
		n, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		target, err := os.Readlink(dir + "/" + name)
		if err != nil {
			continue
		}
		fd := FD{Num: n, Target: target}
		// The link's permission bits are the descriptor's access mode:
		// r-x for reading, -wx for writing, rwx for both.
		if fi, err := os.Lstat(dir + "/" + name); err == nil {
			fd.Read = fi.Mode().Perm()&0o400 != 0
			fd.Write = fi.Mode().Perm()&0o200 != 0
		}
		fds = append(fds, fd)
	}
	sort.Slice(fds, func(i, j int) bool { return fds[i].Num < fds[j].Num })
	return fds, nil
}
