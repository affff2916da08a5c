import os
import subprocess


def test_child():
    open(os.path.join(os.environ["HANG_DIR"], "child.blocking"), "w").close()
    subprocess.run(["sleep", "86400"], check=True)
