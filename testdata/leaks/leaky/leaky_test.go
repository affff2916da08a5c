package leaky

import (
	"context"
	"testing"
)

// TestSend leaks two senders: FirstResult returns after the first answer.
func TestSend(t *testing.T) {
	if got := FirstResult([]func() int{func() int { return 1 }, func() int { return 1 }, func() int { return 1 }}); got != 1 {
		t.Fatal(got)
	}
}

// TestMutex leaks a goroutine blocked in Lock on a mutex left locked.
func TestMutex(t *testing.T) {
	var c Counter
	c.Add(-1)
	c.Report(2)
}

// TestSelectForever leaks a goroutine in select {}.
func TestSelectForever(t *testing.T) { Forever() }

// TestContext leaks a watcher whose context is never cancelled.
func TestContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_ = cancel // bug: never called
	Watch(ctx, make(chan int))
}

// TestClean leaks nothing: it sits between leaking tests.
func TestClean(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	Watch(ctx, make(chan int))
}

// TestSubtests leaks in one subtest only: a WaitGroup missing a Done.
func TestSubtests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items []string
	}{{"full", []string{"a", "b"}}, {"blank", []string{"a", ""}}, {"none", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			done := Fanout(tc.items, func(string) {})
			if tc.name != "blank" {
				<-done
			}
		})
	}
}

// TestParallel runs parallel subtests; one leaks a sender, one a goroutine
// in select {}, and the third none.
func TestParallel(t *testing.T) {
	t.Run("send", func(t *testing.T) {
		t.Parallel()
		FirstResult([]func() int{func() int { return 1 }, func() int { return 2 }})
	})
	t.Run("forever", func(t *testing.T) {
		t.Parallel()
		Forever()
	})
	t.Run("fine", func(t *testing.T) {
		t.Parallel()
		FirstResult([]func() int{func() int { return 1 }})
	})
}

// TestTopParallel is a parallel top-level test that leaks a locked waiter.
func TestTopParallel(t *testing.T) {
	t.Parallel()
	var c Counter
	c.Add(-1)
	c.Report(1)
}
