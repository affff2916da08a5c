import os
import time


def test_wait_0():
    open(os.path.join(os.environ["HANG_DIR"], "wait_0.blocking"), "w").close()
    while not os.path.exists(os.path.join(os.environ["HANG_DIR"], "go")):
        time.sleep(0.05)
