import os
import shutil
import tempfile

_made = None


def pytest_configure(config):
    # One rendezvous directory per run, shared by the controller and its
    # workers (they inherit the environment): HANG_DIR when the caller set
    # it, else a fresh temporary directory, removed when the run ends
    # (a run killed while it hangs leaves it behind).
    global _made
    if not os.environ.get("HANG_DIR"):
        _made = os.environ["HANG_DIR"] = tempfile.mkdtemp(prefix="hang-")


def pytest_unconfigure(config):
    if _made:
        shutil.rmtree(_made, ignore_errors=True)
