#!/usr/bin/env bash
# overhead.sh measures what hangdog (agent on) costs on a real multi-package
# suite, side by side with plain `go test -json` in one run:
#   1. warm build cache, tests re-run (-count=1): the everyday CI case;
#   2. test results cached (a second identical run prints "(cached)");
#   3. cold build cache (a fresh GOCACHE): what the first build costs.
# The suite is go.uber.org/zap's own, copied out of the module cache.
#
#   bash bench/overhead.sh            # REPEAT=5 runs per case, median
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
REPEAT=${REPEAT:-5}
SUITE=${SUITE:-go.uber.org/zap@v1.28.0}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangdog-overhead.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

go build -o "$WORK/hangdog" ./cmd/hangdog
src=$(go mod download -json "$SUITE" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
cp -r "$src" "$WORK/suite"
chmod -R u+w "$WORK/suite"
cd "$WORK/suite"
go mod download
echo "suite: $SUITE ($(go list ./... | wc -l) packages), $(nproc) CPUs, $(go version)"

# secs CMD... runs CMD and prints its wall time in seconds.
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

plain=(go test -json)
ours=("$WORK/hangdog" --no-status --)

# Warm both build caches (the agent's overlay makes different binaries).
"${plain[@]}" -count=1 ./... >/dev/null 2>&1 || true
"${ours[@]}" -count=1 ./... >/dev/null 2>&1 || true

printf '%-32s %12s %12s %9s\n' case "go test" hangdog overhead
row() {
	local name=$1 a b
	a=$2 b=$3
	printf '%-32s %11.2fs %11.2fs %8.1f%%\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print (b - a) * 100 / a }')"
}

# 1. Warm build cache, tests re-run. Alternate the two sides.
pa=() pb=()
for ((i = 0; i < REPEAT; i++)); do
	pa+=("$(secs "${plain[@]}" -count=1 ./...)")
	pb+=("$(secs "${ours[@]}" -count=1 ./...)")
done
row "warm build, -count=1" "$(printf '%s\n' "${pa[@]}" | median)" "$(printf '%s\n' "${pb[@]}" | median)"

# 2. Cached test results.
"${plain[@]}" ./... >/dev/null 2>&1 || true
"${ours[@]}" ./... >/dev/null 2>&1 || true
pa=() pb=()
for ((i = 0; i < REPEAT; i++)); do
	pa+=("$(secs "${plain[@]}" ./...)")
	pb+=("$(secs "${ours[@]}" ./...)")
done
row "cached results" "$(printf '%s\n' "${pa[@]}" | median)" "$(printf '%s\n' "${pb[@]}" | median)"
if "${ours[@]}" ./... 2>/dev/null | grep -q '(cached)'; then echo "  (hangdog's second run is served from the test cache)"; fi

# 3. Cold build cache: one run each, a fresh GOCACHE.
a=$(GOCACHE="$WORK/cache-a" secs "${plain[@]}" -count=1 ./...)
b=$(GOCACHE="$WORK/cache-b" secs "${ours[@]}" -count=1 ./...)
row "cold build cache (first build)" "$a" "$b"
