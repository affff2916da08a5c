// Fixture wgsubtest: ProcessAll calls wg.Add(1) for every item but skips
// blank items before starting the goroutine that would call Done. The table
// test TestProcessAll passes its first subtests; TestProcessAll/blank_items
// waits forever in ProcessAll's wg.Wait (sync.WaitGroup.Wait).
package fanout

import (
	"strings"
	"sync"
)

// ProcessAll calls fn for every non-blank item, concurrently, and returns
// when all calls have returned.
func ProcessAll(items []string, fn func(string)) {
	var wg sync.WaitGroup
	for _, item := range items {
		wg.Add(1)
		if strings.TrimSpace(item) == "" {
			continue // BUG: Add without a matching Done
		}
		go func(item string) {
			defer wg.Done()
			fn(item)
		}(item)
	}
	wg.Wait()
}
