package watchdog

// This file checks the outputs of a run before it starts.

import (
	"errors"
	"fmt"
	"github.com/hangdog/hangdog/watchdog/internal/core/engine"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// OutputPathError is an output that cannot be written, found before the
// run starts. It is a usage error: the path given is wrong.
type OutputPathError = engine.OutputPathError

// CheckOutputFile checks that a file can be written at path (the output
// of flag) without creating or truncating it: an existing file must be
// writable; otherwise its directory must exist and take a new file, which
// is probed with a uniquely named temporary file that is removed at once.
// An empty path is no output and passes.
func CheckOutputFile(flag, path string) error {
	if path == "" {
		return nil
	}
	bad := func(err error) error { return &OutputPathError{Flag: flag, Path: path, Err: err} }
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return bad(errors.New("is a directory"))
	case err == nil && fi.Mode().IsRegular():
		// Opened for writing without O_TRUNC or O_CREATE: nothing in
		// the file changes.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return bad(fmt.Errorf("cannot write the file: %w", errnoOf(err)))
		}
		f.Close()
		return nil
	case err == nil:
		return nil // a device or a pipe (/dev/stdout): opened at the end
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		return bad(errnoOf(err))
	}
	return probeDir(filepath.Dir(path), bad)
}

// probeDir checks that dir exists and a file can be created in it.
func probeDir(dir string, bad func(error) error) error {
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad(fmt.Errorf("directory %s does not exist", dir))
	case err != nil:
		return bad(errnoOf(err))
	case !di.IsDir():
		return bad(fmt.Errorf("%s is not a directory", dir))
	}
	f, err := os.CreateTemp(dir, ".hangdog-probe-*")
	if err != nil {
		return bad(fmt.Errorf("cannot create a file in %s: %w", dir, errnoOf(err)))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// checkArtifactsDir checks --artifacts: a directory that takes files, or
// a path that does not exist yet (it is created at the start of the run).
func checkArtifactsDir(dir string) error {
	bad := func(err error) error { return &OutputPathError{Flag: "--artifacts", Path: dir, Err: err} }
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return bad(errnoOf(err))
	case !fi.IsDir():
		return bad(errors.New("is not a directory"))
	}
	return probeDir(dir, bad)
}

func errnoOf(err error) error { return engine.Errno(err) }
