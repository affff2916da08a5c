package gotest

// This file is the adapter a run of the core's engine uses: the go test
// runner bound to one run (its directory, the agent in its binaries, the
// stream a SIGQUIT capture reads its dump from).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/agent"
	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/history"
	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// Options configure an Adapter.
type Options struct {
	// Go is the go command for lookups ("" = "go"); Env its environment
	// (nil = this process's).
	Go  string
	Env []string
	// NoAgent keeps the agent out of the test binaries (stalls are
	// captured with SIGQUIT).
	NoAgent bool
	// QuitGrace is how long a binary may take to print its goroutines
	// after SIGQUIT before it is killed (0 = 15s).
	QuitGrace time.Duration
	// LeakGrace, when positive, turns the agent's leak check on: how long
	// a test's goroutines may outlive it (issue 11; off by default).
	LeakGrace time.Duration
	Logger    *zap.Logger
}

// Adapter is the go test runner bound to one run. Make it with New.
type Adapter struct {
	Runner
	Look *Lookup
	opts Options
	log  *zap.Logger
	host core.Host

	mu     sync.Mutex
	inj    *agent.Injection // the agent in the test binaries; nil without
	stream *Stream
	leaks  *leakState // the leak check's results; nil when off
}

var (
	_ core.Adapter      = (*Adapter)(nil)
	_ core.LeakReporter = (*Adapter)(nil)
)

// New returns an adapter for one run.
func New(o Options) *Adapter {
	g := o.Go
	if g == "" {
		g = "go"
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return &Adapter{Look: &Lookup{Go: g, Env: o.Env}, opts: o, log: o.Logger}
}

// Start implements core.Adapter.
func (a *Adapter) Start(dir string, host core.Host) {
	a.Look.Dir = dir
	a.host = host
}

// DefaultHistory implements core.Adapter: under the user's cache
// directory, one file per module root and per set of flags that change
// test speed (-race, -cover, -msan, -asan).
func (a *Adapter) DefaultHistory(user []string) (string, error) {
	out, err := a.Look.GoList("list", "-m", "-f", "{{.Dir}}")
	root := a.Look.Dir
	if err == nil {
		if first, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); first != "" {
			root = first
		}
	}
	return history.DefaultPath(root, SpeedVariant(user))
}

// Prepare implements core.Adapter: the agent goes into the test binaries
// with -overlay, unless it is off or the go command's vet cannot read
// overlay files. argv is go test's (argv[1] is "test").
func (a *Adapter) Prepare(ctx context.Context, argv, env []string) ([]string, []string, func(), error) {
	done := func() {}
	defer func() {
		if a.opts.LeakGrace > 0 && a.agent() == nil {
			a.host.WarnOnce("leaks", "hangdog: the leak check needs the agent, which the test binaries do not have: no leak check")
		}
	}()
	if a.opts.NoAgent {
		return argv, env, done, nil
	}
	if v, ok := GoMinor(argv[0], a.Look.Dir, a.opts.Env); ok && v < 24 && !VetOff(argv[2:]) {
		// Before Go 1.24, the vet step of go test cannot read files
		// that -overlay adds: the build would fail.
		a.host.WarnOnce("agent", fmt.Sprintf("hangdog: go1.%d's vet cannot read overlay files: no agent in the test binaries, stalls are captured with SIGQUIT (Go 1.24+, or -vet=off, keeps the agent)", v))
		return argv, env, done, nil
	}
	inj, err := agent.Prepare(ctx, agent.PrepareOptions{Go: argv[0], Dir: a.Look.Dir, Env: a.opts.Env, Args: argv[2:], LeakGrace: a.opts.LeakGrace})
	if err != nil {
		a.host.WarnOnce("agent", fmt.Sprintf("hangdog: no agent in the test binaries (%v): stalls are captured with SIGQUIT", err))
		return argv, env, done, nil
	}
	a.mu.Lock()
	a.inj = inj
	a.leaks = newLeakState(inj, a.Look.Dir, a.opts.LeakGrace)
	a.mu.Unlock()
	argv = append([]string{argv[0], "test"}, inj.Args...)
	if env == nil {
		env = os.Environ()
	}
	env = append(append([]string(nil), env...), inj.Env...)
	return argv, env, func() { inj.Close() }, nil
}

// FindProcess implements core.ProcessFinder; a process table that cannot
// be read is warned about once.
func (a *Adapter) FindProcess(root int, pkg string) (*proc.Process, error) {
	p, err := a.Look.FindProcess(root, pkg)
	var le *ProcessListError
	if errors.As(err, &le) {
		a.host.WarnOnce("testbinaries", "hangdog: cannot list test binaries: "+err.Error())
	}
	return p, err
}

// UnitProcesses implements core.UnitLister: the test binaries below root,
// each named by the package whose directory is its working directory.
func (a *Adapter) UnitProcesses(root int, pending []string) []core.UnitProcess {
	bins, _ := proc.TestBinaries(root)
	out := make([]core.UnitProcess, 0, len(bins))
	for _, b := range bins {
		unit := ""
		for _, p := range pending {
			if SameDir(a.Look.PkgDir(p), b.Cwd) {
				unit = p
				break
			}
		}
		out = append(out, core.UnitProcess{Unit: unit, Process: b})
	}
	return out
}

func (a *Adapter) agent() *agent.Injection {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inj
}

func (a *Adapter) source() *Stream {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stream
}
