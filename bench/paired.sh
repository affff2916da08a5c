#!/usr/bin/env bash
# paired.sh compares two revisions of hangdog on the same work, run after
# run in alternating order (so that a machine whose load drifts penalises
# both alike): median and spread of each, and after/before.
#
#   bash bench/paired.sh                    # 9d96cc2 (before issue 9) vs HEAD
#   REPEAT=9 bash bench/paired.sh REV1 REV2
#
# What it runs, per revision and round:
#   stream   hangdog --raw-command -- cat FILE: a 300MB test2json stream
#            (bench/streamgen from zap's own go test -json), MB/s, peak RSS;
#   stacks   hangdog stacks on a 40,000-goroutine dump (~48 MB), wall and RSS;
#   zap      hangdog -- -count=1 ./... on go.uber.org/zap's own suite, wall;
#   capture  capture_seconds of testdata/hang/manygoroutines (10,000
#            goroutines, --stall 2s);
#   bench    go test -bench BenchmarkEngineStream (MB/s of both sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
BEFORE=${1:-9d96cc2}
AFTER=${2:-HEAD}
REPEAT=${REPEAT:-5}
SIZE=${SIZE:-300MB}
SUITE=${SUITE:-go.uber.org/zap@v1.28.0}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false} CI=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangdog-paired.XXXXXX")
cleanup() {
	for s in before after; do git -C "$root" worktree remove --force "$WORK/src-$s" 2>/dev/null || true; done
	chmod -R u+w "$WORK" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

for s in before after; do
	rev=$BEFORE
	[ "$s" = after ] && rev=$AFTER
	git -C "$root" worktree add -q --detach "$WORK/src-$s" "$rev"
	(cd "$WORK/src-$s" && go build -o "$WORK/hangdog-$s" ./cmd/hangdog)
	echo "$s: $(git -C "$root" rev-parse --short "$rev") $(git -C "$root" log -1 --format=%s "$rev" | cut -c1-70)"
done
go build -o "$WORK/streamgen" ./bench/streamgen
(cd stackparse/testdata/gen && go build -o "$WORK/prog" ./prog)
src=$(go mod download -json "$SUITE" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
cp -r "$src" "$WORK/suite" && chmod -R u+w "$WORK/suite"
(cd "$WORK/suite" && go mod download && go test -json -count=1 ./... >"$WORK/base.json" 2>/dev/null) || true
"$WORK/streamgen" -in "$WORK/base.json" -size "$SIZE" -p 4 >"$WORK/stream.json"
"$WORK/prog" big 40000 96 >"$WORK/dump.txt"
echo "stream $(wc -c <"$WORK/stream.json") bytes; dump $(wc -c <"$WORK/dump.txt") bytes; $(nproc) CPUs; $(go version)"

# timed OUT CMD...: appends "wall_s rss_kb" of CMD to OUT.
timed() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$WORK/t" "$@" >/dev/null 2>&1 || true
	cat "$WORK/t" >>"$out"
}
# Warm the build caches of both (the agent's overlay differs between them).
for s in before after; do
	(cd "$WORK/suite" && "$WORK/hangdog-$s" --no-status -- -count=1 ./... >/dev/null 2>&1) || true
	(cd testdata/hang/manygoroutines && "$WORK/hangdog-$s" --stall 2s --kill-after 3s -- -count=1 ./... >/dev/null 2>&1) || true
done
for ((i = 0; i < REPEAT; i++)); do
	order="before after"
	((i % 2)) && order="after before"
	for s in $order; do
		h=$WORK/hangdog-$s
		timed "$WORK/stream-$s" "$h" --no-status --raw-command -- cat "$WORK/stream.json"
		timed "$WORK/stacks-$s" "$h" stacks --color never "$WORK/dump.txt"
		(cd "$WORK/suite" && timed "$WORK/zap-$s" "$h" --no-status -- -count=1 ./...)
		(cd testdata/hang/manygoroutines && "$h" --report-json "$WORK/r.json" --stall 2s --kill-after 3s -- -count=1 ./... >/dev/null 2>&1) || true
		jq -r '.hangs[0].capture_seconds' "$WORK/r.json" >>"$WORK/capture-$s"
		(cd "$WORK/src-$s" && go test -run '^$' -bench 'BenchmarkEngineStream' -count=1 ./... 2>/dev/null |
			awk '/^BenchmarkEngineStream/ {for (k = 1; k <= NF; k++) if ($(k+1) == "MB/s") print $1, $k}') >>"$WORK/bench-$s"
	done
done

# stats FILE COL [SCALE]: median and min–max of column COL.
stats() {
	awk -v c="$2" -v k="${3:-1}" '{print $c * k}' "$1" | sort -n |
		awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f", m, a[1], a[NR]}'
}
row() { # NAME UNIT BEFORE-STATS AFTER-STATS
	read -r mb lb hb <<<"$3"
	read -r ma la ha <<<"$4"
	printf '%-28s %10.3f (%.3f–%.3f) %10.3f (%.3f–%.3f) %7.1f%%  %s\n' "$1" "$mb" "$lb" "$hb" "$ma" "$la" "$ha" \
		"$(awk -v a="$mb" -v b="$ma" 'BEGIN {print (b - a) * 100 / a}')" "$2"
}
bytes=$(wc -c <"$WORK/stream.json")
printf '\n%-28s %26s %26s %8s\n' "$REPEAT paired runs" before after change
for s in before after; do awk -v b="$bytes" '{print b / 1048576 / $1, $2}' "$WORK/stream-$s" >"$WORK/streammb-$s"; done
row "stream throughput" "MB/s" "$(stats "$WORK/streammb-before" 1)" "$(stats "$WORK/streammb-after" 1)"
row "stream peak RSS" "MB" "$(stats "$WORK/stream-before" 2 0.0009765625)" "$(stats "$WORK/stream-after" 2 0.0009765625)"
row "stacks wall" "s" "$(stats "$WORK/stacks-before" 1)" "$(stats "$WORK/stacks-after" 1)"
row "stacks peak RSS" "MB" "$(stats "$WORK/stacks-before" 2 0.0009765625)" "$(stats "$WORK/stacks-after" 2 0.0009765625)"
row "zap suite wall (-count=1)" "s" "$(stats "$WORK/zap-before" 1)" "$(stats "$WORK/zap-after" 1)"
row "capture_seconds" "s" "$(stats "$WORK/capture-before" 1)" "$(stats "$WORK/capture-after" 1)"
for b in $(awk '{print $1}' "$WORK/bench-after" | sort -u); do
	grep "^$b " "$WORK/bench-before" >"$WORK/b1" || true
	grep "^$b " "$WORK/bench-after" >"$WORK/b2" || true
	[ -s "$WORK/b1" ] && row "${b#BenchmarkEngineStream/}" "MB/s (BenchmarkEngineStream)" "$(stats "$WORK/b1" 2)" "$(stats "$WORK/b2" 2)"
done
