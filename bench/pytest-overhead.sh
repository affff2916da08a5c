#!/usr/bin/env bash
# pytest-overhead.sh measures what hangdog's pytest plugin costs a passing
# suite (bench/pytest-suite.py, 1,300 tests) at -n 2 and -n 10: plain pytest
# against the same pytest with the plugin loaded as hangdog loads it
# (HANGDOG_PYTEST_DIR, PYTHONPATH, -p hangdog_pytest), runs alternating,
# median and spread (min–max) of the wall time. Then the snapshot signal:
# with 10 workers and the controller alive, the time from sending the
# plugin's signal to all 11 processes at once to the last complete dump.
#
#   bash bench/pytest-overhead.sh        # REPEAT=7 runs per case
#   PYTHON=/path/python3 N=1300 REPEAT=7 WORKERS="2 10" bash bench/pytest-overhead.sh
#
# hangdog's own part (following the event files, the heartbeats) is not in
# these figures; `hangdog pytest` against plain pytest measures the whole.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
N=${N:-1300}
REPEAT=${REPEAT:-7}
WORKERS=${WORKERS:-"2 10"}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangdog-pytest-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" bench/pytest-suite.py "$WORK/suite" "$N"
mkdir -m 0700 "$WORK/d"
cp watchdog/internal/pytest/plugin/hangdog_pytest.py "$WORK/d/"
cd "$WORK/suite"
echo "suite: $N tests, $(nproc) CPUs, $("$PYTHON" -c 'import sys, pytest, xdist; print("Python", sys.version.split()[0], "pytest", pytest.__version__, "xdist", xdist.__version__)')"

# secs CMD... runs CMD and prints its wall time and the CPU time (user +
# system) of its whole process tree, in seconds: on a machine others load,
# the CPU time is the steadier of the two.
secs() {
	"$PYTHON" -c '
import resource, subprocess, sys, time
t0 = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %.3f" % (time.monotonic() - t0, ru.ru_utime + ru.ru_stime))
' "$@"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.2f–%.2f", lo, hi}'; }

plugin() {
	rm -f "$WORK"/d/events-* "$WORK"/d/stacks-*
	HANGDOG_PYTEST_DIR="$WORK/d" PYTHONPATH="$WORK/d${PYTHONPATH:+:$PYTHONPATH}" "$@" -p hangdog_pytest
}

for n in $WORKERS; do
	cmd=("$PYTHON" -m pytest -q -p no:cacheprovider -n "$n")
	"${cmd[@]}" >/dev/null 2>&1 || true # warm the bytecode caches
	plugin "${cmd[@]}" >/dev/null 2>&1 || true
	: >"$WORK/plain" && : >"$WORK/ours"
	for _ in $(seq "$REPEAT"); do
		secs "${cmd[@]}" >>"$WORK/plain"
		secs env HANGDOG_PYTEST_DIR="$WORK/d" PYTHONPATH="$WORK/d${PYTHONPATH:+:$PYTHONPATH}" "${cmd[@]}" -p hangdog_pytest >>"$WORK/ours"
		rm -f "$WORK"/d/stacks-*
		lines=$(cat "$WORK"/d/events-*.jsonl | wc -l)
		bytes=$(cat "$WORK"/d/events-*.jsonl | wc -c)
		rm -f "$WORK"/d/events-*
	done
	for col in 1 2; do
		what=$([ $col = 1 ] && echo "wall" || echo "CPU ")
		p=$(cut -d' ' -f$col "$WORK/plain" | median)
		o=$(cut -d' ' -f$col "$WORK/ours" | median)
		awk -v n="$n" -v w="$what" -v p="$p" -v o="$o" -v ps="$(cut -d' ' -f$col "$WORK/plain" | spread)" -v os="$(cut -d' ' -f$col "$WORK/ours" | spread)" -v l="$lines" -v b="$bytes" -v r="$REPEAT" 'BEGIN {
			printf "-n %-3s %s plain %.2f s (%s)  with the plugin %.2f s (%s)  overhead %+.1f %%  (median of %d; %d event lines, %.1f MB per run)\n",
				n, w, p, ps, o, os, (o - p) / p * 100, r, l, b / 1e6 }'
	done
done

# The snapshot signal: 10 workers and the controller, all dumped at once.
cat >"$WORK/suite/test_zz_wait.py" <<'EOF'
import os, time
def test_wait_for_release():
    while not os.path.exists(os.environ["BENCH_RELEASE"]):
        time.sleep(0.05)
EOF
: >"$WORK/signal"
for _ in $(seq "$REPEAT"); do
	rm -f "$WORK/release"
	BENCH_RELEASE="$WORK/release" plugin "$PYTHON" -m pytest -q -p no:cacheprovider -n 10 >/dev/null 2>&1 &
	pid=$!
	BENCH_RELEASE="$WORK/release" "$PYTHON" - "$WORK/d" >>"$WORK/signal" <<'EOF'
import glob, json, os, sys, time
d = sys.argv[1]
deadline = time.time() + 120
hellos = {}
while len(hellos) < 11 or not any('"ev":"start"' in open(p).read() for p in glob.glob(d + "/events-*.jsonl")):
    assert time.time() < deadline, "workers never started"
    for p in glob.glob(d + "/events-*.jsonl"):
        with open(p) as f:
            first = f.readline()
        if first.endswith("\n"):
            h = json.loads(first)
            hellos[h["pid"]] = h
    time.sleep(0.05)
sizes = {pid: os.path.getsize(h["stacks"]) for pid, h in hellos.items()}
t0 = time.monotonic()
for pid, h in hellos.items():
    os.kill(pid, h["signal"])
done, last = {}, {}
while len(done) < len(hellos):
    for pid, h in hellos.items():
        if pid in done:
            continue
        s = os.path.getsize(h["stacks"])
        if s > sizes[pid] and last.get(pid) == s:
            done[pid] = time.monotonic()
        last[pid] = s
    time.sleep(0.001)
# A dump is complete when it stopped growing: the last one's first
# unchanged look, less the 1 ms between looks.
print("%.4f" % (max(done.values()) - t0 - 0.001))
open(os.environ["BENCH_RELEASE"], "w").close()
EOF
	wait "$pid" || true
done
awk -v m="$(median <"$WORK/signal")" -v s="$(spread <"$WORK/signal")" 'BEGIN {
	printf "signal to the last of 11 complete dumps (10 workers, the controller): median %.1f ms (%s s)\n", m * 1000, s }'
