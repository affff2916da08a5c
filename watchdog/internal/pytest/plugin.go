// Package pytest is the pytest adapter of hangdog's engine: it picks the
// Python interpreter, builds pytest's command line and environment around
// the bundled plugin (plugin/hangdog_pytest.py, written into a private
// directory per run), follows the plugin's event files into the core's
// events and pytest's own, totals the results in pytest's categories and
// maps pytest's exit status, and reads a worker's captured-output sizes as
// a heartbeat. The snapshot half (faulthandler dumps, diagnoses) lives in
// this package too. Package watchdog wires it in; the contract between the
// plugin and this package is CONTRACT.md.
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
