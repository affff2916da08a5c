//go:build !unix

package pytest

import (
	"errors"
	"fmt"
)

// sendSignal is unsupported without Unix signals (the snapshot needs
// faulthandler.register, which Windows lacks).
func sendSignal(pid, sig int) error {
	return fmt.Errorf("signal %d to %d: %w", sig, pid, errors.ErrUnsupported)
}
