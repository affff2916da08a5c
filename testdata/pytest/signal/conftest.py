"""With HANGDOG_FIXTURE_CONFTEST_RELEASE set, importing this conftest waits
for that file: a process busy before pytest_configure (a slow or stuck
conftest.py), for the snapshot signal's test."""
import os
import time

release = os.environ.get("HANGDOG_FIXTURE_CONFTEST_RELEASE")
if release:
    deadline = time.monotonic() + 120
    while not os.path.exists(release):
        assert time.monotonic() < deadline, "never released"
        time.sleep(0.05)
