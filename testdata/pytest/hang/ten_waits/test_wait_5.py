import os
import time


def test_wait_5():
    open(os.path.join(os.environ["HANG_DIR"], "wait_5.blocking"), "w").close()
    while not os.path.exists(os.path.join(os.environ["HANG_DIR"], "go")):
        time.sleep(0.05)
