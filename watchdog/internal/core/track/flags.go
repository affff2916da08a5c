package track

// What the capture policy tells the tracker, and what it reads of a unit
// or test: the tracker stays the only one that writes its state.

import "time"

// LastBeat is when the last event of t or of one of its subtests came.
func (t *Test) LastBeat() time.Time { return t.lastBeat }

// Flagged reports whether a stall was reported for t.
func (t *Test) Flagged() bool { return t.flagged }

// LastBeat is when the last event of any kind for p came.
func (p *Unit) LastBeat() time.Time { return p.lastBeat }

// HasRun reports whether p shows any sign that its process ran: a test
// started, output came, or its process was seen (SawBinary).
func (p *Unit) HasRun() bool { return p.ran > 0 || p.sawOutput || p.sawBinary }

// test returns the running or paused test of a unit, or nil.
func (tr *Tracker) test(unit, test string) *Test {
	if p := tr.Units[unit]; p != nil {
		return p.Tests[test]
	}
	return nil
}

// Capture notes that a capture of unit is in progress: Stalls reports
// nothing of it until Release.
func (tr *Tracker) Capture(unit string) {
	if p := tr.Units[unit]; p != nil {
		p.capturing = true
	}
}

// Release ends a capture of unit: the tests that ran in a stopped process
// will get no event, and the unit's quiet time starts anew at now (a unit
// that still does not finish is then stalled outside any test).
func (tr *Tracker) Release(unit string, now time.Time) {
	if p := tr.Units[unit]; p != nil {
		p.capturing = false
		p.lastBeat = now
	}
}

// SawBinary notes that the process of unit was seen running.
func (tr *Tracker) SawBinary(unit string) {
	if p := tr.Units[unit]; p != nil {
		p.sawBinary = true
	}
}

// Flag notes that a stall was reported for test of unit (test "": for the
// unit outside any test); Stalls does not report it again, and its record
// says hung.
func (tr *Tracker) Flag(unit, test string) {
	if test == "" {
		if p := tr.Units[unit]; p != nil {
			p.flagged = true
		}
		return
	}
	if t := tr.test(unit, test); t != nil {
		t.flagged = true
	}
}

// Unflag takes back the flag of test of unit (test "": of the unit) that
// turned out to be slow: it counts as running again, quiet from now, and
// may stall again later.
func (tr *Tracker) Unflag(unit, test string, now time.Time) {
	if test == "" {
		if p := tr.Units[unit]; p != nil {
			p.flagged = false
			p.lastBeat = now
		}
		return
	}
	if t := tr.test(unit, test); t != nil {
		t.flagged = false
		t.lastBeat = now
	}
}

// Recover takes back the flag of a test that made progress after it was
// reported stalled, and reports whether it was flagged.
func (tr *Tracker) Recover(unit, test string) bool {
	t := tr.test(unit, test)
	if t == nil || !t.flagged {
		return false
	}
	t.flagged = false
	return true
}

// Ghost takes back the flag of a test none of whose goroutines or threads
// is left in its process: its result is pending, and Stalls does not
// report it again.
func (tr *Tracker) Ghost(unit, test string) {
	if t := tr.test(unit, test); t != nil {
		t.flagged, t.ghost = false, true
	}
}

// StillHung looks at the tests of unit that a live hang is about (test "":
// the unit outside any test): alive is how many of them are still flagged
// (a test that recovered or ended is not), last the latest heartbeat among
// those. done reports that the unit has finished, or is unknown.
func (tr *Tracker) StillHung(unit string, tests []string) (last time.Time, alive int, done bool) {
	p := tr.Units[unit]
	if p == nil || p.Done {
		return time.Time{}, 0, true
	}
	for _, name := range tests {
		if name == "" {
			last = maxTime(last, p.lastBeat)
			alive++
			continue
		}
		if t := p.Tests[name]; t != nil && t.flagged {
			last = maxTime(last, t.lastBeat)
			alive++
		}
	}
	return last, alive, false
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
