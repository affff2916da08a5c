package stackparse

import (
	"bytes"
	"strconv"
)

// This file holds the per-state line handlers of the scanner; the states
// and their patterns are documented where they are defined, in parse.go.

// frameLine handles a non-blank line in stFrames, stFile, stCreatedFile or
// stBetween. It returns false if it cannot place the line.
func (s *scanner) frameLine(line []byte) bool {
	// Indented lines first: half of a dump is locations, and no header
	// or trigger is indented.
	if isSpace(line[0]) {
		if s.g != nil && bytes.HasPrefix(trimLeftBlank(line), []byte("goroutine running on other thread; stack unavailable")) {
			// Printed tab-indented, in place of the frames.
			s.g.StackUnavailable = true
			s.st = stFrames
			return true
		}
		return s.locationLine(line)
	}
	if h, ok := parseHeader(line); ok {
		if s.seenID(h.id) {
			// The same id again: the next dump (see scanner.ids).
			s.endDump()
			s.start(line, startHeader)
			return true
		}
		s.endGoroutine(false)
		s.newGoroutine(h)
		return true
	}
	if k := triggerOnlyAt(line); k != startNone {
		s.endDump()
		s.start(line, k)
		return true
	}
	if bytes.HasPrefix(line, []byte("-----")) && len(bytes.Trim(line, "-")) == 0 {
		// GOTRACEBACK=crash separates per-thread dumps with "-----".
		s.endDump()
		return true
	}
	if s.g == nil {
		// Registers follow the last goroutine of a SIGQUIT dump.
		return isRegister(line)
	}
	if fn, parent, ok := parseCreatedBy(line); ok {
		f := &Frame{Func: s.intern(fn)}
		if s.anc != nil {
			s.anc.CreatedBy = f
		} else {
			s.g.CreatedBy = f
			s.g.ParentID = parent
		}
		s.st = stCreatedFile
		return true
	}
	if n, ok := parseElided(line); ok {
		if s.anc == nil {
			s.g.ElidedFrames = n
		}
		s.st = stFrames
		return true
	}
	if id, ok := parseAncestor(line); ok {
		s.g.Ancestors = append(s.g.Ancestors, Ancestor{ID: id})
		s.anc = &s.g.Ancestors[len(s.g.Ancestors)-1]
		s.st = stFrames
		return true
	}
	if isRegister(line) {
		return true
	}
	fn, args, ok := parseCall(line)
	if !ok {
		return false
	}
	f := Frame{Func: s.intern(fn), Inlined: bytes.Equal(args, []byte("..."))}
	if len(args) > 0 && !f.Inlined {
		f.Args = s.internArgs(args)
	} else if f.Inlined {
		f.Args = "..."
	}
	if s.anc != nil {
		s.anc.Frames = append(s.anc.Frames, f)
	} else {
		s.frames = append(s.frames, f)
	}
	s.st = stFile
	return true
}

// internArgs interns short argument lists, which repeat a lot ("0x0?",
// "{0x0, 0x0}"); longer ones, such as a heap pointer (14 bytes), are
// mostly distinct and are copied.
func (s *scanner) internArgs(b []byte) string {
	if len(b) <= 12 {
		return s.intern(b)
	}
	return string(b)
}

// locationLine handles an indented line: the location of the last call or
// of "created by".
func (s *scanner) locationLine(line []byte) bool {
	if s.g == nil {
		return false
	}
	fl, file, ok := parseFileLine(line)
	if !ok {
		return false
	}
	var f *Frame
	switch {
	case s.st == stCreatedFile && s.anc != nil:
		f = s.anc.CreatedBy
	case s.st == stCreatedFile:
		f = s.g.CreatedBy
	case s.st == stFile && s.anc != nil && len(s.anc.Frames) > 0:
		f = &s.anc.Frames[len(s.anc.Frames)-1]
	case s.st == stFile && len(s.frames) > 0:
		f = &s.frames[len(s.frames)-1]
	}
	if f == nil {
		return false
	}
	f.File = s.intern(file)
	f.Line = fl.line
	f.Offset = fl.offset
	if fl.hasOff {
		f.Inlined = false
	} else if f.Args == "..." {
		f.Inlined = true
	}
	s.st = stFrames
	return true
}

func (s *scanner) newGoroutine(h header) {
	g := &Goroutine{
		ID:          h.id,
		State:       s.headerState(h),
		WaitMinutes: h.minutes,
		Locked:      h.locked,
		Bubble:      h.bubble,
		Durable:     h.durable,
		Leaked:      h.leaked,
		Count:       1,
	}
	if h.hasLabel {
		g.Labels = h.labels
	}
	s.g, s.anc = g, nil
	s.frames = s.frames[:0]
	s.d.NumGoroutines++
	if h.id != 0 {
		s.ids.add(h.id)
	}
	s.st = stFrames
}

func (s *scanner) headerState(h header) string {
	if h.stateB != nil {
		return s.intern(h.stateB)
	}
	return s.internString(h.state)
}

func (s *scanner) internString(v string) string {
	if w, ok := s.strs[v]; ok {
		return w
	}
	if len(s.strs) < 1<<16 {
		s.strs[v] = v
	}
	return v
}

// preambleLine handles a line in stPreamble or stRunning.
func (s *scanner) preambleLine(line []byte) {
	if h, ok := parseHeader(line); ok {
		s.newGoroutine(h)
		return
	}
	if at := findGluedHeader(line); at > 0 {
		cand := line[:at]
		if looksLikePrefix(cand) && !s.pfx.active() {
			s.pfx.set(cand)
		}
		if h, ok := parseHeader(line[at:]); ok {
			s.newGoroutine(h)
			return
		}
	}
	if k := triggerAt(line); k == startSIGQUIT || k == startProfile {
		s.hasPending = false
		s.d = nil // the earlier trigger was log text
		s.start(line, k)
		return
	}
	s.preLines++
	if s.preLines > maxPreambleLines {
		s.d = nil
		s.st = stOutside
		return
	}
	t := bytes.TrimSpace(line)
	if len(t) == 0 {
		return
	}
	if bytes.Equal(t, []byte("running tests:")) {
		s.st = stRunning
		return
	}
	if s.st == stRunning {
		if rt, ok := parseRunningTest(line); ok {
			s.d.RunningTests = append(s.d.RunningTests, rt)
			return
		}
		s.st = stPreamble
	}
	if len(s.d.Preamble) < maxPreambleLines {
		s.d.Preamble = append(s.d.Preamble, string(line))
	}
}

// profileLine handles a line of a pprof debug=1 profile.
func (s *scanner) profileLine(line []byte) {
	t := bytes.TrimSpace(line)
	if len(t) == 0 {
		return
	}
	if k := triggerAt(line); k != startNone && k != startHeader {
		s.endDump()
		s.start(line, k)
		return
	}
	if rest, ok := bytes.CutPrefix(t, []byte("# labels:")); ok {
		if s.g != nil {
			s.g.Labels = parseLabels(string(bytes.TrimSpace(rest)))
		}
		return
	}
	if rest, ok := bytes.CutPrefix(t, []byte("#")); ok {
		if s.g == nil || !s.profileFrame(rest) {
			s.warn(s.lineNo, line, "unrecognised line in a goroutine profile")
		}
		return
	}
	if i := bytes.Index(t, []byte(" @ ")); i > 0 {
		if n, err := strconv.Atoi(string(t[:i])); err == nil && n > 0 {
			s.endGoroutine(false)
			s.g = &Goroutine{Count: n}
			s.frames = s.frames[:0]
			s.d.NumGoroutines += n
			return
		}
	}
	s.endDump()
	s.outside(line)
}

// profileFrame parses the part after "#" of "#\t0x4d5530\tmain.f+0xb0\t/src/main.go:851".
func (s *scanner) profileFrame(rest []byte) bool {
	rest = bytes.TrimLeft(rest, " \t")
	sp := bytes.IndexAny(rest, " \t")
	if sp < 0 || !bytes.HasPrefix(rest, []byte("0x")) {
		return false
	}
	rest = bytes.TrimLeft(rest[sp:], " \t")
	sp = bytes.IndexAny(rest, " \t")
	if sp < 0 {
		return false
	}
	fn := rest[:sp]
	var off uint64
	if i := bytes.LastIndex(fn, []byte("+0x")); i > 0 {
		off, _ = strconv.ParseUint(string(fn[i+3:]), 16, 64)
		fn = fn[:i]
	}
	fl, file, ok := parseFileLine(rest[sp:])
	if !ok {
		return false
	}
	s.frames = append(s.frames, Frame{Func: s.intern(fn), File: s.intern(file), Line: fl.line, Offset: off})
	return true
}
