"""A run without xdist where the second test hangs: hangdog stops it, which
ends the session, and runs the two tests after it in a second pytest."""
import threading

lock = threading.Lock()


def test_before():
    assert True


def test_hangs():
    with lock:
        lock.acquire()  # the same thread, a lock that is not reentrant


def test_after_passes():
    assert True


def test_after_fails():
    assert 1 == 2, "fails on purpose"
