// Fixture testmainafter: Pool.Drain waits until every acquired connection has
// been released, but Query forgets to release on its error path. All tests
// pass; TestMain then calls Drain after m.Run and polls forever in Drain's
// time.Sleep (after m.Run the -test.timeout alarm is stopped).
package pool

import (
	"errors"
	"sync/atomic"
	"time"
)

// Pool hands out connections and counts those in use.
type Pool struct {
	inUse atomic.Int64
}

func (p *Pool) acquire() { p.inUse.Add(1) }
func (p *Pool) release() { p.inUse.Add(-1) }

// Query runs q on a pooled connection.
func (p *Pool) Query(q string) (string, error) {
	p.acquire()
	if q == "" {
		return "", errors.New("empty query") // BUG: connection never released
	}
	defer p.release()
	return "ok: " + q, nil
}

// Drain waits until no connection is in use.
func (p *Pool) Drain() {
	for p.inUse.Load() > 0 {
		time.Sleep(100 * time.Millisecond)
	}
}
