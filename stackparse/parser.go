package stackparse

// This file is the parser's entry point: its options, Parse, and the
// bounded line reader. The state machine is in parse.go.

import (
	"bufio"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
)

// DefaultMaxLineLen is the longest line the parser looks at in full. Lines
// of a goroutine dump are short (a call with at most ten words of arguments,
// or a file path), but generic instantiations, labels and log text that is
// not part of a dump can be long. A longer line is cut to this length, the
// rest of it is skipped, and a Warning is recorded if the line was inside a
// dump. 64 KiB keeps the reader's buffer small while being far above
// anything the runtime prints.
const DefaultMaxLineLen = 64 << 10

// DefaultMaxWarnings bounds Dump.Warnings so that a damaged multi-megabyte
// dump cannot grow memory through warnings; further ones are only counted in
// Dump.WarningsDropped.
const DefaultMaxWarnings = 100

// maxPreambleLines is how many lines may follow a preamble trigger ("panic:",
// "fatal error:", "SIGQUIT: quit") before the first goroutine header. A
// panic value can span several lines and a SIGQUIT preamble has a few, but a
// "panic:" in ordinary log output is not followed by goroutines: after this
// many lines the candidate dump is abandoned silently.
const maxPreambleLines = 200

// Parser reads goroutine dumps from a stream. Its zero value is ready to
// use; the fields customise it. A Parser must not be used by two goroutines
// at once, but it may be reused for several inputs one after another.
type Parser struct {
	// OnGoroutine, if set, is called with each goroutine as soon as it is
	// complete (at the next header, the end of its dump or EOF). The
	// goroutine is then not appended to d.Goroutines: the callback owns
	// g, and memory stays bounded by the largest goroutine rather than
	// the whole dump. d is the dump being parsed; its preamble fields are
	// final, its Warnings may still grow.
	OnGoroutine func(d *Dump, g *Goroutine)

	// OnDump, if set, is called with each dump once it is complete, in
	// input order, before Parse returns it.
	OnDump func(d *Dump)

	// MaxLineLen is the longest line looked at in full; 0 means
	// DefaultMaxLineLen. See DefaultMaxLineLen.
	MaxLineLen int

	// MaxWarnings bounds each dump's Warnings; 0 means DefaultMaxWarnings.
	MaxWarnings int

	// ShareFrames makes goroutines with the same stack share one Frames
	// slice, so that memory grows with the number of distinct stacks
	// rather than with the number of goroutines (thousands of goroutines
	// parked at the same line are the usual shape of a big dump). Two
	// stacks are the same when every frame has the same function, file,
	// line, offset and inlining, and the same first argument in the
	// frames WaitAddress reads (so it stays right for every goroutine).
	// Other arguments are then those of the first goroutine seen with
	// the stack: leave ShareFrames off to keep every goroutine's own
	// argument values.
	// Shared slices must not be modified. At most maxShared distinct
	// stacks are shared; further ones get slices of their own.
	ShareFrames bool
}

// maxShared bounds the table of shared stacks of Parser.ShareFrames: a
// dump with more distinct stacks than this is unusual, and beyond it the
// table would cost more than it saves.
const maxShared = 1 << 16

// Parse reads r to the end and returns every goroutine dump found in it, in
// input order. Text before, between and after dumps is ignored. The error
// is non-nil only if reading r failed; the dumps parsed up to that point are
// returned with it. Parse never panics on any input and reads each line
// once; its memory is that of the model plus one line (see Parser for a
// bounded form).
//
// Recognised (verified on Go 1.12, 1.16 and 1.20–1.26 output): SIGQUIT dumps with
// registers and gp=/m= headers, "panic: test timed out" with both forms of
// the running tests list, deadlock and other fatal errors, panics
// (including "[recovered]" chains and multi-line values, kept in
// Dump.Preamble), runtime.Stack and pprof debug=2 output, pprof debug=1
// profiles (as goroutines with a Count), ancestors
// (GODEBUG=tracebackancestors), labels (GODEBUG=tracebacklabels=1), elided
// frames, inlined frames, -trimpath and non-ASCII paths, race detector
// reports (KindRace, see race.go). pprof debug=0 (proto) profiles are read
// by ParseProto.
//
// A new dump starts at each preamble trigger ("panic:", "fatal error:",
// "SIGQUIT: quit", "goroutine profile:", "WARNING: DATA RACE") and at a
// goroutine header whose
// id the open dump already holds: ids are unique within one dump, so this
// separates runtime.Stack or debug=2 dumps printed one after the other
// (several processes in one log, or one process dumping twice).
//
// Each "SIGQUIT: quit" block of GOTRACEBACK=crash output becomes its own
// Dump: the first holds every goroutine, the following ones (after
// "-----") only the stacks of the other threads (goroutine 0 or whatever
// ran there). They are not merged because they are separate snapshots.
//
// Damaged input is accepted: CRLF line ends, a per-line prefix (CI
// timestamps, clocks, line numbers, journald; see prefix.go and decor.go)
// learnt from the line that starts the dump or a goroutine header and found
// again line by line where it no longer matches, spaces instead of tabs,
// missing blank lines, a header glued to the end of the previous line, text
// in front of a banner (PowerShell's "go : ", a markdown backtick, a
// terminal's "^\", output with no final newline: such a start is dropped
// for a banner at the start of a later line until a goroutine follows),
// GitHub web log line links, location lines that lost their indentation
// or were cut (see Goroutine.LocationFrame). A goroutine
// cut off by the end of input (or of the dump) is marked Truncated. A line
// inside a dump that fits nowhere becomes a Warning if the dump continues
// after it; otherwise it ends the dump. Dumps wrapped in test2json events
// must be decoded first.
func Parse(r io.Reader) ([]*Dump, error) {
	var p Parser
	return p.Parse(r)
}

// Parse reads r to the end and returns the dumps found in it; see the
// package-level Parse and the Parser fields for callbacks.
func (p *Parser) Parse(r io.Reader) ([]*Dump, error) {
	maxLine := p.MaxLineLen
	if maxLine <= 0 {
		maxLine = DefaultMaxLineLen
	}
	maxLine = max(maxLine, 16) // bufio's minimum buffer
	s := &scanner{p: p, strs: make(map[string]string), seed: maphash.MakeSeed()}
	s.maxWarn = p.MaxWarnings
	if s.maxWarn <= 0 {
		s.maxWarn = DefaultMaxWarnings
	}
	br := bufio.NewReaderSize(r, maxLine)
	var err error
	for {
		var line []byte
		var long bool
		line, long, err = readLine(br)
		if len(line) > 0 || err == nil {
			s.lineNo++
			s.line(line, long)
			if err != nil && s.g != nil && s.st != stBetween && !s.lastBlank {
				// The input ends in the middle of a line that went to
				// the open goroutine (or could not be placed): the
				// output was cut off.
				s.g.Truncated = true
			}
		}
		if err != nil {
			break
		}
	}
	s.endDump()
	if errors.Is(err, io.EOF) {
		err = nil
	} else if err != nil {
		err = fmt.Errorf("stackparse: reading line %d: %w", s.lineNo+1, err)
	}
	return s.dumps, err
}

// readLine returns the next line without its "\n" (the slice is only valid
// until the next call). A line longer than br's buffer is cut and the rest
// of it skipped; long reports that. At EOF it returns the last, unterminated
// line (if any) with io.EOF.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	line, err = br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long = true
		// Skip the rest of the line. line stays valid: ReadSlice's
		// buffer is only overwritten by the next read, so copy first.
		line = append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if errors.Is(err, io.EOF) {
			err = nil // the cut line is complete as far as we are concerned
		}
		return line, long, err
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	return line, false, err
}
