package stackparse

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// This file recognises single lines of a dump. The functions here are pure:
// they look at one line and never keep a reference to it.

type startKind int

const (
	startNone    startKind = iota
	startHeader            // "goroutine 1 [running]:"
	startPanic             // "panic: boom"
	startFatal             // "fatal error: all goroutines are asleep - deadlock!"
	startSIGQUIT           // "SIGQUIT: quit"
	startProfile           // "goroutine profile: total 12"
	startRace              // "WARNING: DATA RACE"
)

var triggers = []struct {
	text string
	kind startKind
}{
	{"panic: ", startPanic},
	{"fatal error: ", startFatal},
	{"SIGQUIT: quit", startSIGQUIT},
	{"goroutine profile: total ", startProfile},
	{"WARNING: DATA RACE", startRace},
}

// triggerAt reports the trigger line begins with, or startNone.
func triggerAt(line []byte) startKind {
	if k := triggerOnlyAt(line); k != startNone {
		return k
	}
	if _, ok := parseHeader(line); ok {
		return startHeader
	}
	return startNone
}

// triggerOnlyAt is triggerAt without goroutine headers.
func triggerOnlyAt(line []byte) startKind {
	if len(line) == 0 {
		return startNone
	}
	switch line[0] {
	case 'p', 'f', 'S', 'g', 'W': // the first letters of the triggers
	default:
		return startNone
	}
	for _, t := range triggers {
		if bytes.HasPrefix(line, []byte(t.text)) {
			return t.kind
		}
	}
	return startNone
}

// findStart finds where a dump starts in line: at the beginning, or after
// some other text (a prefix or glued text). It returns -1 if line does not
// start a dump.
func findStart(line []byte) (int, startKind) {
	if k := triggerAt(line); k != startNone {
		return 0, k
	}
	best, kind := -1, startNone
	for _, t := range triggers {
		if i := bytes.Index(line, []byte(t.text)); i > 0 && (best < 0 || i < best) {
			best, kind = i, t.kind
		}
	}
	if i := findGluedHeader(line); i > 0 && (best < 0 || i < best) {
		best, kind = i, startHeader
	}
	return best, kind
}

// findGluedHeader returns the position of a goroutine header that starts
// after the beginning of line, or -1.
func findGluedHeader(line []byte) int {
	if t := trimRightBlank(line); !bytes.HasSuffix(t, []byte("]:")) && !bytes.HasSuffix(t, []byte("}:")) {
		return -1 // neither "[state]:" nor Go 1.27's "[state] {labels}:"
	}
	for off := 1; off < len(line); {
		i := bytes.Index(line[off:], []byte("goroutine "))
		if i < 0 {
			return -1
		}
		if _, ok := parseHeader(line[off+i:]); ok {
			return off + i
		}
		off += i + 1
	}
	return -1
}

// parseCall parses a call line "pkg.F(0x1, 0x2)" or "pkg.F(...)" into its
// function name and argument text.
func parseCall(line []byte) (fn, args []byte, ok bool) {
	line = trimRightBlank(line)
	if len(line) < 3 || line[len(line)-1] != ')' || isSpace(line[0]) {
		return nil, nil, false
	}
	open := bytes.LastIndexByte(line, '(')
	if open <= 0 {
		return nil, nil, false
	}
	fn = line[:open]
	if hasBlank(fn) {
		return nil, nil, false
	}
	return fn, line[open+1 : len(line)-1], true
}

// fileLine is a parsed location line.
type fileLine struct {
	file   []byte
	line   int
	offset uint64
	hasOff bool
}

// parseFileLine parses a location line:
//
//	\t/src/main.go:12 +0x1d
//	\t/src/main.go:12 +0x1d fp=0xc000 sp=0xc000 pc=0x4a2b
//	\t_testmain.go:48
//	    main.go:12 +0x1d              (spaces instead of a tab)
func parseFileLine(b []byte) (fileLine, []byte, bool) {
	var fl fileLine
	b = trimRightBlank(trimLeftBlank(b))
	if i := bytes.Index(b, []byte(" fp=")); i >= 0 {
		b = b[:i]
	}
	// The offset is the last '+' of the line when there is one; a '+'
	// elsewhere belongs to the path.
	if i := bytes.LastIndexByte(b, '+'); i > 0 && b[i-1] == ' ' && bytes.HasPrefix(b[i:], []byte("+0x")) {
		if off, ok := parseHex(b[i+3:]); ok {
			fl.offset, fl.hasOff = off, true
			b = b[:i-1]
		}
	}
	colon := bytes.LastIndexByte(b, ':')
	if colon <= 0 || colon == len(b)-1 {
		return fl, nil, false
	}
	n, ok := parseDec(b[colon+1:])
	if !ok {
		return fl, nil, false
	}
	fl.file, fl.line = b[:colon], n
	return fl, fl.file, true
}

// parseHex parses a non-empty run of hex digits that fits in 64 bits.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// parseDec parses a non-empty run of at most 9 decimal digits.
func parseDec(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// trimLeftBlank and trimRightBlank remove spaces and tabs (bytes.Trim
// with a cutset builds a set on every call).
func trimLeftBlank(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func trimRightBlank(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// hasBlank reports whether b holds a space or a tab.
func hasBlank(b []byte) bool {
	return bytes.IndexByte(b, ' ') >= 0 || bytes.IndexByte(b, '\t') >= 0
}

// isRegister matches a SIGQUIT register line such as "rax    0x0" or
// "rflags 0x246" (also "r15 0x0" on arm64 and "lr  0x1" etc.).
func isRegister(line []byte) bool {
	i := 0
	for i < len(line) && (line[i] >= 'a' && line[i] <= 'z' || line[i] >= '0' && line[i] <= '9') {
		i++
	}
	if i == 0 || i > 8 || i == len(line) || line[i] != ' ' {
		return false
	}
	v := bytes.TrimLeft(line[i:], " ")
	if !bytes.HasPrefix(v, []byte("0x")) || len(v) < 3 {
		return false
	}
	for _, c := range v[2:] {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// parseElided parses "...12 frames elided..." (Go 1.21+, n=12) and
// "...additional frames elided..." (older, n=-1).
func parseElided(line []byte) (int, bool) {
	if bytes.Equal(line, []byte("...additional frames elided...")) {
		return -1, true
	}
	mid, ok := bytes.CutPrefix(line, []byte("..."))
	if !ok {
		return 0, false
	}
	mid, ok = bytes.CutSuffix(mid, []byte(" frames elided..."))
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(mid))
	if err != nil {
		return 0, false
	}
	return n, true
}

// parseCreatedBy parses "created by F in goroutine N" and "created by F".
func parseCreatedBy(line []byte) (fn []byte, parent int64, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte("created by "))
	if !ok {
		return nil, 0, false
	}
	rest = trimRightBlank(rest)
	if i := bytes.LastIndex(rest, []byte(" in goroutine ")); i >= 0 {
		if p, err := strconv.ParseInt(string(rest[i+len(" in goroutine "):]), 10, 64); err == nil {
			return rest[:i], p, true
		}
	}
	if len(rest) == 0 || hasBlank(rest) {
		return nil, 0, false
	}
	return rest, 0, true
}

// parseAncestor parses "[originating from goroutine N]:".
func parseAncestor(line []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("[originating from goroutine "))
	if !ok {
		return 0, false
	}
	rest, ok = bytes.CutSuffix(trimRightBlank(rest), []byte("]:"))
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(string(rest), 10, 64)
	return id, err == nil
}

// classifyReason judges a dump's kind from its first preamble line.
func classifyReason(line []byte) (DumpKind, time.Duration) {
	switch {
	case bytes.HasPrefix(line, []byte("panic: test timed out after ")):
		d, _ := time.ParseDuration(string(bytes.TrimSpace(line[len("panic: test timed out after "):])))
		return KindTestTimeout, d
	case bytes.HasPrefix(line, []byte("panic: ")):
		return KindPanic, 0
	case bytes.HasPrefix(line, []byte("fatal error: all goroutines are asleep")):
		return KindDeadlock, 0
	case bytes.HasPrefix(line, []byte("fatal error: ")):
		return KindFatal, 0
	case bytes.HasPrefix(line, []byte("SIGQUIT: quit")):
		return KindSIGQUIT, 0
	}
	return KindUnknown, 0
}

// parseRunningTest parses an entry of the running tests list,
// "\t\tTestHang/sub (3s)". An entry that lost its indentation (a dump
// pasted where leading blanks are trimmed) is accepted when its name has
// no blank, as test names never do.
func parseRunningTest(line []byte) (RunningTest, bool) {
	if len(line) == 0 {
		return RunningTest{}, false
	}
	t := bytes.TrimSpace(line)
	i := bytes.LastIndex(t, []byte(" ("))
	if i <= 0 || t[len(t)-1] != ')' || !isSpace(line[0]) && hasBlank(t[:i]) {
		return RunningTest{}, false
	}
	d, err := time.ParseDuration(string(t[i+2 : len(t)-1]))
	if err != nil {
		return RunningTest{}, false
	}
	return RunningTest{Name: string(t[:i]), Duration: d}, true
}

// looksLikePrefix reports whether text found before a trigger on the same
// line looks like a per-line log prefix rather than log text: a CI
// timestamp ("2024-05-01T10:00:00.1234567Z "), a clock ("[12:00:01] ") or a
// line number ("  12: "). It must contain a digit, end in a space, a tab or
// a separator, and use only digits, spaces and the punctuation of
// timestamps.
func looksLikePrefix(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	digit := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case strings.IndexByte(" \t:.,-+/[]|()TZ", c) >= 0:
		default:
			return false
		}
	}
	last := b[len(b)-1]
	return digit && (last == ' ' || last == '\t' || last == ']' || last == '|' || last == ':')
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
