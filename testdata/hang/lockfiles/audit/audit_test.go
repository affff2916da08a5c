package audit

import (
	"testing"
	"time"

	"example.com/lockfiles/internal/lockfile"
)

func TestVerify(t *testing.T) {
	// Verify while the ledger posts: wait until it holds the accounts.
	afterJournal = func() {
		for !lockfile.Busy("accounts.lock") {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, err := Verify(); err != nil {
		t.Fatal(err)
	}
}
