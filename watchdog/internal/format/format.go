// Package format turns a test2json event stream into what a user reads:
// the output of plain go test, go test -v, or one of gotestsum's compact
// formats. The hangdog command uses it to print test output while the
// watchdog watches the same stream.
package format

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// Formatter prints a test2json stream. Calls come from one goroutine; a
// Formatter is not safe for concurrent use.
type Formatter interface {
	// Event handles one event; e and its fields are only valid during
	// the call.
	Event(e *testjson.Event)
	// Text handles input that is not an event (build errors, output of
	// old toolchains): it is written to the output as-is, immediately.
	// chunk is only valid during the call; end marks the end of a line.
	Text(chunk []byte, end bool)
	// Close prints anything still held (output of tests or packages that
	// never finished), removes temporary files, and returns the first
	// error writing the output or holding output, if any.
	Close() error
}

// Options configures a Formatter. The zero value works.
type Options struct {
	// TempDir is where held output spills to disk; "" means os.TempDir().
	TempDir string
	// HoldLimit is the number of bytes of held test output kept in memory
	// before spilling to a private temporary file; zero means
	// DefaultHoldLimit (see there for why).
	HoldLimit int
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.HoldLimit < 0 {
		return fmt.Errorf("format: negative HoldLimit %d", o.HoldLimit)
	}
	return nil
}

// Format names.
const (
	StandardQuiet       = "standard-quiet"
	StandardVerbose     = "standard-verbose"
	Dots                = "dots"
	PkgName             = "pkgname"
	TestName            = "testname"
	PkgNameAndTestFails = "pkgname-and-test-fails"
)

// Names returns the format names New accepts, the default first.
func Names() []string {
	return []string{StandardQuiet, StandardVerbose, Dots, PkgName, TestName, PkgNameAndTestFails}
}

// New returns the Formatter called name, writing to w.
func New(name string, w io.Writer, opts Options) (Formatter, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	limit := opts.HoldLimit
	if limit == 0 {
		limit = DefaultHoldLimit
	}
	ew := &errWriter{w: w}
	st := &store{limit: limit, tmpDir: opts.TempDir}
	switch name {
	case StandardQuiet:
		return newGoTest(ew, st, false), nil
	case StandardVerbose:
		return newGoTest(ew, st, true), nil
	case Dots, PkgName, TestName, PkgNameAndTestFails:
		return newCompact(name, ew, st), nil
	}
	return nil, fmt.Errorf("format: unknown format %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Handler adapts a Formatter to a testjson.Handler.
func Handler(f Formatter) testjson.Handler { return handler{f} }

type handler struct{ f Formatter }

func (h handler) Event(e *testjson.Event, raw []byte) { h.f.Event(e) }
func (h handler) Text(chunk []byte, end bool)         { h.f.Text(chunk, end) }

func closeErr(w *errWriter, st *store) error {
	return errors.Join(w.err, st.close())
}
