"""A stand-in for hangdog's pytest plugin, for the snapshot tests only.

It does the part of the contract (contract.md, later CONTRACT.md) the
snapshot and the diagnosis need: in every process (the controller and each
xdist worker) it registers faulthandler on a free real-time signal writing
to D/stacks-<pid>.txt, and appends to D/events-<pid>.jsonl the lines hello,
threads, start, phase and fixture, one os.write per line. The thread table
is written at every hook and, from a daemon thread, whenever it changed.
Loaded with -p hangdog_snaptest and HANGDOG_PYTEST_DIR=D.
"""

import faulthandler
import json
import os
import signal
import sys
import threading
import time

_dir = os.environ.get("HANGDOG_PYTEST_DIR")
_fd = None
_stacks = None
_worker = ""
_last = None
_lock = threading.Lock()


def _emit(kind, **fields):
    if _fd is None:
        return
    rec = {"t": time.time(), "pid": os.getpid(), "worker": _worker, "ev": kind}
    rec.update(fields)
    os.write(_fd, (json.dumps(rec) + "\n").encode())


def _threads(force=False):
    global _last
    table = [
        {"ident": t.ident, "native_id": t.native_id, "name": t.name, "daemon": t.daemon}
        for t in threading.enumerate()
    ]
    with _lock:
        if not force and table == _last:
            return
        _last = table
        _emit("threads", threads=table)


def _watch():
    while True:
        time.sleep(0.05)
        _threads()


def _pick_signal():
    for k in range(4, signal.SIGRTMAX - signal.SIGRTMIN + 1):
        sig = signal.SIGRTMIN + k
        if signal.getsignal(sig) == signal.SIG_DFL:
            return sig
    return None


def pytest_configure(config):
    global _fd, _stacks, _worker
    if not _dir or _fd is not None:
        return
    wi = getattr(config, "workerinput", None)
    _worker = wi["workerid"] if wi else ""
    pid = os.getpid()
    _fd = os.open(os.path.join(_dir, "events-%d.jsonl" % pid), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    path = os.path.join(_dir, "stacks-%d.txt" % pid)
    sig = _pick_signal()
    err = None
    if sig is not None:
        try:
            _stacks = open(path, "a")
            faulthandler.register(sig, file=_stacks, all_threads=True, chain=False)
        except (OSError, RuntimeError, ValueError) as e:
            sig, err = None, str(e)
    _emit("hello", ppid=os.getppid(), python=sys.version, pytest=None, xdist=None,
          rootdir=str(config.rootpath), argv=sys.argv, signal=int(sig) if sig else None,
          signal_error=err, stacks=path)
    _threads(force=True)
    threading.Thread(target=_watch, name="hangdog-threads", daemon=True).start()


def pytest_runtest_logstart(nodeid, location):
    _emit("start", nodeid=nodeid, location=list(location))
    _threads()


def _phase(item, when, state):
    _emit("phase", nodeid=item.nodeid, when=when, state=state)
    _threads()


def pytest_runtest_setup(item):
    _phase(item, "setup", "start")


def pytest_runtest_call(item):
    _phase(item, "call", "start")


def pytest_runtest_teardown(item):
    _phase(item, "teardown", "start")


def pytest_fixture_setup(fixturedef, request):
    _emit("fixture", nodeid=request.node.nodeid, name=fixturedef.argname,
          scope=fixturedef.scope, when="setup", state="start")


def pytest_runtest_logfinish(nodeid, location):
    _emit("finish", nodeid=nodeid)
