#!/usr/bin/env bash
# goker.sh runs the GoKer kernels of the Go runtime's goroutine leak profile
# tests (63 real blocking bugs from GoBench) as one test each under
# hangdog, under goleak.VerifyNone added to every test, and under
# go test -timeout, REPEAT times each, and prints a table of which tool
# names which bug (the right test, a goroutine where
# runtime/goroutineleakprofile_test.go expects one). The kernels are
# copied into a temporary module at run time; nothing generated is kept.
#
#   bash bench/goker.sh                      # local toolchain's kernels
#   GOTOOLCHAIN=go1.27.3 bash bench/goker.sh # proven leaks (goroutineleak profile)
#   REPEAT=5 bash bench/goker.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangdog-goker.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
GOTOOLCHAIN=local go build -o "$WORK/hangdog" ./cmd/hangdog
GOTOOLCHAIN=local go build -o "$WORK/gokerrun" ./bench/gokerrun
goker=$(go env GOROOT)/src/runtime/testdata/testgoroutineleakprofile/goker
if [ ! -d "$goker" ]; then
	# A toolchain without them (before 1.26): take the current release's.
	goker=$(GOTOOLCHAIN=go1.27.3 go env GOROOT)/src/runtime/testdata/testgoroutineleakprofile/goker
fi
(cd testdata/leaks/goleaksuite && go mod download go.uber.org/goleak)
"$WORK/gokerrun" -hangdog "$WORK/hangdog" -goker "$goker" -gosum testdata/leaks/goleaksuite/go.sum -repeat "$REPEAT"
