package pytest

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// What the snapshot reads of a process and its threads in /proc (Linux).

// nativeEndian is the byte order of the machine's memory (every Linux
// architecture Go runs pytest on here is little-endian; big-endian ones
// would read the pollfds wrong, not crash).
var nativeEndian = binary.NativeEndian

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// taskInfo is one thread as /proc/W/task/TID shows it.
type taskInfo struct {
	State string        // R S D Z T t …
	CPU   time.Duration // utime + stime
	Wchan string        // "" when running or unknown
	// Syscall is the system call the thread blocks in, -1 when it runs
	// in user space or the file could not be read; Args are its
	// arguments (the first is the descriptor for read, recv, accept …).
	Syscall int
	Args    [6]uint64
	// Polled are the descriptors a thread blocked in poll or select waits
	// on, read from its memory (/proc/W/mem: the same access as
	// /proc/W/task/T/syscall); PollWrite says it waits to write.
	Polled    []int
	PollWrite bool
}

// readTask reads /proc/pid/task/tid/{stat,wchan,syscall}. A thread that
// has exited gives an error.
func readTask(pid, tid int) (taskInfo, error) {
	dir := fmt.Sprintf("/proc/%d/task/%d/", pid, tid)
	b, err := os.ReadFile(dir + "stat")
	if err != nil {
		return taskInfo{}, err
	}
	t, err := parseTaskStat(string(b))
	if err != nil {
		return taskInfo{}, fmt.Errorf("%sstat: %w", dir, err)
	}
	if w, err := os.ReadFile(dir + "wchan"); err == nil && string(w) != "0" {
		t.Wchan = strings.TrimSpace(string(w))
	}
	t.Syscall = -1
	if s, err := os.ReadFile(dir + "syscall"); err == nil {
		t.Syscall, t.Args = parseSyscall(string(s))
	}
	switch kindOfSyscall(t.Syscall) {
	case sysPollFDs:
		t.Polled, t.PollWrite = readPollFDs(pid, t.Args[0], t.Args[1])
	case sysSelect:
		t.Polled, t.PollWrite = readSelect(pid, t.Args[0], t.Args[1], t.Args[2])
	}
	return t, nil
}

// maxPolled bounds the descriptors read out of a poll or select call:
// Python's socket timeouts poll one, selectors a handful.
const maxPolled = 64

// readMem reads n bytes at addr of pid's memory; nil when it cannot.
func readMem(pid int, addr uint64, n int) []byte {
	if addr == 0 || n <= 0 {
		return nil
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, int64(addr)); err != nil {
		return nil
	}
	return b
}

// readPollFDs reads poll's array of struct pollfd {int fd; short events;
// short revents} (8 bytes each, native byte order).
func readPollFDs(pid int, addr, nfds uint64) ([]int, bool) {
	n := int(min(nfds, maxPolled))
	b := readMem(pid, addr, 8*n)
	var fds []int
	write := false
	for i := 0; i+8 <= len(b); i += 8 {
		fd := int32(nativeEndian.Uint32(b[i:]))
		events := nativeEndian.Uint16(b[i+4:])
		if fd >= 0 {
			fds = append(fds, int(fd))
			write = write || events&0x4 != 0 && events&0x1 == 0 // POLLOUT without POLLIN
		}
	}
	return fds, write
}

// readSelect reads select's read and write sets (bitmaps of unsigned
// longs) below nfds.
func readSelect(pid int, nfds, readfds, writefds uint64) ([]int, bool) {
	n := int(min(nfds, 1024))
	size := (n + 63) / 64 * 8
	var fds []int
	write := false
	for set, addr := range []uint64{readfds, writefds} {
		b := readMem(pid, addr, size)
		for fd := 0; fd < n && fd/8 < len(b) && len(fds) < maxPolled; fd++ {
			if b[fd/8]&(1<<(fd%8)) != 0 {
				fds = append(fds, fd)
				write = write || set == 1
			}
		}
	}
	return fds, write
}

// parseTaskStat reads the state and CPU time out of a stat line; the
// command in parentheses may hold spaces and parentheses, so fields count
// from the last ')'.
func parseTaskStat(s string) (taskInfo, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return taskInfo{}, fmt.Errorf("no ')' in %q", s)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return taskInfo{}, fmt.Errorf("%d fields after the command, want 13 or more", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return taskInfo{}, fmt.Errorf("utime %q, stime %q: not numbers", f[11], f[12])
	}
	return taskInfo{State: f[0], CPU: time.Duration(ut+st) * clockTick}, nil
}

// parseSyscall reads /proc/W/task/T/syscall: "NR arg0 … arg5 sp pc" while
// blocked in a call, "-1 sp pc" while blocked outside one, "running".
func parseSyscall(s string) (int, [6]uint64) {
	var args [6]uint64
	f := strings.Fields(s)
	if len(f) == 0 {
		return -1, args
	}
	nr, err := strconv.Atoi(f[0])
	if err != nil || nr < 0 {
		return -1, args
	}
	for i := 0; i < 6 && i+1 < len(f); i++ {
		v, err := strconv.ParseUint(strings.TrimPrefix(f[i+1], "0x"), 16, 64)
		if err == nil {
			args[i] = v
		}
	}
	return nr, args
}

// sigMasks are the signal masks of /proc/W/task/T/status (or of the
// process, /proc/W/status: the main thread's and the process's shared
// pending set).
type sigMasks struct {
	Pnd, ShdPnd, Blk, Cgt uint64
}

// has reports whether signal sig's bit is set in mask.
func has(mask uint64, sig int) bool {
	return sig >= 1 && sig <= 64 && mask&(1<<(sig-1)) != 0
}

// readMasks reads the signal masks of a status file.
func readMasks(path string) (sigMasks, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return sigMasks{}, err
	}
	return parseMasks(string(b))
}

// parseMasks reads SigPnd, ShdPnd, SigBlk and SigCgt out of a status file.
func parseMasks(s string) (sigMasks, error) {
	var m sigMasks
	seen := 0
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch k {
		case "SigPnd":
			dst = &m.Pnd
		case "ShdPnd":
			dst = &m.ShdPnd
		case "SigBlk":
			dst = &m.Blk
		case "SigCgt":
			dst = &m.Cgt
		default:
			continue
		}
		x, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return m, fmt.Errorf("status %s: %w", k, err)
		}
		*dst = x
		seen++
	}
	if seen < 4 {
		return m, fmt.Errorf("status: %d of SigPnd, ShdPnd, SigBlk, SigCgt found", seen)
	}
	return m, nil
}

// taskIDs lists the threads of pid.
func taskIDs(pid int) ([]int, error) {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(es))
	for _, e := range es {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			ids = append(ids, n)
		}
	}
	return ids, nil
}
