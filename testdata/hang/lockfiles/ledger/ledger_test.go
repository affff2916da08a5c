package ledger

import (
	"testing"
	"time"

	"example.com/lockfiles/internal/lockfile"
)

func TestPost(t *testing.T) {
	// Post while the auditor runs: wait until it holds the journal.
	afterAccounts = func() {
		for !lockfile.Busy("journal.lock") {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := Post("alice", "bob", 10); err != nil {
		t.Fatal(err)
	}
}
