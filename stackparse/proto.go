package stackparse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// MaxProtoSize bounds how much of a proto profile ParseProto reads: the
// pprof package decodes a profile from one buffer. A goroutine profile of
// 100,000 goroutines with a few thousand distinct stacks is well under a
// megabyte gzipped; 256 MiB is far beyond any real one.
const MaxProtoSize = 256 << 20

// IsGzip reports whether head starts with the gzip magic number, as a
// pprof debug=0 (proto) profile does.
func IsGzip(head []byte) bool {
	return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
}

// ParseProto reads an aggregated goroutine profile in pprof's proto form
// (pprof.Lookup("goroutine").WriteTo(w, 0), or /debug/pprof/goroutine
// without ?debug=), gzipped or not, and maps it onto the model of a pprof
// debug=1 profile: one Dump of KindProfile whose goroutines have no ID and
// no state, a Count (the sample value), Labels (string labels; several
// values of one key are joined with ","), and Frames innermost first, with
// inlined calls marked Inlined. Dump.Reason is "goroutine profile: total N"
// as in the debug=1 text, and StartLine is 0 (a proto has no lines).
//
// It reads at most MaxProtoSize bytes; the error says why the input is not
// a profile. Frames have no Offset or Args: the proto keeps neither.
func ParseProto(r io.Reader) (*Dump, error) {
	var p Parser
	return p.ParseProto(r)
}

// ParseProto is the package-level ParseProto honouring p's callbacks: each
// goroutine goes to OnGoroutine (and not into Dump.Goroutines) when it is
// set, and the dump to OnDump.
func (p *Parser) ParseProto(r io.Reader) (*Dump, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxProtoSize+1))
	if err != nil {
		return nil, fmt.Errorf("stackparse: reading profile: %w", err)
	}
	if len(data) > MaxProtoSize {
		return nil, fmt.Errorf("stackparse: profile larger than %d bytes", MaxProtoSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("stackparse: empty profile")
	}
	if !IsGzip(data) && looksLikeText(data) {
		// profile.ParseData also accepts legacy text formats; those
		// are Parse's.
		return nil, errors.New("stackparse: not a proto profile")
	}
	prof, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("stackparse: reading profile: %w", err)
	}
	d := &Dump{Kind: KindProfile}
	strs := make(map[string]string)
	intern := func(s string) string {
		if v, ok := strs[s]; ok {
			return v
		}
		strs[s] = s
		return s
	}
	total := 0
	for _, smp := range prof.Sample {
		n := 1
		if len(smp.Value) > 0 {
			n = int(max(smp.Value[0], 0))
		}
		if n == 0 {
			continue
		}
		g := &Goroutine{Count: n}
		for _, loc := range smp.Location {
			// Line holds the inlined calls of one location, innermost
			// first; the last one is the function they were inlined into.
			for i, ln := range loc.Line {
				f := Frame{Line: int(ln.Line), Inlined: i < len(loc.Line)-1}
				if ln.Function != nil {
					f.Func = intern(ln.Function.Name)
					f.File = intern(ln.Function.Filename)
				}
				g.Frames = append(g.Frames, f)
			}
			if len(loc.Line) == 0 {
				// A location without symbols: keep its address.
				g.Frames = append(g.Frames, Frame{Func: "0x" + strconv.FormatUint(loc.Address, 16)})
			}
		}
		if len(smp.Label) > 0 {
			g.Labels = make(map[string]string, len(smp.Label))
			for k, vs := range smp.Label {
				g.Labels[k] = strings.Join(vs, ",")
			}
		}
		if len(smp.NumLabel) > 0 && g.Labels == nil {
			g.Labels = make(map[string]string, len(smp.NumLabel))
		}
		for k, vs := range smp.NumLabel {
			s := make([]string, len(vs))
			for i, v := range vs {
				s[i] = strconv.FormatInt(v, 10)
			}
			g.Labels[k] = strings.Join(s, ",")
		}
		total += n
		d.NumGoroutines += n
		d.noteGOROOT(g)
		d.Goroutines = append(d.Goroutines, g)
	}
	// The runtime writes samples in no useful order; the debug=1 text
	// sorts them by count, largest first. Do the same so that both forms
	// of one profile read alike (ties: by stack, for stable output).
	sort.SliceStable(d.Goroutines, func(i, j int) bool {
		a, b := d.Goroutines[i], d.Goroutines[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return stackKey(a) < stackKey(b)
	})
	d.Reason = "goroutine profile: total " + strconv.Itoa(total)
	if p.OnGoroutine != nil {
		gs := d.Goroutines
		d.Goroutines = nil
		for _, g := range gs {
			p.OnGoroutine(d, g)
		}
	}
	if p.OnDump != nil {
		p.OnDump(d)
	}
	return d, nil
}

func stackKey(g *Goroutine) string {
	var b strings.Builder
	for _, f := range g.Frames {
		b.WriteString(f.Func)
		b.WriteByte(' ')
	}
	return b.String()
}

// looksLikeText reports whether data starts with printable text, which a
// protocol buffer never does (its first byte is a field tag such as 0x0a).
func looksLikeText(data []byte) bool {
	for _, c := range data[:min(len(data), 64)] {
		if c < ' ' && c != '\n' && c != '\r' && c != '\t' || c > '~' {
			return false
		}
	}
	return true
}
