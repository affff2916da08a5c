#!/bin/sh
# hold-build.sh: a `go test -toolexec` wrapper that holds the build, for
# the test that kills hangdog during the build. Without
# HANGDOG_FIXTURE_PIDS it runs the tool unchanged. With it, each tool run
# starts a daemon (own session, clean environment, with a child) and a
# background job, appends its own PID and theirs to that file, and waits
# for ever: the go command waits for its tool, the build never ends.
if [ -z "$HANGDOG_FIXTURE_PIDS" ]; then
	exec "$@"
fi
PIDS=$HANGDOG_FIXTURE_PIDS
echo $$ >>"$PIDS"
env -i PATH="$PATH" PIDS="$PIDS" setsid sh -c 'sleep 3600 & echo $! >>"$PIDS"; exec sleep 3600' </dev/null >/dev/null 2>&1 &
echo $! >>"$PIDS"
sleep 3600 &
echo $! >>"$PIDS"
wait
