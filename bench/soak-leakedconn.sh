#!/usr/bin/env bash
# soak-leakedconn.sh runs the e2e test TestE2ELeakedConn N times (default
# 20) and reports how many held: the fixture testdata/hang/leakedconn
# blocks reading a connection whose server side was dropped unclosed, which
# any garbage collection would close (its finalizer), waking the test with
# EOF. A run holds when the test stayed stuck through hangdog's two
# snapshots and the profile window until --kill-after (--stall 2s
# --kill-after 8s) and was reported as a hang. All must hold.
#
#   bash bench/soak-leakedconn.sh        # N=20
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false}
out=$(mktemp "${TMPDIR:-/tmp}/hangdog-soak.XXXXXX")
trap 'rm -f "$out"' EXIT
echo "TestE2ELeakedConn x $N, $(nproc) CPUs, $(go version)"
go test -count="$N" -json -run '^TestE2ELeakedConn$' ./cmd/hangdog >"$out" || true
held=$(grep -c '"Action":"pass","Package":"github.com/hangdog/hangdog/cmd/hangdog","Test":"TestE2ELeakedConn"' "$out" || true)
failed=$(grep -c '"Action":"fail","Package":"github.com/hangdog/hangdog/cmd/hangdog","Test":"TestE2ELeakedConn"' "$out" || true)
echo "held: $held/$N (failed: $failed)"
if [ "$held" -ne "$N" ]; then
	grep '"Test":"TestE2ELeakedConn"' "$out" | grep '"Action":"output"' | grep -v '^\s*$' | tail -40 >&2
	exit 1
fi
