package engine

// The book of a run's hangs: the report's hangs and the stalls that turned
// out slow. It is the one owner of both; the count of hung tests is its
// length. Its methods are called with the engine's mutex held.

import "github.com/hangdog/hangdog/watchdog/report"

type book struct {
	hangs []*report.Hang
	slow  []*report.Hang
}

// add adds a hang of unit to the report.
func (b *book) add(unit string, h *report.Hang) {
	h.Unit = unit
	b.hangs = append(b.hangs, h)
}

// remove takes h out of the report; false when it was not in it.
func (b *book) remove(h *report.Hang) bool {
	for i, x := range b.hangs {
		if x == h {
			b.hangs = append(b.hangs[:i], b.hangs[i+1:]...)
			return true
		}
	}
	return false
}

// toSlow moves h from the hangs to the slow stalls.
func (b *book) toSlow(h *report.Hang) {
	b.remove(h)
	b.slow = append(b.slow, h)
}

// has reports whether a hang of test (of the unit itself: "") of unit is
// in the report.
func (b *book) has(unit, test string) bool {
	for _, h := range b.hangs {
		if h.Unit == unit && h.Test == test {
			return true
		}
	}
	return false
}

// hung is the count of hung tests and units.
func (b *book) hung() int { return len(b.hangs) }
