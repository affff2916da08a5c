package pytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Interpreter is the Python that runs pytest, as FindInterpreter chose it.
type Interpreter struct {
	// Path is the executable to run, as found (a virtualenv's python or a
	// pyenv shim is run as it is, never resolved through its symlinks).
	Path string
	// Script is the pytest script on PATH when Path came from its shebang:
	// a run then looks like that script's (its argv[0], its directory as
	// sys.path[0]). Empty otherwise.
	Script string
	// From says how Path was chosen: "--python", "pytest on PATH",
	// "python3 on PATH" or the system's ("/usr/bin/python3").
	From string
	// Python, Pytest, Xdist and Timeout are the versions the interpreter
	// reported (Xdist and Timeout are "" when not installed); Executable is
	// its sys.executable.
	Python, Pytest, Xdist, Timeout string
	Executable                     string
}

// FindOptions say where FindInterpreter looks. The zero value looks on
// this process's PATH with its environment.
type FindOptions struct {
	// Python is the --python flag's value ("" when not given): a path, or
	// a name looked up on Path.
	Python string
	// Path is the PATH to search (nil: $PATH). A pointer, so that an empty
	// PATH can be asked for.
	Path *string
	// Env is the probe's environment (nil: os.Environ()): PYTHONPATH and
	// a virtualenv's variables decide what imports.
	Env []string
	// Dir is the probe's working directory ("" for this process's).
	Dir string
	// Timeout bounds each probe (0: 30 s; importing pytest on a loaded
	// machine takes seconds, a hung interpreter must not hang hangdog).
	Timeout time.Duration
	// System is the last resort ("": /usr/bin/python3).
	System string
}

// Attempt is one interpreter FindInterpreter tried and why it was not
// taken.
type Attempt struct {
	From, Path string
	Err        error
}

// InterpreterError says that no interpreter that imports pytest was
// found, naming every one tried.
type InterpreterError struct {
	Tried []Attempt
}

func (e *InterpreterError) Error() string {
	var b strings.Builder
	b.WriteString("no Python interpreter that imports pytest")
	if len(e.Tried) == 1 && e.Tried[0].From == "--python" {
		fmt.Fprintf(&b, ": --python %s: %v", e.Tried[0].Path, e.Tried[0].Err)
		return b.String()
	}
	b.WriteString("; tried ")
	for i, a := range e.Tried {
		if i > 0 {
			b.WriteString("; ")
		}
		if a.Path != "" && a.Path != a.From {
			fmt.Fprintf(&b, "%s (%s): %v", a.From, a.Path, a.Err)
		} else {
			fmt.Fprintf(&b, "%s: %v", a.From, a.Err)
		}
	}
	b.WriteString(" (install pytest, e.g. apt-get install python3-pytest, or name an interpreter with --python)")
	return b.String()
}

// probeScript prints what FindInterpreter needs to know, as JSON, with the
// current directory off sys.path (as a run has it: a pytest.py in the
// user's tree must not be what the probe finds).
const probeScript = `import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
import json
out = {"python": sys.version.split()[0], "executable": sys.executable}
try:
    import pytest
    out["pytest"] = pytest.__version__
except BaseException as e:
    out["error"] = "%s: %s" % (type(e).__name__, e)
def version(dist):
    try:
        from importlib import metadata
        return metadata.version(dist)
    except BaseException:
        return ""
if "pytest" in out:
    out["xdist"] = version("pytest-xdist")
    out["timeout"] = version("pytest-timeout")
sys.stdout.write("HANGDOG-PROBE " + json.dumps(out) + "\n")
`

// FindInterpreter picks the Python that runs pytest: o.Python if given (an
// error if it does not import pytest), else the interpreter in the shebang
// of pytest on PATH, else python3 on PATH, else /usr/bin/python3: the first
// that imports pytest. The error (an *InterpreterError) names everything
// it tried.
func FindInterpreter(ctx context.Context, o FindOptions) (*Interpreter, error) {
	pathEnv := os.Getenv("PATH")
	if o.Path != nil {
		pathEnv = *o.Path
	}
	var tried []Attempt
	try := func(from, path, script string) *Interpreter {
		in, err := probe(ctx, o, path)
		if err != nil {
			tried = append(tried, Attempt{From: from, Path: path, Err: err})
			return nil
		}
		in.From, in.Script = from, script
		return in
	}
	if o.Python != "" {
		path := o.Python
		if !strings.ContainsRune(path, '/') {
			p, err := lookPath(path, pathEnv)
			if err != nil {
				return nil, &InterpreterError{Tried: []Attempt{{From: "--python", Path: path, Err: err}}}
			}
			path = p
		}
		if in := try("--python", path, ""); in != nil {
			return in, nil
		}
		return nil, &InterpreterError{Tried: tried}
	}
	seen := map[string]bool{}
	if script, err := lookPath("pytest", pathEnv); err != nil {
		tried = append(tried, Attempt{From: "pytest on PATH", Err: err})
	} else if py, err := shebang(script, pathEnv); err != nil {
		tried = append(tried, Attempt{From: "pytest on PATH", Path: script, Err: err})
	} else {
		seen[py] = true
		if in := try("pytest on PATH", py, script); in != nil {
			return in, nil
		}
	}
	if py, err := lookPath("python3", pathEnv); err != nil {
		tried = append(tried, Attempt{From: "python3 on PATH", Err: err})
	} else if !seen[py] {
		seen[py] = true
		if in := try("python3 on PATH", py, ""); in != nil {
			return in, nil
		}
	}
	system := o.System
	if system == "" {
		system = "/usr/bin/python3"
	}
	if !seen[system] {
		if in := try(system, system, ""); in != nil {
			return in, nil
		}
	}
	return nil, &InterpreterError{Tried: tried}
}

// probe runs path with probeScript and reads its answer.
func probe(ctx context.Context, o FindOptions, path string) (*Interpreter, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, errors.New("not found")
	} else if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, errors.New("not an executable file")
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-c", probeScript)
	cmd.Env = o.Env
	cmd.Dir = o.Dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("no answer in %v", timeout)
	}
	var ans struct {
		Python, Executable, Pytest, Xdist, Timeout, Error string
	}
	found := false
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "HANGDOG-PROBE "); ok {
			found = json.Unmarshal([]byte(rest), &ans) == nil
		}
	}
	if !found {
		msg := strings.TrimSpace(lastLine(errb.String()))
		if msg == "" && runErr != nil {
			msg = runErr.Error()
		}
		if msg == "" {
			msg = "not a Python interpreter"
		}
		return nil, errors.New(msg)
	}
	if ans.Pytest == "" {
		if ans.Error == "" {
			ans.Error = "cannot import pytest"
		}
		return nil, fmt.Errorf("python %s: %s", ans.Python, ans.Error)
	}
	return &Interpreter{Path: path, Python: ans.Python, Executable: ans.Executable,
		Pytest: ans.Pytest, Xdist: ans.Xdist, Timeout: ans.Timeout}, nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// lookPath finds an executable name on pathEnv as a shell would (an empty
// entry is the current directory).
func lookPath(name, pathEnv string) (string, error) {
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			if !filepath.IsAbs(p) {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
			}
			return p, nil
		}
	}
	return "", errors.New("not found on PATH")
}

// shebang returns the interpreter that script's first line names:
// "#!/path/python", "#!/usr/bin/env python3" (looked up on pathEnv), and
// the form pip writes when the path is too long for a shebang: a
// "#!/bin/sh" line, then a line of three quotes, "exec'" and the path.
func shebang(script, pathEnv string) (string, error) {
	f, err := os.Open(script)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	first, _ := r.ReadString('\n')
	rest, ok := strings.CutPrefix(strings.TrimSpace(first), "#!")
	if !ok {
		return "", errors.New("no #! line")
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", errors.New("empty #! line")
	}
	prog := fields[0]
	switch filepath.Base(prog) {
	case "env":
		for _, a := range fields[1:] {
			if strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
				continue
			}
			return lookPath(a, pathEnv)
		}
		return "", errors.New("#! line runs env without a program")
	case "sh", "bash":
		second, _ := r.ReadString('\n')
		if p, ok := strings.CutPrefix(strings.TrimSpace(second), "'''exec' "); ok {
			if f := strings.Fields(p); len(f) > 0 {
				return strings.Trim(f[0], `'"`), nil
			}
		}
		return "", fmt.Errorf("#! line names %s, not Python", prog)
	}
	return prog, nil
}
