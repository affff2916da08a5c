import os
import subprocess


def test_child():
    child = subprocess.Popen(["sleep", "86400"])  # returns once sleep runs
    open(os.path.join(os.environ["HANG_DIR"], "child.blocking"), "w").close()
    child.wait()
