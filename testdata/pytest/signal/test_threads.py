"""A test that holds three threads until hangdog's test lets it go, for the
snapshot signal's test: every thread must be in the dump, and the test must
go on and pass after it."""
import os
import threading
import time


def test_waits_for_release():
    release = os.environ["HANGDOG_FIXTURE_RELEASE"]
    stop = threading.Event()
    threads = [
        threading.Thread(target=stop.wait, name="waiter-%d" % i, daemon=True)
        for i in range(2)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while not os.path.exists(release):
        assert time.monotonic() < deadline, "never released"
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()


def test_after():
    pass
