// Package pytest is the pytest adapter of hangdog's engine: it picks the
// Python interpreter, builds pytest's command line and environment around
// the bundled plugin (plugin/hangdog_pytest.py, written into a private
// directory per run), follows the plugin's event files into the core's
// events and pytest's own, totals the results in pytest's categories and
// maps pytest's exit status, and reads a worker's captured-output sizes as
// a heartbeat; it snapshots every process with faulthandler and diagnoses
// the stuck ones. Package watchdog wires it in; the contract between the
// plugin and this package is CONTRACT.md.
//
// The engine uses it through Adapter (adapter.go), a core.Adapter: New
// with the interpreter FindInterpreter chose; Prepare makes the private
// directory and pytest's environment; NewSource's Scan passes pytest's
// output through while a Source follows the event files (the core's
// events to the engine, the rest into the adapter's state and Processes);
// Snapshot takes every process's stacks (Take), Diagnose reads them
// (Diagnose, Verdict), Stop ends a worker; Finish gives pytest's totals
// and exit status, ResumeArgs the rest of a run without xdist.
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
