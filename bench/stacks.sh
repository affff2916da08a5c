#!/usr/bin/env bash
# stacks.sh compares `hangdog stacks` with panicparse v2.5.0 on one large
# real goroutine dump: wall time and peak RSS of each, side by side in one
# run, under GNU time -v. Then it shows how hangdog's memory grows with the
# input (full summary: a few hundred bytes per goroutine; --buckets: flat,
# it follows the number of distinct stacks only), and prints the parser's
# throughput from `go test -bench`.
#
#   bash bench/stacks.sh                      # 40,000 goroutines, ~48 MB
#   N=10000 REPEAT=1 bash bench/stacks.sh
#   SKIP_BIG=1 SKIP_GOBENCH=1 bash bench/stacks.sh
#
# The dump is printed by the generator stackparse's BenchmarkParse uses
# (stackparse/testdata/gen/prog: `prog big N DEPTH`, a pprof debug=2 dump
# of N goroutines: a quarter on one sync.Mutex, a quarter in one
# WaitGroup.Wait, a quarter on one channel, a quarter in recursions up to
# DEPTH frames deep). Both tools read the same file and write to
# /dev/null. panicparse runs with its defaults (parse, group, print text).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

N=${N:-40000}
DEPTH=${DEPTH:-96}
BIG_N=${BIG_N:-160000} # the streaming check: 4 times as many goroutines
REPEAT=${REPEAT:-3}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/hangdog-stacks-bench.XXXXXX")}
KEEP=${KEEP:-}
cleanup() { [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false} CGO_ENABLED=0

TIME=/usr/bin/time
if ! "$TIME" -v true >/dev/null 2>&1; then
	echo "stacks.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2
	exit 1
fi

PANICPARSE=${PANICPARSE:-$(command -v panicparse || echo "$(go env GOPATH)/bin/panicparse")}
if [ ! -x "$PANICPARSE" ]; then
	go install github.com/maruel/panicparse/v2@v2.5.0
fi
go build -o "$WORK/hangdog" ./cmd/hangdog
(cd stackparse/testdata/gen && go build -o "$WORK/prog" ./prog)

dump=$WORK/dump-$N.txt
"$WORK/prog" big "$N" "$DEPTH" >"$dump"
mb=$(awk -v b="$(wc -c <"$dump")" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "dump: $N goroutines, $mb MB (pprof debug=2, $(go env GOVERSION))"
echo

# measure NAME CMD...: runs CMD REPEAT times under time -v; prints the best
# wall time and the largest peak RSS.
measure() {
	local name=$1
	shift
	local best="" rss=0 i wall kb
	for ((i = 0; i < REPEAT; i++)); do
		"$TIME" -v -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || {
			echo "$name failed:" >&2
			cat "$WORK/stderr.txt" "$WORK/time.txt" >&2
			exit 1
		}
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
			n = split($2, p, ":"); s = 0
			for (j = 1; j <= n; j++) s = s * 60 + p[j]
			print s }' "$WORK/time.txt")
		kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
		if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$wall
		fi
		((kb > rss)) && rss=$kb
	done
	printf '%-34s %8.2f s %8d MB\n' "$name" "$best" $((rss / 1024))
	echo "$best $rss" >"$WORK/last.txt"
}

printf '%-34s %10s %11s\n' "" "wall" "peak RSS"
measure "panicparse v2.5.0" "$PANICPARSE" -no-color "$dump"
read -r pp_wall pp_rss <"$WORK/last.txt"
measure "hangdog stacks" "$WORK/hangdog" stacks --color never "$dump"
read -r hd_wall hd_rss <"$WORK/last.txt"
measure "hangdog stacks --json" "$WORK/hangdog" stacks --json "$dump"
read -r hj_wall hj_rss <"$WORK/last.txt"
measure "hangdog stacks (stdin)" sh -c "\"$WORK/hangdog\" stacks <\"$dump\""
echo
awk -v p="$pp_wall" -v h="$hd_wall" -v j="$hj_wall" -v pr="$pp_rss" -v hr="$hd_rss" -v jr="$hj_rss" 'BEGIN {
	printf "speed-up: %.0fx (text), %.0fx (--json); target > 20x\n", p / h, p / j
	printf "peak RSS: %d MB (text), %d MB (--json), panicparse %d MB; target < 200 MB\n", hr / 1024, jr / 1024, pr / 1024
}'

if [ -z "${SKIP_BIG:-}" ]; then
	# Streaming: one dump with 4 times as many goroutines of the same
	# stacks. runtime.Stack output (pprof debug=2 stops at 64 MiB).
	echo
	bigdump=$WORK/dump-$BIG_N.txt
	"$WORK/prog" big "$BIG_N" "$DEPTH" stack >"$bigdump"
	bmb=$(awk -v b="$(wc -c <"$bigdump")" 'BEGIN { printf "%.1f", b / 1e6 }')
	echo "memory against input size (same stacks, runtime.Stack):"
	REPEAT=1 measure "stacks, $N goroutines" "$WORK/hangdog" stacks "$dump"
	REPEAT=1 measure "stacks, $BIG_N goroutines" "$WORK/hangdog" stacks "$bigdump"
	REPEAT=1 measure "stacks --buckets, $N goroutines" "$WORK/hangdog" stacks --buckets "$dump"
	REPEAT=1 measure "stacks --buckets, $BIG_N goroutines" "$WORK/hangdog" stacks --buckets "$bigdump"
	echo "(inputs: $mb MB and $bmb MB)"
	rm -f "$bigdump"
fi

if [ -z "${SKIP_GOBENCH:-}" ]; then
	echo
	echo "parser throughput (go test -bench, the same generator):"
	go test -run '^$' -bench 'BenchmarkParse' -benchtime 5x ./stackparse | grep -E '^Benchmark'
fi
cd "$root"
