#!/usr/bin/env bash
# stream.sh compares the stream path of hangdog (scan + standard-quiet
# formatting) with gotestsum v1.13.0 on the same large recorded test2json
# stream: throughput (MB/s of stream) and peak RSS, for two stream sizes to
# show that memory stays flat.
#
#   bash bench/stream.sh                 # sizes 50MB and 300MB
#   SIZES="20MB 100MB" REPEAT=1 bash bench/stream.sh
#   OURS_CMD="./hangdog --raw-command -- cat" bash bench/stream.sh
#
# The stream is derived from a real `go test -json` run of a generated
# package with TESTS tests (logs, subtests, parallel tests, skips and a few
# failures), replicated under many package names with the events of 4
# packages interleaved (bench/streamgen). Both sides read it from a pipe
# (`cat FILE`) and write to /dev/null, under GNU time -v.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SIZES=${SIZES:-"50MB 300MB"}
TESTS=${TESTS:-3000}
REPEAT=${REPEAT:-3}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/hangdog-bench.XXXXXX")}
KEEP=${KEEP:-}
cleanup() { [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false}

# gotestsum, installed if missing.
GOTESTSUM=${GOTESTSUM:-$(command -v gotestsum || echo "$(go env GOPATH)/bin/gotestsum")}
if [ ! -x "$GOTESTSUM" ]; then
	go install gotest.tools/gotestsum@v1.13.0
fi
"$GOTESTSUM" --version

# Our side: the CLI once it exists, the stream path alone until then.
if [ -z "${OURS_CMD:-}" ]; then
	if [ -x ./hangdog ]; then
		OURS_CMD="./hangdog --raw-command -- cat"
	else
		go build -o "$WORK/streamcat" ./watchdog/internal/format/streamcat
		OURS_CMD="$WORK/streamcat -format standard-quiet -- cat"
	fi
fi
go build -o "$WORK/streamgen" ./bench/streamgen

# 1. A generated package with $TESTS tests, recorded once with go test -json.
mod="$WORK/benchpkg"
mkdir -p "$mod"
printf 'module example.com/benchpkg\n\ngo 1.24\n' >"$mod/go.mod"
{
	printf 'package benchpkg\n\nimport (\n\t"fmt"\n\t"testing"\n)\n\nvar _ = fmt.Sprint\n\n'
	for ((i = 0; i < TESTS; i++)); do
		case $((i % 10)) in
		0) printf 'func Test%d(t *testing.T) {\n\tfor _, n := range []string{"a", "b", "c"} {\n\t\tt.Run(n, func(t *testing.T) { t.Log("subtest", n, "of test %d") })\n\t}\n}\n' "$i" "$i" ;;
		1) printf 'func Test%d(t *testing.T) {\n\tt.Parallel()\n\tt.Log("parallel test %d checks things")\n}\n' "$i" "$i" ;;
		2) printf 'func Test%d(t *testing.T) { t.Skip("skipped: needs a database") }\n' "$i" ;;
		3) if ((i % 100 == 3)); then
			printf 'func Test%d(t *testing.T) {\n\tt.Log("setup done")\n\tt.Errorf("got %%d, want %%d", 1, 2)\n}\n' "$i"
		else
			printf 'func Test%d(t *testing.T) {\n\tfmt.Println("test %d prints to stdout")\n}\n' "$i" "$i"
		fi ;;
		*) printf 'func Test%d(t *testing.T) {\n\tt.Logf("step %%d of %%s", 1, t.Name())\n\tt.Logf("step %%d of %%s: value=%%q", 2, t.Name(), "some \\"quoted\\" text\\twith tab")\n}\n' "$i" ;;
		esac
	done
} >"$mod/bench_test.go"
(cd "$mod" && go test -json -count=1 . >"$WORK/base.json" 2>&1) || true
echo "base stream: $(wc -c <"$WORK/base.json") bytes, $(grep -c '"Action":"run"' "$WORK/base.json") tests"

# measure LABEL CMD... : best wall time of $REPEAT runs, and the peak RSS.
measure() {
	local label=$1 best="" rss=0 i
	shift
	for ((i = 0; i < REPEAT; i++)); do
		/usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || true
		local wall kb
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + a[k]; print s}' "$WORK/time.txt")
		kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
		if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$wall; fi
		if ((kb > rss)); then rss=$kb; fi
	done
	echo "$label $best $rss"
}

printf '\n%-10s %-10s %10s %10s %12s\n' size side wall_s MB/s peakRSS_MB
for size in $SIZES; do
	file="$WORK/stream-$size.json"
	"$WORK/streamgen" -in "$WORK/base.json" -size "$size" -p 4 >"$file"
	bytes=$(wc -c <"$file")
	tests=$(grep -c '"Action":"run"' "$file" || true)
	for side in gotestsum ours; do
		if [ "$side" = gotestsum ]; then
			read -r _ wall rss < <(measure "$side" "$GOTESTSUM" --format standard-quiet --raw-command -- cat "$file")
		else
			# shellcheck disable=SC2086 # OURS_CMD is a command line
			read -r _ wall rss < <(measure "$side" $OURS_CMD "$file")
		fi
		awk -v s="$size" -v side="$side" -v w="$wall" -v b="$bytes" -v r="$rss" \
			'BEGIN {printf "%-10s %-10s %10.2f %10.1f %12.1f\n", s, side, w, (w > 0 ? b / 1048576 / w : 0), r / 1024}'
	done
	echo "           ($bytes bytes, $tests tests)"
	rm -f "$file"
done
echo "ours: $OURS_CMD FILE"
