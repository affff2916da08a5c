package forensics

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// The parsers below read the text formats of Linux's /proc. They build on
// every OS so that their tests (replaying files captured on Linux) run
// everywhere. Each keeps going past a line it does not understand and
// reports it in the error, next to everything it did parse.

// maxBadLines caps how many malformed lines an error quotes.
const maxBadLines = 5

// badLines collects the malformed lines of one file.
type badLines struct {
	file string
	errs []error
	n    int
}

func (b *badLines) add(line string, err error) {
	b.n++
	if len(b.errs) < maxBadLines {
		b.errs = append(b.errs, fmt.Errorf("%q: %w", line, err))
	}
}

func (b *badLines) err() error {
	if b.n == 0 {
		return nil
	}
	return fmt.Errorf("forensics: %s: %d malformed lines: %w", b.file, b.n, errors.Join(b.errs...))
}

// parseLocks parses /proc/locks (proc_locks(5)):
//
//	1: FLOCK  ADVISORY  WRITE 18425 fe:00:10006966 0 EOF
//	1: -> FLOCK  ADVISORY  WRITE 18489 fe:00:10006966 0 EOF
//	1:  -> FLOCK  ADVISORY  READ 18491 fe:00:10006966 0 EOF
//	2: OFDLCK ADVISORY  WRITE -1 fe:00:10007393 10 29
//
// A "->" line is a request blocked behind the lock with the same ordinal;
// each extra space before the arrow is one more level of queueing (a
// request waiting behind a waiting request).
func parseLocks(r io.Reader) ([]Lock, error) {
	var locks []Lock
	bad := badLines{file: "/proc/locks"}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		l, err := parseLockLine(line)
		if err != nil {
			bad.add(line, err)
			continue
		}
		locks = append(locks, l)
	}
	if err := sc.Err(); err != nil {
		return locks, fmt.Errorf("forensics: read /proc/locks: %w", err)
	}
	return locks, bad.err()
}

// parseLockLine parses one line of /proc/locks, or the part of an fdinfo
// "lock:" line after the tab.
func parseLockLine(line string) (Lock, error) {
	id, rest, ok := strings.Cut(line, ":")
	if !ok {
		return Lock{}, errors.New("no ordinal")
	}
	n, err := strconv.Atoi(strings.TrimSpace(id))
	if err != nil {
		return Lock{}, fmt.Errorf("ordinal: %w", err)
	}
	l := Lock{ID: n}
	rest = strings.TrimPrefix(rest, " ")
	if trimmed := strings.TrimLeft(rest, " "); strings.HasPrefix(trimmed, "->") {
		l.Waiting = true
		l.Depth = len(rest) - len(trimmed) + 1
		rest = trimmed[2:]
	}
	f := strings.Fields(rest)
	if len(f) != 7 {
		return Lock{}, fmt.Errorf("%d fields, want 7", len(f))
	}
	l.Class, l.Kind, l.Access = f[0], f[1], f[2]
	if l.PID, err = strconv.Atoi(f[3]); err != nil {
		return Lock{}, fmt.Errorf("pid: %w", err)
	}
	i := strings.LastIndexByte(f[4], ':')
	if i < 0 {
		return Lock{}, errors.New("no device:inode")
	}
	l.Dev = f[4][:i]
	if l.Inode, err = strconv.ParseUint(f[4][i+1:], 10, 64); err != nil {
		return Lock{}, fmt.Errorf("inode: %w", err)
	}
	l.Range = f[5] + "-" + f[6]
	return l, nil
}

// tcpStates names the states of include/net/tcp_states.h as ss(8) does.
var tcpStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
	"05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
	"09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING", "0C": "NEW_SYN_RECV",
}

// parseTCP parses /proc/net/tcp or /proc/net/tcp6 (proto "tcp" or "tcp6"):
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	 1: 0100007F:DF3F 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 86555 …
//
// Addresses are the kernel's 32-bit words printed in hex in the host's
// byte order (order), ports in hex. Sockets not backed by a file (a
// connection still in a listener's accept queue, TIME_WAIT) have inode 0.
func parseTCP(r io.Reader, proto string, order binary.ByteOrder) ([]Socket, error) {
	var out []Socket
	bad := badLines{file: "/proc/net/" + proto}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), 64*1024)
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		f := strings.Fields(line)
		if first || len(f) == 0 {
			continue // header
		}
		if len(f) < 10 {
			bad.add(line, fmt.Errorf("%d fields, want ≥ 10", len(f)))
			continue
		}
		local, err1 := parseHexAddr(f[1], order)
		remote, err2 := parseHexAddr(f[2], order)
		inode, err3 := strconv.ParseUint(f[9], 10, 64)
		state, ok := tcpStates[f[3]]
		if !ok {
			state = "0x" + f[3]
		}
		if err := errors.Join(err1, err2, err3); err != nil {
			bad.add(line, err)
			continue
		}
		s := Socket{Inode: inode, Proto: proto, Local: local, State: state}
		if state != "LISTEN" {
			s.Remote = remote
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("forensics: read /proc/net/%s: %w", proto, err)
	}
	return out, bad.err()
}

// parseHexAddr parses "0100007F:DF3F" (IPv4) or 32 hex digits and a port
// (IPv6).
func parseHexAddr(s string, order binary.ByteOrder) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q: not 4 or 16 hex bytes", s)
	}
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		order.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	ip, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// unixStates and unixTypes name the St and Type columns of /proc/net/unix
// (SS_* and SOCK_* of the kernel).
var (
	unixStates = map[string]string{"01": "UNCONNECTED", "02": "CONNECTING", "03": "CONNECTED", "04": "DISCONNECTING"}
	unixTypes  = map[string]string{"0001": "stream", "0002": "dgram", "0005": "seqpacket"}
)

// unixAcceptCon is __SO_ACCEPTCON in the Flags column: a listening socket.
const unixAcceptCon = 0x10000

// parseUnix parses /proc/net/unix:
//
//	Num       RefCount Protocol Flags    Type St Inode Path
//	00000000baa8c683: 00000002 00000000 00010000 0001 01 88031 /tmp/ux/srv.sock
//
// The path (with "@" for the abstract namespace) is shown for bound
// sockets, including the server side of accepted connections; the client
// end has none, and the peer is not shown at all.
func parseUnix(r io.Reader) ([]Socket, error) {
	var out []Socket
	bad := badLines{file: "/proc/net/unix"}
	sc := bufio.NewScanner(r)
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		f := strings.Fields(line)
		if first || len(f) == 0 {
			continue
		}
		if len(f) < 7 {
			bad.add(line, fmt.Errorf("%d fields, want ≥ 7", len(f)))
			continue
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		inode, err2 := strconv.ParseUint(f[6], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			bad.add(line, err)
			continue
		}
		s := Socket{Inode: inode, Proto: "unix", Type: unixTypes[f[4]], State: unixStates[f[5]]}
		if s.Type == "" {
			s.Type = f[4]
		}
		if flags&unixAcceptCon != 0 {
			s.State = "LISTEN"
		} else if s.State == "" {
			s.State = f[5]
		}
		if len(f) > 7 {
			s.Path = strings.Join(f[7:], " ")
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("forensics: read /proc/net/unix: %w", err)
	}
	return out, bad.err()
}

// fdinfo is what /proc/PID/fdinfo/N tells about a descriptor.
type fdinfo struct {
	flags string // octal
	mntID int
	ino   uint64
	locks []FileLock
}

// parseFdinfo parses /proc/PID/fdinfo/N:
//
//	pos:	0
//	flags:	0100000
//	mnt_id:	27
//	ino:	10006966
//	lock:	1: FLOCK  ADVISORY  WRITE 18425 fe:00:10006966 0 EOF
//
// The ordinal of a "lock:" line is not the one of /proc/locks.
func parseFdinfo(b []byte) fdinfo {
	var fi fdinfo
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "flags":
			fi.flags = v
		case "mnt_id":
			fi.mntID, _ = strconv.Atoi(v)
		case "ino":
			fi.ino, _ = strconv.ParseUint(v, 10, 64)
		case "lock":
			if l, err := parseLockLine(v); err == nil {
				fi.locks = append(fi.locks, FileLock{Class: l.Class, Access: l.Access, Range: l.Range})
			}
		}
	}
	return fi
}

// accessMode turns octal open flags into "r", "w" or "rw" (O_ACCMODE).
func accessMode(flags string) (string, bool) {
	n, err := strconv.ParseUint(flags, 8, 64)
	if err != nil {
		return "", false
	}
	switch n & 3 {
	case 0:
		return "r", true
	case 1:
		return "w", true
	default:
		return "rw", true
	}
}

// parseMountinfo maps mount IDs to devices ("fe:00", hex like /proc/locks)
// from /proc/PID/mountinfo (proc_pid_mountinfo(5)):
//
//	27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
//
// The device is the superblock's, which is what /proc/locks shows (on
// btrfs it can differ from stat(2)'s st_dev).
func parseMountinfo(b []byte) map[int]string {
	m := map[int]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		id, err := strconv.Atoi(f[0])
		maj, mi, ok := strings.Cut(f[2], ":")
		if err != nil || !ok {
			continue
		}
		major, err1 := strconv.ParseUint(maj, 10, 32)
		minor, err2 := strconv.ParseUint(mi, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		m[id] = devString(uint32(major), uint32(minor))
	}
	return m
}

// parseTaskState returns the state letter of /proc/PID/task/TID/stat. The
// command name is in parentheses and may contain both, so the state is
// the field after the last ')'.
func parseTaskState(b []byte) string {
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		if f := strings.Fields(s[i+1:]); len(f) > 0 {
			return f[0]
		}
	}
	return ""
}

// parsePortRange parses /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999").
func parsePortRange(b []byte) []int {
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return nil
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return nil
	}
	return []int{lo, hi}
}
