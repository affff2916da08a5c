package watchdog

// This file is where the run's stream comes in: the scan, the handler of
// its events and text, and the ticker of the heartbeat checks.

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/gotest"
	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// Event implements testjson.Handler.
func (e *engine) Event(ev *testjson.Event, raw []byte) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.Offline && !ev.Time.IsZero() {
		now = ev.Time
		if now.After(e.lastTime) {
			e.lastTime = now
		}
		if e.firstTime.IsZero() || now.Before(e.firstTime) {
			e.firstTime = now
		}
	}
	if ev.Test != "" && len(e.live) > 0 && ev.Action != testjson.ActionPause {
		e.recoverTest(ev.Package, ev.Test, now)
	}
	show := true
	if c := e.collectors[ev.Package]; c != nil {
		show = c.take(ev, now)
	} else if ev.Action == testjson.ActionOutput && isDumpStart(ev.Output) {
		e.startPassive(ev, now)
	}
	ce := gotest.Event(ev)
	e.tr.Observe(&ce, now)
	if c := e.collectors[ev.Package]; c != nil && ev.Test == "" && isTerminal(ev.Action) {
		c.finish()
	}
	if ev.Test == "" && isTerminal(ev.Action) {
		e.leaks.unitEnded(ev.Package) // its binary has exited
	}
	if show {
		e.out.Event(ev)
	}
}

// Text implements testjson.Handler.
func (e *engine) Text(chunk []byte, end bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.text != nil {
		// An analysed log is the user's own file: it is read for
		// dumps, not printed again.
		e.text.write(chunk, end)
		return
	}
	e.out.Text(chunk, end)
}

func isTerminal(a testjson.Action) bool {
	return a == testjson.ActionPass || a == testjson.ActionFail || a == testjson.ActionSkip
}

// scan reads the stream. Reading a live input that a signal interrupts
// cannot always be unblocked (standard input): the scan is then left to
// finish on its own and the run ends.
func (e *engine) scan(ctx context.Context, r io.Reader) error {
	if e.cfg.Input == nil {
		return (&testjson.Scanner{}).Scan(r, e)
	}
	done := make(chan error, 1)
	go func() { done <- (&testjson.Scanner{}).Scan(r, e) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return nil
	}
}

// every calls f every d in a goroutine of wg until done is closed.
func every(wg *sync.WaitGroup, done <-chan struct{}, d time.Duration, f func(time.Time)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				f(now)
			}
		}
	}()
}
