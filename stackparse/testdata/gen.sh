#!/usr/bin/env bash
# gen.sh regenerates the goroutine dump fixtures in dumps/goX.Y/ by running
# the programs in gen/ under real Go releases. It needs the toolchains in the
# module cache (or network access for GOTOOLCHAIN to fetch them).
#
# Usage: testdata/gen.sh [go1.X.Y ...]   (default: every release below)
#
# Releases before 1.20 (go1.12.17, go1.16.15 are committed) are run only
# when named. Before 1.14 there is no t.Cleanup and no asynchronous
# preemption, so only the prog scenarios that neither test nor stop the
# world beside a spinning goroutine are made; before 1.13 there is no
# -trimpath.
set -euo pipefail

cd "$(dirname "$0")"
here=$(pwd)
releases=("$@")
if [ ${#releases[@]} -eq 0 ]; then
	releases=(go1.20.14 go1.21.13 go1.22.12 go1.23.12 go1.24.13 go1.25.9 local)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# CGO_ENABLED=0: with cgo the runtime's deadlock detector never fires.
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
unset GODEBUG GOTRACEBACK

for rel in "${releases[@]}"; do
	export GOTOOLCHAIN=$rel
	export GOFLAGS=-buildvcs=false
	unset GOENV
	v=$(cd gen && GOENV=off GOFLAGS= go version | awk '{print $3}')
	v=${v%.*} # go1.21.13 -> go1.21
	minor=${v#go1.}
	trimpath=-trimpath
	if ((minor < 18)); then
		# No -buildvcs, also not from a go env file.
		export GOFLAGS= GOENV=off
	fi
	if ((minor < 13)); then
		trimpath=
	fi
	out=$here/dumps/$v
	mkdir -p "$out"
	echo "== $rel -> dumps/$v" >&2
	(
		cd gen
		go build $trimpath -o "$tmp/prog" ./prog
		if ((minor >= 14)); then
			go test -c -o "$tmp/hang.test" ./hang

			# panic: test timed out + running tests list.
			go test -timeout 2s -parallel 16 ./hang >"$out/timeout.txt" 2>&1 || true
			# One parallel slot: TestCleanupHang is paused in t.Parallel.
			go test -timeout 2s -parallel 1 -run 'TestMutexLeaf|TestCleanupHang' ./hang >"$out/timeout_paused.txt" 2>&1 || true
			# fatal error: deadlock in TestMain, before m.Run.
			go test ./mainhang >"$out/testmain_deadlock.txt" 2>&1 || true

			# SIGQUIT of a test binary, as a watchdog sends it.
			"$tmp/hang.test" -test.timeout=0 -test.parallel=16 -test.v >"$out/sigquit_test.txt" 2>&1 &
			pid=$!
			sleep 1.5
			kill -QUIT "$pid"
			wait "$pid" || true
		fi

		"$tmp/prog" deadlock >"$out/deadlock.txt" 2>&1 || true
		if ((minor >= 14)); then
			# These stop the world with a goroutine spinning: before
			# asynchronous preemption (1.14) that waits for ever.
			"$tmp/prog" stack >"$out/stack.txt" 2>&1
			"$tmp/prog" pprof1 >"$out/pprof_debug1.txt" 2>&1
			"$tmp/prog" pprof2 >"$out/pprof_debug2.txt" 2>&1
			"$tmp/prog" pprof0 >"$out/pprof_debug0.pb.gz"
			"$tmp/prog" sigquit >"$out/sigquit.txt" 2>&1 || true
		fi
		GOTRACEBACK=all "$tmp/prog" recovered >"$out/recovered.txt" 2>&1 || true
		"$tmp/prog" repanic >"$out/repanic.txt" 2>&1 || true
		# Without async preemption the spinning goroutines cannot be
		# stopped: "goroutine running on other thread; stack unavailable".
		GOMAXPROCS=4 GODEBUG=asyncpreemptoff=1 GOTRACEBACK=all "$tmp/prog" otherthread >"$out/otherthread.txt" 2>&1 || true
		GOTRACEBACK=all "$tmp/prog" multiline >"$out/multiline.txt" 2>&1 || true
		GODEBUG=tracebackancestors=5 "$tmp/prog" ancestors >"$out/ancestors.txt" 2>&1
		"$tmp/prog" deep >"$out/deep.txt" 2>&1
		if [ "$rel" = local ]; then
			GODEBUG=tracebacklabels=1 "$tmp/prog" stack >"$out/labels.txt" 2>&1
			GODEBUG=tracebacklabels=1 "$tmp/prog" sigquit >"$out/labels_sigquit.txt" 2>&1 || true
			# Aborts by design (SIGABRT); bash reports "Aborted".
			GOTRACEBACK=crash "$tmp/prog" sigquit >"$out/crash.txt" 2>&1 || true
			# The module under a non-ASCII directory with a space, not
			# built with -trimpath.
			u="$tmp/ünïcødé 目录"
			cp -r "$here/gen" "$u"
			(cd "$u" && go test -timeout 1s -run 'TestMutexLeaf|TestWaits' ./hang >"$out/nonascii.txt" 2>&1) || true
			sed -i "s#$u#/src/ünïcødé 目录#g" "$out/nonascii.txt"
		fi
	)
done
# Make the fixtures independent of where the repository is checked out.
find "$here/dumps" -name '*.txt' -exec sed -i "s#$here/gen#/src/gen#g" {} +
