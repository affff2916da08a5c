// Fixture testmain: TestMain waits for the test database to be ready before
// calling m.Run. WaitReady polls for a ready file with no deadline, and the
// file never appears, so the binary hangs before any test starts, sleeping
// in WaitReady's time.Sleep (outside m.Run: no -test.timeout alarm).
package db

import (
	"os"
	"time"
)

// WaitReady blocks until the file at path exists.
func WaitReady(path string) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond) // BUG: no deadline
	}
}

// Ping reports whether the database is reachable.
func Ping() bool { return true }
