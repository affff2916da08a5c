#!/usr/bin/env bash
# genlex.sh makes the fixtures of the shapes that a dump takes on its way
# into a log: real programs where this machine can print them, and a real
# dump passed through decorate/decorate.go where the damage comes from
# elsewhere (PowerShell, journald, the GitHub web log, markdown, a
# terminal). It writes
#
#   dumps/goX.Y/race.txt       go test -race ./race: a data race report
#   dumps/goX.Y/race_finished.txt  the same with a goroutine that exited
#   dumps/goX.Y/race_main.txt  go run -race ./raceprog: a race with the main
#                              goroutine of a program
#   dumps/goX.Y/nonl.txt       go test -timeout 2s ./nonl: the banner glued
#                              to output that had no final newline
#   dumps/goX.Y/trimpath.txt   go test -trimpath -timeout 2s ./hang
#   dumps/decorated/*.txt      decorate.go applied to real dumps (see there)
#
# Usage: testdata/genlex.sh [go1.X.Y ...]  (default: go1.20.14 go1.23.12 local)
set -euo pipefail

cd "$(dirname "$0")"
here=$(pwd)
releases=("$@")
if [ ${#releases[@]} -eq 0 ]; then
	releases=(go1.20.14 go1.23.12 local)
fi
export GOFLAGS=-buildvcs=false
unset GODEBUG GOTRACEBACK GOENV

for rel in "${releases[@]}"; do
	export GOTOOLCHAIN=$rel
	v=$(cd gen && go version | awk '{print $3}')
	v=${v%.*}
	out=$here/dumps/$v
	mkdir -p "$out"
	echo "== $rel -> dumps/$v" >&2
	(
		cd gen
		# The race detector needs cgo.
		CGO_ENABLED=1 go test -count=1 -race -run 'TestRace$' ./race >"$out/race.txt" 2>&1 || true
		CGO_ENABLED=1 go test -count=1 -race -run 'TestRaceFinished$' ./race >"$out/race_finished.txt" 2>&1 || true
		CGO_ENABLED=1 go run -race ./raceprog >"$out/race_main.txt" 2>&1 || true
		CGO_ENABLED=0 go test -count=1 -timeout 2s ./nonl >"$out/nonl.txt" 2>&1 || true
		CGO_ENABLED=0 go test -count=1 -trimpath -timeout 2s -run 'TestMutexLeaf|TestWaits' ./hang >"$out/trimpath.txt" 2>&1 || true
	)
done
find "$here/dumps" -name 'race*.txt' -o -name 'nonl.txt' -o -name 'trimpath.txt' | xargs sed -i "s#$here/gen#/src/gen#g"

# Decorations of real dumps (decorate.go says what each one does).
export GOTOOLCHAIN=local
mkdir -p dumps/decorated
dec() { # dec DECORATION SOURCE OUT
	go run ./decorate "$1" <"dumps/$2.txt" >"dumps/decorated/$3.txt"
}
for rel in go1.20 go1.26; do
	dec powershell "$rel/timeout" "powershell_$rel"
	dec fence "$rel/timeout" "fence_$rel"
	dec backtick "$rel/timeout" "backtick_$rel"
	dec ghtime-cut "$rel/timeout" "ghtime_cut_$rel"
	dec ghlinks "$rel/timeout" "ghlinks_$rel"
	dec cutloc "$rel/timeout" "cutloc_$rel"
	dec echo-quit "$rel/sigquit_test" "echo_quit_$rel"
	dec journald "$rel/sigquit_test" "journald_$rel"
	dec unindent "$rel/trimpath" "unindent_trimpath_$rel"
done
