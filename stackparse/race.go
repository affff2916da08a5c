package stackparse

import (
	"bytes"
	"strconv"
)

// A race detector report (go test -race, go run -race) looks like this,
// between two lines of "=":
//
//	==================
//	WARNING: DATA RACE
//	Read at 0x00c0000ae148 by goroutine 8:
//	  example.com/gen/race.bump()
//	      /src/gen/race/race_test.go:28 +0x3e
//
//	Previous write at 0x00c0000ae148 by goroutine 7:
//	  example.com/gen/race.TestRace()
//	      /src/gen/race/race_test.go:18 +0x124
//	  testing.tRunner()
//	      /usr/local/go/src/testing/testing.go:1576 +0x216
//
//	Goroutine 8 (running) created at:
//	  example.com/gen/race.TestRace()
//	      /src/gen/race/race_test.go:17 +0x104
//	==================
//
// Each report becomes a Dump of KindRace with one Goroutine per goroutine
// it names, in the order first named: Frames is the stack of its access
// (Goroutine.Race says which), CreatedBy the first frame of its creation
// stack. "by main goroutine" is goroutine 1.

// raceState is where the scanner is inside a race report.
type raceState struct {
	create bool    // the frames are a creation stack ("Goroutine N … created at:")
	skip   bool    // a second access of one goroutine: its first is kept
	frames []Frame // the creation stack being read
}

// startRace opens a race report at its "WARNING: DATA RACE" line.
func (s *scanner) startRace(line []byte) {
	s.d.Kind = KindRace
	s.d.Reason = string(trimRightBlank(line))
	s.st = stRace
	s.g = nil
	s.race = raceState{frames: s.race.frames[:0]}
}

// raceLine handles a line of a race report.
func (s *scanner) raceLine(line []byte) {
	t := trimRightBlank(trimLeftBlank(line))
	if len(t) == 0 {
		s.endRaceSection()
		return
	}
	if len(t) >= 10 && len(bytes.Trim(t, "=")) == 0 {
		s.endRaceSection()
		s.endDump()
		return
	}
	if !isSpace(line[0]) {
		if k := triggerOnlyAt(line); k != startNone {
			s.endRaceSection()
			s.endDump()
			s.start(line, k)
			return
		}
		if id, access, ok := parseRaceAccess(t); ok {
			s.endRaceSection()
			g := s.raceGoroutine(id)
			s.race.skip = g.Race != ""
			if !s.race.skip {
				g.Race = string(access)
				if !bytes.HasPrefix(access, []byte("Previous ")) && g.State == "" {
					g.State = "running" // it is making the access
				}
			}
			return
		}
		if id, state, ok := parseRaceCreated(t); ok {
			s.endRaceSection()
			g := s.raceGoroutine(id)
			g.State = s.intern(state)
			s.race.create = true
			s.race.frames = s.race.frames[:0]
			return
		}
		s.endRaceSection()
		return // other text of the report ("Location is global …")
	}
	if s.g == nil {
		return
	}
	frames := &s.frames
	if s.race.create {
		frames = &s.race.frames
	}
	if fn, args, ok := parseCall(t); ok {
		f := Frame{Func: s.intern(fn), Inlined: bytes.Equal(args, []byte("..."))}
		if len(args) > 0 {
			f.Args = s.internArgs(args)
		}
		if !s.race.skip || s.race.create {
			*frames = append(*frames, f)
		}
		return
	}
	if fl, file, ok := parseFileLine(t); ok && len(*frames) > 0 {
		f := &(*frames)[len(*frames)-1]
		if f.File == "" {
			f.File, f.Line, f.Offset = s.intern(file), fl.line, fl.offset
		}
		return
	}
	if bytes.Equal(t, []byte("[failed to restore the stack]")) {
		return
	}
	s.warn(s.lineNo, line, "unrecognised line in a race report")
}

// raceGoroutine returns the goroutine id of the open report, adding it.
func (s *scanner) raceGoroutine(id int64) *Goroutine {
	for _, g := range s.d.Goroutines {
		if g.ID == id {
			s.g = g
			return g
		}
	}
	g := &Goroutine{ID: id, Count: 1}
	s.d.Goroutines = append(s.d.Goroutines, g)
	s.d.NumGoroutines++
	s.ids.add(id)
	s.g = g
	return g
}

// endRaceSection stores the stack read for the open goroutine and closes
// it.
func (s *scanner) endRaceSection() {
	g := s.g
	if g == nil {
		return
	}
	s.g = nil
	if s.race.create {
		if len(s.race.frames) > 0 && g.CreatedBy == nil {
			f := s.race.frames[0]
			g.CreatedBy = &f
		}
		s.race.create = false
	} else if len(s.frames) > 0 && len(g.Frames) == 0 && !s.race.skip {
		g.Frames = append([]Frame(nil), s.frames...)
	}
	s.frames = s.frames[:0]
}

// parseRaceAccess parses "Read at 0x00c0000ae148 by goroutine 8:",
// "Previous write at 0x… by main goroutine:" and the atomic forms,
// returning the goroutine id (1 for the main goroutine) and the line
// without its colon.
func parseRaceAccess(t []byte) (int64, []byte, bool) {
	body, ok := bytes.CutSuffix(t, []byte(":"))
	if !ok {
		return 0, nil, false
	}
	i := bytes.Index(body, []byte(" at 0x"))
	if i <= 0 {
		return 0, nil, false
	}
	op := bytes.ToLower(bytes.TrimPrefix(body[:i], []byte("Previous ")))
	switch string(bytes.TrimPrefix(op, []byte("atomic "))) {
	case "read", "write":
	default:
		return 0, nil, false
	}
	if bytes.HasSuffix(body, []byte(" by main goroutine")) {
		return 1, body, true
	}
	j := bytes.LastIndex(body, []byte(" by goroutine "))
	if j < 0 {
		return 0, nil, false
	}
	id, err := strconv.ParseInt(string(body[j+len(" by goroutine "):]), 10, 64)
	if err != nil || id < 0 {
		return 0, nil, false
	}
	return id, body, true
}

// parseRaceCreated parses "Goroutine 8 (running) created at:" and
// "Goroutine 6 (finished) created at:".
func parseRaceCreated(t []byte) (int64, []byte, bool) {
	rest, ok := bytes.CutPrefix(t, []byte("Goroutine "))
	if !ok {
		return 0, nil, false
	}
	rest, ok = bytes.CutSuffix(rest, []byte(") created at:"))
	if !ok {
		return 0, nil, false
	}
	sp := bytes.Index(rest, []byte(" ("))
	if sp <= 0 {
		return 0, nil, false
	}
	id, err := strconv.ParseInt(string(rest[:sp]), 10, 64)
	if err != nil || id < 0 {
		return 0, nil, false
	}
	return id, rest[sp+2:], true
}

// endRace completes a race report at the end of its dump: the open stack
// is stored, and with Parser.OnGoroutine the goroutines, complete only now,
// are handed to it.
func (s *scanner) endRace() {
	s.endRaceSection()
	if s.p.OnGoroutine == nil {
		return
	}
	gs := s.d.Goroutines
	s.d.Goroutines = nil
	for _, g := range gs {
		s.p.OnGoroutine(s.d, g)
	}
}
