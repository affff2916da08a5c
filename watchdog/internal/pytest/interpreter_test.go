package pytest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePython writes an executable that answers the probe as an interpreter
// with (withPytest) or without pytest would.
func fakePython(t *testing.T, path string, withPytest bool) {
	t.Helper()
	ans := `{"python": "3.9.1", "executable": "` + path + `", "error": "ModuleNotFoundError: No module named pytest"}`
	if withPytest {
		ans = `{"python": "3.9.1", "executable": "` + path + `", "pytest": "8.0.0", "xdist": "3.5.0", "timeout": ""}`
	}
	script := "#!/bin/sh\necho 'HANGDOG-PROBE " + ans + "'\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
}

func writeScript(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o700); err != nil {
		t.Fatal(err)
	}
}

func TestFindInterpreter(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	venv := filepath.Join(root, "venv", "bin", "python")
	nopy := filepath.Join(root, "nopytest", "python3")
	fakePython(t, venv, true)
	fakePython(t, nopy, false)
	missing := filepath.Join(root, "no", "python3")

	cases := []struct {
		name     string
		files    map[string]string // path below bin → content (a script)
		links    map[string]string // path below bin → fake python it is
		python   string
		system   string
		wantPath string
		wantFrom string
		wantErr  []string // parts of the error
	}{
		{
			name:     "shebang of pytest on PATH",
			files:    map[string]string{"pytest": "#!" + venv + "\nimport pytest\n"},
			links:    map[string]string{"python3": nopy},
			system:   missing,
			wantPath: venv, wantFrom: "pytest on PATH",
		},
		{
			name:     "env shebang looks python3 up on PATH",
			files:    map[string]string{"pytest": "#!/usr/bin/env python3\n"},
			links:    map[string]string{"python3": venv},
			system:   missing,
			wantPath: filepath.Join(bin, "python3"), wantFrom: "pytest on PATH",
		},
		{
			name:     "pip's long-path form",
			files:    map[string]string{"pytest": "#!/bin/sh\n'''exec' " + venv + " \"$0\" \"$@\"\n' '''\n"},
			system:   missing,
			wantPath: venv, wantFrom: "pytest on PATH",
		},
		{
			name:     "pytest's interpreter lacks pytest: python3 on PATH",
			files:    map[string]string{"pytest": "#!" + nopy + "\n"},
			links:    map[string]string{"python3": venv},
			system:   missing,
			wantPath: filepath.Join(bin, "python3"), wantFrom: "python3 on PATH",
		},
		{
			name:     "then the system's python3",
			links:    map[string]string{"python3": nopy},
			system:   venv,
			wantPath: venv, wantFrom: venv,
		},
		{
			name:    "nothing imports pytest: every attempt named",
			files:   map[string]string{"pytest": "#!" + nopy + "\n"},
			links:   map[string]string{"python3": nopy},
			system:  missing,
			wantErr: []string{"no Python interpreter that imports pytest; tried pytest on PATH (" + nopy + "): python 3.9.1: ModuleNotFoundError: No module named pytest", "python3 on PATH (" + filepath.Join(bin, "python3") + "): python 3.9.1", missing + ": not found", "--python"},
		},
		{
			name:    "empty PATH",
			system:  missing,
			wantErr: []string{"pytest on PATH: not found on PATH", "python3 on PATH: not found on PATH", missing + ": not found"},
		},
		{
			name:     "--python with pytest",
			links:    map[string]string{"python3": nopy},
			python:   venv,
			system:   missing,
			wantPath: venv, wantFrom: "--python",
		},
		{
			name:    "--python without pytest is an error, not a fallback",
			links:   map[string]string{"python3": venv},
			python:  nopy,
			system:  venv,
			wantErr: []string{"no Python interpreter that imports pytest: --python " + nopy + ": python 3.9.1: ModuleNotFoundError: No module named pytest"},
		},
		{
			name:    "--python names nothing",
			python:  "python9",
			system:  venv,
			wantErr: []string{"--python python9: not found on PATH"},
		},
		{
			name:    "--python is not a Python",
			files:   map[string]string{"notpy": "#!/bin/sh\necho hello\nexit 3\n"},
			python:  "notpy",
			system:  venv,
			wantErr: []string{"--python " + filepath.Join(bin, "notpy") + ": exit status 3"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.RemoveAll(bin)
			if err := os.MkdirAll(bin, 0o700); err != nil {
				t.Fatal(err)
			}
			for name, text := range c.files {
				writeScript(t, filepath.Join(bin, name), text)
			}
			for name, target := range c.links {
				if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
					t.Fatal(err)
				}
			}
			path := bin
			if c.name == "empty PATH" {
				path = ""
			}
			in, err := FindInterpreter(context.Background(), FindOptions{Python: c.python, Path: &path, System: c.system})
			if c.wantErr != nil {
				if err == nil {
					t.Fatalf("found %+v, want an error", in)
				}
				var ie *InterpreterError
				if !errors.As(err, &ie) {
					t.Errorf("error %T, want *InterpreterError", err)
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") {
					t.Errorf("error on more than one line: %q", msg)
				}
				for _, part := range c.wantErr {
					if !strings.Contains(msg, part) {
						t.Errorf("error %q\nlacks %q", msg, part)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.Path != c.wantPath || in.From != c.wantFrom {
				t.Errorf("got %s from %q, want %s from %q", in.Path, in.From, c.wantPath, c.wantFrom)
			}
			if in.Pytest != "8.0.0" || in.Xdist != "3.5.0" || in.Python != "3.9.1" {
				t.Errorf("versions %+v", in)
			}
			if c.wantFrom == "pytest on PATH" && in.Script != filepath.Join(bin, "pytest") {
				t.Errorf("script %q", in.Script)
			}
		})
	}
}

// TestFindInterpreterReal probes the real interpreter: its versions.
func TestFindInterpreterReal(t *testing.T) {
	in := python(t)
	if !strings.HasPrefix(in.Python, "3.") || in.Pytest == "" || in.Executable == "" {
		t.Errorf("%+v", in)
	}
	t.Logf("python %s, pytest %s, xdist %q, timeout %q", in.Python, in.Pytest, in.Xdist, in.Timeout)
}
