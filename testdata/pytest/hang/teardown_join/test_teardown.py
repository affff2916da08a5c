import os
import threading
import time

import pytest


@pytest.fixture
def background():
    stop = threading.Event()

    def poll():
        while True:  # never looks at stop
            time.sleep(0.05)

    t = threading.Thread(target=poll, name="poller")
    t.start()
    yield t
    stop.set()
    open(os.path.join(os.environ["HANG_DIR"], "teardown.blocking"), "w").close()
    t.join()


def test_uses_background(background):
    assert background.is_alive()
