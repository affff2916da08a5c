#!/usr/bin/env bash
# Regenerates the recorded `go test -json` streams under testdata/streams:
# each hanging fixture of testdata/hang run with a short -timeout under each
# Go release, so that the stream ends in the testing package's own
# "panic: test timed out" dump. Run from anywhere; needs the module proxy
# (the old toolchains download on first use, 76 MB each).
#
#   bash testdata/streams/gen.sh [go1.21.13 ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hang="$here/../hang"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(go1.20.14 go1.21.13 go1.22.12 go1.23.12 go1.24.13 go1.25.9 go1.26.8 go1.27.3)
fixtures=(mutexcycle chanrecv wgsubtest cleanup busyloop parallel childwait multipkg pipeholder)

for v in "${versions[@]}"; do
	out="$here/${v%.*}"
	mkdir -p "$out"
	for f in "${fixtures[@]}"; do
		echo "$v $f" >&2
		# setsid: a process group of its own, so that everything the
		# run leaves behind (a child holding the pipe) is killed after,
		# and nothing else on the machine.
		(
			cd "$hang/$f"
			GOTOOLCHAIN=$v GOFLAGS=-buildvcs=false setsid go test -json -count=1 -timeout 4s ./... \
				>"$out/$f.json" 2>"$out/$f.stderr" &
			pid=$!
			( sleep 120; kill -KILL -- -"$pid" 2>/dev/null ) &
			watchdog=$!
			wait "$pid" || true
			kill -KILL -- -"$pid" 2>/dev/null || true
			kill "$watchdog" 2>/dev/null || true
		)
		[ -s "$out/$f.stderr" ] || rm -f "$out/$f.stderr"
	done
done
