#!/usr/bin/env bash
# pytest-snapshot.sh measures the pytest adapter's snapshot of a stuck run:
# the controller and -n 2 or -n 10 xdist workers of fixture
# testdata/pytest/hang/flock_deadlock (two of them deadlocked), one round of
# faulthandler dumps each (BenchmarkSnapshot in watchdog/internal/pytest).
# stacks-ms is the stall → stacks of every process time (Snapshot.Elapsed);
# ns/op adds the forensics of all the processes. Needs /usr/bin/python3 with
# pytest and pytest-xdist.
#
#   bash bench/pytest-snapshot.sh        # 5 counts of 20 snapshots
#   COUNT=9 bash bench/pytest-snapshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
go test -run '^$' -bench '^BenchmarkSnapshot$' -benchtime 20x -count "${COUNT:-5}" ./watchdog/internal/pytest
