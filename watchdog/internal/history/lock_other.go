//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package history

// lock is a no-op where the standard library offers no file lock (Windows,
// Plan 9, AIX, Solaris, js, wasip1). Save still replaces the file with a
// rename, so it is never torn; two runs saving at the same instant may
// lose one run's new durations.
func lock(path string) (unlock func(), err error) {
	return func() {}, nil
}
