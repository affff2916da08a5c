#!/usr/bin/env bash
# gen.sh makes the dumps of the mycorp/platform module (a module path with
# no dot) and of mycorp/labels (go 1.27, pprof labels in traceback headers)
# under real Go releases, into ../dumps/goX.Y/mycorp_*.txt. It needs the
# toolchains in the module cache or GOTOOLCHAIN access to the module proxy.
# (go1.19.13 from the module proxy fails here on any module: import "":
# import of unknown directory.)
#
# Usage: testdata/mycorp/gen.sh [go1.X.Y|local ...]
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
dumps=$(cd .. && pwd)/dumps
releases=("$@")
if [ ${#releases[@]} -eq 0 ]; then
	releases=(go1.12.17 go1.16.15 go1.23.12 local go1.27.3)
fi
export CGO_ENABLED=0
unset GODEBUG GOTRACEBACK
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for rel in "${releases[@]}"; do
	export GOTOOLCHAIN=$rel GOFLAGS= GOENV=off
	v=$(go version | awk '{print $3}')
	v=${v%.*}
	minor=${v#go1.}
	out=$dumps/$v
	mkdir -p "$out"
	echo "== $rel -> dumps/$v" >&2
	if ((minor >= 27)); then
		# Labels in headers by default: the module's go line says 1.27.
		(cd ../mycorp127 && go test -timeout 2s ./hang >"$out/mycorp_labels.txt" 2>&1) || true
		continue
	fi
	# Timeout of parallel tests in a module without a dot: a forked lock,
	# parents waiting for subtests, a goroutine locked to its thread, a
	# synctest bubble (1.25+).
	go test -timeout 3s -parallel 16 ./hang >"$out/mycorp_timeout.txt" 2>&1 || true
	# The same with -v: the log's === RUN lines name the tests.
	go test -v -timeout 3s -parallel 16 ./hang >"$out/mycorp_timeout_v.txt" 2>&1 || true
	# A test file run on its own: package command-line-arguments.
	go test -timeout 2s ./cla/hang_test.go >"$out/mycorp_file.txt" 2>&1 || true
	if ((minor >= 14)); then
		# A spinning test that cannot be stopped, in a -json stream.
		GODEBUG=asyncpreemptoff=1 GOMAXPROCS=2 go test -json -timeout 2s ./spin >"$out/mycorp_spin.json" 2>&1 || true
	fi
	go build -o "$tmp/dump" ./cmd/dump
	"$tmp/dump" profile1 >"$out/mycorp_profile1.txt"
	# SIGQUIT at level 2 (GOTRACEBACK=system, as a crash prints it): with
	# the runtime's own goroutines (runtime.timerproc before 1.14).
	GOTRACEBACK=system "$tmp/dump" sigquit >"$out/mycorp_sigquit.txt" 2>&1 || true
done
# Independent of where the repository is checked out.
find "$dumps" -name 'mycorp_*' -exec sed -i -e "s#$here#/src/mycorp#g" -e "s#$(cd ../mycorp127 && pwd)#/src/mycorp127#g" {} +
