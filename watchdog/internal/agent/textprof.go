package agent

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// The agent writes the heap, block, mutex and goroutine profiles as pprof
// prints them at debug=1: legacy text, whose "@ 0x…" lines give each
// sample's stack as addresses and whose "#" comment lines give the
// function, file and line of each address. That costs the test binary a
// small fraction of what the proto form does (pprof's compressor alone
// allocates about 1.2 MB per profile, enough to bring on a garbage
// collection in a small test binary). Here, outside the test binary, the
// text becomes the gzipped proto that `go tool pprof` opens: the profile
// package parses the samples, and the comment lines supply the symbols it
// ignores (without them every frame would be an unnamed address, the test
// binary being gone by the time anyone looks).

// textToProto converts the debug=1 profile in the file txt to a gzipped
// proto in the new file pb (0600).
func textToProto(txt, pb string) error {
	data, err := os.ReadFile(txt)
	if err != nil {
		return err
	}
	p, err := parseText(data)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(pb, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		os.Remove(pb)
		return err
	}
	return f.Close()
}

// symbol is one frame of a "#" line: "#\t0xADDR\tFUNC+0xOFF\tFILE:LINE".
type symbol struct {
	fn, file string
	line     int64
}

// parseText reads a debug=1 profile and fills in its symbols and, for a
// goroutine profile, the labels of its "# labels: {…}" lines.
func parseText(data []byte) (*profile.Profile, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("parse profile text: %w", err)
	}
	syms, labels := textSymbols(data)
	if len(labels) == len(p.Sample) {
		for i, s := range p.Sample {
			if len(labels[i]) > 0 {
				s.Label = labels[i]
			}
		}
	}
	funcs := map[symbol]*profile.Function{}
	for _, loc := range p.Location {
		for _, sy := range syms[loc.Address] {
			key := symbol{fn: sy.fn, file: sy.file}
			fn := funcs[key]
			if fn == nil {
				fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: sy.fn, SystemName: sy.fn, Filename: sy.file}
				funcs[key] = fn
				p.Function = append(p.Function, fn)
			}
			loc.Line = append(loc.Line, profile.Line{Function: fn, Line: sy.line})
		}
	}
	// pprof hides the runtime frames at the top of each stack in its
	// comment lines (the allocator, gopark), and runtime.goexit at the
	// bottom: drop them from the samples too, as its proto writer does,
	// rather than show unnamed addresses.
	used := map[*profile.Location]bool{}
	for _, s := range p.Sample {
		i := 0
		for i < len(s.Location)-1 && len(s.Location[i].Line) == 0 {
			i++
		}
		j := len(s.Location)
		for j > i+1 && len(s.Location[j-1].Line) == 0 {
			j-- // runtime.goexit, which pprof leaves out
		}
		s.Location = s.Location[i:j]
		for _, l := range s.Location {
			used[l] = true
		}
	}
	var locs []*profile.Location
	for _, l := range p.Location {
		if used[l] {
			l.ID = uint64(len(locs) + 1)
			locs = append(locs, l)
		}
	}
	p.Location = locs
	if len(p.Mapping) == 0 {
		// One mapping that says the symbols are there, so that pprof
		// does not look for a binary to symbolize with.
		m := &profile.Mapping{ID: 1, HasFunctions: true, HasFilenames: true, HasLineNumbers: true}
		p.Mapping = []*profile.Mapping{m}
		for _, l := range p.Location {
			l.Mapping = m
		}
	} else {
		for _, m := range p.Mapping {
			m.HasFunctions, m.HasFilenames, m.HasLineNumbers = true, true, true
		}
	}
	if err := p.CheckValid(); err != nil {
		return nil, fmt.Errorf("profile text: %w", err)
	}
	return p, nil
}

// textSymbols reads the comment lines of a debug=1 profile: the frames of
// each address (innermost first, several when calls were inlined) and,
// per sample in order, its labels.
func textSymbols(data []byte) (map[uint64][]symbol, []map[string][]string) {
	syms := map[uint64][]symbol{}
	var labels []map[string][]string
	seen := map[uint64]bool{} // addresses whose frames are complete
	var cur []uint64          // addresses named in the current sample
	var last uint64
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, " @ 0x") && !strings.HasPrefix(line, "#"):
			labels = append(labels, nil)
			for _, a := range cur {
				seen[a] = true
			}
			cur, last = cur[:0], 0
		case strings.HasPrefix(line, "# labels: "):
			if len(labels) > 0 {
				labels[len(labels)-1] = parseLabels(strings.TrimPrefix(line, "# labels: "))
			}
		case strings.HasPrefix(line, "#\t0x"):
			f := strings.Split(line[2:], "\t")
			addr, err := strconv.ParseUint(f[0], 0, 64)
			if err != nil || seen[addr] {
				continue
			}
			var rest []string
			for _, x := range f[1:] {
				if x != "" {
					rest = append(rest, x)
				}
			}
			if len(rest) < 2 {
				continue // an address pprof could not name
			}
			sy := symbol{fn: rest[0]}
			if i := strings.LastIndex(sy.fn, "+0x"); i > 0 {
				sy.fn = sy.fn[:i]
			}
			sy.file = rest[1]
			if i := strings.LastIndexByte(sy.file, ':'); i > 0 {
				sy.line, _ = strconv.ParseInt(sy.file[i+1:], 10, 64)
				sy.file = sy.file[:i]
			}
			if addr != last {
				syms[addr] = nil // a new address: its frames start here
				cur = append(cur, addr)
			}
			syms[addr] = append(syms[addr], sy)
			last = addr
		}
	}
	return syms, labels
}

// parseLabels reads pprof's label text, {"k":"v", "k2":"v2"} (Go quotes
// keys and values with %q).
func parseLabels(s string) map[string][]string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	out := map[string][]string{}
	for s != "" {
		k, rest, ok := unquotePrefix(strings.TrimLeft(s, ", "))
		if !ok || !strings.HasPrefix(rest, ":") {
			break
		}
		v, rest2, ok := unquotePrefix(rest[1:])
		if !ok {
			break
		}
		out[k] = append(out[k], v)
		s = rest2
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// unquotePrefix unquotes the Go string literal at the start of s.
func unquotePrefix(s string) (string, string, bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, false
	}
	v, err := strconv.Unquote(q)
	return v, s[len(q):], err == nil
}
