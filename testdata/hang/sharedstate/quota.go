// Fixture sharedstate: Reserve returns early on its over-quota path with
// the package mutex still locked. TestReserveOverQuota passes (it takes
// that path); TestUsed, which runs after it in the same binary, then waits
// forever in Used's mu.Lock (quota.go:37). Run by itself, TestUsed passes:
// the hang needs another test beside it (hangdog --rerun-hung says so).
package quota

import (
	"errors"
	"sync"
)

// ErrOverQuota is returned when a reservation would pass the limit.
var ErrOverQuota = errors.New("over quota")

// Limit is the most a user may reserve.
const Limit = 10

var (
	mu   sync.Mutex
	used = map[string]int{}
)

// Reserve adds n to what user has reserved.
func Reserve(user string, n int) error {
	mu.Lock()
	if used[user]+n > Limit {
		return ErrOverQuota // BUG: mu stays locked
	}
	used[user] += n
	mu.Unlock()
	return nil
}

// Used returns what user has reserved.
func Used(user string) int {
	mu.Lock()
	defer mu.Unlock()
	return used[user]
}
