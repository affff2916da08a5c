"""A slow test that prints progress and a silent one under a short threshold."""
import os
import time

# Seconds each takes; hangdog's tests run them with a threshold of about 1 s.
SLOW = float(os.environ.get("HANGDOG_FIXTURE_SLOW", "2.4"))
SILENT = float(os.environ.get("HANGDOG_FIXTURE_SILENT", "0.5"))


def test_slow_with_progress(module_resource):
    end = time.monotonic() + SLOW
    n = 0
    while time.monotonic() < end:
        n += 1
        print("progress", n, flush=True)
        time.sleep(0.2)


def test_silent_under_threshold():
    time.sleep(SILENT)
