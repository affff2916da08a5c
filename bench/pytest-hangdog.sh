#!/usr/bin/env bash
# pytest-hangdog.sh measures what `hangdog pytest` costs a passing suite
# (bench/pytest-suite.py, 1,300 tests) against plain pytest, at -n 2 and
# -n 10: runs alternate, median and spread (min–max) of the wall time.
# Then the time from a stall to the stacks of every process: a suite of
# the same size where one test hangs, at -n 10, capture_seconds of the
# JSON report (from detection to the stacks of the 10 workers and the
# controller, read and parsed).
#
#   bash bench/pytest-hangdog.sh             # REPEAT=7 runs per case
#   PYTHON=/usr/bin/python3 N=1300 REPEAT=7 WORKERS="2 10" bash bench/pytest-hangdog.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
N=${N:-1300}
REPEAT=${REPEAT:-7}
WORKERS=${WORKERS:-"2 10"}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false} CI=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangdog-pytest-hangdog.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

go build -o "$WORK/hangdog" ./cmd/hangdog
"$PYTHON" bench/pytest-suite.py "$WORK/suite" "$N"
cd "$WORK/suite"
echo "suite: $N tests, $(nproc) CPUs, $("$PYTHON" -c 'import sys, pytest, xdist; print("Python", sys.version.split()[0], "pytest", pytest.__version__, "xdist", xdist.__version__)')"

secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.2f–%.2f", lo, hi}'; }

printf '%-8s %18s %18s %9s\n' workers "pytest (s)" "hangdog pytest (s)" overhead
for n in $WORKERS; do
	plain=("$PYTHON" -m pytest -q -p no:cacheprovider -n "$n")
	ours=("$WORK/hangdog" pytest --no-status --python "$PYTHON" -- -q -p no:cacheprovider -n "$n")
	"${plain[@]}" >/dev/null 2>&1 || true # warm the page cache and bytecode
	"${ours[@]}" >/dev/null 2>&1 || true
	a=() b=()
	for ((i = 0; i < REPEAT; i++)); do
		if ((i % 2)); then
			b+=("$(secs "${ours[@]}")")
			a+=("$(secs "${plain[@]}")")
		else
			a+=("$(secs "${plain[@]}")")
			b+=("$(secs "${ours[@]}")")
		fi
	done
	ma=$(printf '%s\n' "${a[@]}" | median) mb=$(printf '%s\n' "${b[@]}" | median)
	printf '%-8s %7.2f (%s) %7.2f (%s) %8.1f%%\n' "-n $n" "$ma" "$(printf '%s\n' "${a[@]}" | spread)" \
		"$mb" "$(printf '%s\n' "${b[@]}" | spread)" "$(awk -v a="$ma" -v b="$mb" 'BEGIN { print (b - a) * 100 / a }')"
done

# One test that waits for ever on a lock its own thread holds, among the
# 1,300, at -n 10: the time from the stall to the stacks of every process.
cat >"$WORK/suite/test_zz_hang.py" <<'PY'
import threading

lock = threading.Lock()


def test_hangs():
    with lock:
        lock.acquire()
PY
caps=()
for ((i = 0; i < REPEAT; i++)); do
	"$WORK/hangdog" pytest --no-status --python "$PYTHON" --stall 5s --kill-after 6s --report-json "$WORK/r.json" -- -q -p no:cacheprovider -n 10 >/dev/null 2>&1 || true
	caps+=("$(jq -r '[.hangs[] | select(.test | endswith("test_hangs"))][0].capture_seconds' "$WORK/r.json")")
done
echo "stall to the stacks of 10 workers and the controller (capture_seconds, $REPEAT runs): median $(printf '%s\n' "${caps[@]}" | median) s ($(printf '%s\n' "${caps[@]}" | spread))"
