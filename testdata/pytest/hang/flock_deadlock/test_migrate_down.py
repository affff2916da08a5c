import fcntl
import os
import time

D = os.environ["HANG_DIR"]


def mark(name):
    open(os.path.join(D, name), "w").close()


def wait_for(name):
    while not os.path.exists(os.path.join(D, name)):
        time.sleep(0.01)


def test_migrate_down():
    data = open(os.path.join(D, "data.lock"), "w")
    fcntl.flock(data, fcntl.LOCK_EX)
    mark("down.first")
    wait_for("up.first")
    schema = open(os.path.join(D, "schema.lock"), "w")
    mark("down.blocking")
    fcntl.flock(schema, fcntl.LOCK_EX)
