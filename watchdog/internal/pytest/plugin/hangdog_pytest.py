"""hangdog's pytest plugin: a heartbeat per test, phase and fixture, and a
snapshot signal, for hangdog's watchdog (github.com/hangdog/hangdog).

hangdog writes this file into a private directory D, sets
HANGDOG_PYTEST_DIR=D, puts D on PYTHONPATH and runs pytest with
``-p hangdog_pytest``, so that the controller and every pytest-xdist worker
load it. Without HANGDOG_PYTEST_DIR the plugin does nothing at all.

Each process that loads it appends JSON lines to ``D/events-<pid>.jsonl``,
one ``os.write`` per whole line (a reader never sees half a line but the
last), and registers ``faulthandler`` on a free real-time signal that dumps
every thread's stack into ``D/stacks-<pid>.txt`` without stopping the
process. The contract with hangdog's Go side is
watchdog/internal/pytest/CONTRACT.md.

Rules it keeps: standard library and pytest hooks only; it never makes a
test fail, never prints, never blocks (a write to a file it owns), never
patches pytest or xdist (it reads xdist's scheduler behind a version check);
an error inside a hook is recorded in the event file, never raised.
"""

import argparse
import faulthandler
import json
import json.encoder
import os
import signal
import sys
import threading
import time

import pytest

_DIR = os.environ.get("HANGDOG_PYTEST_DIR") or None


def _import_path():
    """sys.path[0] and whether the current directory is on sys.path, as the
    process started: the plugin is imported (-p) before any conftest.py,
    whose import puts the rootdir on sys.path (import mode "prepend")."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None
    return (sys.path[0] if sys.path else None), any(p in ("", cwd) for p in sys.path)


_PATH0, _CWD_ON_PATH = _import_path()

# At most this many plugin errors are written per process: a hook that fails
# at every test must not fill the disk.
_MAX_ERRORS = 20

# longrepr is cut to its first line and this many characters.
_MAX_LONGREPR = 200

# _q quotes a string as JSON, ASCII only (json's own C function). The lines
# written at every test (start, phase, fixture, report, finish) are made
# with it by hand: json.dumps costs several times more, and a suite of
# trivial tests would feel it.
_q = getattr(json.encoder, "c_encode_basestring_ascii", None) or json.encoder.encode_basestring_ascii


class _Recorder:
    """The event file and the snapshot signal of one process."""

    def __init__(self, directory, worker, role):
        self.pid = os.getpid()
        self.forked = False  # set in a forked child (os.register_at_fork)
        self.head = '"pid":%d,"worker":%s,' % (self.pid, _q(worker))
        self.worker = worker
        self.role = role
        self.errors = 0
        self.threads = None
        self.current = ""  # the node id whose protocol runs in this process
        self.qcurrent = '""'  # the same, quoted
        self.duration = 0.0  # the sum of its reports' durations so far
        self.sig = None
        self.sig_error = None
        self.stacks = None
        self.stacks_path = os.path.join(directory, "stacks-%d.txt" % self.pid)
        path = os.path.join(directory, "events-%d.jsonl" % self.pid)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self.fd = os.open(path, flags, 0o600)
        # Controller only: what was last written about each worker's queue.
        self.pending_key = {}
        self.scopes_done = set()
        self.dsession = None
        self.ready = []  # workers in the order they became ready
        self.fallback_done = set()

    def set_worker(self, worker, role):
        self.worker, self.role = worker, role
        self.head = '"pid":%d,"worker":%s,' % (self.pid, _q(worker))

    def emit(self, ev, **fields):
        if self.forked:
            return  # a forked child: the file is its parent's
        d = {"t": time.time(), "pid": self.pid, "worker": self.worker, "ev": ev}
        d.update(fields)
        self._write(json.dumps(d, separators=(",", ":"), default=str) + "\n")

    def line(self, body):
        """Writes the line of body, the JSON fields after the common ones."""
        if self.forked:
            return
        self._write('{"t":%r,%s%s}\n' % (time.time(), self.head, body))

    def _write(self, line):
        data = line.encode("ascii", "backslashreplace")
        try:
            while data:
                n = os.write(self.fd, data)
                data = data[n:]
        except OSError:
            pass  # a full disk: the events stop, the tests go on

    def check_threads(self):
        """Writes the thread table when it changed since it was last written."""
        table = tuple(
            (t.ident, getattr(t, "native_id", None), t.name, t.daemon)
            for t in threading.enumerate()
        )
        if table != self.threads:
            self.threads = table
            self.emit(
                "threads",
                threads=[
                    {"ident": i, "native_id": n, "name": name, "daemon": d}
                    for i, n, name, d in table
                ],
            )

    def error(self, hook, exc):
        self.errors += 1
        if self.errors <= _MAX_ERRORS:
            self.emit("plugin_error", hook=hook, error="%s: %s" % (type(exc).__name__, exc))

    def register_signal(self):
        """Registers faulthandler on the first free real-time signal from
        SIGRTMIN+4 (never chain=True: with no earlier handler it re-raises
        the default action, which kills the process)."""
        lo = getattr(signal, "SIGRTMIN", None)
        hi = getattr(signal, "SIGRTMAX", None)
        if lo is None or hi is None or not hasattr(faulthandler, "register"):
            self.sig_error = "no real-time signals on this platform"
            return
        used = _signals_in_use()
        for sig in range(int(lo) + 4, int(hi) + 1):
            if sig in used:
                continue
            try:
                if signal.getsignal(sig) is not signal.SIG_DFL:
                    continue
            except (ValueError, OSError):
                continue
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
                f = os.fdopen(os.open(self.stacks_path, flags, 0o600), "ab", buffering=0)
                faulthandler.register(sig, file=f, all_threads=True, chain=False)
            except Exception as exc:  # noqa: BLE001 - recorded in boot and hello
                self.sig_error = "%s: %s" % (type(exc).__name__, exc)
                return
            self.stacks = f  # faulthandler keeps only the descriptor
            self.sig = sig
            return
        self.sig_error = "no free real-time signal"


def _signals_in_use():
    """Signals this process catches, ignores or blocks, from /proc/self/status
    (handlers installed from C are invisible to signal.getsignal)."""
    used = set()
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("SigCgt", "SigIgn", "SigBlk"):
                    mask = int(value.strip(), 16)
                    for n in range(1, 65):
                        if mask & (1 << (n - 1)):
                            used.add(n)
    except (OSError, ValueError):
        pass
    return used


_rec = None  # the recorder of this process, or None when hangdog did not load us
_config = None


def _safe(hook, fn, *args):
    """Calls fn(*args); an error is written to the event file, never raised."""
    rec = _rec
    if rec is None:
        return
    try:
        fn(rec, *args)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - the plugin must not fail a test
        try:
            rec.error(hook, exc)
        except Exception:  # noqa: BLE001
            pass


def _role(config):
    if hasattr(config, "workerinput"):
        return "worker"
    # xdist's own test for running its DSession (pytest_configure).
    try:
        dist = config.getoption("dist", "no")
        tx = config.getoption("tx", None)
        collectonly = config.getoption("collectonly", False)
    except Exception:  # noqa: BLE001
        return "main"
    if dist and dist != "no" and tx and not collectonly:
        return "controller"
    return "main"


def _xdist_version():
    try:
        import xdist

        return getattr(xdist, "__version__", None)
    except Exception:  # noqa: BLE001
        return None


def _boot(rec):
    """At import (-p imports the plugin before any conftest.py is loaded):
    the snapshot signal, the boot line, the thread table; so that a process
    stuck importing a conftest.py or collecting can be dumped."""
    rec.register_signal()
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forked)
    rec.emit(
        "boot",
        ppid=os.getppid(),
        signal=rec.sig,
        signal_error=rec.sig_error,
        stacks=rec.stacks_path if rec.sig is not None else None,
    )
    rec.check_threads()
    # A thread started later writes the table again as it starts: a test that
    # starts threads and hangs would otherwise leave them out of it. Only
    # when no one else uses threading's profile hook (coverage and profilers
    # may); the hook removes itself from the thread at its first call.
    getprofile = getattr(threading, "getprofile", None)
    if getprofile is not None and getprofile() is None:
        threading.setprofile(_thread_started)


def _forked():
    if _rec is not None:
        _rec.forked = True


def _thread_started(frame, event, arg):
    sys.setprofile(None)
    _safe("thread start", _Recorder.check_threads)


if _DIR is not None:
    try:
        # xdist sets PYTEST_XDIST_WORKER before a worker imports its plugins;
        # pytest_configure makes sure of the worker id and the role.
        _rec = _Recorder(_DIR, os.environ.get("PYTEST_XDIST_WORKER", ""), "")
    except Exception:  # noqa: BLE001 - no event file: nothing to record into
        _rec = None
    else:
        _safe("import", _boot)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global _config
    if _rec is None or _config is not None:
        return
    _config = config
    _safe("pytest_configure", _configure, config)


def _configure(rec, config):
    worker = ""
    if hasattr(config, "workerinput"):
        worker = str(config.workerinput.get("workerid", "?"))
    rec.set_worker(worker, _role(config))
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None
    rec.emit(
        "hello",
        ppid=os.getppid(),
        role=rec.role,
        python=sys.version,
        executable=sys.executable,
        pytest=pytest.__version__,
        xdist=_xdist_version(),
        rootdir=str(getattr(config, "rootpath", getattr(config, "rootdir", ""))),
        cwd=cwd,
        argv=list(sys.argv),
        args=[str(a) for a in config.invocation_params.args],
        dist=config.getoption("dist", None),
        path0=_PATH0,
        cwd_on_path=_CWD_ON_PATH,
        signal=rec.sig,
        signal_error=rec.sig_error,
        stacks=rec.stacks_path if rec.sig is not None else None,
    )
    rec.check_threads()


def pytest_addoption(parser):
    # Hidden options hangdog adds to reruns (exact node ids, which neither
    # positional node ids, split at '::', nor --deselect, a prefix, can say).
    # argparse.SUPPRESS keeps them out of --help.
    for name in ("--hangdog-select", "--hangdog-deselect", "--hangdog-deselect-from"):
        parser.addoption(name, action="append", default=[], help=argparse.SUPPRESS)


def pytest_collection_modifyitems(session, config, items):
    sel = set(config.getoption("hangdog_select", None) or ())
    desel = set(config.getoption("hangdog_deselect", None) or ())
    for path in config.getoption("hangdog_deselect_from", None) or ():
        with open(path, encoding="utf-8") as f:
            desel.update(line.rstrip("\n") for line in f if line.strip())
    if not sel and not desel:
        return
    keep, drop = [], []
    for item in items:
        nodeid = item.nodeid
        if (sel and nodeid not in sel) or nodeid in desel:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionstart(session):
    _safe("pytest_sessionstart", _sessionstart, session)


def _sessionstart(rec, session):
    if rec.role != "worker":
        dsession = session.config.pluginmanager.getplugin("dsession")
        rec.role = "controller" if dsession is not None else "main"
    rec.emit("session_start", role=rec.role)
    rec.check_threads()


def pytest_collection_finish(session):
    _safe("pytest_collection_finish", _collection_finish, session)


def _collection_finish(rec, session):
    if rec.role != "controller":
        rec.emit("collected", count=len(session.items))
        rec.check_threads()


def pytest_runtest_logstart(nodeid, location):
    _safe("pytest_runtest_logstart", _logstart, nodeid, location)


def _logstart(rec, nodeid, location):
    if rec.role == "controller":
        _check_pending(rec)
        return
    rec.current = nodeid
    rec.qcurrent = _q(nodeid)
    rec.duration = 0.0
    rec.line('"ev":"start","nodeid":%s,"location":%s' % (rec.qcurrent, _location(location)))


def pytest_runtest_logfinish(nodeid, location):
    _safe("pytest_runtest_logfinish", _logfinish, nodeid, location)


def _logfinish(rec, nodeid, location):
    if rec.role == "controller":
        return
    rec.line('"ev":"finish","nodeid":%s,"duration":%r' % (_qid(rec, nodeid), rec.duration))
    rec.duration = 0.0
    rec.current = ""
    rec.qcurrent = '""'
    rec.check_threads()


def _qid(rec, nodeid):
    return rec.qcurrent if nodeid == rec.current else _q(nodeid)


def _location(location):
    if not location or len(location) != 3:
        return "null"
    path, lineno, domain = location
    return "[%s,%s,%s]" % (_q(str(path)), "null" if lineno is None else int(lineno), _q(str(domain)))


def _phase(rec, nodeid, when):
    rec.line('"ev":"phase","nodeid":%s,"when":"%s","state":"start"' % (_qid(rec, nodeid), when))
    if when == "call":
        rec.check_threads()


# A phase's start only: it ends with its report, the next phase's start or
# the test's finish (one line fewer per phase, and a plain hook costs pluggy
# less than a wrapper). tryfirst: before pytest's own, which sets up and
# tears down the fixtures and calls the test.
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _safe("pytest_runtest_setup", _phase, item.nodeid, "setup")
    if _rec is not None and _rec.worker and item.nodeid in _hung_ids():
        # A replacement worker got a test that hung on the worker hangdog
        # stopped (xdist gives it the crashed worker's whole work unit):
        # running it again would only hang again.
        pytest.skip("hangdog: this test hung on another worker, which hangdog stopped; not run again")


_hung = {"size": -1, "ids": frozenset()}


def _hung_ids():
    """The node ids hangdog reported as hung: D/hung.txt, one a line,
    written by hangdog, read again when its size changed."""
    try:
        path = os.path.join(_DIR, "hung.txt")
        size = os.stat(path).st_size
        if size != _hung["size"]:
            with open(path, encoding="utf-8", errors="replace") as f:
                _hung["ids"] = frozenset(line.rstrip("\n") for line in f if line.strip())
            _hung["size"] = size
    except Exception:  # noqa: BLE001 - no file yet, or unreadable: nothing hung
        pass
    return _hung["ids"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    _safe("pytest_runtest_call", _phase, item.nodeid, "call")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    _safe("pytest_runtest_teardown", _phase, item.nodeid, "teardown")


def _pseudo(fixturedef):
    # Direct parametrisation makes a fixture of each argument: not the user's.
    func = getattr(fixturedef, "func", None)
    return getattr(func, "__name__", "") == "get_direct_param_fixture_func"


def _fixture(rec, fixturedef, when):
    # A fixture's setup or teardown start; it lasts until the test's next line.
    rec.line(
        '"ev":"fixture","nodeid":%s,"name":%s,"scope":%s,"when":"%s","state":"start"'
        % (rec.qcurrent, _q(str(fixturedef.argname)), _q(str(getattr(fixturedef, "scope", ""))), when)
    )


def _fixture_teardown_start(fixturedef):
    def start():
        _safe("fixture teardown", _fixture, fixturedef, "teardown")

    return start


def _fixture_set_up(rec, fixturedef):
    # Finalizers run last added first: this one runs before the fixture's own
    # teardown (the rest of a yield fixture, its addfinalizer calls).
    fixturedef.addfinalizer(_fixture_teardown_start(fixturedef))


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if _rec is None or _pseudo(fixturedef):
        yield
        return
    _safe("pytest_fixture_setup", _fixture, fixturedef, "setup")
    yield
    _safe("pytest_fixture_setup", _fixture_set_up, fixturedef)


def _first_line(text):
    text = str(text).strip()
    return text.split("\n", 1)[0][:_MAX_LONGREPR]


def _longrepr(report):
    lr = report.longrepr
    if lr is None:
        return ""
    if isinstance(lr, tuple) and len(lr) == 3:  # a skip: (path, line, reason)
        return _first_line(lr[2])
    crash = getattr(lr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return _first_line(crash.message)
    return _first_line(lr)


def pytest_runtest_logreport(report):
    _safe("pytest_runtest_logreport", _logreport, report)


def _logreport(rec, report):
    # A passed setup or teardown is written by no one: pytest's summary does
    # not count it, and a worker's next line says the phase is over. Its
    # duration goes into the test's finish line.
    wasxfail = hasattr(report, "wasxfail")
    if report.when != "call" and report.outcome == "passed" and not wasxfail:
        rec.duration += getattr(report, "duration", 0.0) or 0.0
        return
    rec.duration += getattr(report, "duration", 0.0) or 0.0
    longrepr = _longrepr(report) if report.outcome != "passed" or wasxfail else ""
    if wasxfail and not longrepr:
        longrepr = _first_line(report.wasxfail)
    body = '"ev":"report","nodeid":%s,"when":%s,"outcome":%s,"duration":%r,"wasxfail":%s,"longrepr":%s,"location":%s' % (
        _qid(rec, report.nodeid),
        _q(str(report.when)),
        _q(str(report.outcome)),
        float(getattr(report, "duration", 0) or 0),
        "true" if wasxfail else "false",
        _q(longrepr),
        _location(report.location),
    )
    if rec.role == "controller":
        body += ',"node":%s' % _q(_node_id(getattr(report, "node", None)))
    rec.line(body)


def pytest_collectreport(report):
    _safe("pytest_collectreport", _collectreport, report)


def _collectreport(rec, report):
    # Only what pytest's summary counts: collection errors and skipped
    # modules (one passing report per collector would cost for nothing).
    if report.outcome in ("failed", "skipped"):
        rec.emit(
            "collect_report",
            nodeid=report.nodeid,
            outcome=report.outcome,
            longrepr=_longrepr(report),
        )


def pytest_sessionfinish(session, exitstatus):
    _safe("pytest_sessionfinish", _sessionfinish, exitstatus)


def _sessionfinish(rec, exitstatus):
    if rec.role == "controller":
        _check_pending(rec)
    rec.emit("session_finish", exitstatus=int(exitstatus))
    rec.check_threads()


# --- the controller under xdist ---------------------------------------------


def _node_id(node):
    gateway = getattr(node, "gateway", None)
    return str(getattr(gateway, "id", "")) if gateway is not None else ""


@pytest.hookimpl(optionalhook=True)
def pytest_testnodeready(node):
    _safe("pytest_testnodeready", _nodeready, node)


def _nodeready(rec, node):
    rec.ready.append(_node_id(node))
    rec.emit("worker_ready", node=_node_id(node))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _safe("pytest_testnodedown", _nodedown, node, error)


def _nodedown(rec, node, error):
    rec.emit("worker_down", node=_node_id(node), error=None if error is None else str(error))


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem, report, sched):
    _safe("pytest_handlecrashitem", _crashitem, crashitem, report)


def _crashitem(rec, crashitem, report):
    node = _node_id(getattr(report, "node", None))
    rec.emit("worker_crashed", node=node, nodeid=str(crashitem), error=_longrepr(report))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    _safe("pytest_xdist_node_collection_finished", _node_collected, node, ids)


def _node_collected(rec, node, ids):
    name = _node_id(node)
    rec.emit("collected", node=name, count=len(ids))
    if _scheduler_readable():
        return
    # Fallback: the first block xdist's load scheduler gives each worker
    # (3.1.0: workers in the order they became ready, c = max(T//N//4, 2)
    # tests each; one at a time round robin when T < 2N), or, under each,
    # every test.
    if name in rec.fallback_done:
        return
    rec.fallback_done.add(name)
    dist = _config.getoption("dist", None) if _config is not None else None
    if dist == "each":
        rec.emit("pending", node=name, nodeids=list(ids), source="fallback")
        return
    if dist != "load":
        return
    n = len(_config.getoption("tx", None) or ()) or len(rec.ready) or 1  # the workers asked for
    k = rec.ready.index(name) if name in rec.ready else 0
    if len(ids) < 2 * n:
        block = list(ids)[k::n]
    else:
        c = max(len(ids) // n // 4, 2)
        block = list(ids)[k * c:(k + 1) * c]
    rec.emit("pending", node=name, nodeids=block, source="fallback")


# xdist releases whose scheduler internals (node2pending and collection,
# node2collection, assigned_work) this plugin knows; others get the fallback.
_KNOWN_XDIST = ((2, 0), (4, 0))


def _version_tuple(v):
    out = []
    for part in str(v).split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


_readable = None  # _scheduler_readable's answer, once known


def _scheduler_readable():
    global _readable
    if _readable is None:
        # HANGDOG_PYTEST_XDIST_FALLBACK=1 never reads xdist's scheduler (an
        # escape hatch should a release within the known range change it;
        # the tests use it to check the fallback).
        v = _xdist_version()
        _readable = (
            os.environ.get("HANGDOG_PYTEST_XDIST_FALLBACK") != "1"
            and v is not None
            and _KNOWN_XDIST[0] <= _version_tuple(v) < _KNOWN_XDIST[1]
        )
    return _readable


def _queues(rec, sched):
    """Returns (worker, key, ids) for each worker: key is cheap to compare
    and changes with the worker's tests not yet completed (xdist's own list
    of indices under load and each), ids a function that turns it into node
    ids, in order (the first one runs); None when the scheduler's shape is
    unknown."""
    n2p = getattr(sched, "node2pending", None)
    if isinstance(n2p, dict):
        coll = getattr(sched, "collection", None)
        per_node = getattr(sched, "node2collection", None)
        each = type(sched).__name__ == "EachScheduling"
        out = []
        for node, pending in n2p.items():
            c = per_node.get(node) if each and isinstance(per_node, dict) else coll
            if c is not None:
                out.append((node, pending, lambda p=pending, c=c: [c[i] for i in p]))
        return out
    work = getattr(sched, "assigned_work", None)
    if isinstance(work, dict):
        # loadscope, loadfile, loadgroup: {worker: {scope: {nodeid: done}}},
        # completed scopes kept; a scope seen all done is not walked again.
        out = []
        for node, scopes in work.items():
            ids = []
            for scope in scopes.values():
                if id(scope) in rec.scopes_done:
                    continue
                left = [nid for nid, done in scope.items() if not done]
                if not left and len(scope):
                    rec.scopes_done.add(id(scope))
                ids.extend(left)
            out.append((node, ids, lambda ids=ids: ids))
        return out
    return None


def _check_pending(rec):
    """Writes each worker's queue when it changed: the whole list, or
    ``drop: k`` when only its first k tests left it. Called at every
    logstart the controller sees: a worker's queue changes when a test of
    it completes, and that worker's next logstart follows."""
    if _config is None or not _scheduler_readable():
        return
    if rec.dsession is None:
        rec.dsession = _config.pluginmanager.getplugin("dsession")
    sched = getattr(rec.dsession, "sched", None)
    if sched is None:
        return
    queues = _queues(rec, sched)
    if queues is None:
        return
    for node, key, to_ids in queues:
        name = _node_id(node)
        old = rec.pending_key.get(name)
        if old == key:
            continue
        rec.pending_key[name] = list(key)
        k = len(old) - len(key) if old is not None else -1
        if k > 0 and old[k:] == key:
            rec.line('"ev":"pending","node":%s,"drop":%d,"source":"xdist"' % (_q(name), k))
        else:
            rec.emit("pending", node=name, nodeids=to_ids(), source="xdist")
