#!/usr/bin/env bash
# capture.sh measures the time from a stall to a complete snapshot of a
# binary with 10,000 goroutines: hangdog on fixture testdata/hang/manygoroutines
# (--stall 2s), REPEAT times, printing capture_seconds of the JSON report.
#
#   bash bench/capture.sh               # 5 runs
#   REPEAT=9 bash bench/capture.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
REPEAT=${REPEAT:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangdog-capture.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false} CI=
go build -o "$WORK/hangdog" ./cmd/hangdog
cd "$root/testdata/hang/manygoroutines"
# Warm the build cache so that the first run is timed like the others.
go test -count=1 -run '^$' ./... >/dev/null
for i in $(seq "$REPEAT"); do
	"$WORK/hangdog" --report-json "$WORK/r.json" --stall 2s --kill-after 3s -- -count=1 ./... >/dev/null 2>&1 || true
	jq -r '[.hangs[].capture_seconds] | map(tostring) | join(" ")' "$WORK/r.json"
done
