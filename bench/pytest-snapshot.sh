#!/usr/bin/env bash
# pytest-snapshot.sh measures the pytest adapter's snapshot of a stuck run,
# one round of faulthandler dumps of every worker (BenchmarkSnapshot in
# watchdog/internal/pytest): -n 2 on testdata/pytest/hang/flock_deadlock
# (both workers deadlocked), -n 10 on testdata/pytest/hang/ten_waits (ten
# workers, each waiting in a test of its own).
# stacks-ms is the stall → stacks of every worker time (Snapshot.Elapsed);
# ns/op adds the forensics of all the processes. Needs /usr/bin/python3 with
# pytest and pytest-xdist.
#
#   bash bench/pytest-snapshot.sh        # 5 counts of 20 snapshots
#   COUNT=9 bash bench/pytest-snapshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
go test -run '^$' -bench '^BenchmarkSnapshot$' -benchtime 20x -count "${COUNT:-5}" ./watchdog/internal/pytest
