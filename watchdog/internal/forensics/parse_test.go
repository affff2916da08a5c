package forensics

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestParseLocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []Lock
	}{
		{"locks-flock.txt", []Lock{
			{ID: 1, Class: "FLOCK", Kind: "ADVISORY", Access: "WRITE", PID: 18425, Dev: "fe:00", Inode: 10006966, Range: "0-EOF"},
			{ID: 1, Waiting: true, Depth: 1, Class: "FLOCK", Kind: "ADVISORY", Access: "WRITE", PID: 18489, Dev: "fe:00", Inode: 10006966, Range: "0-EOF"},
			{ID: 1, Waiting: true, Depth: 2, Class: "FLOCK", Kind: "ADVISORY", Access: "READ", PID: 18491, Dev: "fe:00", Inode: 10006966, Range: "0-EOF"},
		}},
		{"locks-posix-ofd.txt", []Lock{
			{ID: 1, Class: "POSIX", Kind: "ADVISORY", Access: "WRITE", PID: 19152, Dev: "fe:00", Inode: 10007361, Range: "10-29"},
			{ID: 1, Waiting: true, Depth: 1, Class: "POSIX", Kind: "ADVISORY", Access: "WRITE", PID: 19184, Dev: "fe:00", Inode: 10007361, Range: "10-29"},
			{ID: 2, Class: "OFDLCK", Kind: "ADVISORY", Access: "WRITE", PID: -1, Dev: "fe:00", Inode: 10007393, Range: "10-29"},
			{ID: 2, Waiting: true, Depth: 1, Class: "OFDLCK", Kind: "ADVISORY", Access: "WRITE", PID: -1, Dev: "fe:00", Inode: 10007393, Range: "10-29"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseLocks(open(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseLocksBadLines(t *testing.T) {
	t.Parallel()
	in := "1: FLOCK  ADVISORY  WRITE 7 08:01:12 0 EOF\r\n" +
		"garbage\n" +
		"2: LEASE  ACTIVE    READ  9 00:2f:32388 0 EOF\n" +
		"3: POSIX  ADVISORY  WRITE x 08:01:1 0 EOF\n"
	got, err := parseLocks(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "2 malformed lines") {
		t.Errorf("err = %v, want 2 malformed lines", err)
	}
	if len(got) != 2 || got[0].PID != 7 || got[0].Range != "0-EOF" || got[1].Class != "LEASE" || got[1].Kind != "ACTIVE" {
		t.Errorf("kept %+v, want the FLOCK and LEASE lines", got)
	}
}

func TestParseTCP(t *testing.T) {
	t.Parallel()
	ap := netip.MustParseAddrPort
	v4, err := parseTCP(open(t, "net-tcp.txt"), "tcp", binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	want4 := []Socket{
		{Inode: 86555, Proto: "tcp", Local: ap("127.0.0.1:57151"), State: "LISTEN"},
		{Inode: 0, Proto: "tcp", Local: ap("127.0.0.1:57151"), Remote: ap("127.0.0.1:60542"), State: "ESTABLISHED"},
		{Inode: 86559, Proto: "tcp", Local: ap("127.0.0.1:60542"), Remote: ap("127.0.0.1:57151"), State: "ESTABLISHED"},
		{Inode: 86560, Proto: "tcp", Local: ap("127.0.0.1:60548"), Remote: ap("127.0.0.1:57151"), State: "SYN_SENT"},
		{Inode: 86561, Proto: "tcp", Local: ap("127.0.0.1:60552"), Remote: ap("127.0.0.1:57151"), State: "SYN_SENT"},
		{Inode: 86562, Proto: "tcp", Local: ap("127.0.0.1:60566"), Remote: ap("127.0.0.1:57151"), State: "SYN_SENT"},
	}
	if !reflect.DeepEqual(v4, want4) {
		t.Errorf("tcp:\n got %+v\nwant %+v", v4, want4)
	}
	v6, err := parseTCP(open(t, "net-tcp6.txt"), "tcp6", binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	want6 := []Socket{
		{Inode: 86556, Proto: "tcp6", Local: ap("[::1]:43819"), State: "LISTEN"},
		{Inode: 86558, Proto: "tcp6", Local: ap("[::1]:43819"), Remote: ap("[::1]:45436"), State: "ESTABLISHED"},
		{Inode: 86557, Proto: "tcp6", Local: ap("[::1]:45436"), Remote: ap("[::1]:43819"), State: "ESTABLISHED"},
	}
	if !reflect.DeepEqual(v6, want6) {
		t.Errorf("tcp6:\n got %+v\nwant %+v", v6, want6)
	}

	// The relations Collect and Relate build on, on real data.
	if l, ok := listenerFor(v4[3], v4); !ok || l.Inode != 86555 {
		t.Errorf("listenerFor(SYN_SENT) = %+v, %v; want the listener 86555", l, ok)
	}
	if p, ok := peerOf(v6[2], v6); !ok || p.Inode != 86558 {
		t.Errorf("peerOf(client) = %+v, %v; want the accepted end 86558", p, ok)
	}
	if connectsTo(v6[1], v6[0]) {
		t.Error("the accepted (server) end counted as a client of its own listener")
	}
}

func TestParseTCPBigEndian(t *testing.T) {
	t.Parallel()
	// On a big-endian host the kernel prints the bytes in network order.
	in := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 7F000001:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n"
	got, err := parseTCP(strings.NewReader(in), "tcp", binary.BigEndian)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Local != netip.MustParseAddrPort("127.0.0.1:8080") || got[0].Inode != 4242 {
		t.Errorf("got %+v", got)
	}
}

func TestParseUnix(t *testing.T) {
	t.Parallel()
	got, err := parseUnix(open(t, "net-unix.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{Inode: 88178, Proto: "unix", Type: "stream", State: "CONNECTED", Path: "/tmp/ux/srv.sock"},
		{Inode: 88031, Proto: "unix", Type: "stream", State: "LISTEN", Path: "/tmp/ux/srv.sock"},
		{Inode: 88034, Proto: "unix", Type: "dgram", State: "UNCONNECTED", Path: "/tmp/ux/dgram.sock"},
		{Inode: 88032, Proto: "unix", Type: "stream", State: "CONNECTED"},
		{Inode: 88033, Proto: "unix", Type: "stream", State: "LISTEN", Path: "@hangdog-abstract"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseFdinfo(t *testing.T) {
	t.Parallel()
	in := "pos:\t0\nflags:\t0100002\nmnt_id:\t27\nino:\t10006966\nlock:\t1: FLOCK  ADVISORY  WRITE 18425 fe:00:10006966 0 EOF\n"
	got := parseFdinfo([]byte(in))
	want := fdinfo{flags: "0100002", mntID: 27, ino: 10006966, locks: []FileLock{{Class: "FLOCK", Access: "WRITE", Range: "0-EOF"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for flags, mode := range map[string]string{"0100000": "r", "01": "w", "02": "rw", "02004002": "rw"} {
		if m, ok := accessMode(flags); !ok || m != mode {
			t.Errorf("accessMode(%s) = %q, want %q", flags, m, mode)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	t.Parallel()
	in := "22 27 0:21 / /proc rw,relatime - proc proc rw\n27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\nbad line\n"
	got := parseMountinfo([]byte(in))
	want := map[int]string{22: "00:15", 27: "fe:00"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseTaskState(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"1234 (a.test) S 1 2 3":        "S",
		"1234 (we (i)rd) D 1 2 3":      "D",
		"1234 (x) ) R 1":               "R",
		"garbage":                      "",
		"1234 (sleep) S 1 1234 1234 0": "S",
	} {
		if got := parseTaskState([]byte(in)); got != want {
			t.Errorf("parseTaskState(%q) = %q, want %q", in, got, want)
		}
	}
	if got := parsePortRange([]byte("32768\t60999\n")); !reflect.DeepEqual(got, []int{32768, 60999}) {
		t.Errorf("parsePortRange = %v", got)
	}
}

// FuzzParse feeds every parser arbitrary text: none may panic, and what
// they return must be usable.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"locks-flock.txt", "locks-posix-ofd.txt", "locks-cycle.txt", "net-tcp.txt", "net-tcp6.txt", "net-unix.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("1:  -> \n1: ->\n:\n")
	f.Fuzz(func(t *testing.T, in string) {
		locks, _ := parseLocks(strings.NewReader(in))
		for _, l := range locks {
			if l.Waiting != (l.Depth > 0) {
				t.Errorf("lock %+v: Waiting and Depth disagree", l)
			}
		}
		lockGroups(locks)
		for _, proto := range []string{"tcp", "tcp6"} {
			socks, _ := parseTCP(strings.NewReader(in), proto, binary.LittleEndian)
			for _, s := range socks {
				_ = s.Local.String()
			}
		}
		parseUnix(strings.NewReader(in))
		parseFdinfo([]byte(in))
		parseMountinfo([]byte(in))
		parseTaskState([]byte(in))
		parsePortRange([]byte(in))
	})
}
