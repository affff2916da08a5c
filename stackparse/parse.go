package stackparse

import (
	"bytes"
	"hash/maphash"
	"slices"
)

// state is where the scanner is in a dump. Each state lists the lines it
// expects, with an example, and where they lead. Lines are matched after
// the trailing "\r" and any detected line prefix (see prefix.go) have been
// removed. In every state inside a dump, a preamble trigger ends the dump
// and starts a new one, and a goroutine header starts a new goroutine.
type state int

const (
	// stOutside: no dump is open; ordinary log text is skipped without
	// warnings. Expects a preamble trigger, possibly after a line prefix:
	//   "panic: test timed out after 3s"          -> stPreamble
	//   "fatal error: all goroutines are asleep - deadlock!" -> stPreamble
	//   "SIGQUIT: quit"                            -> stPreamble
	//   "goroutine profile: total 12"              -> stProfile
	// or a goroutine header with no preamble (runtime.Stack, pprof debug=2):
	//   "goroutine 1 [running]:"                   -> stFrames
	stOutside state = iota

	// stPreamble: after a trigger, before the first goroutine:
	//   "\trunning tests:" / "running tests:"     -> stRunning
	//   "\tpanic: again [recovered]", "PC=0x46b3a1 m=0 sigcode=0",
	//   "[signal SIGSEGV: ...]", "runtime: ...", blank lines -> stPreamble
	//   "goroutine 7 gp=0xc000102000 m=nil [chan receive]:" -> stFrames
	// Other lines are kept in Dump.Preamble. After maxPreambleLines
	// lines with no header the dump is abandoned -> stOutside.
	stPreamble

	// stRunning: the testing package's list of running tests:
	//   "\t\tTestHang/sub (3s)" (Go 1.23+), "\tTestHang (3s)" (older)
	// Anything else is handled as in stPreamble.
	stRunning

	// stFrames: inside a goroutine, expecting its next call line:
	//   "main.worker(0xc000012345, 0x1)"           -> stFile
	//   "created by main.main in goroutine 1"      -> stCreatedFile
	//   "...12 frames elided...", "...additional frames elided..."
	//   "[originating from goroutine 5]:"          (frames now go to an Ancestor)
	//   "\tgoroutine running on other thread; stack unavailable"
	//   "rax    0x0" (SIGQUIT registers)         -> stFrames
	//   ""                                         -> stBetween
	stFrames

	// stFile: after a call line, expecting its location:
	//   "\t/src/main.go:12 +0x1d fp=0xc000 sp=0xc000 pc=0x4a" -> stFrames
	stFile

	// stCreatedFile: after "created by F", expecting its location:
	//   "\t/src/main.go:9 +0x25"                   -> stFrames
	stCreatedFile

	// stBetween: after a blank line that ended a goroutine. Expects a
	// header (-> stFrames), registers or more blank lines; anything else
	// ends the dump (-> stOutside), e.g. "exit status 2".
	stBetween

	// stRace: a race detector report (see race.go):
	//   "Read at 0x00c0000a4018 by goroutine 8:"   (an access; its stack follows)
	//   "Previous write at 0x00c0000a4018 by main goroutine:"
	//   "Goroutine 8 (running) created at:"       (where it was started)
	//   "  example.com/a.f()" / "      /src/a.go:12 +0x3c" (frames, indented)
	//   ""                                         (ends a stack)
	//   "=================="                       -> stOutside
	stRace

	// stProfile: an aggregated pprof goroutine profile (debug=1):
	//   "3 @ 0x4442b1 0x480d1d 0x4d5531"           (a new stack, Count 3)
	//   "# labels: {\"k\":\"v\"}"
	//   "#\t0x4d5530\tmain.f+0xb0\t/src/main.go:851"
	//   ""                                         -> stProfile
	// Anything else ends the dump -> stOutside.
	stProfile
)

// scanner holds the parse state of one Parser.Parse call.
type scanner struct {
	p       *Parser
	lineNo  int
	st      state
	pfx     prefix
	maxWarn int

	dumps  []*Dump
	d      *Dump      // open dump, nil in stOutside
	g      *Goroutine // open goroutine
	frames []Frame    // frames of g, collected here until g is complete
	anc    *Ancestor  // open ancestor block of g, if any

	preLines  int  // lines seen in the preamble
	lastBlank bool // the last line seen inside a dump was blank

	// weak is set while the open dump started at a banner with text in
	// front of it that is not a line prefix ("go : panic: …" of
	// PowerShell, a markdown backtick, "^\SIGQUIT: quit", output with no
	// final newline, or a log message that mentions a panic). Until its
	// first goroutine, a banner at the start of a line replaces it.
	weak bool

	// race is the state of a race report (see race.go).
	race raceState

	// pending is a line inside a dump that could not be placed. Whether it
	// is garbage inside the dump (a warning) or the first line after the
	// dump is decided by the next non-blank line.
	pending    []byte
	pendingNo  int
	hasPending bool

	// strs interns function names and file paths: a large dump repeats
	// the same few hundred of them many thousand times.
	strs map[string]string
	// recent are the last strings interned.
	recent     [4]string
	nextRecent int

	// ids holds the goroutine ids of the open dump. Ids are unique
	// within one dump, so a header with an id seen before starts the
	// next dump: two runtime.Stack or debug=2 dumps printed one after the
	// other by several processes, or by one process twice, with no
	// preamble to tell them apart.
	ids idSet

	// shared holds the stacks of Parser.ShareFrames by hash.
	shared  map[uint64][][]Frame
	nShared int
	seed    maphash.Seed
}

func (s *scanner) intern(b []byte) string {
	// Consecutive frames often repeat a name or a file (recursion, one
	// file's functions calling each other): check the last few first.
	for _, v := range s.recent {
		if len(v) == len(b) && v == string(b) {
			return v
		}
	}
	v := s.internMap(b)
	s.recent[s.nextRecent] = v
	s.nextRecent = (s.nextRecent + 1) % len(s.recent)
	return v
}

func (s *scanner) internMap(b []byte) string {
	if v, ok := s.strs[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(s.strs) < 1<<16 {
		s.strs[v] = v
	}
	return v
}

// line processes one input line (without "\n"). long is set when the line
// was cut at MaxLineLen.
func (s *scanner) line(raw []byte, long bool) {
	raw = bytes.TrimSuffix(raw, []byte{'\r'})
	if len(raw) > 0 && raw[0] == '[' {
		// A line link of the GitHub web log, alone on its line or in
		// front of the text: never part of a dump.
		if n := logLinkLen(raw); n > 0 {
			if len(bytes.TrimSpace(raw[n:])) == 0 {
				return
			}
			raw = raw[n:]
		}
	}
	if s.st == stOutside {
		s.outside(raw)
		return
	}
	if long {
		s.warn(s.lineNo, raw, "line too long, cut")
	}
	line := s.stripPrefix(raw)
	if len(line) > 0 && line[0] == '[' && len(raw) != len(line) {
		if n := logLinkLen(line); n > 0 {
			if len(bytes.TrimSpace(line[n:])) == 0 {
				return
			}
			line = line[n:]
		}
	}
	if n := len(line); n > 0 && line[n-1] == '`' {
		line = trimBackticks(line)
	}
	s.lastBlank = len(bytes.TrimSpace(line)) == 0
	s.inDump(line)
}

// outside looks for the start of a dump in a line of ordinary text.
func (s *scanner) outside(raw []byte) {
	at, kind := findStart(raw)
	if at < 0 {
		return
	}
	weak := false
	if at > 0 {
		cand := raw[:at]
		switch {
		case looksLikePrefix(cand) || detectPrefix(cand) == len(cand):
			s.pfx.set(cand)
		case kind == startHeader:
			s.pfx.clear() // a header glued to log text
		default:
			// Something in front of a banner: PowerShell's "go : ", a
			// markdown backtick, a terminal's "^\", output without a
			// final newline, or just a log message that mentions a
			// panic. Provisional until a goroutine follows. A line
			// prefix in front of that is learnt.
			if n := detectPrefix(cand); n > 0 {
				s.pfx.set(cand[:n])
			} else {
				s.pfx.clear()
			}
			weak = true
		}
	} else {
		s.pfx.clear()
	}
	line := raw[at:]
	if n := len(line); n > 0 && line[n-1] == '`' {
		line = trimBackticks(line)
	}
	s.start(line, kind)
	s.weak = weak
}

// start opens a new dump at line, which begins with a trigger of kind.
func (s *scanner) start(line []byte, kind startKind) {
	s.d = &Dump{StartLine: s.lineNo}
	s.preLines = 0
	s.weak = false
	s.ids.clear()
	switch kind {
	case startRace:
		s.startRace(line)
		return
	case startHeader:
		s.st = stBetween
		s.inDump(line)
		return
	case startProfile:
		s.d.Kind = KindProfile
		s.d.Reason = string(line)
		s.st = stProfile
		return
	}
	s.d.Reason = string(line)
	s.d.Kind, s.d.TimeoutAfter = classifyReason(line)
	s.st = stPreamble
}

// endDump closes the open dump, if any, and returns to stOutside.
func (s *scanner) endDump() {
	if s.d == nil {
		s.st = stOutside
		return
	}
	if s.st == stRace {
		s.endRace()
	}
	s.endGoroutine(true)
	d := s.d
	s.d = nil
	s.st = stOutside
	s.hasPending = false
	if d.NumGoroutines == 0 {
		return // a preamble with no goroutines: ordinary text after all
	}
	if s.p.OnDump != nil {
		s.p.OnDump(d)
	}
	s.dumps = append(s.dumps, d)
}

// endGoroutine completes the open goroutine. atEnd means the dump ends
// here, so a goroutine still waiting for lines is marked Truncated.
func (s *scanner) endGoroutine(atEnd bool) {
	g := s.g
	if g == nil {
		return
	}
	if atEnd && (s.st == stFile || s.st == stCreatedFile ||
		(len(s.frames) == 0 && !g.StackUnavailable && g.ID != 0)) {
		g.Truncated = true
	}
	if len(s.frames) > 0 {
		if s.p.ShareFrames {
			g.Frames = s.share(s.frames)
		} else {
			// One allocation of the right size per goroutine.
			g.Frames = slices.Clone(s.frames)
		}
	}
	s.g, s.anc = nil, nil
	s.d.noteGOROOT(g)
	if s.p.OnGoroutine != nil {
		s.p.OnGoroutine(s.d, g)
	} else {
		s.d.Goroutines = append(s.d.Goroutines, g)
	}
}

func (s *scanner) warn(no int, text []byte, msg string) {
	if s.d == nil {
		return
	}
	if len(s.d.Warnings) >= s.maxWarn {
		s.d.WarningsDropped++
		return
	}
	const maxText = 200
	if len(text) > maxText {
		text = text[:maxText]
	}
	s.d.Warnings = append(s.d.Warnings, Warning{Line: no, Text: string(text), Msg: msg})
}

// inDump handles a line (prefix already stripped) while a dump is open.
func (s *scanner) inDump(line []byte) {
	if s.st == stProfile {
		s.profileLine(line)
		return
	}
	if s.st == stRace {
		s.raceLine(line)
		return
	}
	if s.st == stPreamble || s.st == stRunning {
		if s.weak {
			if k := triggerOnlyAt(line); k != startNone {
				// The earlier banner was log text: this one
				// starts the dump.
				s.d = nil
				s.start(line, k)
				return
			}
		}
		s.preambleLine(line)
		return
	}
	// A header may be glued to the end of the previous line's text, or
	// follow a prefix this dump has not seen before.
	if at := findGluedHeader(line); at > 0 {
		cand := line[:at]
		if looksLikePrefix(cand) && !s.pfx.active() {
			s.pfx.set(cand)
		} else {
			s.inDump(cand)
			if s.st == stOutside {
				s.outside(line[at:])
				return
			}
		}
		line = line[at:]
	}
	if len(bytes.TrimSpace(line)) == 0 {
		s.blank()
		return
	}
	if s.hasPending {
		if !s.continuesDump(line) {
			s.endDump()
			s.outside(line)
			return
		}
		s.warn(s.pendingNo, s.pending, "unrecognised line inside a dump")
		s.hasPending = false
	}
	if !s.frameLine(line) && !s.unindentedLine(line) {
		s.hasPending = true
		s.pending = append(s.pending[:0], line...)
		s.pendingNo = s.lineNo
	}
}

func (s *scanner) blank() {
	switch s.st {
	case stFile, stCreatedFile:
		// A goroutine ended before its last location: keep going,
		// the frame simply has no file.
		s.st = stBetween
	case stFrames:
		s.st = stBetween
	}
}

// continuesDump reports whether line is something only a dump contains,
// used to decide what an unrecognised line before it was.
func (s *scanner) continuesDump(line []byte) bool {
	if h, ok := parseHeader(line); ok {
		return !s.seenID(h.id)
	}
	if isSpace(line[0]) {
		_, _, ok := parseFileLine(line)
		return ok
	}
	if bytes.HasPrefix(line, []byte("created by ")) || isRegister(line) || isBareLocation(line) {
		return true
	}
	_, _, ok := parseCall(line)
	return ok
}
