import os
import threading

a = threading.Lock()
b = threading.Lock()
both = threading.Barrier(2)


def forward():
    with a:
        both.wait()
        mark("forward")
        with b:
            pass


def backward():
    with b:
        both.wait()
        mark("backward")
        with a:
            pass


def mark(name):
    open(os.path.join(os.environ["HANG_DIR"], name + ".blocking"), "w").close()


def test_two_threads():
    t1 = threading.Thread(target=forward, name="forward")
    t2 = threading.Thread(target=backward, name="backward")
    t1.start()
    t2.start()
    mark("threads")
    t1.join()
    t2.join()
