package engine

// This file is where the adapter's stream comes in (the engine's
// core.Sink), what the engine offers the adapter (core.Host), the scan of
// the runner's output and the ticker of the heartbeat checks.

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/report"
)

// sink is the engine as the adapter's stream sees it.
type sink struct{ e *engine }

// Event implements core.Sink.
func (s sink) Event(ev core.Event) {
	e := s.e
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.opts.Offline && !ev.Time.IsZero() {
		now = ev.Time
		if now.After(e.lastTime) {
			e.lastTime = now
		}
		if e.firstTime.IsZero() || now.Before(e.firstTime) {
			e.firstTime = now
		}
	}
	if ev.Test != "" && len(e.live) > 0 && ev.Action != core.ActionPause {
		e.recoverTest(ev.Unit, ev.Test, now)
	}
	e.tr.Observe(&ev, now)
}

// RunningLeaves implements core.Sink.
func (s sink) RunningLeaves(unit string) []string {
	e := s.e
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.tr.Units[unit]
	if p == nil {
		return nil
	}
	var out []string
	for _, t := range p.RunningLeaves() {
		if !t.Flagged() {
			out = append(out, t.Name)
		}
	}
	return out
}

// Found implements core.Sink: hangs the runner's own output showed.
func (s sink) Found(unit string, found []*report.Hang) {
	e := s.e
	e.mu.Lock()
	var hangs []*report.Hang
	for _, h := range found {
		if e.book.has(unit, h.Test) {
			continue
		}
		e.tr.MarkHung(unit, h.Test)
		e.addHang(unit, h)
		hangs = append(hangs, h)
	}
	e.mu.Unlock()
	if len(hangs) > 0 {
		e.writeHangArtifacts(unit, hangs)
		e.printHangs(hangs)
	}
}

// host is the engine as the adapter sees it.
type host struct{ e *engine }

// ArtifactPath implements core.Host.
func (h host) ArtifactPath(unit, kind string) string {
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	return h.e.artifactPath(unit, kind)
}

// Say implements core.Host.
func (h host) Say(line string) { fmt.Fprintln(h.e.stderr, line) }

// WarnOnce implements core.Host.
func (h host) WarnOnce(key, msg string) { h.e.warnOnce(key, msg) }

// Warn implements core.Host.
func (h host) Warn(msg string) {
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	h.e.addWarning(msg)
}

// scan reads the stream. Reading a live input that a signal interrupts
// cannot always be unblocked (standard input): the scan is then left to
// finish on its own and the run ends.
func (e *engine) scan(ctx context.Context, r io.Reader) error {
	if e.opts.Input == nil {
		return e.src.Scan(r)
	}
	done := make(chan error, 1)
	go func() { done <- e.src.Scan(r) }()
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
