package pytest

import "runtime"

// sysKind is what a blocked system call says a thread waits for.
type sysKind int

const (
	sysOther   sysKind = iota
	sysRead            // read, recvfrom, recvmsg: arg0 is the descriptor
	sysWrite           // write, sendto: arg0 is the descriptor
	sysAccept          // accept, accept4: arg0 is the listener
	sysConnect         // connect: arg0 is the socket
	sysPoll            // epoll_wait, epoll_pwait: which descriptors is not readable
	sysPollFDs         // poll, ppoll: arg0 points at the pollfds, arg1 counts them
	sysSelect          // select, pselect6: arg0 is nfds, arg1 and arg2 point at the read and write sets
	sysSleep           // nanosleep, clock_nanosleep
	sysWait            // wait4, waitid: a child process
	sysFlock           // flock
	sysFutex           // futex: a lock, condition or thread join inside Python
)

// syscallKinds maps the numbers of /proc/W/task/T/syscall to kinds, per
// architecture (numbers from the kernel's syscall tables).
var syscallKinds = map[string]map[int]sysKind{
	"amd64": {
		0: sysRead, 45: sysRead, 47: sysRead, 1: sysWrite, 44: sysWrite,
		43: sysAccept, 288: sysAccept, 42: sysConnect,
		7: sysPollFDs, 271: sysPollFDs, 23: sysSelect, 270: sysSelect, 232: sysPoll, 281: sysPoll,
		35: sysSleep, 230: sysSleep, 61: sysWait, 247: sysWait, 73: sysFlock, 202: sysFutex,
	},
	"arm64": {
		63: sysRead, 207: sysRead, 212: sysRead, 64: sysWrite, 206: sysWrite,
		202: sysAccept, 242: sysAccept, 203: sysConnect,
		73: sysPollFDs, 72: sysSelect, 22: sysPoll,
		101: sysSleep, 115: sysSleep, 260: sysWait, 95: sysWait, 32: sysFlock, 98: sysFutex,
	},
}

// kindOfSyscall classifies system call nr on this machine's architecture.
func kindOfSyscall(nr int) sysKind {
	if nr < 0 {
		return sysOther
	}
	return syscallKinds[runtime.GOARCH][nr]
}
