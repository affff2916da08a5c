#!/usr/bin/env bash
# gen.sh makes the leak files that gotest's reader (leaks.go) is tested
# on: the agent's leak check run on testdata/leaks/leaky (8 leaking tests,
# 6 clean) under Go 1.21.13, 1.26.8 and 1.27.3 (the goroutineleak
# profile: proven leaks), by the agent package's TestLeakCheck, and on
# testdata/leaks/nodot (a module path without a dot) under the local Go. The
# repository's path is rewritten to /src.
#
#   bash watchdog/internal/gotest/testdata/leakfiles/gen.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../../.." && pwd)
cd "$root"
go test -c -o "$here/agent.test" ./watchdog/internal/agent
trap 'rm -f "$here/agent.test"' EXIT
for v in go1.21.13 go1.26.8 go1.27.3; do
	out="$here/$v"
	rm -rf "$out"
	mkdir -p "$out"
	(cd watchdog/internal/agent && GOTOOLCHAIN=$v HANGDOG_LEAKFILES_OUT="$out" "$here/agent.test" -test.run '^TestLeakCheck$' -test.count=1 >/dev/null)
	for f in "$out"/*.json; do
		sed -i "s|$root/|/src/|g" "$f"
	done
	ls "$out" | wc -l
done
# A module path without a dot, and a dump that does not show GOROOT early.
out="$here/nodot"
rm -rf "$out"
mkdir -p "$out"
(cd watchdog/internal/agent && HANGDOG_LEAKFILES_FIXTURE=nodot HANGDOG_LEAKFILES_OUT="$out" "$here/agent.test" -test.run '^TestLeakCheck$' -test.count=1 >/dev/null)
for f in "$out"/*.json; do
	sed -i "s|$root/|/src/|g" "$f"
done
ls "$out" | wc -l
