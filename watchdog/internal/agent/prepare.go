package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// PrepareOptions says how the tests will be run. The zero value prepares
// `go test` of the package in the current directory.
type PrepareOptions struct {
	// Go is the go command; "" means "go" from PATH.
	Go string
	// Dir is the working directory of the go command; "" means ours.
	Dir string
	// Env is the environment of the go command; nil means os.Environ().
	// A -overlay in GOFLAGS is merged like one on the command line.
	Env []string
	// Args are the user's `go test` arguments without "test": package
	// patterns, build flags (-tags, -race, -mod, a leading -C, -overlay
	// FILE...), test flags and -args.
	Args []string
	// CacheDir holds the agent files and overlays, which must keep their
	// paths and contents from run to run for go's build and test caches
	// to hit; "" means os.UserCacheDir()/hangdog/agent.
	CacheDir string
	// TempDir is where the per-run directory is made; "" means os.TempDir().
	// It must not be inside a module under test (go test would then hash
	// the agent's files into the test cache key).
	TempDir string
	// LeakGrace turns the leak check on (leaks.go.tmpl) with this grace
	// period: how long a test's goroutines may outlive it. 0 leaves it
	// off, and the agent then supplies no TestMain.
	LeakGrace time.Duration
}

// Injection is a prepared run: start `go test` with Args and Env added.
type Injection struct {
	// Args are the user's arguments with their -overlay replaced by
	// -overlay=Overlay.
	Args []string
	// Overlay is the overlay file: the user's entries plus one agent file
	// per package. It has a stable path and content.
	Overlay string
	// Env is the environment to add: HANGDOG_AGENT_DIR=Dir.
	Env []string
	// Dir is the private per-run directory (0700) of requests and
	// snapshots, removed by Close.
	Dir string
	// Packages got the agent; Skipped did not, with a Reason.
	Packages, Skipped []Package
}

// Package is one package matched by the patterns.
type Package struct {
	ImportPath, Dir, Name string
	// File is the agent file added to Dir (it exists only in the overlay).
	File string
	// Reason says why a package was skipped.
	Reason string
	// OwnTestMain is set, when the leak check is on, for a package whose
	// tests have a TestMain: the agent then supplies none, and the leak
	// check cannot run there.
	OwnTestMain bool
}

// Close removes the per-run directory and every snapshot in it.
func (inj *Injection) Close() error {
	if inj == nil || inj.Dir == "" {
		return nil
	}
	return os.RemoveAll(inj.Dir)
}

// listedPackage is what go list tells about a package.
type listedPackage struct {
	ImportPath   string
	Name         string
	Dir          string
	Goroot       bool
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

// listFields are the fields asked of go list.
const listFields = "ImportPath,Name,Dir,Goroot,TestGoFiles,XTestGoFiles,Error"

// Prepare lists the packages under test, writes the agent and the overlay
// and makes the per-run directory. Packages without test files (go test
// runs no binary for them), in the standard library, or that go list
// cannot name are skipped.
func Prepare(ctx context.Context, opts PrepareOptions) (*Injection, error) {
	g := parseGoTestArgs(opts.Args)
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	wd := opts.Dir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("agent: prepare: %w", err)
		}
	}
	if g.chdir != "" {
		wd = absIn(wd, g.chdir)
	}
	wd, err := filepath.Abs(wd)
	if err != nil {
		return nil, fmt.Errorf("agent: prepare: %w", err)
	}
	userOverlay := g.overlay
	if userOverlay == "" {
		userOverlay = goflagsOverlay(env)
	}
	replace := map[string]string{}
	if userOverlay != "" {
		if replace, err = readOverlay(absIn(wd, userOverlay), wd); err != nil {
			return nil, err
		}
	}

	listed, err := goList(ctx, opts, env, wd, g, userOverlay)
	if err != nil {
		return nil, err
	}

	cache := opts.CacheDir
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("agent: prepare: no cache directory (set CacheDir): %w", err)
		}
		cache = filepath.Join(base, "hangdog", "agent")
	}
	inj := &Injection{}
	backing := map[string]string{} // package name -> agent file
	for _, lp := range listed {
		p := Package{ImportPath: lp.ImportPath, Dir: lp.Dir, Name: lp.Name}
		switch {
		case lp.Name == "" || lp.Dir == "":
			p.Reason = "go list gave no package name"
			if lp.Error != nil {
				p.Reason += ": " + lp.Error.Err
			}
		case len(lp.TestGoFiles)+len(lp.XTestGoFiles) == 0:
			p.Reason = "no test files"
		case lp.Goroot:
			p.Reason = "standard library"
		}
		target := filepath.Join(lp.Dir, FileName)
		if p.Reason == "" {
			if _, err := os.Lstat(target); err == nil {
				p.Reason = FileName + " exists"
			} else if _, ok := replace[target]; ok {
				p.Reason = FileName + " is in the user's overlay"
			}
		}
		if p.Reason != "" {
			inj.Skipped = append(inj.Skipped, p)
			continue
		}
		// The TestMain that runs the leak check is supplied only when the
		// check is on: otherwise the binary is as it was without it.
		testMain := false
		if opts.LeakGrace > 0 {
			p.OwnTestMain = hasTestMain(lp, replace)
			testMain = !p.OwnTestMain
		}
		key := lp.Name + "\x00" + lp.ImportPath + "\x00" + fmt.Sprint(testMain)
		src, ok := backing[key]
		if !ok {
			if src, err = writeStable(cache, FileName, source(lp.Name, lp.ImportPath, testMain)); err != nil {
				return nil, err
			}
			backing[key] = src
		}
		replace[target] = src
		p.File = target
		inj.Packages = append(inj.Packages, p)
	}

	overlay, err := json.MarshalIndent(struct{ Replace map[string]string }{replace}, "", "\t")
	if err != nil {
		return nil, fmt.Errorf("agent: prepare: %w", err)
	}
	if inj.Overlay, err = writeStable(cache, "overlay.json", overlay); err != nil {
		return nil, err
	}
	if inj.Dir, err = os.MkdirTemp(opts.TempDir, "hangdog-agent-"); err != nil {
		return nil, fmt.Errorf("agent: prepare: %w", err)
	}
	if inj.Dir, err = filepath.Abs(inj.Dir); err != nil { // tests may chdir
		return nil, fmt.Errorf("agent: prepare: %w", err)
	}
	inj.Args = g.withOverlay(opts.Args, inj.Overlay)
	inj.Env = []string{EnvDir + "=" + inj.Dir}
	if opts.LeakGrace > 0 {
		inj.Env = append(inj.Env, EnvLeaks+"="+opts.LeakGrace.String())
	}
	return inj, nil
}

// goList runs go list on the patterns with the user's build flags, in a
// process group of its own that is killed if ctx ends.
func goList(ctx context.Context, opts PrepareOptions, env []string, wd string, g goTestArgs, overlay string) ([]listedPackage, error) {
	goCmd := opts.Go
	if goCmd == "" {
		goCmd = "go"
	}
	args := []string{"list", "-e", "-json=" + listFields}
	args = append(args, g.listFlags...)
	if overlay != "" {
		args = append(args, "-overlay="+absIn(wd, overlay))
	}
	patterns := g.patterns
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	args = append(args, patterns...)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = wd
	cmd.Env = env
	proc.Configure(cmd)
	cmd.Cancel = func() error { return proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return nil, fmt.Errorf("agent: go %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	var out []listedPackage
	dec := json.NewDecoder(&stdout)
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("agent: reading go list output: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// readOverlay reads an overlay file with its paths made absolute: cmd/go
// resolves relative ones against its working directory wd.
func readOverlay(path, wd string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("agent: reading -overlay: %w", err)
	}
	var o struct{ Replace map[string]string }
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("agent: reading -overlay %s: %w", path, err)
	}
	out := make(map[string]string, len(o.Replace))
	for k, v := range o.Replace {
		if v != "" {
			v = absIn(wd, v)
		}
		out[absIn(wd, k)] = v
	}
	return out, nil
}

// goflagsOverlay returns the value of an -overlay flag in GOFLAGS, which
// our own -overlay on the command line would otherwise override.
func goflagsOverlay(env []string) string {
	var goflags string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			goflags = v // the last one wins, as in os/exec
		}
	}
	var overlay string
	for _, f := range strings.Fields(goflags) {
		name, value, ok := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if ok && name == "overlay" {
			overlay = value
		}
	}
	return overlay
}

// absIn makes path absolute relative to dir.
func absIn(dir, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(dir, path)
}

// writeStable stores data as cache/HASH/name, where HASH is the hash of
// name and data, and returns the path. An existing file with the right
// content is left alone, so that its path and modification time stay the
// same from run to run; otherwise it is written atomically, since two runs
// may prepare at once.
func writeStable(cache, name string, data []byte) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", name)
	h.Write(data)
	dir := filepath.Join(cache, hex.EncodeToString(h.Sum(nil))[:32])
	path := filepath.Join(dir, name)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("agent: prepare: %w", err)
	}
	if err := writeAtomic(dir, name, data, 0o600); err != nil {
		return "", fmt.Errorf("agent: prepare: %w", err)
	}
	return path, nil
}

// writeAtomic writes dir/name through a temporary file and a rename.
func writeAtomic(dir, name string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
