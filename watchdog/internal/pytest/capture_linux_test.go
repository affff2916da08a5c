package pytest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestCaptureSizes: while the pass suite's slow test prints its progress,
// the sizes behind its process's fd 1 grow (pytest's capture file), in a
// run without xdist and in a worker; hangdog's own pipe is never counted.
func TestCaptureSizes(t *testing.T) {
	in := python(t)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"plain", []string{"-p", "no:xdist"}},
		{"worker", []string{"-n", "1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.name == "worker" {
				needXdist(t, in)
			}
			testCaptureSizes(t, in, c.args)
		})
	}
}

func testCaptureSizes(t *testing.T, in *Interpreter, args []string) {
	r := Runner{Interpreter: in, Environ: append(os.Environ(), "HANGDOG_FIXTURE_SLOW=3")}
	d, err := NewRunDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Remove()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	argv := r.Command(in.Path, append([]string{"-p", "no:cacheprovider", "-k", "slow"}, args...))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = fixture(t, "pass")
	cmd.Env = r.Env(d.Path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out // a pipe: never a capture file
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()

	rec := &recorder{}
	src := NewSource(d.Path)
	pid := 0
	finished := false
	var first Output
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no growth seen:\n%s", out.String())
		}
		src.Poll(rec)
		for _, e := range rec.events {
			switch {
			case e.Kind == KindPhase && e.When == "call" && e.State == "start":
				pid = e.PID
			case e.Kind == KindFinish:
				finished = true
			}
		}
		rec.events = nil
		if finished {
			t.Fatalf("the test ended before its output was seen growing (first %+v):\n%s", first, out.String())
		}
		if pid == 0 {
			continue
		}
		o, err := CaptureSizes(pid)
		if err != nil {
			t.Fatal(err)
		}
		if !o.HasStdout {
			continue
		}
		if !first.HasStdout {
			first = o
			continue
		}
		if o.Grew(first) {
			if o.Stdout <= first.Stdout {
				t.Errorf("stdout %d, was %d", o.Stdout, first.Stdout)
			}
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pytest: %v\n%s", err, out.String())
	}
	if _, err := CaptureSizes(pid); err == nil {
		t.Error("no error for a process that is gone")
	}
}

func TestCaptureSizesSkipsPipesAndOwnFiles(t *testing.T) {
	// This test binary: stdout is whatever go test gave it. A regular file
	// given as our own is not counted.
	f, err := os.CreateTemp(t.TempDir(), "own")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sleep", "30")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Stdout, cmd.Stderr = w, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	f.WriteString("hello")
	o, err := CaptureSizes(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if o.HasStdout || !o.HasStderr || o.Stderr != 5 {
		t.Errorf("pipe and file: %+v", o)
	}
	fi, _ := f.Stat()
	if o, _ := CaptureSizes(cmd.Process.Pid, fi); o.HasStderr {
		t.Errorf("our own file counted: %+v", o)
	}
}
