// Package pytest is the pytest adapter of hangdog's engine: it picks the
// Python interpreter, builds pytest's command line and environment around
// the bundled plugin (plugin/hangdog_pytest.py, written into a private
// directory per run), follows the plugin's event files into the core's
// events and pytest's own, totals the results in pytest's categories and
// maps pytest's exit status, and reads a worker's captured-output sizes as
// a heartbeat. The snapshot half (faulthandler dumps, diagnoses) lives in
// this package too. Package watchdog wires it in; the contract between the
// plugin and this package is CONTRACT.md.
//
// How the engine uses the runner half:
//
//	p, err := pytest.Prepare(ctx, pytest.Options{...}, userArgs) // interpreter, private dir, argv, env
//	defer p.Close()                                              // removes the private directory
//	// start p.Argv with p.Env under the reaper, pytest's stdout and stderr passed through
//	src := pytest.NewSource(p.RunDir.Path)
//	go src.Run(ctx, ticker.C, sink) // sink.Core(e): tracker.Observe; sink.Event(e): the rest
//	// on the hello event: p.Runner.RootDir = e.RootDir (reruns need it)
//	// sink.Event(e) also feeds a State (each process's test, phase, fixture,
//	// threads, signal, queue: what a stall's snapshot and diagnosis need)
//	// and a Results (the totals in pytest's categories)
//	// at the end: pytest.ExitCode(status, hung)
//
// A Source calls its Sink on the goroutine that runs it; the Sink must not
// block for long (the files keep growing meanwhile, nothing is lost).
package pytest

import (
	_ "embed"
)

// PluginModule is the name of the plugin's module: the file is
// PluginModule+".py" in the private directory, loaded with -p PluginModule.
const PluginModule = "hangdog_pytest"

// pluginSource is the plugin, shipped inside the binary.
//
//go:embed plugin/hangdog_pytest.py
var pluginSource []byte

// PluginSource returns the bundled plugin's source (a copy).
func PluginSource() []byte {
	return append([]byte(nil), pluginSource...)
}
