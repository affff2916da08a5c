import os
import threading

registry = threading.Lock()


def register():
    with registry:
        return "registered"


def test_register_twice():
    with registry:
        open(os.path.join(os.environ["HANG_DIR"], "plain.blocking"), "w").close()
        register()
