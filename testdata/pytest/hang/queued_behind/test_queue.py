import os
import time

D = os.environ["HANG_DIR"]


def test_wait_for_report():
    open(os.path.join(D, "wait.blocking"), "w").close()
    while not os.path.exists(os.path.join(D, "report.txt")):
        time.sleep(0.05)


def test_create_report():
    with open(os.path.join(D, "report.txt"), "w") as f:
        f.write("done\n")
