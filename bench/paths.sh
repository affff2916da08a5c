#!/usr/bin/env bash
# paths.sh measures how long hangdog takes to refuse an output path that
# cannot be written (issue: a bad --report-json was found only after the
# suite). For each output flag it runs the real binary REPEAT times with a
# path in a directory that does not exist, in a module whose `go` would
# take seconds to start a build, and prints the exit code and the median
# and worst wall time to the error.
#
#   bash bench/paths.sh
#   REPEAT=50 bash bench/paths.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-20}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangdog-paths.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export GOFLAGS=${GOFLAGS:--buildvcs=false}
go build -o "$WORK/hangdog" ./cmd/hangdog
suite=$(pwd)/testdata/suites/passing
stream=$(pwd)/$(ls testdata/streams/go1.26/*.json | head -1)
no="$WORK/no-such-dir"

printf '%-22s %5s %10s %10s\n' flag exit median_ms max_ms
for flag in --report-json --junitfile --html --jsonfile --log-file --history= "analyze --html"; do
	times=()
	code=0
	for ((i = 0; i < REPEAT; i++)); do
		case $flag in
		--history=) args=("--history=$no/h.json" -- ./...) ;;
		analyze*) args=(analyze --html "$no/r.html" "$stream") ;;
		*) args=("$flag" "$no/out" -- ./...) ;;
		esac
		t0=$(date +%s%N)
		(cd "$suite" && "$WORK/hangdog" "${args[@]}" >/dev/null 2>&1) && code=0 || code=$?
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	sorted=$(printf '%s\n' "${times[@]}" | sort -n)
	median=$(echo "$sorted" | awk -v n=${#times[@]} 'NR == int((n + 1) / 2) {print $1}')
	max=$(echo "$sorted" | tail -1)
	awk -v f="$flag" -v c="$code" -v m="$median" -v x="$max" 'BEGIN {printf "%-22s %5s %10.1f %10.1f\n", f, c, m / 1000, x / 1000}'
done
