// Fixture lockfiles: two packages lock the same two files in opposite
// orders. ledger.Post locks accounts.lock, then journal.lock; audit.Verify
// locks journal.lock, then accounts.lock (both under $TMPDIR/hangdog-lockfiles).
// When `go test ./...` runs both test binaries at once (the default -p is
// the number of CPUs), each holds its first lock and waits in flock(2) for
// the other's: a deadlock between two processes that no goroutine dump of
// either one explains. Each test waits until the other holds its first
// lock before taking its second, so the deadlock happens on every run;
// run alone (go test ./ledger), a test waits forever for the other.
package ledger

import (
	"fmt"

	"example.com/lockfiles/internal/lockfile"
)

// afterAccounts runs while Post holds accounts.lock (a test hook).
var afterAccounts = func() {}

// Post moves amount from one account to another and journals it.
func Post(from, to string, amount int) error {
	accounts, err := lockfile.Lock("accounts.lock")
	if err != nil {
		return err
	}
	defer accounts.Close()
	afterAccounts()
	journal, err := lockfile.Lock("journal.lock") // BUG: audit.Verify takes these in the other order
	if err != nil {
		return err
	}
	defer journal.Close()
	_, err = fmt.Fprintf(journal, "%s -> %s: %d\n", from, to, amount)
	return err
}
