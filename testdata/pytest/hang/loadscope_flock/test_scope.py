import fcntl
import os
import time

import pytest

D = os.environ["HANG_DIR"]


def mark(name):
    open(os.path.join(D, name), "w").close()


def wait_for(name):
    while not os.path.exists(os.path.join(D, name)):
        time.sleep(0.01)


def take(first, second, me, other):
    f = open(os.path.join(D, first), "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    mark(me + ".first")
    wait_for(other + ".first")
    s = open(os.path.join(D, second), "w")
    mark(me + ".blocking")
    fcntl.flock(s, fcntl.LOCK_EX)
    return f, s


class TestAlpha:
    @pytest.fixture(scope="class")
    def cache_locks(self):
        yield take("cache.lock", "index.lock", "alpha", "beta")

    def test_alpha(self, cache_locks):
        pass


class TestBeta:
    @pytest.fixture(scope="class")
    def index_locks(self):
        yield take("index.lock", "cache.lock", "beta", "alpha")

    def test_beta(self, index_locks):
        pass
