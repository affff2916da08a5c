// Command streamgen writes a large test2json stream for benchmarks by
// replicating a real recorded `go test -json` stream under many package
// names, with the events of -p packages interleaved as go test -p N
// interleaves them.
//
//	streamgen -in base.json -size 300MB -p 4 > big.json
//	streamgen -in base.json -copies 88 -p 4 > 88-packages.json
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "streamgen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("streamgen", flag.ContinueOnError)
	in := fs.String("in", "", "recorded go test -json stream of one package")
	size := fs.String("size", "100MB", "approximate output size (KB, MB, GB)")
	par := fs.Int("p", 4, "packages whose events interleave")
	copies := fs.Int("copies", 0, "write exactly this many copies of the package instead of -size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := parseSize(*size)
	if err != nil {
		return err
	}
	base, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	pkg := packageOf(base)
	if pkg == "" || *par < 1 {
		return errors.New("input has no Package field, or -p < 1")
	}
	lines := bytes.SplitAfter(base, []byte("\n"))
	name := []byte(pkg)
	w := bufio.NewWriterSize(stdout, 1<<20)
	var written int64
	more := func(n int) bool { return written < target }
	if *copies > 0 {
		more = func(n int) bool { return n < *copies }
	}
	for n := 0; more(n); n += *par {
		// Interleave the events of *par copies line by line.
		// The package name is replaced everywhere: in Package and in
		// go test's "ok  \tpkg\t0.1s" lines.
		k := *par
		if *copies > 0 {
			k = min(k, *copies-n)
		}
		reps := make([][]byte, k)
		for k := range reps {
			reps[k] = []byte(pkg + "/gen" + strconv.Itoa(n+k))
		}
		for _, l := range lines {
			for k := range reps {
				out := bytes.ReplaceAll(l, name, reps[k])
				m, err := w.Write(out)
				written += int64(m)
				if err != nil {
					return err
				}
			}
		}
	}
	return w.Flush()
}

func packageOf(stream []byte) string {
	const key = `"Package":"`
	i := bytes.Index(stream, []byte(key))
	if i < 0 {
		return ""
	}
	rest := stream[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad -size %q", s)
	}
	return n * mult, nil
}
