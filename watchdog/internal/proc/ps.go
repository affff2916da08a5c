package proc

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// psArgs is the ps(1) invocation parsePS reads (BSD/macOS ps; run with
// LC_ALL=C so lstart is in the C locale).
var psArgs = []string{"-o", "pid=,ppid=,pgid=,state=,lstart=,command="}

// lstartLayout is ps's lstart in the C locale after splitting on spaces and
// joining with one: "Sat Nov 28 00:40:49 2026" (ps pads the day with a space).
const lstartLayout = "Mon Jan 2 15:04:05 2006"

// parsePS parses the output of ps with psArgs: per line PID, PPID, PGID,
// state, the five words of lstart and the command (argv joined by spaces,
// which cannot be undone: Cmdline is the command split at spaces). Lines
// that do not parse are skipped; loc is the zone lstart is printed in.
func parsePS(r io.Reader, loc *time.Location) ([]Process, error) {
	var out []Process
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20) // long command lines: ps prints the whole argv
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 9 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		pgid, err3 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		p := Process{PID: pid, PPID: ppid, PGID: pgid, State: psState(f[3])}
		if t, err := time.ParseInLocation(lstartLayout, strings.Join(f[4:9], " "), loc); err == nil {
			p.Start = t
		}
		if len(f) > 9 {
			p.Cmdline = f[9:]
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read ps output: %w", err)
	}
	return out, nil
}

// psState maps a BSD ps state ("Ss", "R+", "U", "I") to the Linux letter.
func psState(s string) string {
	if s == "" {
		return ""
	}
	switch c := s[:1]; c {
	case "U":
		return "D" // uninterruptible wait
	case "I":
		return "S" // idle: sleeping for more than about 20 seconds
	default:
		return c
	}
}

// parseLsofCwd returns the path of the cwd entry in `lsof -Fn -a -d cwd` output.
func parseLsofCwd(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if path, ok := strings.CutPrefix(line, "n"); ok {
			return strings.TrimSuffix(path, "\r")
		}
	}
	return ""
}
