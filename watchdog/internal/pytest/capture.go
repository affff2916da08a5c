package pytest

import (
	"fmt"
	"os"
)

// Output is what CaptureSizes found behind a process's stdout and stderr.
type Output struct {
	// Stdout and Stderr are the sizes of the files behind fd 1 and 2;
	// HasStdout and HasStderr say whether the fd is a capture file at all.
	Stdout, Stderr       int64
	HasStdout, HasStderr bool
}

// Grew reports whether o holds more output than before (a heartbeat of
// the test running in the process), comparing each stream that both have.
func (o Output) Grew(before Output) bool {
	return o.HasStdout && before.HasStdout && o.Stdout > before.Stdout ||
		o.HasStderr && before.HasStderr && o.Stderr > before.Stderr
}

// CaptureSizes returns the sizes of the files behind /proc/pid/fd/1 and
// /proc/pid/fd/2 when they are pytest's capture files: regular files (a
// pipe, a terminal or /dev/null is not one) and none of own (hangdog's own
// stdout and stderr, which a run without xdist may share with pytest when
// they are regular files). While a test runs under --capture=fd, the
// files hold its output so far, so growth is progress. Linux only (an
// error elsewhere, or when the process is gone).
func CaptureSizes(pid int, own ...os.FileInfo) (Output, error) {
	var o Output
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return Output{}, fmt.Errorf("pytest: output of process %d: %w", pid, err)
	}
	for fd, dst := range map[int]*int64{1: &o.Stdout, 2: &o.Stderr} {
		fi, err := os.Stat(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil {
			continue // closed, or the process just ended
		}
		if !fi.Mode().IsRegular() || sameAsAny(fi, own) {
			continue
		}
		*dst = fi.Size()
		if fd == 1 {
			o.HasStdout = true
		} else {
			o.HasStderr = true
		}
	}
	return o, nil
}

func sameAsAny(fi os.FileInfo, own []os.FileInfo) bool {
	for _, o := range own {
		if o != nil && os.SameFile(fi, o) {
			return true
		}
	}
	return false
}
