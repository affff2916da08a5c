#!/usr/bin/env bash
# record.sh records the fixture streams used by the testjson and format tests.
#
# For each module under fixtures/ it runs the real `go test` three times and
# keeps what a user would see (stdout and stderr merged, as on a terminal):
#
#   NAME.json          go test -json   (the input of the scanner and formatters)
#   NAME.go-test.txt   go test         (what format standard-quiet must print)
#   NAME.go-test-v.txt go test -v      (what format standard-verbose must print)
#
# Timings, addresses and goroutine ids differ between runs; the tests
# normalise them before comparing. Re-run after a Go upgrade:
#   bash watchdog/internal/testjson/testdata/record.sh
# With a release, records under it (fetched through the module proxy) into
# a directory of its own, e.g. go1.27/ (the streams whose output events carry
# OutputType):
#   bash watchdog/internal/testjson/testdata/record.sh go1.27.3
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
toolchain=${1:-local}
if [ "$toolchain" != local ]; then
	here="$here/${toolchain%.*}"
	mkdir -p "$here"
fi
export GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=$toolchain

run() { # name dir flags...
	local name=$1 dir=$2
	shift 2
	(cd "fixtures/$dir" && go test -json "$@" ./... >"$here/$name.json" 2>&1) || true
	(cd "fixtures/$dir" && go test "$@" ./... >"$here/$name.go-test.txt" 2>&1) || true
	(cd "fixtures/$dir" && go test -v "$@" ./... >"$here/$name.go-test-v.txt" 2>&1) || true
}

run pass pass -count=1 -p 1
run fail fail -count=1 -p 1
run errors errors -count=1 -p 1
run panic panic -count=1 -p 1
run timeout timeout -count=1 -p 1 -timeout=1s
run exit exit -count=1 -p 1
run buildfail buildfail -count=1 -p 1
run multi multi -count=1 -p 3
run bench bench -count=1 -p 1 -bench=. -benchtime=10x
run benchfail benchfail -count=1 -p 1 -bench=. -benchtime=10x
# A second run of an unchanged package is served from the test cache.
(cd fixtures/pass && go test -json ./... >/dev/null 2>&1 && go test ./... >/dev/null 2>&1 && go test -v ./... >/dev/null 2>&1) || true
run cached pass -p 1
go version >"$here/go-version.txt"
