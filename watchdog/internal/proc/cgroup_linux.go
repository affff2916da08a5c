package proc

// The reaper's cgroup: a cgroup v2 directory below the reaper's own, made
// for one run, that the command starts in and that every process it
// starts inherits. Killing it (cgroup.kill) kills them all at once, even
// those that left the process tree.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type cgroup struct {
	dir string
	fd  int // the directory, open for clone3's CLONE_INTO_CGROUP
}

// newCgroup creates the directory hangdog-PID (PID: ours) below our own
// cgroup v2 cgroup. It fails when there is no cgroup v2 hierarchy, it is
// not mounted where we can see it, or we may not write to it (the usual
// case for a user outside a delegated subtree, or a read-only /sys in a
// container).
func newCgroup() (*cgroup, error) {
	self, err := os.ReadFile(procRoot + "/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("no cgroup: %w", err)
	}
	rel, ok := cgroup2Path(self)
	if !ok {
		return nil, errors.New("no cgroup v2 hierarchy")
	}
	info, err := os.ReadFile(procRoot + "/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("no cgroup: %w", err)
	}
	base, ok := cgroup2Dir(info, rel)
	if !ok {
		return nil, fmt.Errorf("cgroup v2 %s is not mounted here", rel)
	}
	dir := filepath.Join(base, "hangdog-"+strconv.Itoa(os.Getpid()))
	err = os.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrExist) {
		// Left by a reaper that was killed and had our PID: rmdir
		// succeeds only if it is empty, so nothing live is touched.
		if unix.Rmdir(dir) == nil {
			err = os.Mkdir(dir, 0o700)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot create a cgroup: %w", err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		return nil, fmt.Errorf("cannot open the cgroup: %w", err)
	}
	return &cgroup{dir: dir, fd: fd}, nil
}

// cgroup2Path returns the cgroup v2 path in /proc/PID/cgroup (the "0::"
// line), as seen from our cgroup namespace.
func cgroup2Path(b []byte) (string, bool) {
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok && strings.HasPrefix(p, "/") {
			return p, true
		}
	}
	return "", false
}

// cgroup2Dir finds, in /proc/self/mountinfo, a cgroup2 mount whose root
// contains the cgroup rel, and returns the cgroup's directory in it.
//
// A mountinfo line: "36 35 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2
// cgroup2 rw"; fields 4 and 5 are the mount's root and mount point
// (octal-escaped), the filesystem type follows the "-".
func cgroup2Dir(info []byte, rel string) (string, bool) {
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(f) || f[sep+1] != "cgroup2" {
			continue
		}
		root, mnt := unescapeMount(f[3]), unescapeMount(f[4])
		if root == "/" {
			return filepath.Join(mnt, rel), true
		}
		if rel == root || strings.HasPrefix(rel, root+"/") {
			return filepath.Join(mnt, strings.TrimPrefix(rel, root)), true
		}
	}
	return "", false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (c *cgroup) write(file, v string) error {
	f, err := os.OpenFile(filepath.Join(c.dir, file), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// events returns the value of key in cgroup.events ("populated", "frozen").
func (c *cgroup) events(key string) string {
	b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.events"))
	if err != nil {
		return ""
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(key+" ")); ok {
			return string(v)
		}
	}
	return ""
}

// populated tells whether a process is still in the cgroup.
func (c *cgroup) populated() bool { return c.events("populated") == "1" }

// kill kills every process in the cgroup: with cgroup.kill (Linux 5.14),
// or else by freezing it (cgroup.freeze, 5.2: a frozen process cannot
// fork, SIGKILL still ends it), killing each member of cgroup.procs and
// thawing it.
func (c *cgroup) kill() {
	if c.write("cgroup.kill", "1") == nil {
		return
	}
	c.freezeKill()
}

// freezeKill is kill without cgroup.kill.
func (c *cgroup) freezeKill() {
	frozen := c.write("cgroup.freeze", "1") == nil
	for i := 0; frozen && i < 100 && c.events("frozen") != "1"; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.procs")); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if frozen {
		c.write("cgroup.freeze", "0")
	}
}

// remove closes and removes the cgroup, with any cgroups below it (a
// hangdog run by a test of this run makes its own, and its reaper, killed
// with the rest, cannot remove it). An empty cgroup can be removed as soon
// as its last process is reaped.
func (c *cgroup) remove() {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	for i := 0; i < 50; i++ {
		if err := rmdirTree(c.dir); err == nil || errors.Is(err, fs.ErrNotExist) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rmdirTree removes the cgroup dir and the cgroups below it, deepest
// first. A cgroup directory holds interface files, which rmdir(2) does
// not mind, and one directory per child cgroup.
func rmdirTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			rmdirTree(filepath.Join(dir, e.Name()))
		}
	}
	return unix.Rmdir(dir)
}
