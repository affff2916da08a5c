#!/usr/bin/env bash
# leaks-overhead.sh measures what the leak check (issue 11) adds to a
# hangdog run: paired runs of the same suite with the check on
# (--leaks) and off (--leaks=false), alternating which goes first, warm
# build cache, tests re-run (-count=1). It prints each pair, the medians
# and the median of the per-pair differences as a share of the wall time.
# Suites: go.uber.org/zap's and github.com/google/pprof's own tests,
# copied out of the module cache.
#
#   bash bench/leaks-overhead.sh          # PAIRS=7 per suite
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-7}
SUITES=${SUITES:-"go.uber.org/zap@v1.28.0 github.com/google/pprof@v0.0.0-20261105003125-4bf881d7fb0b"}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangdog-leaks-overhead.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
go build -o "$WORK/hangdog" ./cmd/hangdog

secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for suite in $SUITES; do
	src=$(go mod download -json "$suite" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
	dir="$WORK/$(basename "${suite%@*}")"
	cp -r "$src" "$dir"
	chmod -R u+w "$dir"
	(cd "$dir" && go mod download)
	on=("$WORK/hangdog" --no-status --leaks --report-json "$WORK/on.json" -C "$dir" -- -count=1 ./...)
	off=("$WORK/hangdog" --no-status --leaks=false -C "$dir" -- -count=1 ./...)
	secs "${on[@]}" >/dev/null # warm the build cache of both (same binaries: the agent is in both)
	secs "${off[@]}" >/dev/null
	echo "suite: $suite ($(cd "$dir" && go list ./... | wc -l) packages), $(nproc) CPUs, $(go version)"
	: >"$WORK/on.txt"
	: >"$WORK/off.txt"
	: >"$WORK/diff.txt"
	: >"$WORK/cost.txt"
	for i in $(seq "$PAIRS"); do
		if [ $((i % 2)) -eq 1 ]; then
			a=$(secs "${on[@]}")
			b=$(secs "${off[@]}")
		else
			b=$(secs "${off[@]}")
			a=$(secs "${on[@]}")
		fi
		# What the check itself says it cost, per run with it on.
		/usr/bin/python3 - "$WORK/on.json" "$a" >>"$WORK/cost.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r.get("leak_checks") or []
spent = sum(x.get("check_seconds", 0) for x in c)
wait = sum(x.get("end_wait_seconds", 0) for x in c)
print("%.4f %.4f %d %d %d" % (spent, wait, sum(x.get("tests", 0) for x in c), sum(1 for x in c if x.get("unchecked")), len(r.get("leaks") or [])))
PY
		echo "$a" >>"$WORK/on.txt"
		echo "$b" >>"$WORK/off.txt"
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f\n", (a - b) / b * 100 }' >>"$WORK/diff.txt"
		echo "  pair $i: leaks on ${a}s, off ${b}s"
	done
	echo "  median: on $(median <"$WORK/on.txt")s, off $(median <"$WORK/off.txt")s; median per-pair difference $(median <"$WORK/diff.txt") % of the wall time"
	paste -d' ' "$WORK/cost.txt" "$WORK/on.txt" | awk '{ c += $1; w += $2; wall += $6; t = $3; u = $4; l = $5 }
		END { printf "  time of the check itself, summed over the test binaries, mean per run: looks %.3fs, end waits %.3fs = %.2f %% and %.2f %% of the mean wall time; %d tests checked, %d packages unchecked, %d leak entries\n", c/NR, w/NR, c/wall*100, w/wall*100, t, u, l }'
done
