package pytest

import (
	"context"
	"os"
)

// Options are what the engine knows before a pytest run starts.
type Options struct {
	// Python is --python ("" when not given).
	Python string
	// Module runs python -m pytest (the current directory on sys.path).
	Module bool
	// Terminal and Columns describe hangdog's stdout (see Runner).
	Terminal bool
	Columns  int
	// Environ is the environment of the run (nil: os.Environ()); its
	// PATH is where the interpreter is looked for.
	Environ []string
	// Dir is the directory pytest runs in ("": this process's).
	Dir string
	// TempDir is where the private directory is made ("": the system's).
	TempDir string
}

// Prepared is a pytest run ready to start: the command, its environment
// and the private directory the plugin writes into.
type Prepared struct {
	Interpreter *Interpreter
	Runner      Runner
	RunDir      *RunDir
	// Argv and Env are the command to start (in Options.Dir, in its own
	// process group under the reaper) and its environment.
	Argv, Env []string
}

// Prepare chooses the interpreter (FindInterpreter: an *InterpreterError
// when none imports pytest), makes the private directory with the plugin
// in it, and builds the command line of user (pytest's arguments, as the
// user gave them) and its environment. Close removes the directory when
// the run (and any rerun, which reuses it) has ended.
func Prepare(ctx context.Context, o Options, user []string) (*Prepared, error) {
	env := o.Environ
	if env == nil {
		env = os.Environ()
	}
	path, _ := lookupEnv(env, "PATH")
	in, err := FindInterpreter(ctx, FindOptions{Python: o.Python, Path: &path, Env: env, Dir: o.Dir})
	if err != nil {
		return nil, err
	}
	d, err := NewRunDir(o.TempDir)
	if err != nil {
		return nil, err
	}
	r := Runner{Interpreter: in, Module: o.Module, Terminal: o.Terminal, Columns: o.Columns, Environ: env}
	return &Prepared{
		Interpreter: in,
		Runner:      r,
		RunDir:      d,
		Argv:        r.Command(in.Path, user),
		Env:         r.Env(d.Path),
	}, nil
}

// Command returns the command of another pytest run in the same private
// directory (a rerun or the resumed rest of the suite): args as RerunArgs
// or ResumeArgs made them.
func (p *Prepared) Command(args []string) []string {
	return p.Runner.Command(p.Interpreter.Path, args)
}

// Close removes the private directory.
func (p *Prepared) Close() error { return p.RunDir.Remove() }
