import os
import tempfile


def pytest_configure(config):
    # One rendezvous directory per run, shared by the controller and its
    # workers (they inherit the environment): HANG_DIR when the caller set
    # it, else a fresh temporary directory.
    if not os.environ.get("HANG_DIR"):
        os.environ["HANG_DIR"] = tempfile.mkdtemp(prefix="hang-")
