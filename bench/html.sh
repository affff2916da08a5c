#!/usr/bin/env bash
# html.sh measures the HTML report at scale: for streams of about 1k, 10k
# and 88k tests it runs `hangdog analyze --html` and reports the page's
# size, the time hangdog takes to write it, and two render times of
# headless Chromium: wall_ms, the time to load, lay out and paint it (a
# screenshot) less Chromium's time for an empty page; page_ms, the page's
# own clock (performance.now()) when its load event has fired and its
# layout is done, read from a copy of the page with a one-line script
# added (steadier on a busy machine: no process start in it).
#
#   bash bench/html.sh
#   COUNTS="1 10" REPEAT=1 bash bench/html.sh
#   HANGDOG=/tmp/hangdog-old bash bench/html.sh     # another build
#
# The streams are real: one `go test -json` run of a generated package of
# 770 tests (77 with 3 subtests, parallel tests, skips, a few failures:
# 1,001 tests in all), replicated under COUNTS package names with the
# events of 4 packages interleaved (bench/streamgen -copies).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS=${COUNTS:-"1 10 88"}
REPEAT=${REPEAT:-3}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/hangdog-html.XXXXXX")}
KEEP=${KEEP:-}
cleanup() { [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false}

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$CHROMIUM" ]; then
	echo "html.sh: no chromium (apt-get install -y chromium)" >&2
	exit 1
fi
if [ -z "${HANGDOG:-}" ]; then
	go build -o "$WORK/hangdog" ./cmd/hangdog
	HANGDOG=$WORK/hangdog
fi
go build -o "$WORK/streamgen" ./bench/streamgen

# 1. The base package, recorded once.
mod="$WORK/benchpkg"
mkdir -p "$mod"
printf 'module example.com/benchpkg\n\ngo 1.24\n' >"$mod/go.mod"
{
	printf 'package benchpkg\n\nimport (\n\t"fmt"\n\t"testing"\n\t"time"\n)\n\nvar _ = fmt.Sprint\n\n'
	for ((i = 0; i < 770; i++)); do
		case $((i % 10)) in
		0) printf 'func Test%d(t *testing.T) {\n\tfor _, n := range []string{"a", "b", "c"} {\n\t\tt.Run(n, func(t *testing.T) { t.Log("subtest", n) })\n\t}\n}\n' "$i" ;;
		1) printf 'func Test%d(t *testing.T) {\n\tt.Parallel()\n\ttime.Sleep(2 * time.Millisecond)\n}\n' "$i" ;;
		2) printf 'func Test%d(t *testing.T) { t.Skip("needs a database") }\n' "$i" ;;
		3) if ((i % 100 == 3)); then
			printf 'func Test%d(t *testing.T) {\n\tt.Log("setup done")\n\tt.Errorf("got %%d, want %%d", 1, 2)\n}\n' "$i"
		else
			printf 'func Test%d(t *testing.T) { time.Sleep(time.Millisecond) }\n' "$i"
		fi ;;
		*) printf 'func Test%d(t *testing.T) { t.Logf("step of %%s", t.Name()) }\n' "$i" ;;
		esac
	done
} >"$mod/bench_test.go"
(cd "$mod" && go test -json -count=1 . >"$WORK/base.json" 2>&1) || true
echo "base stream: $(grep -c '"Action":"run"' "$WORK/base.json") tests"

# render FILE: best wall time of $REPEAT headless screenshots, in ms.
render() {
	local best="" i t0 t1 ms
	for ((i = 0; i < REPEAT; i++)); do
		rm -rf "$WORK/profile"
		t0=$(date +%s%N)
		timeout 300 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
			--user-data-dir="$WORK/profile" --window-size=1400,2000 --screenshot="$WORK/shot.png" "$1" >/dev/null 2>&1
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
		if [ -z "$best" ] || ((ms < best)); then best=$ms; fi
	done
	echo "$best"
}

# pagetime FILE: the least page_ms of $REPEAT loads.
pagetime() {
	local best="" i ms
	sed 's|</body>|<script>addEventListener("load", function () { document.body.offsetHeight; console.log("HD_RENDER_MS " + Math.round(performance.now())); });</script></body>|' "$1" >"$WORK/timed.html"
	for ((i = 0; i < REPEAT; i++)); do
		rm -rf "$WORK/profile"
		ms=$(timeout 300 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
			--user-data-dir="$WORK/profile" --enable-logging=stderr --v=0 --dump-dom "file://$WORK/timed.html" 2>&1 >/dev/null |
			sed -n 's/.*HD_RENDER_MS \([0-9]*\).*/\1/p' | head -1)
		if [ -n "$ms" ] && { [ -z "$best" ] || ((ms < best)); }; then best=$ms; fi
	done
	echo "${best:--1}"
}

blank=$(render "about:blank")
echo "chromium on an empty page: ${blank} ms (subtracted from wall_ms)"
printf '\n%8s %10s %10s %10s %10s %10s\n' tests html_MB write_s wall_ms page_ms packages
for c in $COUNTS; do
	stream="$WORK/stream-$c.json"
	"$WORK/streamgen" -in "$WORK/base.json" -copies "$c" -p 4 >"$stream"
	tests=$(grep -c '"Action":"run"' "$stream" || true)
	page="$WORK/report-$c.html"
	t0=$(date +%s%N)
	"$HANGDOG" analyze --html "$page" "$stream" >/dev/null 2>&1 || true
	t1=$(date +%s%N)
	ms=$(render "file://$page")
	pm=$(pagetime "$page")
	awk -v n="$tests" -v b="$(wc -c <"$page")" -v w="$(((t1 - t0) / 1000000))" -v r="$((ms - blank))" -v p="$pm" -v c="$c" \
		'BEGIN {printf "%8d %10.2f %10.2f %10d %10d %10d\n", n, b / 1048576, w / 1000, r, p, c}'
	rm -f "$stream"
done
echo "hangdog: $HANGDOG"
