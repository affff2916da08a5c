package engine

import (
	"errors"
	"fmt"
	"io/fs"
)

// OutputPathError is an output that cannot be written, found before the
// run starts. It is a usage error: the path given is wrong.
type OutputPathError struct {
	Flag, Path string
	Err        error
}

func (e *OutputPathError) Error() string { return fmt.Sprintf("%s %s: %v", e.Flag, e.Path, e.Err) }
func (e *OutputPathError) Unwrap() error { return e.Err }

// Errno drops the operation and path of an *fs.PathError: the message
// already names the path.
func Errno(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func errnoOf(err error) error { return Errno(err) }
