// Command streamcat runs a command that prints a test2json stream and
// formats the stream as hangdog does, without the watchdog: it measures
// the stream path alone (bench/stream.sh compares it with gotestsum).
// It lives here, not under bench/, because it imports internal packages.
//
//	streamcat [-format standard-quiet] -- cat stream.json
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/hangdog/hangdog/watchdog/internal/format"
	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "streamcat:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("streamcat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("format", format.StandardQuiet, "output format")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: streamcat [-format F] -- command [args]")
	}
	f, err := format.New(*name, stdout, format.Options{})
	if err != nil {
		return err
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	scanErr := testjson.Scan(out, format.Handler(f))
	waitErr := cmd.Wait()
	return errors.Join(scanErr, f.Close(), waitErr)
}
