// Command decorate applies to a real goroutine dump the damage that it
// takes on its way into a log written by something other than Go. The
// fixtures in ../dumps/decorated are real dumps from ../dumps passed
// through it by ../genlex.sh; nothing in them is typed by hand.
//
// Usage: go run ./decorate DECORATION <dump.txt >decorated.txt
//
// Decorations:
//
//	powershell  the first line of the dump as PowerShell 5.1 shows a
//	            native command's stderr: "go : panic: …" followed by the
//	            error record ("At line:1 char:1", "+ CategoryInfo …")
//	fence       a markdown code fence glued to the first line
//	            ("```panic: …") and to the last one
//	backtick    an inline-code backtick before the first line and after
//	            the last one ("`panic: …")
//	echo-quit   a terminal's echo of Ctrl-\ ("^\") before "SIGQUIT: quit"
//	journald    every line as journalctl prints it:
//	            "Oct 21 17:57:00 host unit[123]: …", seconds counting up
//	ghtime-cut  a GitHub Actions timestamp before every line, and the
//	            first line's timestamp cut to its last characters
//	            ("3.6367390Z panic: …"), as when a log is copied from the
//	            middle of a line
//	ghlinks     the GitHub web log's line links interleaved with the
//	            lines: "[16](https://github.com/o/r/actions/runs/1/job/2#step:6:16)"
//	cutloc      the location line of the first frame in waits.go removed,
//	            and that of the next frame in waits.go cut in the middle
//	            of its path, as a log that drops or cuts lines does
//	unindent    leading blanks removed from every line, as a paste into a
//	            form that trims lines does
//
// The dump starts at the first line holding "panic: ", "SIGQUIT: quit" or
// "goroutine "; the lines before it are left alone.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: decorate DECORATION <in >out")
		os.Exit(2)
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "decorate:", err)
		os.Exit(1)
	}
	lines := strings.SplitAfter(string(in), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	start := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "SIGQUIT: quit") || strings.HasPrefix(l, "goroutine ") {
			start = i
			break
		}
	}
	out, err := decorate(os.Args[1], lines, start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "decorate:", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for _, l := range out {
		w.WriteString(l)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "decorate:", err)
		os.Exit(1)
	}
}

// last returns the index of the last line of the dump: the last
// non-blank line before the "FAIL"/"exit status" trailer go test prints.
func last(lines []string) int {
	n := len(lines) - 1
	for n > 0 {
		t := strings.TrimSpace(lines[n])
		if t == "" || strings.HasPrefix(t, "FAIL") || strings.HasPrefix(t, "exit status") || strings.HasPrefix(t, "ok ") {
			n--
			continue
		}
		break
	}
	return n
}

func glueEnd(l, s string) string {
	if strings.HasSuffix(l, "\n") {
		return strings.TrimSuffix(l, "\n") + s + "\n"
	}
	return l + s
}

func decorate(kind string, lines []string, start int) ([]string, error) {
	out := append([]string(nil), lines...)
	switch kind {
	case "powershell":
		first := strings.TrimSuffix(out[start], "\n")
		record := []string{
			"go : " + first + "\n",
			"At line:1 char:1\n",
			"+ go test -timeout 2s -parallel 16 ./hang 2>&1\n",
			"+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n",
			"    + CategoryInfo          : NotSpecified: (" + first + ":String) [], RemoteException\n",
			"    + FullyQualifiedErrorId : NativeCommandError\n",
			" \n",
		}
		out = append(append(append([]string(nil), out[:start]...), record...), out[start+1:]...)
	case "fence", "backtick":
		mark := "```"
		if kind == "backtick" {
			mark = "`"
		}
		n := last(out)
		out[start] = mark + out[start]
		out[n] = glueEnd(out[n], mark)
	case "echo-quit":
		for i := start; i < len(out); i++ {
			if strings.HasPrefix(out[i], "SIGQUIT: quit") {
				out[i] = "^\\" + out[i]
				return out, nil
			}
		}
		return nil, fmt.Errorf("no SIGQUIT banner")
	case "journald":
		t := time.Date(2024, time.October, 21, 17, 56, 58, 0, time.UTC)
		for i := range out {
			if i%40 == 0 {
				t = t.Add(time.Second)
			}
			out[i] = t.Format("Jan _2 15:04:05") + " ci-runner-7 hang.test[4242]: " + out[i]
		}
	case "ghtime-cut":
		t := time.Date(2024, time.January, 2, 3, 4, 5, 636739000, time.UTC)
		for i := range out {
			t = t.Add(1300 * time.Microsecond)
			out[i] = t.Format("2006-01-02T15:04:05.0000000Z") + " " + out[i]
		}
		// Keep the last 11 bytes of the timestamp ("3.6367390Z ").
		ts := len("2006-01-02T15:04:05.0000000Z ")
		out[start] = out[start][ts-11:]
		out = out[start:]
	case "ghlinks":
		const url = "https://github.com/o/r/actions/runs/1/job/2#step:6:"
		var res []string
		for i, l := range out {
			res = append(res, fmt.Sprintf("[%d](%s%d)\n", i+1, url, i+1), l)
		}
		out = res
	case "cutloc":
		done := 0
		for i := start; i+1 < len(out) && done < 2; i++ {
			if !strings.HasPrefix(out[i+1], "\t") || !strings.Contains(out[i+1], "/waits.go:") || strings.HasPrefix(out[i], "created by") {
				continue
			}
			if done == 0 {
				out = append(out[:i+1], out[i+2:]...)
			} else {
				l := out[i+1]
				out[i+1] = l[:strings.Index(l, "/waits.go:")+4] + "\n"
			}
			done++
		}
		if done < 2 {
			return nil, fmt.Errorf("no two waits.go frames")
		}
	case "unindent":
		for i := range out {
			out[i] = strings.TrimLeft(out[i], " \t")
		}
	default:
		return nil, fmt.Errorf("unknown decoration %q", kind)
	}
	return out, nil
}
