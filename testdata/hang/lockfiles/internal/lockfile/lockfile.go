// Package lockfile guards the ledger's data files, shared by every process
// on the machine, with exclusive flock(2) locks on files in Dir.
package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// Dir is where the lock files live: one directory for every process on
// the machine, so that the ledger and the auditor exclude each other.
func Dir() string { return filepath.Join(os.TempDir(), "hangdog-lockfiles") }

// Lock takes an exclusive lock on the file name in Dir, waiting as long as
// another process holds it. Closing the file releases the lock.
func Lock(name string) (*os.File, error) {
	if err := os.MkdirAll(Dir(), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(Dir(), name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Busy reports whether another process holds the lock on name.
func Busy(name string) bool {
	f, err := os.OpenFile(filepath.Join(Dir(), name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}
